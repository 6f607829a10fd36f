import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderScript } from "../constructs/renderScript";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { SPARK_PATHS, SPARK_PORTS } from "../stacks/SparkStack";
import { dataOf, platformStackJson, resourcesOf, resourceStartingWith, userDataOf, type Json } from "./helpers";
import { runBash, shellcheck, stubCalls as calls } from "./shell";
import { COMMON_STUBS, CURL_STUB, python3Stub, SSHD_STUB } from "./stubs";

const sparkJson = (...flags: string[]): Json => platformStackJson("spark", ...flags);

const ingressRules = (json: Json): Json[] => Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule"));

describe("SparkStack", () => {
  const json = sparkJson();
  const instances = resourcesOf(json, "aws_instance");

  it("matches the committed snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  it("runs one master and three workers, all in private subnets without public IPs", () => {
    expect(Object.keys(instances).filter((name) => name.startsWith("master_"))).toHaveLength(1);
    expect(Object.keys(instances).filter((name) => name.startsWith("worker-"))).toHaveLength(3);
    for (const instance of Object.values(instances)) {
      expect(instance.associate_public_ip_address).toBe(false);
      expect(instance.subnet_id).toMatch(/cross-stack-output-aws_subnetprivate-subnet-\d+id\}$/);
    }
  });

  it("replaces master and workers when their user data changes (a new release, a replaced master), since they hold no state", () => {
    const instances = Object.values(resourcesOf(json, "aws_instance"));
    expect(instances).toHaveLength(4);
    for (const instance of instances) expect(instance.user_data_replace_on_change).toBe(true);
  });

  it("keeps Spark RPC inside the cluster on pinned ports", () => {
    const internal = ingressRules(json).filter((rule) => rule.from_port === SPARK_PORTS.master);
    expect(internal).toEqual([
      expect.objectContaining({
        from_port: 7077,
        to_port: 7098,
        ip_protocol: "tcp",
        referenced_security_group_id: expect.stringMatching(/^\$\{aws_security_group\.spark-security-group\.id\}$/),
      }),
    ]);
  });

  it("opens the web UIs and SSH only to the workstation's security group, never to a CIDR", () => {
    const rules = ingressRules(json);
    for (const port of [8080, 8081, 4040, 22]) {
      const rule = rules.find((candidate) => candidate.from_port === port);
      expect(rule?.referenced_security_group_id).toMatch(/workstation/);
    }
    expect(rules.every((rule) => rule.cidr_ipv4 === undefined && rule.cidr_ipv6 === undefined)).toBe(true);
    expect(rules.some((rule) => rule.from_port === 6066)).toBe(false);
  });

  it("lets the master publish the auth secret and workers only read it, and both read the data bucket", () => {
    const documents = dataOf(json, "aws_iam_policy_document");
    expect(documents["spark-secret-publish"].statement[0].actions).toEqual(["ssm:PutParameter", "ssm:GetParameter"]);
    expect(documents["spark-secret-read"].statement[0].actions).toEqual(["ssm:GetParameter"]);
    expect(documents["spark-secret-read"].statement[0].resources[0]).toMatch(/:parameter\/insight\/dev\/spark\/auth-secret$/);
    const policies = Object.values(resourcesOf(json, "aws_iam_role_policy")).map((policy) => policy.name).sort();
    expect(policies).toEqual([
      "publish-spark-secret",
      ...Array(4).fill("read-bootstrap-key"),
      ...Array(4).fill("read-data-bucket"),
      ...Array(3).fill("read-spark-secret"),
    ]);
  });

  it("points every worker at the master's private IP and outputs the master URL", () => {
    const worker = resourceStartingWith(json, "aws_instance", "worker-2_");
    expect(userDataOf(json, worker)).toMatch(/MASTER_IP='\$\{aws_instance\.master_instance_[0-9A-F]{8}\.private_ip\}'/);
    expect(json.output.spark_master_url.value).toMatch(/^spark:\/\/\$\{aws_instance\.master_instance_[0-9A-F]{8}\.private_ip\}:7077$/);
    expect(json.output.spark_master_ui.value).toContain("ssh -N -L 8080:");
  });

  it("lets the workstation submit a job over SSH to the master, where the driver runs, and opens no Spark port to it", () => {
    for (const instance of Object.values(instances)) {
      const script = unescapeTerraformTemplate(userDataOf(json, instance));
      expect(script).toContain("BOOTSTRAP_KEY_PARAMETER='/insight/dev/chef/bootstrap-public-key'");
      expect(script).toContain('accept_bootstrap_key "$BOOTSTRAP_KEY_PARAMETER" ubuntu');
    }
    const bootstrapKeyReaders = Object.values(resourcesOf(json, "aws_iam_role_policy")).filter((policy) => policy.name === "read-bootstrap-key");
    expect(bootstrapKeyReaders).toHaveLength(4);
    const fromWorkstation = Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule"))
      .filter((rule) => String(rule.referenced_security_group_id).includes("workstation-security-group"))
      .map((rule) => rule.from_port)
      .sort((a, b) => a - b);
    expect(fromWorkstation).toEqual([22, 4040, 8080, 8081]);
    expect(json.output.spark_submit_example.value).toMatch(
      /^ssh -i ~\/\.ssh\/platform_bootstrap ubuntu@\$\{aws_instance\.master_instance_[0-9A-F]{8}\.private_ip\} 'cd \/ && sudo -u spark env SPARK_CONF_DIR=\/etc\/spark \/opt\/spark\/current\/bin\/spark-submit --class org\.apache\.spark\.examples\.SparkPi \/opt\/spark\/current\/examples\/jars\/spark-examples_2\.13-4\.1\.0\.jar 100'$/,
    );
  });

  it("puts no secret in the user data: the master generates it on the instance", () => {
    for (const instance of Object.values(instances)) {
      expect(unescapeTerraformTemplate(userDataOf(json, instance))).not.toMatch(/spark\.authenticate\.secret\s+[0-9a-f]{16}/);
    }
  });

  it.each([1, 20])("synthesizes with %i workers", (workers) => {
    const sized = sparkJson("--spark.workers", String(workers));
    const names = Object.keys(resourcesOf(sized, "aws_instance"));
    expect(names.filter((name) => name.startsWith("worker-"))).toHaveLength(workers);
    expect(sized.output.spark_worker_ips.value).toHaveLength(workers);
  });
});

