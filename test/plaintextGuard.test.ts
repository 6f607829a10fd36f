/**
 * kafka.security "tls" closes the plaintext ports between Kafka nodes at the start of its apply,
 * before the converge rolls: the plaintext guard stands before those rules and refuses while a
 * node still reaches another in plaintext. The JSON is checked here, the ordering by Terraform
 * itself in validate (a provider-free model), the script under bash against a stubbed ssh.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KafkaProvisionScripts } from "../constructs/kafkaProvisionScripts";
import { plaintextGuardModel } from "../validate/guardModel";
import { configFrom, kafkaJson, type Json } from "./helpers";
import { runBash, shellcheck } from "./shell";
import { describeScripts } from "./tiers";


describe("the plaintext guard in the synthesized stack", () => {
  const migrating = kafkaJson("--kafka.security", "migrating");
  const guard = migrating.resource.terraform_data["plaintext-guard"];

  it("has one instance while plaintext may pass, naming every Kafka node's address", () => {
    expect(Object.keys(guard.for_each)).toEqual(["plaintext-ports"]);
    const addresses = String(guard.for_each["plaintext-ports"].addresses);
    expect(addresses).toMatch(/^\$\{join\(" ", \[/);
    expect(addresses.match(/node-\d+_instance_[0-9A-F]{8}\.private_ip/g)).toHaveLength(3);
  });

  it("stands before every rule of a plaintext port, both sides, and before no TLS one", () => {
    const after: string[] = guard.depends_on;
    for (const rule of ["broker-from-members", "broker-from-members-egress", "zookeeper-client-from-members", "zookeeper-client-from-members-egress", "broker-from-spark", "broker-from-spark-egress"]) {
      const type = rule.endsWith("-egress") ? "aws_vpc_security_group_egress_rule" : "aws_vpc_security_group_ingress_rule";
      expect(after).toContain(`${type}.${rule}`);
    }
    expect(after.filter((address) => /tls|secure/.test(address))).toEqual([]);
  });

  it("runs its check only at destroy, on the workstation, with the node addresses it was last deployed with", () => {
    expect(guard.provisioner.map((p: Json) => Object.values(p)[0].when)).toEqual(["destroy", "destroy"]);
    expect(guard.provisioner[1]["remote-exec"].inline[0]).toMatch(/^bash \/tmp\/platform-plaintext-guard-\$\{self\.input\.nodeId\}\.sh \$\{self\.input\.nodeId\} \$\{self\.input\.nodeName\} \$\{self\.input\.addresses\}$/);
  });

  it("holds the converge back: a refused check leaves every node as it runs, not only the ports", () => {
    expect(migrating.resource.terraform_data.converge.depends_on).toContain("terraform_data.plaintext-guard");
    expect(kafkaJson().resource.terraform_data.converge.depends_on).toContain("terraform_data.plaintext-guard");
  });

  it("has no instance with tls, so a deploy of tls destroys the one a migrating deploy made", () => {
    expect(kafkaJson().resource.terraform_data["plaintext-guard"].for_each).toEqual({});
  });

  it("stands before the plaintext controller listener's rules in KRaft mode", () => {
    const kraft = kafkaJson("--kafka.mode", "kraft", "--kafka.security", "migrating").resource.terraform_data["plaintext-guard"];
    expect(kraft.depends_on).toEqual(expect.arrayContaining(["aws_vpc_security_group_ingress_rule.controller-from-members", "aws_vpc_security_group_egress_rule.controller-from-members-egress"]));
    expect(kraft.depends_on.filter((address: string) => /controller-tls/.test(address))).toEqual([]);
  });
});

describe("the plaintext guard, applied by Terraform", () => {
  it("is destroyed, and refuses, before the plaintext rules go: a failed check leaves them in place", () => {
    const model = plaintextGuardModel(kafkaJson("--kafka.security", "migrating"), kafkaJson());
    // What validate applies: the migrating stack, then the tls one, whose guard instance is gone.
    expect(model.before.resource.terraform_data).toHaveProperty("plaintext-guard");
    expect(Object.keys(model.after.resource.terraform_data["plaintext-guard"].for_each)).toEqual([]);
    expect(model.plaintextRules.length).toBeGreaterThanOrEqual(6);
    for (const rule of model.plaintextRules) expect(model.after.resource.terraform_data).not.toHaveProperty(rule);
    // The roll to tls waits for the guard's check.
    expect(model.after.resource.terraform_data.converge.depends_on).toEqual(["terraform_data.plaintext-guard"]);
  });
});

const SSH_STUB = [
  'for arg; do [[ $arg == ubuntu@* ]] && address=${arg#ubuntu@}; done',
  'file="$WORK_DIR/server-${address}"',
  '[[ -f $file ]] || { echo "ssh: connect to host ${address} port 22: Connection timed out" >&2; exit 255; }',
  'cat "$file"',
].join("\n");
const stubs = { ssh: SSH_STUB, sudo: 'exec "$@"' };
const ADDRESSES = ["10.0.16.10", "10.0.32.11", "10.0.48.12"];

/** What the guard's command adds after the file: when it was written and when Kafka started, in that order here. */
const RUNNING = "# modified 1000\n# started Thu 1970-01-01 00:20:00 UTC\n";

