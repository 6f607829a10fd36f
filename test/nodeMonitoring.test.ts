import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { agentConfig, agentPackage, chefClientLog, CLOUDWATCH_AGENT, cloudwatchAgentUrl, prometheusConfig, type NodeKind } from "../constructs/monitoring/agentConfig";
import { AGENT_LOG_ACTIONS } from "../constructs/monitoring/NodeMonitoring";
import { renderScript } from "../constructs/renderScript";
import { dataOf, platformStackJson, resourcesOf, userDataOf, type Json } from "./helpers";
import { runBash, shellcheck, stubCalls as calls } from "./shell";
import { COMMON_STUBS, CURL_STUB, python3Stub } from "./stubs";
import { describeScripts, itScripts } from "./tiers";

const statementsOf = (json: Json, prefix: string): Json[] => {
  const entry = Object.entries(dataOf(json, "aws_iam_policy_document")).find(([name]) => name.startsWith(`${prefix}_cloudwatch-agent-policy`));
  if (!entry) throw new Error(`no monitoring policy document for ${prefix}`);
  return entry[1].statement as Json[];
};
const parameterValue = (json: Json, name: string): string => {
  const parameter = Object.values(resourcesOf(json, "aws_ssm_parameter")).find((each) => each.name === name);
  if (!parameter) throw new Error(`no SSM parameter ${name}`);
  expect(parameter.type).toBe("String");
  return unescapeTerraformTemplate(String(parameter.value));
};