const CONTEXT = {
  sparkRoot: SPARK_PATHS.root,
  confDir: SPARK_PATHS.conf,
  acceptBootstrapKeyFrom: "/insight/dev/chef/bootstrap-public-key",
  sparkVersion: "4.1.0",
  sparkSha512: "",
  mirrorUrl: "https://mirror.example/spark",
  hadoopAwsVersion: "3.4.2",
  region: "us-west-2",
  secretParameter: "/insight/dev/spark/auth-secret",
  secretWaitAttempts: 3,
  ports: SPARK_PORTS,
};
const TARBALL = "pretend spark tarball";
const TARBALL_SHA512 = require("node:crypto").createHash("sha512").update(TARBALL).digest("hex") as string;
const SECRET = "0123456789abcdef0123456789abcdef";

const masterScript = (): string => renderScript("spark-node", { ...CONTEXT, sparkSha512: TARBALL_SHA512, role: "master", isMaster: true });
const workerScript = (): string =>
  renderScript("spark-node", { ...CONTEXT, sparkSha512: TARBALL_SHA512, role: "worker", isMaster: false, masterIp: "10.0.16.5" });

/** Commands a fresh Ubuntu node would run, replaced by stubs that keep their state in WORK_DIR. */
const STUBS = {
  ...COMMON_STUBS,
  curl: CURL_STUB,
  tar: 'while (($#)); do case $1 in -xzf) f=$2; shift ;; -C) d=$2; shift ;; esac; shift; done; r=$(basename "$f" .tgz); mkdir -p "$d/$r/bin"; printf "#!/bin/sh\\n" > "$d/$r/bin/spark-class"; chmod +x "$d/$r/bin/spark-class"',
  // A venv whose python reports the pyspark version its pip installed.
  python3: python3Stub(
    [
      'if [[ $1 == -m && $2 == venv ]]; then',
      '  mkdir -p "$3/bin"',
      '  printf \'#!/usr/bin/env bash\\ncat "%s/version" 2>/dev/null || exit 1\\n\' "$3" > "$3/bin/python"',
      '  printf \'#!/usr/bin/env bash\\necho "${*: -1}" | cut -d= -f3 > "%s/version"\\n\' "$3" > "$3/bin/pip"',
      '  chmod +x "$3/bin/python" "$3/bin/pip"',
      "  exit 0",
      "fi",
    ].join("\n"),
  ),
  sshd: SSHD_STUB,
  runuser: "exit 0",
  systemctl: [
    'case $1 in',
    '  is-active) grep -qx "${*: -1}" "$WORK_DIR/active" 2>/dev/null ;;',
    '  enable) echo "${*: -1}" >> "$WORK_DIR/active" ;;',
    "  *) exit 0 ;;",
    "esac",
  ].join("\n"),
};

const read = (dir: string, path: string): string => readFileSync(join(dir, "root", path), "utf8");

