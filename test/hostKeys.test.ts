import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostKeysParameter } from "../constructs/hostKeys";
import { KafkaProvisionScripts } from "../constructs/kafkaProvisionScripts";
import { renderScript } from "../constructs/renderScript";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { configFrom, dataOf, platformStackJson, resourcesOf, userDataOf, type Json } from "./helpers";
import { runBash, shellcheck, stubCalls as calls } from "./shell";
import { hostKeysOnFirstUse } from "./sshKeys";
import { COMMON_STUBS, kafkaNodeScript, kafkaNodeStubs, python3Stub } from "./stubs";
import { describeScripts } from "./tiers";

const NODE = "insight-dev-kafka-0";
const PARAMETER = "/insight/dev/host-keys/insight-dev-kafka-0";
const STORED = `work/ssm/${PARAMETER.replace(/\//g, "_")}`;
const INSTANCE = "i-0aaaaaaaaaaaaaaa1";
const KNIFE_CONFIG = "/home/ubuntu/chef-repo/.cinc/config.rb";

/** Real host keys, each made once: `<type> <base64>` by name. */
const keys: Readonly<Record<string, string>> = hostKeysOnFirstUse({ ed25519: "ed25519", ecdsa: "ecdsa", rsa: "rsa", other: "ed25519", intruder: "ed25519" });
const published = (instance: string, ...names: string[]): string => `${[instance, ...names.map((name) => keys[name])].join("\n")}\n`;

