import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderScript } from "../constructs/renderScript";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { buildPlatform } from "../stacks/buildPlatform";
import { SPARK_PATHS, SPARK_PORTS } from "../stacks/SparkStack";
import { SPARK_JOBS_USER } from "../constructs/sparkJobsIdentity";
import { configFrom, dataOf, platformStackJson, resourcesOf, resourceStartingWith, synthAppStack, testApp, userDataOf, type Json } from "./helpers";
import { runBash, shellcheck, stubCalls as calls } from "./shell";
import { COMMON_STUBS, CURL_STUB, python3Stub, SSHD_STUB } from "./stubs";
import { describeScripts } from "./tiers";

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
      const fromWorkstation = rules.filter((candidate) => candidate.from_port === port && /workstation/.test(candidate.referenced_security_group_id));
      expect(fromWorkstation).toHaveLength(1);
    }
    for (const rule of rules.filter((candidate) => [8081, 4040, 22].includes(candidate.from_port))) {
      expect(rule.referenced_security_group_id).toMatch(/workstation/);
    }
    expect(rules.every((rule) => rule.cidr_ipv4 === undefined && rule.cidr_ipv6 === undefined)).toBe(true);
    expect(rules.some((rule) => rule.from_port === 6066)).toBe(false);
  });

  it("keeps every web UI port (8080, 8081, 4040) off any network but the workstation and the cluster itself", () => {
    const uiPorts = [SPARK_PORTS.masterUi, SPARK_PORTS.workerUi, SPARK_PORTS.applicationUi];
    const reachingUi = ingressRules(json).filter((rule) => rule.ip_protocol === "-1" || uiPorts.some((port) => rule.from_port <= port && port <= rule.to_port));
    expect(reachingUi.length).toBeGreaterThan(0);
    for (const rule of reachingUi) {
      // A security group as the only source: no CIDR, IPv6 block or prefix list, however narrow.
      expect([rule.cidr_ipv4, rule.cidr_ipv6, rule.prefix_list_id]).toEqual([undefined, undefined, undefined]);
      expect(rule.referenced_security_group_id).toMatch(/^\$\{(aws_security_group\.spark-security-group\.id|data\.terraform_remote_state\.cross-stack-reference-input-network\.outputs\.cross-stack-output-aws_security_groupworkstation-security-groupid)\}$/);
    }
    for (const instance of Object.values(instances)) expect(instance.associate_public_ip_address).toBe(false);
  });

  it("lets members read the master UI's JSON, where a worker checks its own registration, and nothing else above the RPC range", () => {
    const masterUi = ingressRules(json).filter((rule) => rule.from_port === SPARK_PORTS.masterUi);
    expect(masterUi.map((rule) => rule.referenced_security_group_id).sort()).toEqual([
      "${aws_security_group.spark-security-group.id}",
      expect.stringMatching(/workstation-security-group/),
    ]);
    expect(masterUi.every((rule) => rule.to_port === 8080)).toBe(true);
  });

  it("lets the master publish the auth secret and workers only read it; both read the data bucket and write only its Spark output prefix", () => {
    const documents = dataOf(json, "aws_iam_policy_document");
    expect(documents["spark-secret-publish"].statement[0].actions).toEqual(["ssm:PutParameter", "ssm:GetParameter"]);
    expect(documents["spark-secret-read"].statement[0].actions).toEqual(["ssm:GetParameter"]);
    expect(documents["spark-secret-read"].statement[0].resources[0]).toMatch(/:parameter\/insight\/dev\/spark\/auth-secret$/);
    const policies = Object.values(resourcesOf(json, "aws_iam_role_policy")).map((policy) => policy.name).sort();
    expect(policies).toEqual([
      ...Array(4).fill("cloudwatch-agent"),
      ...Array(4).fill("publish-host-keys"),
      "publish-spark-secret",
      ...Array(4).fill("read-bootstrap-key"),
      ...Array(4).fill("read-data-bucket"),
      "read-jobs-key",
      ...Array(4).fill("read-kafka-client-identity"),
      ...Array(3).fill("read-spark-secret"),
      ...Array(4).fill("write-spark-output"),
    ]);
    for (const policy of Object.values(resourcesOf(json, "aws_iam_role_policy")).filter((each) => each.name === "write-spark-output")) {
      expect(policy.policy).toMatch(/cross-stack-output-dataaws_iam_policy_documentdata-bucket-spark-outputjson\}$/);
    }
  });

  it("lets every Spark node read its Kafka client key and certificate and the CA's certificate, and nothing else of the PKI", () => {
    const document = dataOf(json, "aws_iam_policy_document")["kafka-client-identity-read"];
    expect(document.statement).toHaveLength(1);
    expect(document.statement[0]).toMatchObject({ sid: "ReadKafkaClientIdentity", actions: ["ssm:GetParameter"] });
    expect(document.statement[0].resources.map((arn: string) => arn.replace(/.*:parameter/, ""))).toEqual([
      "/insight/dev/kafka/clients/spark/key",
      "/insight/dev/kafka/clients/spark/cert",
      "/insight/dev/pki/ca-cert",
    ]);
    const readers = Object.values(resourcesOf(json, "aws_iam_role_policy")).filter((policy) => policy.name === "read-kafka-client-identity");
    expect(readers.map((policy) => policy.role).sort()).toEqual(
      ["master", "worker-0", "worker-1", "worker-2"].map((node) => expect.stringMatching(new RegExp(`^\\$\\{aws_iam_role\\.${node}_role_[0-9A-F]{8}\\.id\\}$`))),
    );
    for (const policy of readers) expect(policy.policy).toBe("${data.aws_iam_policy_document.kafka-client-identity-read.json}");
    expect(JSON.stringify(json)).not.toContain("/pki/ca-key");
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
      expect(script).toContain("BOOTSTRAP_KEY_SOURCE='/insight/dev/chef/bootstrap-key-source'");
      expect(script).toContain('\naccept_ssh_key bootstrap-key "$BOOTSTRAP_KEY_PARAMETER" "$BOOTSTRAP_KEY_SOURCE" ubuntu\n');
    }
    const bootstrapKeyReaders = Object.values(resourcesOf(json, "aws_iam_role_policy")).filter((policy) => policy.name === "read-bootstrap-key");
    expect(bootstrapKeyReaders).toHaveLength(4);
    const fromWorkstation = Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule"))
      .filter((rule) => String(rule.referenced_security_group_id).includes("workstation-security-group"))
      .map((rule) => rule.from_port)
      .sort((a, b) => a - b);
    expect(fromWorkstation).toEqual([22, 4040, 8080, 8081]);
    // Printed as the operator runs it: the master's spark-submit reads the cluster's configuration.
    expect(json.output.spark_submit_example.value).toMatch(
      /^ssh -i ~\/\.ssh\/platform_jobs spark-jobs@\$\{aws_instance\.master_instance_[0-9A-F]{8}\.private_ip\} spark-submit --class org\.apache\.spark\.examples\.SparkPi \/opt\/spark\/current\/examples\/jars\/spark-examples_2\.13-4\.1\.2\.jar 100$/,
    );
  });

  it("accepts the workstation's jobs key on the master alone, for spark-jobs, from the workstation's address, and grants the read to the master's role alone", () => {
    const master = resourceStartingWith(json, "aws_instance", "master_");
    const masterScript = unescapeTerraformTemplate(userDataOf(json, master));
    expect(masterScript).toContain("JOBS_KEY_PARAMETER='/insight/dev/chef/jobs-public-key'");
    expect(masterScript).toContain('\naccept_jobs_key "$JOBS_USER" "$JOBS_KEY_PARAMETER" "$BOOTSTRAP_KEY_SOURCE"\n');
    const workers = Object.entries(instances).filter(([name]) => name.startsWith("worker-"));
    expect(workers).toHaveLength(3);
    for (const [, worker] of workers) expect(unescapeTerraformTemplate(userDataOf(json, worker))).not.toContain("accept_jobs_key");
    const readers = Object.values(resourcesOf(json, "aws_iam_role_policy")).filter((policy) => policy.name === "read-jobs-key");
    expect(readers.map((policy) => policy.role)).toEqual([expect.stringMatching(/^\$\{aws_iam_role\.master_role_[0-9A-F]{8}\.id\}$/)]);
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

const TARBALL = "pretend spark tarball";
const digest = (algorithm: string, text: string): string => createHash(algorithm).update(text).digest("hex");
const TARBALL_SHA512 = digest("sha512", TARBALL);
const SECRET = "0123456789abcdef0123456789abcdef";
const CENTRAL = "https://repo1.maven.org/maven2";
/** Every download in these runs returns TARBALL, so jars pinned to its digests verify. */
const JARS = [
  { file: "hadoop-aws-3.4.2.jar", checksum: `${TARBALL_SHA512} ${digest("sha1", TARBALL)}`, urls: [`${CENTRAL}/org/apache/hadoop/hadoop-aws/3.4.2/hadoop-aws-3.4.2.jar`] },
  { file: "kafka-clients-3.9.1.jar", checksum: TARBALL_SHA512, urls: [`${CENTRAL}/org/apache/kafka/kafka-clients/3.9.1/kafka-clients-3.9.1.jar`] },
];
const CONTEXT = {
  setupCommand: SETUP_COMMAND,
  sparkRoot: SPARK_PATHS.root,
  confDir: SPARK_PATHS.conf,
  acceptBootstrapKeyFrom: "/insight/dev/chef/bootstrap-public-key",
  bootstrapKeySource: "/insight/dev/chef/bootstrap-key-source",
  sparkVersion: "4.1.2",
  sparkSha512: "",
  mirrorUrl: "https://mirror.example/spark",
  jars: JARS,
  workerAppDataTtlHours: 24,
  workerAppDataTtlSeconds: 86400,
  healthAttempts: 3,
  region: "us-west-2",
  secretParameter: "/insight/dev/spark/auth-secret",
  secretWaitAttempts: 3,
  ports: SPARK_PORTS,
  kafkaClient: { keyParameter: "/insight/dev/kafka/clients/spark/key", certParameter: "/insight/dev/kafka/clients/spark/cert", caCertParameter: "/insight/dev/pki/ca-cert", dir: "/etc/platform/tls" },
};
const RELEASE = "root/opt/spark/spark-4.1.2-bin-hadoop3";
const ALIVE_MASTER = JSON.stringify({ url: "spark://10.0.16.5:7077", status: "ALIVE", aliveworkers: 0, workers: [] });
const masterListing = (host: string, state: string): string =>
  JSON.stringify({ status: "ALIVE", aliveworkers: 1, workers: [{ id: "worker-1", host, port: 7078, state }] });

const SECRET_KMS_KEY = "arn:aws:kms:us-west-2:111122223333:key/5a4b3c2d-spark";
const MASTER_HOST_KEYS = "/insight/dev/host-keys/insight-dev-spark-master";
const JOBS_KEY_PARAMETER = "/insight/dev/chef/jobs-public-key";
const masterScript = (context: Record<string, unknown> = {}): string =>
  renderScript("spark-node", {
    ...CONTEXT,
    sparkSha512: TARBALL_SHA512,
    role: "master",
    isMaster: true,
    secretKmsKey: SECRET_KMS_KEY,
    hostKeysParameter: MASTER_HOST_KEYS,
    acceptJobsKeyFrom: JOBS_KEY_PARAMETER,
    jobsUser: SPARK_JOBS_USER,
    ...context,
  });
const workerScript = (): string =>
  renderScript("spark-node", { ...CONTEXT, sparkSha512: TARBALL_SHA512, role: "worker", isMaster: false, masterIp: "10.0.16.5", hostKeysParameter: "/insight/dev/host-keys/insight-dev-spark-worker-0" });

/** A fresh node's directory, with the SSH host key cloud-init makes before user data runs. */
const SPARK_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOo0SparkNodeHostKeyForTheTests0000000000000";
const sparkNode = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "spark-node-"));
  mkdirSync(join(dir, "root/etc/ssh"), { recursive: true });
  writeFileSync(join(dir, "root/etc/ssh/ssh_host_ed25519_key.pub"), `${SPARK_HOST_KEY} root@spark\n`);
  return dir;
};