describe("NodeMonitoring", () => {
  const spark = platformStackJson("spark");

  it("lets the node put metrics only into the platform's namespace", () => {
    const metrics = statementsOf(spark, "master").find((statement) => statement.sid === "PutPlatformMetrics") as Json;
    expect(metrics.actions).toEqual(["cloudwatch:PutMetricData"]);
    expect(metrics.resources).toEqual(["*"]);
    expect(metrics.condition).toEqual([{ test: "StringEquals", variable: "cloudwatch:namespace", values: ["Platform/insight-dev"] }]);
  });

  it("lets the node write only its kind's log groups, and never create one", () => {
    const logs = statementsOf(spark, "master").find((statement) => statement.sid === "ShipLogs") as Json;
    expect(logs.actions).toEqual([...AGENT_LOG_ACTIONS]);
    expect(logs.actions).not.toContain("logs:CreateLogGroup");
    const groups = (logs.resources as string[]).map((arn) => /:log-group:([^:]+)(:\*)?$/.exec(arn)?.[1]);
    expect([...new Set(groups)].sort()).toEqual(["/platform/insight-dev/provisioning", "/platform/insight-dev/spark-master"]);
    expect(logs.resources).toHaveLength(4);
    const worker = statementsOf(spark, "worker-0").find((statement) => statement.sid === "ShipLogs") as Json;
    expect((worker.resources as string[]).join(" ")).not.toContain("spark-master");
  });

  it("lets the node read only its own parameters", () => {
    const read = statementsOf(spark, "master").find((statement) => statement.sid === "ReadAgentConfiguration") as Json;
    expect(read.actions).toEqual(["ssm:GetParameter"]);
    expect((read.resources as string[]).map((arn) => arn.replace(/^.*:parameter/, ""))).toEqual([
      "/insight/dev/monitoring/insight-dev-spark-master",
      "/insight/dev/monitoring/insight-dev-spark-master/package",
      "/insight/dev/monitoring/insight-dev-spark-master/prometheus",
    ]);
    const worker = statementsOf(spark, "worker-1").find((statement) => statement.sid === "ReadAgentConfiguration") as Json;
    expect((worker.resources as string[]).map((arn) => arn.replace(/^.*:parameter/, ""))).toEqual([
      "/insight/dev/monitoring/insight-dev-spark-worker-1",
      "/insight/dev/monitoring/insight-dev-spark-worker-1/package",
    ]);
  });

  it("pins each node's agent package in a parameter of its own, for the node's architecture", () => {
    expect(JSON.parse(parameterValue(spark, "/insight/dev/monitoring/insight-dev-spark-master/package"))).toEqual({
      version: CLOUDWATCH_AGENT.version,
      url: cloudwatchAgentUrl("amd64"),
      sha256: CLOUDWATCH_AGENT.sha256.amd64,
    });
    const graviton = platformStackJson("spark", "--spark.workerInstanceType", "m7g.large");
    expect(JSON.parse(parameterValue(graviton, "/insight/dev/monitoring/insight-dev-spark-worker-0/package"))).toEqual({
      version: CLOUDWATCH_AGENT.version,
      url: cloudwatchAgentUrl("arm64"),
      sha256: CLOUDWATCH_AGENT.sha256.arm64,
    });
  });

  it("attaches the policy to every Spark node's role", () => {
    const names = Object.values(resourcesOf(spark, "aws_iam_role_policy")).map((policy) => policy.name);
    expect(names.filter((name) => name === "cloudwatch-agent")).toHaveLength(4);
  });

  it("stores the agent's configuration as the node reads it: Terraform leaves the agent's own placeholders alone", () => {
    const stored = parameterValue(spark, "/insight/dev/monitoring/insight-dev-spark-master");
    expect(JSON.parse(stored)).toEqual(agentConfig("spark-master", { project: "insight", environment: "dev" }));
    expect(stored).toContain('"InstanceId":"${aws:InstanceId}"');
    expect(parameterValue(spark, "/insight/dev/monitoring/insight-dev-spark-master/prometheus")).toBe(prometheusConfig("spark-master"));
  });

  const kindsOf = (json: Json): Record<string, NodeKind> => {
    const kinds: Record<string, NodeKind> = {};
    for (const parameter of Object.values(resourcesOf(json, "aws_ssm_parameter"))) {
      const match = /^\/insight\/dev\/monitoring\/insight-dev-([\w-]+)$/.exec(String(parameter.name));
      if (match) kinds[match[1]] = String(parameter.description).replace(/^.*\((.+)\).*$/, "$1") as NodeKind;
    }
    return kinds;
  };
  it("gives each Kafka node the configuration of its role: ZooKeeper members, and KRaft voters", () => {
    expect(kindsOf(platformStackJson("kafka"))).toEqual({
      "kafka-0": "kafka-zookeeper-member",
      "kafka-1": "kafka-zookeeper-member",
      "kafka-2": "kafka-zookeeper-member",
    });
    expect(kindsOf(platformStackJson("kafka", "--kafka.nodes", "4", "--kafka.zookeeperNodes", "3"))["kafka-3"]).toBe("kafka-zookeeper-broker");
    expect(kindsOf(platformStackJson("kafka", "--kafka.mode", "kraft", "--kafka.nodes", "4"))).toEqual({
      "kafka-0": "kafka-kraft-combined",
      "kafka-1": "kafka-kraft-combined",
      "kafka-2": "kafka-kraft-combined",
      "kafka-3": "kafka-kraft-broker",
    });
  });

  it("lets every Kafka node's agent write the Kafka, ZooKeeper, Chef client and provisioning groups, whatever its role today", () => {
    const groupsOf = (json: Json, node: string): string[] => {
      const logs = statementsOf(json, node).find((statement) => statement.sid === "ShipLogs") as Json;
      return [...new Set((logs.resources as string[]).map((arn) => /:log-group:([^:]+)/.exec(arn)?.[1] as string))].sort();
    };
    const expected = ["chef-client", "kafka", "provisioning", "zookeeper"].map((service) => `/platform/insight-dev/${service}`);
    expect(groupsOf(platformStackJson("kafka"), "node-0")).toEqual(expected);
    const kraft = platformStackJson("kafka", "--kafka.mode", "kraft", "--kafka.nodes", "4");
    expect(groupsOf(kraft, "node-0")).toEqual(expected);
    expect(groupsOf(kraft, "node-3")).toEqual(expected);
  });

  it("has each Kafka node's Chef client log to the file its agent ships", () => {
    const kafka = platformStackJson("kafka");
    const [, resource] = Object.entries(resourcesOf(kafka, "aws_instance")).find(([name]) => name.startsWith("node-0_")) as [string, Json];
    const script = unescapeTerraformTemplate(userDataOf(kafka, resource));
    expect(script).toContain(`  write_if_changed "/etc/"'cinc'"/client.d/platform-log.rb" 0644 root:root <<EOF || true\nlog_location "${chefClientLog("cinc")}"\nEOF`);
    expect(script).toMatch(/^chef_client_log_file$/m);
    const shipped = JSON.parse(parameterValue(kafka, "/insight/dev/monitoring/insight-dev-kafka-0")) as Json;
    expect(shipped.logs.logs_collected.files.collect_list).toContainEqual({ file_path: chefClientLog("cinc"), log_group_name: "/platform/insight-dev/chef-client", log_stream_name: "{instance_id}" });
  });

  itScripts.each([
    ["spark", "master"],
    ["spark", "worker-0"],
    ["kafka", "node-0"],
    ["chef", "server"],
    ["chef", "workstation"],
  ])("%s %s: its user data installs the agent its parameter pins and configures it, shellcheck-clean", (stack, instance) => {
    const json = platformStackJson(stack);
    const [, resource] = Object.entries(resourcesOf(json, "aws_instance")).find(([name]) => name.startsWith(`${instance}_`)) as [string, Json];
    const script = unescapeTerraformTemplate(userDataOf(json, resource));
    expect(script).toMatch(/^cloudwatch_agent_from_parameter$/m);
    expect(script).toMatch(/^cloudwatch_agent_configure$/m);
    // No version, URL or digest of the package: a new agent version changes no user data, so it
    // replaces no node.
    for (const pinned of [CLOUDWATCH_AGENT.version, CLOUDWATCH_AGENT.sha256.amd64, CLOUDWATCH_AGENT.sha256.arm64, "amazon-cloudwatch-agent.deb"]) expect(script).not.toContain(pinned);
    // Terraform's references are placeholders here; shellcheck reads them as plain words.
    expect(shellcheck(script.replace(/\$\{[a-z_]+\.[^}]*\}/g, "resolved")).output).toBe("");
  });
});