/** server.properties as insight-kafka-cluster renders it, by stage. */
const ZK_TLS = "broker.id=1\nlisteners=TLS://10.0.16.10:9094\nlistener.security.protocol.map=TLS:SSL\ninter.broker.listener.name=TLS\nzookeeper.connect=10.0.16.10:2182/kafka\nzookeeper.ssl.client.enable=true\n";
const ZK_MIGRATED = "broker.id=1\nlisteners=PLAINTEXT://10.0.16.10:9092,TLS://10.0.16.10:9094\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,TLS:SSL\ninter.broker.listener.name=TLS\nzookeeper.connect=10.0.16.10:2182/kafka\nzookeeper.ssl.client.enable=true\n";
const ZK_FIRST_ROLL = "broker.id=2\nlisteners=PLAINTEXT://10.0.32.11:9092,TLS://10.0.32.11:9094\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,TLS:SSL\ninter.broker.listener.name=PLAINTEXT\nzookeeper.connect=10.0.16.10:2181/kafka\n";
const KRAFT_MIGRATED =
  "node.id=1\nprocess.roles=broker,controller\nlisteners=PLAINTEXT://10.0.16.10:9092,TLS://10.0.16.10:9094,CONTROLLER://10.0.16.10:9093,CONTROLLER_TLS://10.0.16.10:9095\n" +
  "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,TLS:SSL,CONTROLLER:PLAINTEXT,CONTROLLER_TLS:SSL\ninter.broker.listener.name=TLS\ncontroller.listener.names=CONTROLLER_TLS,CONTROLLER\n";
const KRAFT_FIRST_ROLL = KRAFT_MIGRATED.replace("controller.listener.names=CONTROLLER_TLS,CONTROLLER", "controller.listener.names=CONTROLLER,CONTROLLER_TLS");
const CONTROLLER_ONLY = "node.id=1001\nprocess.roles=controller\nlisteners=CONTROLLER://10.0.48.12:9093,CONTROLLER_TLS://10.0.48.12:9095\nlistener.security.protocol.map=CONTROLLER:PLAINTEXT,CONTROLLER_TLS:SSL\ncontroller.listener.names=CONTROLLER_TLS,CONTROLLER\n";