/** Commands a fresh Ubuntu node would run, replaced by stubs that keep their state in WORK_DIR. */
const STUBS = {
  ...COMMON_STUBS,
  // The master's UI JSON answers from MASTER_JSON (nothing listens without it); the rest as usual.
  curl: ['case "${*: -1}" in */json/) [[ -n ${MASTER_JSON:-} ]] && printf "%s" "$MASTER_JSON"; exit ;; esac', CURL_STUB].join("\n"),
  ss: '[[ ${MASTER_LISTENING:-yes} == yes ]] && echo "LISTEN 0 4096 10.0.16.5:7077 0.0.0.0:*"; exit 0',
  id: 'if [[ $1 == -nG ]]; then echo "$2 $(cat "$WORK_DIR/groups-$2" 2>/dev/null)"; exit 0; fi; [[ -f "$WORK_DIR/user-$1" ]]',
  usermod: 'echo "${*: -2:1}" >> "$WORK_DIR/groups-${*: -1}"',
  // A user made with --groups is in them from the start.
  useradd: 'user=${*: -1}; touch "$WORK_DIR/user-$user"; while (($#)); do [[ $1 == --groups ]] && echo "$2" >> "$WORK_DIR/groups-$user"; shift; done; exit 0',
  tar: 'while (($#)); do case $1 in -xzf) f=$2; shift ;; -C) d=$2; shift ;; esac; shift; done; r=$(basename "$f" .tgz); mkdir -p "$d/$r/bin" "$d/$r/jars" "$d/$r/conf"; touch "$d/$r/conf/spark-defaults.conf.template"; printf "#!/bin/sh\\n" > "$d/$r/bin/spark-class"; chmod +x "$d/$r/bin/spark-class"',
  python3: python3Stub(),
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

describe("Spark instance roles' access to the data bucket", () => {
  const app = testApp();
  buildPlatform(app, configFrom());
  const stacks: Record<string, Json> = { spark: synthAppStack(app, "spark"), storage: synthAppStack(app, "storage"), chef: synthAppStack(app, "chef") };
  // An inline policy's document, wherever its text points: a document of this stack or another stack's output.
  const documentOf = (policy: string): Json => {
    const local = /^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/.exec(policy);
    if (local) return dataOf(stacks.spark, "aws_iam_policy_document")[local[1]];
    const remote = /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-(\w+)\.outputs\.cross-stack-output-dataaws_iam_policy_document(.+)json\}$/.exec(policy);
    if (!remote) throw new Error(`${policy}: neither a document of this stack nor another stack's`);
    return dataOf(stacks[remote[1]], "aws_iam_policy_document")[remote[2]];
  };
  // Every S3 statement a role's inline policies grant, as [effect, actions, resources, conditions].
  const s3Grants = new Map<string, Json[]>();
  for (const policy of Object.values(resourcesOf(stacks.spark, "aws_iam_role_policy"))) {
    const statements = (documentOf(policy.policy).statement as Json[]).filter((statement) => (statement.actions as string[]).some((action) => action.startsWith("s3:")));
    const grants = statements.map((statement) => [statement.effect ?? "Allow", statement.actions, statement.resources, statement.condition ?? []]);
    s3Grants.set(policy.role, [...(s3Grants.get(policy.role) ?? []), ...grants]);
  }
  const bucket = "${aws_s3_bucket.data-bucket.arn}";

  it("covers the master's role and each worker's", () => {
    expect([...s3Grants.keys()].sort()).toEqual(Object.keys(resourcesOf(stacks.spark, "aws_iam_role")).map((role) => `\${aws_iam_role.${role}.id}`).sort());
    expect(s3Grants.size).toBe(4);
  });

  it("lets each role read only the input prefix and its own output prefix, never chef-repo/ or an old version, and write only its output prefix", () => {
    for (const [role, grants] of s3Grants) {
      expect([role, grants]).toEqual([
        role,
        [
          ["Allow", ["s3:ListBucket", "s3:GetBucketLocation"], [bucket], []],
          ["Allow", ["s3:GetObject"], [`${bucket}/smart-money/input/*`, `${bucket}/spark-output/*`], []],
          ["Allow", ["s3:ListBucketMultipartUploads"], [bucket], []],
          ["Allow", ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"], [`${bucket}/spark-output/*`], []],
        ],
      ]);
      const objectResources = grants.flatMap((grant) => grant[2] as string[]).filter((resource) => resource !== bucket);
      expect(objectResources.filter((resource) => resource === `${bucket}/*` || resource.includes("chef-repo"))).toEqual([]);
      expect(grants.flatMap((grant) => grant[1] as string[]).filter((action) => /Version|\*/.test(action))).toEqual([]);
    }
  });
});

describeScripts("spark-node user data", () => {
  const MASTER_ENV = { DOWNLOAD_CONTENT: TARBALL, MASTER_JSON: ALIVE_MASTER };

  it("is shellcheck-clean for master and worker", () => {
    for (const script of [masterScript(), workerScript()]) {
      const result = shellcheck(script);
      expect(result.output).toBe("");
      expect(result.status).toBe(0);
    }
  });

  describe("on the master", () => {
    const first = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV, dir: sparkNode() });

    it("finishes once the master serves: 7077 listens and its UI's JSON says ALIVE", () => {
      expect(first.output).toContain("spark-master is serving spark://10.0.16.5:7077");
      expect(first.status).toBe(0);
      expect(calls(first.dir)).toContain("systemctl enable --now spark-master");
      expect(calls(first.dir)).toContain("curl --fail --silent --show-error --max-time 5 http://10.0.16.5:8080/json/");
    });

    it("keeps the clock with the Amazon Time Sync Service (link-local, so no egress rule), through systemd-timesyncd, and through chrony where the image runs it", () => {
      expect(read(first.dir, "etc/systemd/timesyncd.conf.d/amazon-time-sync.conf")).toBe("[Time]\nNTP=169.254.169.123\n");
      expect(calls(first.dir)).toContain("systemctl try-restart systemd-timesyncd.service");
      const chronyImage = mkdtempSync(join(tmpdir(), "chrony-image-"));
      mkdirSync(join(chronyImage, "root", "etc", "chrony"), { recursive: true });
      const withChrony = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV, dir: chronyImage });
      expect(read(withChrony.dir, "etc/chrony/sources.d/amazon-time-sync.sources")).toBe("server 169.254.169.123 prefer iburst minpoll 4 maxpoll 4\n");
      expect(calls(withChrony.dir)).toContain("systemctl try-restart chrony.service");
      // Told once: a second run restarts neither.
      const again = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV, dir: withChrony.dir });
      expect(calls(again.dir).filter((call) => call.startsWith("systemctl try-restart"))).toEqual(calls(withChrony.dir).filter((call) => call.startsWith("systemctl try-restart")));
    });

    it("writes a systemd unit that runs the master as the spark user on its private IP, and counts exit 143 (SIGTERM) as a clean stop", () => {
      const unit = read(first.dir, "etc/systemd/system/spark-master.service");
      expect(unit).toContain("User=spark\n");
      expect(unit).toContain(
        "ExecStart=/opt/spark/current/bin/spark-class org.apache.spark.deploy.master.Master --host 10.0.16.5 --port 7077 --webui-port 8080\n",
      );
      expect(unit).toContain("SuccessExitStatus=143\n");
      expect(unit).toContain("WantedBy=multi-user.target");
      // The daemon finds its configuration where operators' commands do: $SPARK_HOME/conf.
      expect(unit).not.toContain("SPARK_CONF_DIR");
    });

    const secret = (): string => readFileSync(join(first.dir, "work", "ssm", "_insight_dev_spark_auth-secret"), "utf8");
    /** The writes of the secret's parameter (the node also puts its host keys in another). */
    const secretPuts = (dir: string): string[] =>
      readFileSync(join(dir, "work", "ssm-puts"), "utf8")
        .trim()
        .split("\n")
        .filter((put) => put.startsWith("/insight/dev/spark/auth-secret "));

    it("generates a 64-hex-digit secret and publishes it as a SecureString under the spark stack's KMS key", () => {
      expect(secret()).toMatch(/^[0-9a-f]{64}$/);
      // Created, then stored again under the key as read: the second write changes no value.
      expect(secretPuts(first.dir)).toEqual(Array(2).fill(`/insight/dev/spark/auth-secret ${SECRET_KMS_KEY}`));
      expect(masterScript()).toMatch(/put_parameter\(Name=sys\.argv\[1\], Type="SecureString", KeyId=sys\.argv\[2\]/);
    });

    it("configures authentication, encryption with the second key exchange, pinned ports, no REST server, no kill from the UIs and S3A with the instance role", () => {
      const defaults = read(first.dir, "etc/spark/spark-defaults.conf");
      for (const line of [
        "spark.master                                  spark://10.0.16.5:7077",
        "spark.authenticate                            true",
        `spark.authenticate.secret                     ${secret()}`,
        "spark.network.crypto.enabled                  true",
        "spark.network.crypto.authEngineVersion        2",
        "spark.network.crypto.saslFallback             false",
        "spark.master.rest.enabled                     false",
        "spark.ui.killEnabled                          false",
        "spark.driver.port                             7079",
        "spark.blockManager.port                       7089",
        "spark.hadoop.fs.s3a.aws.credentials.provider  software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider",
        "spark.hadoop.fs.s3a.endpoint.region           us-west-2",
      ]) {
        expect(defaults).toContain(`${line}\n`);
      }
      // A job's own --packages would replace it, dropping S3A: the connectors are in jars/ instead.
      expect(defaults).not.toContain("spark.jars.packages");
      // GCM drops every message after a connection's first before SPARK-56227, which 4.1.2 lacks.
      expect(defaults).not.toContain("spark.network.crypto.cipher");
    });

    it("installs the S3 and Kafka connector jars into the release's own jars/, each verified against every pinned digest", () => {
      for (const jar of JARS) {
        expect(readFileSync(join(first.dir, RELEASE, "jars", jar.file), "utf8")).toBe(TARBALL);
        expect(calls(first.dir)).toContain(`curl --fail --silent --show-error --location --connect-timeout 20 --output ${join(first.dir, RELEASE, "jars", jar.file)}.part ${jar.urls[0]}`);
      }
    });

    it("keeps no jar that matches the sha512 but not a second source's digest", () => {
      const wrongSecondSource = [{ ...JARS[0], checksum: `${TARBALL_SHA512} ${digest("sha1", "another jar")}` }];
      const run = runBash(masterScript({ jars: wrongSecondSource }), { stubs: STUBS, env: MASTER_ENV, dir: sparkNode() });
      expect(run.status).not.toBe(0);
      expect(run.output).toContain("checksum mismatch for https://repo1.maven.org/maven2/org/apache/hadoop/hadoop-aws/3.4.2/hadoop-aws-3.4.2.jar");
      expect(run.output).toContain("FAILED at step 'add the S3 and Kafka connectors to Spark's jars'");
      expect(() => statSync(join(run.dir, RELEASE, "jars", "hadoop-aws-3.4.2.jar"))).toThrow();
    });

    it("gives operators the daemons' configuration: conf is /etc/spark, the commands are on PATH, and ubuntu may read the secret", () => {
      expect(lstatSync(join(first.dir, RELEASE, "conf")).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(first.dir, RELEASE, "conf"))).toBe("/etc/spark");
      for (const command of ["spark-submit", "spark-shell", "pyspark", "spark-sql"]) {
        expect(read(first.dir, `usr/local/bin/${command}`)).toBe(`#!/bin/sh\nexec /opt/spark/current/bin/${command} "$@"\n`);
      }
      expect(calls(first.dir)).toContain("usermod --append --groups spark ubuntu");
      // Readable by the spark group (daemons and ubuntu) only: it holds the secret.
      expect(statSync(join(first.dir, "root/etc/spark/spark-defaults.conf")).mode & 0o777).toBe(0o640);
      expect(calls(first.dir).some((call) => call.startsWith("install -D -m 0640 -o root -g spark ") && call.endsWith("/root/etc/spark/spark-defaults.conf"))).toBe(true);
    });

    it("makes spark-jobs, who submits jobs: in the spark group, without sudo, logging in with the workstation's jobs key from its address only", () => {
      expect(calls(first.dir)).toContain("useradd --create-home --user-group --groups spark --shell /bin/bash spark-jobs");
      expect(calls(first.dir).filter((call) => /\bsudo\b|sudoers/.test(call) && call.includes("spark-jobs"))).toEqual([]);
      expect(read(first.dir, "etc/ssh/sshd_config.d/60-platform-jobs-key.conf")).toContain(
        "Match User spark-jobs\n    AuthorizedKeysCommand /usr/local/sbin/platform-jobs-key %u\n    AuthorizedKeysCommandUser platform-keys\n",
      );
      const lookup = read(first.dir, "usr/local/sbin/platform-jobs-key");
      // Its own key and cache; the address is the bootstrap key's, the workstation's.
      expect(lookup).toContain('[ "$1" = "spark-jobs" ] || exit 0\n');
      expect(lookup).toContain("cache=/var/lib/platform-jobs-key/spark-jobs\n");
      expect(lookup).toContain("'/insight/dev/chef/jobs-public-key' '/insight/dev/chef/bootstrap-key-source' 'us-west-2'");
      // ubuntu keeps the bootstrap key alone: the two lookups never answer for each other's user.
      expect(read(first.dir, "etc/ssh/sshd_config.d/60-platform-bootstrap-key.conf")).toContain("Match User ubuntu\n");
      expect(read(first.dir, "usr/local/sbin/platform-bootstrap-key")).toContain('[ "$1" = "ubuntu" ] || exit 0\n');
      expect(first.output).toContain("/insight/dev/chef/jobs-public-key or /insight/dev/chef/bootstrap-key-source is not readable or usable yet");
    });

    it("puts an existing spark-jobs back into the spark group, and leaves one already there alone", () => {
      const dir = sparkNode();
      mkdirSync(join(dir, "work"));
      writeFileSync(join(dir, "work/user-spark-jobs"), "");
      const outside = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV, dir });
      expect(outside.status).toBe(0);
      expect(calls(dir)).toContain("usermod --append --groups spark spark-jobs");
      expect(calls(dir).filter((call) => call.startsWith("useradd") && call.endsWith("spark-jobs"))).toEqual([]);
      const again = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV, dir });
      expect(again.status).toBe(0);
      expect(calls(dir).filter((call) => call === "usermod --append --groups spark spark-jobs")).toHaveLength(1);
    });

    it("installs Spark from the mirror after verifying it, and no second pyspark: jobs run the release's own with the system Python", () => {
      expect(calls(first.dir)).toContain("curl --fail --silent --show-error --location --connect-timeout 20 --output " +
        join(first.dir, "root/opt/spark/spark-4.1.2-bin-hadoop3.tgz.part") + " https://mirror.example/spark/spark-4.1.2/spark-4.1.2-bin-hadoop3.tgz");
      expect(calls(first.dir).filter((call) => /\bpip\b|-m venv/.test(call))).toEqual([]);
      expect(existsSync(join(first.dir, "root/opt/spark/venv"))).toBe(false);
      expect(read(first.dir, "etc/spark/spark-defaults.conf")).toContain("spark.pyspark.python                          /usr/bin/python3\n");
      expect(read(first.dir, "etc/spark/spark-env.sh")).toContain("PYSPARK_PYTHON=/usr/bin/python3\n");
    });

    it("publishes its instance id and SSH host keys to its own parameter, where the workstation's pipeline commands read them", () => {
      expect(first.output).toContain(`published 1 SSH host keys to ${MASTER_HOST_KEYS}`);
      expect(readFileSync(join(first.dir, "work/ssm", MASTER_HOST_KEYS.replace(/\//g, "_")), "utf8")).toBe(`i-0123456789abcdef0\n${SPARK_HOST_KEY}\n`);
    });

    it("fails its setup, naming the step, when sshd has no host key to publish", () => {
      const run = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV });
      expect(run.status).not.toBe(0);
      expect(run.output).toContain(`FAILED at step 'publish this node's SSH host keys to ${MASTER_HOST_KEYS}'`);
    });

    it("never writes the secret to its log", () => {
      expect(readFileSync(join(first.dir, "log", "spark-node.log"), "utf8")).not.toContain(secret());
      expect(first.output).not.toContain(secret());
    });

    it("changes nothing on a second run: no download, no apt, no pip, no group change, no restart", () => {
      const before = calls(first.dir).length;
      const second = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV, dir: first.dir });
      expect(second.status).toBe(0);
      const newCalls = calls(first.dir).slice(before);
      expect(newCalls.filter((call) => /^(apt-get|tar|useradd|usermod) /.test(call) || /^curl .*--output/.test(call))).toEqual([]);
      expect(newCalls.filter((call) => call.startsWith("systemctl "))).toEqual(["systemctl is-active --quiet spark-master"]);
    });

    it("goes on without Spark's Kafka client identity while SSM has none, saying so, with the timer that fetches it every 15 minutes enabled", () => {
      expect(first.output).toContain("Spark's Kafka client identity is not in SSM yet (the workstation makes it at the next converge); the timer platform-kafka-client-identity fetches it every 15 minutes");
      expect(calls(first.dir)).toContain("systemctl enable --now platform-kafka-client-identity.timer");
      expect(read(first.dir, "etc/systemd/system/platform-kafka-client-identity.service")).toContain(
        "ExecStart=/usr/local/sbin/platform-kafka-client-identity /insight/dev/kafka/clients/spark/key /insight/dev/kafka/clients/spark/cert /insight/dev/pki/ca-cert /etc/platform/tls\n",
      );
      expect(read(first.dir, "etc/systemd/system/platform-kafka-client-identity.timer")).toContain("OnUnitActiveSec=15min\n");
    });

    it("writes Spark's Kafka client identity as a PEM keystore readable by the spark group (executors, and ubuntu's drivers) and the CA as its truststore", () => {
      const dir = runBash("exit 0", { dir: sparkNode() }).dir;
      const scratch = mkdtempSync(join(tmpdir(), "spark-identity-"));
      const openssl = (...args: string[]): string => execFileSync("openssl", args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
      openssl("genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", join(scratch, "ca.key"));
      openssl("req", "-new", "-x509", "-key", join(scratch, "ca.key"), "-subj", "/O=insight-dev/CN=insight-dev platform CA", "-days", "30", "-out", join(scratch, "ca.crt"));
      openssl("genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", join(scratch, "spark.key"));
      openssl("req", "-new", "-key", join(scratch, "spark.key"), "-subj", "/O=insight-dev/CN=spark", "-out", join(scratch, "spark.csr"));
      openssl("x509", "-req", "-in", join(scratch, "spark.csr"), "-CA", join(scratch, "ca.crt"), "-CAkey", join(scratch, "ca.key"), "-days", "30", "-out", join(scratch, "spark.crt"));
      mkdirSync(join(dir, "work", "ssm"), { recursive: true });
      for (const [name, file] of [["_insight_dev_kafka_clients_spark_key", "spark.key"], ["_insight_dev_kafka_clients_spark_cert", "spark.crt"], ["_insight_dev_pki_ca-cert", "ca.crt"]]) {
        writeFileSync(join(dir, "work", "ssm", name), readFileSync(join(scratch, file)));
      }
      const run = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV, dir });
      expect(run.status).toBe(0);
      const pem = read(dir, "etc/platform/tls/spark.pem");
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]*-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\n[\s\S]*-----END CERTIFICATE-----\n$/);
      expect(statSync(join(dir, "root/etc/platform/tls/spark.pem")).mode & 0o777).toBe(0o640);
      expect(calls(dir).some((call) => call.startsWith("install -m 0640 -o root -g spark ") && call.endsWith("/root/etc/platform/tls/spark.pem"))).toBe(true);
      expect(openssl("verify", "-CAfile", join(dir, "root/etc/platform/tls/ca.crt"), join(dir, "root/etc/platform/tls/spark.pem"))).toContain(": OK");
      expect(run.output).not.toContain("PRIVATE KEY");
      expect(run.output).not.toContain("not in SSM yet");
    });

    it("restarts the master when its configuration changed", () => {
      const before = calls(first.dir).length;
      const moved = runBash(masterScript(), { stubs: STUBS, env: { ...MASTER_ENV, LOCAL_IPV4: "10.0.16.9" }, dir: first.dir });
      expect(moved.status).toBe(0);
      expect(calls(first.dir).slice(before)).toContain("systemctl restart spark-master");
    });

    it("never replaces the secret the workers hold, even when reading it fails at first (instance credentials not ready)", () => {
      const held = runBash(masterScript(), { stubs: STUBS, env: { ...MASTER_ENV, SSM_GET_FAILS: "1" }, dir: sparkNode() });
      const store = join(held.dir, "work", "ssm", "_insight_dev_spark_auth-secret");
      const original = readFileSync(store, "utf8");
      const rerun = runBash(masterScript(), { stubs: STUBS, env: { ...MASTER_ENV, SSM_GET_FAILS: "2" }, dir: held.dir });
      expect(rerun.status).toBe(0);
      expect(readFileSync(store, "utf8")).toBe(original);
      expect(read(held.dir, "etc/spark/spark-defaults.conf")).toContain(`spark.authenticate.secret                     ${original}\n`);
      // One create, then each run stores the value it read again under the key (the file above is unchanged).
      expect(secretPuts(held.dir)).toHaveLength(3);
    });

    it("rotates the secret as docs/spark.md says: with the parameter deleted, the master's next setup publishes a new one, uses it and restarts; a worker's next setup takes it and restarts", () => {
      const master = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV, dir: sparkNode() });
      const store = join(master.dir, "work", "ssm", "_insight_dev_spark_auth-secret");
      const old = readFileSync(store, "utf8");
      rmSync(store);
      const before = calls(master.dir).length;
      const rotated = runBash(masterScript(), { stubs: STUBS, env: MASTER_ENV, dir: master.dir });
      expect(rotated.status).toBe(0);
      const fresh = readFileSync(store, "utf8");
      expect(fresh).toMatch(/^[0-9a-f]{64}$/);
      expect(fresh).not.toBe(old);
      expect(read(master.dir, "etc/spark/spark-defaults.conf")).toContain(`spark.authenticate.secret                     ${fresh}\n`);
      expect(calls(master.dir).slice(before)).toContain("systemctl restart spark-master");
      const workerEnv = { DOWNLOAD_CONTENT: TARBALL, LOCAL_IPV4: "10.0.32.7", MASTER_JSON: masterListing("10.0.32.7", "ALIVE") };
      const worker = runBash(workerScript(), { stubs: STUBS, env: { ...workerEnv, SSM_PRESET: old }, dir: sparkNode() });
      const workerStore = join(worker.dir, "work", "ssm", "_insight_dev_spark_auth-secret");
      expect(read(worker.dir, "etc/spark/spark-defaults.conf")).toContain(`spark.authenticate.secret                     ${old}\n`);
      mkdirSync(join(worker.dir, "work", "ssm"), { recursive: true });
      writeFileSync(workerStore, fresh);
      const workerBefore = calls(worker.dir).length;
      const taken = runBash(workerScript(), { stubs: STUBS, env: workerEnv, dir: worker.dir });
      expect(taken.status).toBe(0);
      expect(read(worker.dir, "etc/spark/spark-defaults.conf")).toContain(`spark.authenticate.secret                     ${fresh}\n`);
      expect(calls(worker.dir).slice(workerBefore)).toContain("systemctl restart spark-worker");
    });

    it("fails with a clear message when the master never says ALIVE, or never listens", () => {
      for (const env of [{ MASTER_JSON: JSON.stringify({ status: "RECOVERING", workers: [] }) }, { MASTER_LISTENING: "no" }, { MASTER_JSON: "" }] as Record<string, string>[]) {
        const run = runBash(masterScript(), { stubs: STUBS, env: { ...MASTER_ENV, ...env }, dir: sparkNode() });
        expect(run.status).not.toBe(0);
        expect(run.output).toContain(
          "spark-master is not serving: nothing listens on 7077 or http://10.0.16.5:8080/json/ does not say ALIVE; see 'journalctl -u spark-master' and /var/log/spark",
        );
        expect(run.output).toContain("FAILED at step 'check that spark-master serves'");
      }
    });
  });

  describe("on a worker", () => {
    const WORKER_ENV = { DOWNLOAD_CONTENT: TARBALL, SSM_PRESET: SECRET, LOCAL_IPV4: "10.0.32.7", MASTER_JSON: masterListing("10.0.32.7", "ALIVE") };
    const run = runBash(workerScript(), { stubs: STUBS, env: WORKER_ENV, dir: sparkNode() });

    it("registers with the master's private IP on 7077, and finishes once the master lists it as ALIVE", () => {
      expect(run.status).toBe(0);
      const unit = read(run.dir, "etc/systemd/system/spark-worker.service");
      expect(unit).toContain(
        "ExecStart=/opt/spark/current/bin/spark-class org.apache.spark.deploy.worker.Worker --host 10.0.32.7 --port 7078 --webui-port 8081 --work-dir /var/lib/spark/work spark://10.0.16.5:7077\n",
      );
      expect(unit).toContain("SuccessExitStatus=143\n");
      expect(read(run.dir, "etc/spark/spark-defaults.conf")).toContain(`spark.authenticate.secret                     ${SECRET}\n`);
      expect(run.output).toContain("spark-worker 10.0.32.7 is registered with spark://10.0.16.5:7077");
      expect(calls(run.dir)).toContain("curl --fail --silent --show-error --max-time 5 http://10.0.16.5:8080/json/");
    });

    it("makes no spark-jobs user and accepts no jobs key: jobs are submitted on the master", () => {
      expect(calls(run.dir).filter((call) => call.includes("spark-jobs"))).toEqual([]);
      expect(existsSync(join(run.dir, "root/etc/ssh/sshd_config.d/60-platform-jobs-key.conf"))).toBe(false);
      expect(existsSync(join(run.dir, "root/etc/ssh/sshd_config.d/60-platform-bootstrap-key.conf"))).toBe(true);
    });

    it("cleans up stopped applications' work directories after a day and rolls executor logs", () => {
      expect(read(run.dir, "etc/spark/spark-env.sh")).toContain(
        'SPARK_WORKER_OPTS="-Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.appDataTtl=86400 -Dspark.executor.logs.rolling.strategy=size -Dspark.executor.logs.rolling.maxSize=134217728 -Dspark.executor.logs.rolling.maxRetainedFiles=5"\n',
      );
    });

    it("fails with a clear message when the master does not list it, or lists it dead", () => {
      for (const listing of [masterListing("10.0.32.99", "ALIVE"), masterListing("10.0.32.7", "DEAD")]) {
        const failed = runBash(workerScript(), { stubs: STUBS, env: { ...WORKER_ENV, MASTER_JSON: listing }, dir: sparkNode() });
        expect(failed.status).not.toBe(0);
        expect(failed.output).toContain(
          "the master at http://10.0.16.5:8080/json/ does not list worker 10.0.32.7 as ALIVE; see 'journalctl -u spark-worker' and /var/log/spark here, and the master's log",
        );
        expect(failed.output).toContain("FAILED at step 'check that the master lists this worker as alive'");
      }
    });

    it("gives up with a clear message when the master never publishes the secret", () => {
      const waiting = runBash(workerScript(), { stubs: STUBS, env: { DOWNLOAD_CONTENT: TARBALL }, dir: sparkNode() });
      expect(waiting.status).not.toBe(0);
      expect(waiting.output).toContain("timed out waiting for SSM parameter /insight/dev/spark/auth-secret; the master publishes it when it boots");
      expect(waiting.output).toContain("FAILED at step 'wait for the master's authentication secret'");
    });
  });
});