describeScripts("the node's cloudwatch_agent functions", () => {
  const templatesDir = mkdtempSync(join(tmpdir(), "cwa-templates-"));
  writeFileSync(
    join(templatesDir, "cwa.sh.hbs"),
    ["#!/usr/bin/env bash", "{{> common}}", "cloudwatch_agent_from_parameter", "cloudwatch_agent_configure", ""].join("\n"),
  );
  const content = "the agent's package";
  const sha256 = createHash("sha256").update(content).digest("hex");
  const pin = (version: string, digest = sha256) => JSON.stringify({ version, url: cloudwatchAgentUrl("amd64").replace(CLOUDWATCH_AGENT.version, version), sha256: digest });
  const context = {
    cloudwatchAgent: {
      keyUrl: CLOUDWATCH_AGENT.keyUrl,
      keyFingerprint: CLOUDWATCH_AGENT.keyFingerprint,
      region: "us-west-2",
      parameter: "/p/e/monitoring/node",
      prometheusParameter: "/p/e/monitoring/node/prometheus",
      prometheusConfigPath: "/opt/aws/amazon-cloudwatch-agent/etc/platform-prometheus.yaml",
    },
  };
  const script = renderScript("cwa", context, { templatesDir });
  // gpg says VALIDSIG with the primary key's fingerprint last, as GnuPG's status lines do.
  const gpg = 'if [[ " $* " == *" --verify "* ]]; then echo "[GNUPG:] VALIDSIG 0000 2026-08-11 0 0 4 0 1 8 00 ${SIGNER:-' + CLOUDWATCH_AGENT.keyFingerprint + '}"; fi';
  // The apply command's own SSM read (python3 -) has no SSM here: the setup leaves it to the timer.
  const stubs = { ...COMMON_STUBS, curl: CURL_STUB, gpg, systemctl: "exit 0", python3: python3Stub('[[ $1 == - ]] && { echo EndpointConnectionError >&2; exit 1; }') };
  const env = { DOWNLOAD_CONTENT: content };
  /** A node whose package parameter (SSM, as python3Stub keeps it) pins `version`. */
  const node = (version = CLOUDWATCH_AGENT.version): string => {
    const dir = mkdtempSync(join(tmpdir(), "cwa-node-"));
    mkdirSync(join(dir, "work", "ssm"), { recursive: true });
    writeFileSync(join(dir, "work", "ssm", "_p_e_monitoring_node_package"), pin(version));
    return dir;
  };
  const run = (extraEnv: Record<string, string> = {}, dir = node()): ReturnType<typeof runBash> =>
    runBash(script, { stubs, env: { ...env, ...extraEnv }, dir });

  /**
   * The apply command a setup in `dir` installed, its fixed paths moved into `dir`, wrapped to
   * run with the node's parameters (runBash runs a script without arguments). `ssm` answers the
   * command's own read (python3 -, given the output directory and the parameter names); its
   * python3 -c (the pin's parse) runs for real.
   */
  const applyCommand = (dir: string, ssm: readonly string[]): { wrapper: string; python3: string } => {
    const command = readFileSync(join(dir, "root/usr/local/sbin/platform-cloudwatch-config"), "utf8")
      .replace("/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl", "amazon-cloudwatch-agent-ctl")
      .replace("/var/lib/platform/", `${dir}/state/`)
      .replace("/var/lib/cloud/data/instance-id", `${dir}/instance-id`);
    writeFileSync(join(dir, "instance-id"), "i-0abc\n");
    const args = ["/p/e/monitoring/node", "/p/e/monitoring/node/prometheus", `${dir}/prometheus.yaml`].map((arg) => `'${arg}'`).join(" ");
    const wrapper = `#!/usr/bin/env bash\nset -e\ncat > "${dir}/apply.sh" <<'APPLY'\n${command}\nAPPLY\nexec bash "${dir}/apply.sh" ${args}\n`;
    return { wrapper, python3: python3Stub(["if [[ $1 == - ]]; then", ...ssm, "  exit 0", "fi"].join("\n")) };
  };

  it("is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
  });

  it("installs the package its parameter pins once its sha256 and AWS's signature both check out", () => {
    const result = run();
    expect(result.output).toContain(`CloudWatch agent ${CLOUDWATCH_AGENT.version} installed`);
    // --allow-downgrades: a pin set back to an older version is installed too, not refused by apt.
    expect(calls(result.dir)).toContain(`apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold -y -q install --no-install-recommends --allow-downgrades ${result.dir}/root/var/cache/platform/amazon-cloudwatch-agent.deb`);
    expect(calls(result.dir).some((call) => call.startsWith("curl") && call.includes(".deb.sig"))).toBe(true);
  });

  it("refuses a package signed by any other key", () => {
    const result = run({ SIGNER: "0123456789ABCDEF0123456789ABCDEF01234567" });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`is not signed by AWS's key ${CLOUDWATCH_AGENT.keyFingerprint}`);
    expect(calls(result.dir).some((call) => call.startsWith("apt-get") && call.includes("amazon-cloudwatch-agent.deb"))).toBe(false);
  });

  it("refuses a package whose sha256 is not the pinned one, before asking for its signature", () => {
    const result = run({ DOWNLOAD_CONTENT: "something else" });
    expect(result.status).not.toBe(0);
    expect(calls(result.dir).some((call) => call.startsWith("gpg"))).toBe(false);
  });

  it("stops at setup, naming the parameter, when it cannot read the pin", () => {
    const result = run({ SSM_UNREACHABLE: "1" });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("cannot read /p/e/monitoring/node/package");
    expect(result.output).toContain("FAILED at step");
    expect(calls(result.dir).some((call) => call.startsWith("curl") && call.includes("amazon-cloudwatch-agent"))).toBe(false);
  });

  it("stops at setup when the parameter holds no pin", () => {
    const dir = node();
    writeFileSync(join(dir, "work", "ssm", "_p_e_monitoring_node_package"), '{"version": "1.0"}');
    const result = run({}, dir);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('not a CloudWatch agent package pin: {"version": "1.0"}');
  });

  it("leaves an installed agent of that version alone", () => {
    const dir = node();
    writeFileSync(join(dir, "work", "dpkg-version-amazon-cloudwatch-agent"), `${CLOUDWATCH_AGENT.version}-1\n`);
    const result = run({}, dir);
    expect(calls(result.dir).some((call) => call.startsWith("curl") && call.includes("amazon-cloudwatch-agent"))).toBe(false);
  });

  it("installs the apply command and a timer that runs it with the node's parameters", () => {
    const result = run();
    const root = join(result.dir, "root");
    const service = readFileSync(join(root, "etc/systemd/system/platform-cloudwatch-config.service"), "utf8");
    expect(service).toContain("ExecStart=/usr/local/sbin/platform-cloudwatch-config /p/e/monitoring/node /p/e/monitoring/node/prometheus /opt/aws/amazon-cloudwatch-agent/etc/platform-prometheus.yaml");
    expect(service).toContain("Environment=AWS_REGION=us-west-2");
    expect(readFileSync(join(root, "etc/systemd/system/platform-cloudwatch-config.timer"), "utf8")).toMatch(/OnUnitActiveSec=5min/);
    // Its apt runs, on a running node, restart nothing but the agent: needrestart suspended.
    expect(readFileSync(join(root, "usr/local/sbin/platform-cloudwatch-config"), "utf8")).toMatch(/^export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1$/m);
    expect(calls(result.dir)).toContain("systemctl enable --now platform-cloudwatch-config.timer");
  });

  it("the apply command applies a parameter version once, and again when it changes or the agent is down", () => {
    const installed = run();
    expect(shellcheck(readFileSync(join(installed.dir, "root/usr/local/sbin/platform-cloudwatch-config"), "utf8")).output).toBe("");
    // The node's state: the agent its setup installed.
    const dir = installed.dir;
    writeFileSync(join(dir, "work", "dpkg-version-amazon-cloudwatch-agent"), `${CLOUDWATCH_AGENT.version}-1\n`);
    writeFileSync(join(dir, "calls.log"), "");
    // SSM: each parameter's version (VERSION), the package pin (PIN) and the scrape configuration.
    const { wrapper, python3 } = applyCommand(dir, [
      '  for name in "${@:3}"; do echo "$name ${VERSION:-1}"; done > "$2/versions"',
      `  printf '%s' "$PIN" > "$2/package"`,
      '  printf \'%s\' \'{"labels":{"InstanceId":"{instance_id}"}}\' > "$2/value"',
    ]);
    const applyStubs = { ...stubs, python3, systemctl: "[[ -z ${AGENT_DOWN:-} ]]", "amazon-cloudwatch-agent-ctl": "exit 0" };
    const runApply = (extraEnv: Record<string, string> = {}): string[] => {
      writeFileSync(join(dir, "calls.log"), "");
      const result = runBash(wrapper, { dir, stubs: applyStubs, env: { AWS_REGION: "us-west-2", PIN: pin(CLOUDWATCH_AGENT.version), ...env, ...extraEnv } });
      expect(result.status).toBe(0);
      return calls(dir).filter((call) => call.startsWith("amazon-cloudwatch-agent-ctl") || (call.startsWith("apt-get") && call.includes(".deb")));
    };
    expect(runApply()).toEqual(["amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -c ssm:/p/e/monitoring/node -s"]);
    expect(readFileSync(join(dir, "prometheus.yaml"), "utf8")).toBe('{"labels":{"InstanceId":"i-0abc"}}');
    expect(runApply()).toEqual([]);
    expect(runApply({ VERSION: "2" })).toHaveLength(1);
    expect(runApply({ VERSION: "2", AGENT_DOWN: "1" })).toHaveLength(1);
    // A new pin (the package parameter's next version): installed in place, verified, then applied.
    const next = "the agent's next package";
    const upgrade = runApply({ VERSION: "3", PIN: pin("1.300099.0b1", createHash("sha256").update(next).digest("hex")), DOWNLOAD_CONTENT: next });
    expect(upgrade).toEqual([
      expect.stringMatching(/^apt-get .* install --no-install-recommends .*\/var\/cache\/platform\/amazon-cloudwatch-agent\.deb$/),
      "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -c ssm:/p/e/monitoring/node -s",
    ]);
    expect(calls(dir)).toContain(`curl --fail --silent --show-error --location --connect-timeout 20 --output ${dir}/root/var/cache/platform/amazon-cloudwatch-agent.deb.part ${CLOUDWATCH_AGENT.baseUrl}/ubuntu/amd64/1.300099.0b1/amazon-cloudwatch-agent.deb`);
  });

  it("the apply command refuses a new pin whose package is not signed by AWS's key, still applies the configuration, and tries the pin again at its next run", () => {
    const installed = run();
    const { wrapper, python3 } = applyCommand(installed.dir, [
      '  for name in "${@:3}"; do echo "$name 2"; done > "$2/versions"',
      `  printf '%s' '${pin("1.300099.0b1")}' > "$2/package"`,
      '  printf \'{}\' > "$2/value"',
    ]);
    writeFileSync(join(installed.dir, "calls.log"), "");
    const result = runBash(wrapper, { dir: installed.dir, stubs: { ...stubs, python3, "amazon-cloudwatch-agent-ctl": "exit 0" }, env: { ...env, AWS_REGION: "us-west-2", SIGNER: "0123456789ABCDEF0123456789ABCDEF01234567" } });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`is not signed by AWS's key ${CLOUDWATCH_AGENT.keyFingerprint}`);
    // The agent it runs keeps running, with the configuration the parameters hold now.
    expect(calls(installed.dir).filter((call) => call.startsWith("amazon-cloudwatch-agent-ctl") || (call.startsWith("apt-get") && call.includes(".deb")))).toEqual([
      "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -c ssm:/p/e/monitoring/node -s",
    ]);
    expect(result.output).toContain("configuration applied, but not the package /p/e/monitoring/node/package pins: the next run tries it again");
    // Nothing recorded as applied: the timer's next run tries the pin again.
    expect(existsSync(join(installed.dir, "state", "cloudwatch-config.applied"))).toBe(false);
  });
});