describeScripts("a Kafka node publishes its SSH host keys", () => {
  const VOLUME = "vol-0123456789abcdef0";
  const script = kafkaNodeScript(PARAMETER, VOLUME);
  const stubs = {
    ...kafkaNodeStubs(),
    runuser: "exit 0",
  };
  const DEB = "pretend cinc";
  const env = { INSTANCE_ID: INSTANCE, SSM_PRESET: "ssh-ed25519 AAAAC3Nza platform-bootstrap@insight", DOWNLOAD_CONTENT: DEB, PUBLISHER_SHA512: require("node:crypto").createHash("sha512").update(DEB).digest("hex") };
  const node = (): string => {
    const dir = mkdtempSync(join(tmpdir(), "kafka-node-keys-"));
    mkdirSync(join(dir, "root/dev/disk/by-id"), { recursive: true });
    writeFileSync(join(dir, "root/dev/disk/by-id", `nvme-Amazon_Elastic_Block_Store_${VOLUME.replace("-", "")}`), "");
    mkdirSync(join(dir, "root/etc/ssh"), { recursive: true });
    for (const type of ["ed25519", "ecdsa", "rsa"]) writeFileSync(join(dir, `root/etc/ssh/ssh_host_${type}_key.pub`), `${keys[type]} root@node\n`);
    return dir;
  };

  it("puts its instance id and every host public key into its own parameter, with retries, the same again on a re-run", () => {
    const first = runBash(script, { stubs, env: { ...env, SSM_PUT_FAILS: "1" }, dir: node() });
    expect(first.status).toBe(0);
    expect(first.output).toContain(`published 3 SSH host keys to ${PARAMETER}`);
    expect(readFileSync(join(first.dir, STORED), "utf8")).toBe(published(INSTANCE, "ed25519", "ecdsa", "rsa"));
    expect(calls(first.dir)).toEqual(expect.arrayContaining([expect.stringMatching(/^curl .*meta-data\/instance-id$/)]));
    const again = runBash(script, { stubs, env, dir: first.dir });
    expect(again.status).toBe(0);
    expect(readFileSync(join(first.dir, STORED), "utf8")).toBe(published(INSTANCE, "ed25519", "ecdsa", "rsa"));
  });

  it("fails its setup, naming the step, when sshd has no host key to publish", () => {
    const dir = mkdtempSync(join(tmpdir(), "kafka-node-keys-"));
    const run = runBash(script, { stubs, env, dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`FAILED at step 'publish this node's SSH host keys to ${PARAMETER}'`);
    expect(existsSync(join(dir, STORED))).toBe(false);
  });
});

describeScripts("the workstation trusts a node's host key only as the node published it", () => {
  const render = (waitAttempts = 4): string =>
    renderScript("provision/bootstrap-node", {
      nodeName: NODE,
      nodeIp: "10.0.16.5",
      instanceId: INSTANCE,
      serverId: "i-0cccccccccccccc01",
      jsonAttributes: "{}",
      knifeConfig: KNIFE_CONFIG,
      runList: "role[kafka-node]",
      installCheck: "test -x /opt/cinc/bin/cinc-client",
      licenceFlag: "",
      setupTimeoutSeconds: 60,
      sshWaitAttempts: 4,
      hostKeys: { parameter: PARAMETER, region: "us-west-2", file: "", waitAttempts },
    });
  // The node answers with NODE_HOST_KEY; like the real ssh with StrictHostKeyChecking=yes, the stub
  // refuses it unless known_hosts holds it for the address.
  const stubs = {
    ...COMMON_STUBS,
    // The first STALE_READS reads of the host keys find the previous instance's; then the new node's appear.
    python3: python3Stub(
      [
        'if [[ ${1:-} == -c && ${2:-} == *get_parameter* && ${3:-} == */host-keys/* ]]; then',
        '  n=$(cat "$WORK_DIR/host-key-reads" 2>/dev/null || echo 0); echo $((n + 1)) > "$WORK_DIR/host-key-reads"',
        '  if ((n >= ${STALE_READS:-0})) && [[ -f $WORK_DIR/published ]]; then mkdir -p "$WORK_DIR/ssm"; cp "$WORK_DIR/published" "$WORK_DIR/ssm/$(echo "$3" | tr / _)"; fi',
        "fi",
      ].join("\n"),
    ),
    sudo: '[[ $1 == -n ]] && shift; exec "$@"',
    knife: "exit 0",
    "cloud-init": "exit 0",
    timeout: 'shift; "$@"',
    ssh: [
      '[[ " $* " == *" StrictHostKeyChecking=yes "* ]] || { echo "not strict" >&2; exit 255; }',
      'grep -qxF "10.0.16.5 ${NODE_HOST_KEY}" "$PLATFORM_FS_ROOT/home/ubuntu/.ssh/known_hosts" || { echo "Host key verification failed." >&2; exit 255; }',
      "exit 0",
    ].join("\n"),
  };
  const setUp = (stale: string | undefined, fresh: string | undefined): string => {
    const dir = mkdtempSync(join(tmpdir(), "bootstrap-keys-"));
    for (const sub of ["work/ssm", "root/home/ubuntu/.ssh", "root/etc/ssh"]) mkdirSync(join(dir, sub), { recursive: true });
    if (stale !== undefined) writeFileSync(join(dir, STORED), stale);
    if (fresh !== undefined) writeFileSync(join(dir, "work/published"), fresh);
    // What an earlier instance at the same address left, beside another node's key.
    writeFileSync(join(dir, "root/home/ubuntu/.ssh/known_hosts"), `10.0.16.5 ${keys.other}\n10.0.32.6 ${keys.other}\n`);
    writeFileSync(join(dir, "root/etc/ssh/ssh_known_hosts"), `10.0.16.5 ${keys.other}\n10.0.32.6 ${keys.other}\n`);
    return dir;
  };
  const knifeBootstraps = (dir: string): string[] => calls(dir).filter((call) => call.startsWith("knife bootstrap"));

  it("is shellcheck-clean", () => {
    expect(shellcheck(render()).output).toBe("");
    expect(shellcheck(new KafkaProvisionScripts(configFrom()).bootstrapNode({ name: NODE, ip: "10.0.16.5", instanceId: INSTANCE, rack: "a", nodeId: 1, broker: true }, "i-1")).output).toBe("");
  });

  it("waits until the parameter names the instance Terraform created, pins its keys for the address, and knife verifies them", () => {
    const dir = setUp(published("i-0old0000000000000", "other"), published(INSTANCE, "ed25519", "ecdsa"));
    const run = runBash(render(), { stubs, dir, env: { STALE_READS: "2", NODE_HOST_KEY: keys.ed25519 } });
    expect(run.status).toBe(0);
    expect(run.output).toContain("attempt 2/4 failed: host_keys_published");
    expect(run.output).toContain(`${NODE} (10.0.16.5): trusting only the 2 host keys ${INSTANCE} published in ${PARAMETER}`);
    // The address's old key goes from both files; other addresses keep theirs.
    const user = readFileSync(join(dir, "root/home/ubuntu/.ssh/known_hosts"), "utf8");
    expect(user).toBe(`10.0.32.6 ${keys.other}\n10.0.16.5 ${keys.ed25519}\n10.0.16.5 ${keys.ecdsa}\n`);
    expect(readFileSync(join(dir, "root/etc/ssh/ssh_known_hosts"), "utf8")).toBe(user);
    // Root's, readable by all: knife runs as the operator.
    expect(calls(dir).some((call) => /^sudo install -D -m 0644 -o root -g root \S+ /.test(call) && call.endsWith(join(dir, "root/etc/ssh/ssh_known_hosts")))).toBe(true);
    const [bootstrap] = knifeBootstraps(dir);
    expect(bootstrap).toContain(" --ssh-verify-host-key always ");
    // Every connection checks the key strictly; none trusts a new key on first use.
    const sshCalls = calls(dir).filter((call) => call.startsWith("ssh "));
    expect(sshCalls.length).toBeGreaterThan(0);
    for (const call of sshCalls) expect(call).toContain("-o StrictHostKeyChecking=yes");
    expect(existsSync(join(dir, "root/home/ubuntu/.platform/registered", NODE))).toBe(true);
  });

  it("refuses, in one line naming the parameter, keys another instance published, after its wait: no connection, nothing registered", () => {
    const dir = setUp(published("i-0old0000000000000", "other"), undefined);
    const run = runBash(render(), { stubs, dir, env: { NODE_HOST_KEY: keys.ed25519 } });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("giving up after 4 attempts: host_keys_published");
    const refusals = run.output.split("\n").filter((line) => line.includes("holds no SSH host keys published by"));
    expect(refusals).toEqual([
      expect.stringContaining(`${PARAMETER} holds no SSH host keys published by ${INSTANCE} (it holds: i-0old0000000000000); ${NODE} publishes them at its first boot`),
    ]);
    expect(run.output).toContain(`FAILED at step 'trust only the SSH host keys ${NODE} published in ${PARAMETER}'`);
    expect(calls(dir).filter((call) => call.startsWith("ssh ") || call.startsWith("knife bootstrap"))).toEqual([]);
    expect(readFileSync(join(dir, "root/home/ubuntu/.ssh/known_hosts"), "utf8")).toBe(`10.0.16.5 ${keys.other}\n10.0.32.6 ${keys.other}\n`);
    expect(existsSync(join(dir, "root/home/ubuntu/.platform/registered", NODE))).toBe(false);
  });

  it("refuses at once a node that answers with a key it did not publish, before knife sends anything", () => {
    const dir = setUp(undefined, published(INSTANCE, "ed25519"));
    const run = runBash(render(), { stubs, dir, env: { NODE_HOST_KEY: keys.intruder } });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`REFUSED: 10.0.16.5 answers with an SSH host key that ${NODE} did not publish in ${PARAMETER} for ${INSTANCE}`);
    expect(run.output).not.toContain("attempt 1/4 failed: node_answers");
    expect(knifeBootstraps(dir)).toEqual([]);
    expect(calls(dir).filter((call) => call.startsWith("knife "))).toEqual([]);
    expect(existsSync(join(dir, "root/home/ubuntu/.platform/registered", NODE))).toBe(false);
  });

  it("reads the published keys from SSM in the node's own parameter, in the deployment's region", () => {
    const script = new KafkaProvisionScripts(configFrom()).bootstrapNode({ name: NODE, ip: "10.0.16.5", instanceId: INSTANCE, rack: "a", nodeId: 1, broker: true }, "i-1");
    expect(script).toContain(`HOST_KEYS_PARAMETER='${PARAMETER}'`);
    expect(script).toContain("export AWS_REGION='us-west-2'");
    expect(script).toMatch(/\n {2}ssm_get "\$1"\n/);
    expect(hostKeysParameter(configFrom(), NODE)).toBe(PARAMETER);
  });
});