describeScripts("plaintext-guard (stub-run)", () => {
  const scripts = new KafkaProvisionScripts(configFrom());
  const run = (files: Readonly<Record<string, string>>, script = scripts.plaintextGuard()) => {
    const dir = runBash("true", {}).dir;
    for (const [address, content] of Object.entries(files)) writeFileSync(join(dir, "work", `server-${address}`), content.includes("# started") ? content : `${content}${RUNNING}`);
    writeFileSync(join(dir, "guard.sh"), script);
    writeFileSync(join(dir, "with-args.sh"), `exec bash ${join(dir, "guard.sh")} plaintext-ports plaintext-ports ${Object.keys(files).concat(ADDRESSES.filter((a) => !(a in files))).join(" ")}\n`);
    return runBash("", { stubs, dir, file: join(dir, "with-args.sh") });
  };

  it("passes shellcheck", () => {
    expect(shellcheck(scripts.plaintextGuard()).output).toBe("");
  });

  it("lets the ports close once every node reaches the others over TLS (ZooKeeper mode, after the middle stage's second converge)", () => {
    const result = run({ [ADDRESSES[0]]: ZK_MIGRATED, [ADDRESSES[1]]: ZK_MIGRATED, [ADDRESSES[2]]: ZK_TLS });
    expect(result.status).toBe(0);
    expect(result.output).toContain("every Kafka node reaches the others over TLS: the plaintext ports can close");
  });

  it("lets them close in KRaft mode once every node names the controllers' TLS listener first, a controller-only node included", () => {
    const result = run({ [ADDRESSES[0]]: KRAFT_MIGRATED, [ADDRESSES[1]]: KRAFT_MIGRATED, [ADDRESSES[2]]: CONTROLLER_ONLY });
    expect(result.status).toBe(0);
  });

  it("refuses after only the first roll, naming each node and what it still speaks plaintext on, and that nothing was closed", () => {
    const result = run({ [ADDRESSES[0]]: ZK_MIGRATED, [ADDRESSES[1]]: ZK_FIRST_ROLL, [ADDRESSES[2]]: ZK_MIGRATED });
    expect(result.status).toBe(1);
    const refusal = result.output.split("\n").find((line) => line.includes("REFUSED"));
    expect(refusal).toContain(
      "10.0.32.11: brokers replicate over PLAINTEXT (inter.broker.listener.name PLAINTEXT); 10.0.32.11: reaches ZooKeeper in plaintext (zookeeper.connect 10.0.16.10:2181/kafka); ",
    );
    expect(refusal).toMatch(/deploy kafka\.security "migrating" again and converge until every node reaches the others over TLS, then "tls" .*nothing was closed$/);
    expect(refusal).not.toMatch(/(^|; |: )10\.0\.16\.10: /);
  });

  it("refuses a KRaft node still reaching the controllers over PLAINTEXT", () => {
    const result = run({ [ADDRESSES[0]]: KRAFT_MIGRATED, [ADDRESSES[1]]: KRAFT_FIRST_ROLL, [ADDRESSES[2]]: CONTROLLER_ONLY });
    expect(result.status).toBe(1);
    expect(result.output).toContain("10.0.32.11: reaches the controllers over PLAINTEXT (controller.listener.names CONTROLLER,CONTROLLER_TLS)");
  });

  it("refuses a plaintext cluster switched straight to tls", () => {
    const plaintext = "broker.id=1\nlisteners=PLAINTEXT://10.0.16.10:9092\nzookeeper.connect=10.0.16.10:2181/kafka\n";
    const result = run({ [ADDRESSES[0]]: plaintext, [ADDRESSES[1]]: plaintext, [ADDRESSES[2]]: plaintext });
    expect(result.status).toBe(1);
    expect(result.output).toContain("10.0.16.10: brokers replicate over PLAINTEXT (inter.broker.listener.name PLAINTEXT)");
  });

  it("refuses a node whose file was written after Kafka started: a converge stopped before its restart, so the file is not what runs", () => {
    const result = run({ [ADDRESSES[0]]: ZK_TLS, [ADDRESSES[1]]: `${ZK_MIGRATED}# modified 2000\n# started Thu 1970-01-01 00:20:00 UTC\n`, [ADDRESSES[2]]: ZK_TLS });
    expect(result.status).toBe(1);
    expect(result.output).toContain("10.0.32.11: /etc/kafka/server.properties was written after Kafka started (a converge stopped before its restart), so it is not what Kafka runs");
  });

  it("refuses a node whose Kafka does not run", () => {
    const result = run({ [ADDRESSES[0]]: ZK_TLS, [ADDRESSES[1]]: `${ZK_TLS}# modified 1000\n# started \n`, [ADDRESSES[2]]: ZK_TLS });
    expect(result.status).toBe(1);
    expect(result.output).toContain("10.0.32.11: Kafka is not running, so what it would reach is not known");
  });

  it("asks each node, in one SSH command a remote shell runs, for the file, when it was written and when Kafka started", () => {
    const line = scripts.plaintextGuard().split("\n").find((text) => text.startsWith("REMOTE="))!;
    const shown = runBash(`SERVER_PROPERTIES=/etc/kafka/server.properties\n${line}\nprintf '%s' "$REMOTE"`, {});
    const remote = shown.output;
    expect(remote).toBe(`sudo cat /etc/kafka/server.properties && sudo stat -c '# modified %Y' /etc/kafka/server.properties && printf '# started %s\\n' "$(systemctl show kafka --property=ExecMainStartTimestamp --value)"`);
    // As the node's shell runs it: the file, then the two lines the guard reads.
    const file = join(shown.dir, "work", "server.properties");
    writeFileSync(file, ZK_TLS);
    const ran = runBash(remote.replaceAll("/etc/kafka/server.properties", file), { stubs: { sudo: 'exec "$@"', systemctl: "echo 'Sat 2026-12-05 23:10:01 UTC'" }, dir: shown.dir });
    expect(ran.output).toMatch(new RegExp(`^${ZK_TLS.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}# modified \\d+\\n# started Sat 2026-12-05 23:10:01 UTC\\n$`));
  });

  it("refuses when a node cannot be asked: nothing tells what it uses", () => {
    const result = run({ [ADDRESSES[0]]: ZK_TLS, [ADDRESSES[1]]: ZK_TLS });
    expect(result.status).toBe(1);
    expect(result.output).toContain("10.0.48.12: /etc/kafka/server.properties could not be read");
  });

  it("asks nothing when kafka.deletionProtection is off, for a teardown", () => {
    const result = run({ [ADDRESSES[0]]: ZK_FIRST_ROLL }, new KafkaProvisionScripts(configFrom("--kafka.deletionProtection", "false")).plaintextGuard());
    expect(result.status).toBe(0);
    expect(result.output).toContain("kafka.deletionProtection is off");
  });
});