describe("spark-node user data", () => {
  it("is shellcheck-clean for master and worker", () => {
    for (const script of [masterScript(), workerScript()]) {
      const result = shellcheck(script);
      expect(result.output).toBe("");
      expect(result.status).toBe(0);
    }
  });

  describe("on the master", () => {
    const first = runBash(masterScript(), { stubs: STUBS, env: { DOWNLOAD_CONTENT: TARBALL } });

    it("finishes and starts spark-master", () => {
      expect(first.output).toContain("spark-master is running; master spark://10.0.16.5:7077");
      expect(first.status).toBe(0);
      expect(calls(first.dir)).toContain("systemctl enable --now spark-master");
    });

    it("writes a systemd unit that runs the master as the spark user on its private IP", () => {
      const unit = read(first.dir, "etc/systemd/system/spark-master.service");
      expect(unit).toContain("User=spark\n");
      expect(unit).toContain(
        "ExecStart=/opt/spark/current/bin/spark-class org.apache.spark.deploy.master.Master --host 10.0.16.5 --port 7077 --webui-port 8080\n",
      );
      expect(unit).toContain("WantedBy=multi-user.target");
    });

    const secret = (): string => readFileSync(join(first.dir, "work", "ssm", "_insight_dev_spark_auth-secret"), "utf8");

    it("generates a 64-hex-digit secret and publishes it as a SecureString", () => {
      expect(secret()).toMatch(/^[0-9a-f]{64}$/);
    });

    it("configures authentication, encryption, pinned ports, no REST server and S3A with the instance role", () => {
      const defaults = read(first.dir, "etc/spark/spark-defaults.conf");
      for (const line of [
        "spark.master                                  spark://10.0.16.5:7077",
        "spark.authenticate                            true",
        `spark.authenticate.secret                     ${secret()}`,
        "spark.network.crypto.enabled                  true",
        "spark.master.rest.enabled                     false",
        "spark.driver.port                             7079",
        "spark.blockManager.port                       7089",
        "spark.jars.packages                           org.apache.hadoop:hadoop-aws:3.4.2",
        "spark.hadoop.fs.s3a.aws.credentials.provider  software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider",
        "spark.hadoop.fs.s3a.endpoint.region           us-west-2",
      ]) {
        expect(defaults).toContain(`${line}\n`);
      }
    });

    it("installs Spark from the mirror after verifying it, and the matching pyspark", () => {
      expect(calls(first.dir)).toContain("curl --fail --silent --show-error --location --connect-timeout 20 --output " +
        join(first.dir, "root/opt/spark/spark-4.1.0-bin-hadoop3.tgz.part") + " https://mirror.example/spark/spark-4.1.0/spark-4.1.0-bin-hadoop3.tgz");
      expect(readFileSync(join(first.dir, "root/opt/spark/venv/version"), "utf8").trim()).toBe("4.1.0");
    });

    it("never writes the secret to its log", () => {
      expect(readFileSync(join(first.dir, "log", "spark-node.log"), "utf8")).not.toContain(secret());
      expect(first.output).not.toContain(secret());
    });

    it("changes nothing on a second run: no download, no apt, no pip, no restart", () => {
      const before = calls(first.dir).length;
      const second = runBash(masterScript(), { stubs: STUBS, env: { DOWNLOAD_CONTENT: TARBALL }, dir: first.dir });
      expect(second.status).toBe(0);
      const newCalls = calls(first.dir).slice(before);
      expect(newCalls.filter((call) => /^(apt-get|tar|useradd) /.test(call) || /^curl .*--output/.test(call))).toEqual([]);
      expect(newCalls.filter((call) => call.startsWith("systemctl "))).toEqual(["systemctl is-active --quiet spark-master", "systemctl is-active --quiet spark-master"]);
    });

    it("restarts the master when its configuration changed", () => {
      const before = calls(first.dir).length;
      const moved = runBash(masterScript(), { stubs: STUBS, env: { DOWNLOAD_CONTENT: TARBALL, LOCAL_IPV4: "10.0.16.9" }, dir: first.dir });
      expect(moved.status).toBe(0);
      expect(calls(first.dir).slice(before)).toContain("systemctl restart spark-master");
    });
  });

  describe("on a worker", () => {
    const run = runBash(workerScript(), { stubs: STUBS, env: { DOWNLOAD_CONTENT: TARBALL, SSM_PRESET: SECRET, LOCAL_IPV4: "10.0.32.7" } });

    it("registers with the master's private IP on 7077", () => {
      expect(run.status).toBe(0);
      const unit = read(run.dir, "etc/systemd/system/spark-worker.service");
      expect(unit).toContain(
        "ExecStart=/opt/spark/current/bin/spark-class org.apache.spark.deploy.worker.Worker --host 10.0.32.7 --port 7078 --webui-port 8081 --work-dir /var/lib/spark/work spark://10.0.16.5:7077\n",
      );
      expect(read(run.dir, "etc/spark/spark-defaults.conf")).toContain(`spark.authenticate.secret                     ${SECRET}\n`);
    });

    it("gives up with a clear message when the master never publishes the secret", () => {
      const waiting = runBash(workerScript(), { stubs: STUBS, env: { DOWNLOAD_CONTENT: TARBALL } });
      expect(waiting.status).not.toBe(0);
      expect(waiting.output).toContain("timed out waiting for SSM parameter /insight/dev/spark/auth-secret; the master publishes it when it boots");
      expect(waiting.output).toContain("FAILED at step 'wait for the master's authentication secret'");
    });
  });
});