describeScripts("a replaced workstation pins every node's published keys again", () => {
  const scripts = new KafkaProvisionScripts(configFrom());
  const script = scripts.pinHostKeys({ name: NODE, ip: "10.0.16.5", instanceId: INSTANCE });
  const stubs = {
    ...COMMON_STUBS,
    python3: python3Stub(),
    sudo: '[[ $1 == -n ]] && shift; exec "$@"',
    "cloud-init": "exit 0",
    timeout: 'shift; "$@"',
    // The node, asked over SSH to publish: it does, as its setup would have.
    ssh: `cat > "$WORK_DIR/remote.sh"; mkdir -p "$WORK_DIR/ssm"; cp "$WORK_DIR/published" "$WORK_DIR/ssm/${PARAMETER.replace(/\//g, "_")}"`,
  };
  const setUp = (registered: string | undefined): string => {
    const dir = mkdtempSync(join(tmpdir(), "pin-keys-"));
    for (const sub of ["work", "root/home/ubuntu/.platform/registered", "root/etc/ssh"]) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, "work/published"), published(INSTANCE, "ed25519"));
    if (registered !== undefined) writeFileSync(join(dir, "root/home/ubuntu/.platform/registered", NODE), `${registered} i-0cccccccccccccc01\n`);
    return dir;
  };

  it("is a step per node, run again when the node or the workstation is replaced, before the data bag upload and the node's bootstrap", () => {
    const json = platformStackJson("kafka");
    const steps = resourcesOf(json, "terraform_data");
    for (const index of [0, 1, 2]) {
      const step = steps[`host-keys-node-${index}`];
      expect(step.triggers_replace).toEqual({ instance: expect.stringMatching(new RegExp(`^\\$\\{aws_instance\\.node-${index}_instance_[0-9A-F]{8}\\.id\\}$`)), workstation: expect.stringMatching(/workstation_instance_[0-9A-F]{8}id\}$/) });
      expect(steps[`bootstrap-node-${index}`].depends_on).toContain(`terraform_data.host-keys-node-${index}`);
    }
    // The upload reads the members' config over SSH: after every node's keys are pinned.
    expect(steps["zoo-bag"].depends_on).toEqual(expect.arrayContaining([0, 1, 2].map((index) => `terraform_data.host-keys-node-${index}`)));
    expect(shellcheck(script).output).toBe("");
  });

  it("has a node registered from this workstation before nodes published publish its keys over the connection already trusted, then pins them", () => {
    const dir = setUp(INSTANCE);
    const run = runBash(script, { stubs, dir });
    expect(run.status).toBe(0);
    expect(calls(dir).filter((call) => call.startsWith("ssh "))).toEqual([expect.stringMatching(/-o StrictHostKeyChecking=yes .*ubuntu@10\.0\.16\.5 sudo -n bash -s$/)]);
    const remote = readFileSync(join(dir, "work/remote.sh"), "utf8");
    expect(remote).toContain(`publish_host_keys ${PARAMETER}`);
    expect(shellcheck(remote).output).toBe("");
    expect(readFileSync(join(dir, "root/etc/ssh/ssh_known_hosts"), "utf8")).toBe(`10.0.16.5 ${keys.ed25519}\n`);
  });

  it("never asks a node it did not register from this very instance: it waits for the node's own publication", () => {
    const dir = setUp("i-0old0000000000000");
    const run = runBash(script.replace(/pin_host_keys ("[^\n]*) 20$/m, "pin_host_keys $1 2"), { stubs, dir });
    expect(run.status).not.toBe(0);
    expect(calls(dir).filter((call) => call.startsWith("ssh "))).toEqual([]);
    expect(run.output).toContain(`${PARAMETER} holds no SSH host keys published by ${INSTANCE} (it holds: nothing readable)`);
  });
});

describe("host-key IAM", () => {
  const kafka = platformStackJson("kafka");
  const chef = platformStackJson("chef");
  const parameterOf = (arn: string): string => arn.replace(/.*:parameter/, "");

  it("lets each Kafka node put its own host-keys parameter and nothing else", () => {
    const documents = dataOf(kafka, "aws_iam_policy_document");
    const policies = Object.values(resourcesOf(kafka, "aws_iam_role_policy")).filter((policy: Json) => policy.name === "publish-host-keys");
    expect(policies).toHaveLength(3);
    for (const index of [0, 1, 2]) {
      // Under its node, so a node added later repeats its siblings' document (review/findings.ts).
      const name = Object.keys(documents).find((key) => new RegExp(`^node-${index}_publish-host-keys_[0-9A-F]{8}$`).test(key)) as string;
      const document = documents[name];
      expect(document.statement).toEqual([{ sid: "PublishOwnHostKeys", actions: ["ssm:PutParameter"], resources: [expect.any(String)] }]);
      expect(parameterOf(document.statement[0].resources[0])).toBe(`/insight/dev/host-keys/insight-dev-kafka-${index}`);
      const policy = policies.find((each: Json) => each.policy === `\${data.aws_iam_policy_document.${name}.json}`);
      expect(policy?.role).toMatch(new RegExp(`^\\$\\{aws_iam_role\\.node-${index}_role_[0-9A-F]{8}\\.id\\}$`));
    }
  });

  it("lets each Spark node put its own host-keys parameter and nothing else, and outputs where the master's are", () => {
    const spark = platformStackJson("spark");
    const documents = dataOf(spark, "aws_iam_policy_document");
    const policies = Object.values(resourcesOf(spark, "aws_iam_role_policy")).filter((policy: Json) => policy.name === "publish-host-keys");
    expect(policies).toHaveLength(4);
    for (const [node, name] of [["master", "spark-master"], ["worker-0", "spark-worker-0"], ["worker-1", "spark-worker-1"], ["worker-2", "spark-worker-2"]]) {
      const id = Object.keys(documents).find((key) => new RegExp(`^${node}_publish-host-keys_[0-9A-F]{8}$`).test(key)) as string;
      expect(documents[id].statement).toEqual([{ sid: "PublishOwnHostKeys", actions: ["ssm:PutParameter"], resources: [expect.any(String)] }]);
      expect(parameterOf(documents[id].statement[0].resources[0])).toBe(`/insight/dev/host-keys/insight-dev-${name}`);
      const policy = policies.find((each: Json) => each.policy === `\${data.aws_iam_policy_document.${id}.json}`);
      expect(policy?.role).toMatch(new RegExp(`^\\$\\{aws_iam_role\\.${node}_role_[0-9A-F]{8}\\.id\\}$`));
      const instance = Object.entries(resourcesOf(spark, "aws_instance")).find(([key]) => key.startsWith(`${node}_`))?.[1] as Json;
      expect(unescapeTerraformTemplate(userDataOf(spark, instance))).toContain(`HOST_KEYS_PARAMETER='/insight/dev/host-keys/insight-dev-${name}'`);
    }
    // What the pipeline's commands pin the master's keys by.
    expect(spark.output.spark_master_host_keys_parameter.value).toBe("/insight/dev/host-keys/insight-dev-spark-master");
    expect(spark.output.spark_master_instance_id.value).toMatch(/^\$\{aws_instance\.master_instance_[0-9A-F]{8}\.id\}$/);
  });

  it("lets the workstation read the host keys, and write none", () => {
    const statements: Json[] = dataOf(chef, "aws_iam_policy_document")["workstation-keys"].statement;
    const read = statements.find((statement) => statement.sid === "ReadHostKeys");
    expect(read).toMatchObject({ actions: ["ssm:GetParameter"] });
    expect(read?.resources.map(parameterOf)).toEqual(["/insight/dev/host-keys/*"]);
    const writes = statements.filter((statement) => statement.effect !== "Deny" && statement.actions.includes("ssm:PutParameter"));
    for (const statement of writes) for (const arn of statement.resources) expect(parameterOf(arn)).not.toMatch(/host-keys/);
  });
});