describeScripts("the monitoring-agent step: a running Kafka node gets the agent in place", () => {
  const kafka = platformStackJson("kafka");
  const steps = resourcesOf(kafka, "terraform_data");
  const stepScript = (index: number): string => unescapeTerraformTemplate(String(steps[`monitoring-agent-node-${index}`].provisioner[0].file.content));
  const nodeScriptOf = (script: string): string => Buffer.from(/^base64 -d >"\$staged" <<<'([A-Za-z0-9+/=]+)'$/m.exec(script)![1], "base64").toString("utf8");

  it("is a step per node, run again when the node, the workstation or the node's agent setup changes, after the node's bootstrap and the converge", () => {
    for (const index of [0, 1, 2]) {
      const step = steps[`monitoring-agent-node-${index}`];
      expect(step.triggers_replace).toEqual({
        instance: expect.stringMatching(new RegExp(`^\\$\\{aws_instance\\.node-${index}_instance_[0-9A-F]{8}\\.id\\}$`)),
        workstation: expect.stringMatching(/workstation_instance_[0-9A-F]{8}id\}$/),
        agent: createHash("sha256").update(nodeScriptOf(stepScript(index))).digest("hex"),
      });
      expect(step.depends_on).toEqual(expect.arrayContaining([`terraform_data.host-keys-node-${index}`, `terraform_data.bootstrap-node-${index}`, "terraform_data.converge"]));
    }
    // Nothing waits for it: a node without metrics is not a reason to hold the cluster's apply.
    for (const [name, other] of Object.entries(steps)) if (!name.startsWith("monitoring-agent-")) expect(JSON.stringify(other.depends_on ?? [])).not.toContain("monitoring-agent-");
  });

  it("carries the node's own agent setup, the same functions its first boot runs, with its own parameters", () => {
    const script = stepScript(0);
    // Terraform's references are placeholders here; shellcheck reads them as plain words.
    expect(shellcheck(script.replace(/\$\{[a-z_]+\.[^}]*\}/g, "resolved")).output).toBe("");
    const node = nodeScriptOf(script);
    expect(shellcheck(node).output).toBe("");
    expect(node).toMatch(/^cloudwatch_agent_from_parameter$/m);
    expect(node).toMatch(/^cloudwatch_agent_configure$/m);
    expect(node).toMatch(/^chef_client_log_file$/m);
    // Run on a node that serves: its apt runs must not have needrestart restart Kafka or ZooKeeper.
    expect(node).toMatch(/^export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1$/m);
    // A new agent version changes neither script: the node's timer installs it.
    for (const pinned of [CLOUDWATCH_AGENT.version, CLOUDWATCH_AGENT.sha256.amd64]) expect(script + node).not.toContain(pinned);
    expect(node).toContain("CWA_ARGS=('/insight/dev/monitoring/insight-dev-kafka-0' '/insight/dev/monitoring/insight-dev-kafka-0/prometheus'");
    expect(nodeScriptOf(stepScript(1))).toContain("CWA_ARGS=('/insight/dev/monitoring/insight-dev-kafka-1'");
  });

  it("copies the script to the node over its pinned host key, then runs it there as root", () => {
    const script = stepScript(0);
    const stubs = {
      ...COMMON_STUBS,
      sudo: '[[ $1 == -n ]] && shift; exec "$@"',
      "cloud-init": "exit 0",
      timeout: 'shift; "$@"',
      // The node: keeps what it is sent, and says which script it ran.
      ssh: 'if [[ " $* " == *" install "* ]]; then cat > "$WORK_DIR/node.sh"; else echo "ran: ${*: -1}"; fi',
    };
    const result = runBash(script, { stubs });
    expect(result.status).toBe(0);
    const sshCalls = calls(result.dir).filter((call) => call.startsWith("ssh "));
    expect(sshCalls).toEqual([
      expect.stringMatching(/-o StrictHostKeyChecking=yes .*ubuntu@\$\{aws_instance\.node-0_instance_[0-9A-F]{8}\.private_ip\} sudo -n install -D -m 0700 -o root -g root \/dev\/stdin \/var\/lib\/platform\/monitoring-agent\.sh$/),
      expect.stringMatching(/ sudo -n bash \/var\/lib\/platform\/monitoring-agent\.sh$/),
    ]);
    expect(readFileSync(join(result.dir, "work/node.sh"), "utf8")).toBe(nodeScriptOf(script));
  });

  it("on the node: an agent of the pinned version is left alone; the log file, the apply command and its timer are put in place", () => {
    const node = nodeScriptOf(stepScript(0));
    const dir = mkdtempSync(join(tmpdir(), "cwa-node-"));
    mkdirSync(join(dir, "work", "ssm"), { recursive: true });
    writeFileSync(join(dir, "work", "dpkg-version-amazon-cloudwatch-agent"), `${CLOUDWATCH_AGENT.version}-1\n`);
    writeFileSync(join(dir, "work", "ssm", "_insight_dev_monitoring_insight-dev-kafka-0_package"), JSON.stringify(agentPackage("amd64")));
    // The apply command's own SSM read (python3 -) fails: SSM as the step may meet it.
    const result = runBash(node, { dir, stubs: { ...COMMON_STUBS, curl: CURL_STUB, systemctl: "exit 0", python3: python3Stub('[[ $1 == - ]] && exit 1') } });
    expect(result.status).toBe(0);
    expect(calls(dir).some((call) => call.startsWith("curl") && call.includes("amazon-cloudwatch-agent"))).toBe(false);
    expect(readFileSync(join(dir, "root/etc/cinc/client.d/platform-log.rb"), "utf8")).toBe(`log_location "${chefClientLog("cinc")}"\n`);
    expect(calls(dir)).toContain("systemctl enable --now platform-cloudwatch-config.timer");
    // The configuration cannot be applied yet: the timer applies it later, the step does not fail.
    expect(result.output).toContain("the timer platform-cloudwatch-config retries every 5 minutes");
  });

  it("its trigger is the node script's digest, and that script holds no Terraform reference a later synth could renumber", () => {
    for (const index of [0, 1, 2]) expect(nodeScriptOf(stepScript(index))).not.toMatch(/\$\{(TfToken|aws_|data\.|var\.|local\.)/);
  });
});
