/**
 * Day 2 of a Kafka cluster: a broker is destroyed only once drained, and a change that stops or
 * replaces nodes reaches them one at a time. The Terraform side is checked in the synthesized
 * JSON here (and applied for real, on a provider-free model, by validate); the scripts run under
 * bash against stubs that print what Kafka's own tools print (TopicCommand, ClusterTool,
 * ReassignPartitionsCommand, BrokerApiVersionsCommand, MetadataQuorumCommand).
 */
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DRAIN_COMMAND, type GuardedNode, KafkaProvisionScripts } from "../constructs/kafkaProvisionScripts";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { controllerModelConfig, modelConfig, modelName, modelNodes } from "../validate/guardModel";
import { configFrom, kafkaJson, type Json } from "./helpers";
import { runBash, shellcheck, stubCalls, withSetting } from "./shell";
import { KNIFE_NOT_FOUND } from "./stubs";
import { describeScripts } from "./tiers";


const IPS = ["10.0.16.10", "10.0.32.11", "10.0.48.12", "10.0.16.13"];
const broker = (index: number): GuardedNode => ({ name: `insight-dev-kafka-${index}`, ip: IPS[index], nodeId: index + 1, broker: true, rack: ["us-west-2a", "us-west-2b", "us-west-2c"][index % 3] });

// --- What Kafka's tools print -------------------------------------------------------------
/** kafka-topics.sh --describe (TopicCommand): a topic line, then one tab-led line per partition. */
function described(topics: Readonly<Record<string, ReadonlyArray<readonly number[]>>>, isr: (replicas: readonly number[]) => readonly number[] = (r) => r): string {
  const lines: string[] = [];
  for (const [topic, partitions] of Object.entries(topics)) {
    lines.push(`Topic: ${topic}\tTopicId: 3LxmVxTgSAaRQ0yVB1u9Gg\tPartitionCount: ${partitions.length}\tReplicationFactor: ${partitions[0].length}\tConfigs: min.insync.replicas=2`);
    partitions.forEach((replicas, partition) =>
      lines.push(`\tTopic: ${topic}\tPartition: ${partition}\tLeader: ${replicas[0]}\tReplicas: ${replicas.join(",")}\tIsr: ${isr(replicas).join(",")}\tElr: \tLastKnownElr: `),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** kafka-cluster.sh list-endpoints --include-fenced-brokers (ClusterTool): padded columns. */
function endpoints(brokers: ReadonlyArray<{ id: number; host: string; rack: string; fenced?: boolean }>): string {
  const hostWidth = Math.max(...brokers.map((b) => b.host.length));
  const rackWidth = Math.max(...brokers.map((b) => b.rack.length));
  const row = (cells: string[]): string => `${cells[0].padEnd(10)} ${cells[1].padEnd(hostWidth)} ${cells[2].padEnd(10)} ${cells[3].padEnd(rackWidth)} ${cells[4].padEnd(10)} ${cells[5].padEnd(15)}\n`;
  return row(["ID", "HOST", "PORT", "RACK", "STATE", "ENDPOINT_TYPE"]) + brokers.map((b) => row([String(b.id), b.host, "9092", b.rack, b.fenced ? "fenced" : "unfenced", "broker"])).join("");
}

/** kafka-broker-api-versions.sh: one block per live broker. */
const apiVersions = (ids: readonly number[]): string =>
  ids.map((id) => `${IPS[id - 1]}:9092 (id: ${id} rack: us-west-2a) -> (\n\tProduce(0): 0 to 12 [usable: 12],\n\tFetch(1): 4 to 17 [usable: 17]\n)\n`).join("");

/** kafka-metadata-quorum.sh describe --status. */
const quorumStatus = (leader: number): string =>
  `ClusterId:              MkU3OEVBNTcwNTJENDM2Qk\nLeaderId:               ${leader}\nLeaderEpoch:            15\nHighWatermark:          46\nMaxFollowerLag:         0\nMaxFollowerLagTimeMs:   0\nCurrentVoters:          [{"id": 1, "directoryId": null, "endpoints": ["CONTROLLER://10.0.16.10:9093"]}]\nCurrentObservers:       []\n`;

/**
 * kafka-metadata-quorum.sh describe --replication (MetadataQuorumCommand.handleDescribeReplication):
 * the leader first, each cell padded to its column and ended with a tab. A voter is
 * [id, lag in records, ms since it last caught up].
 */
function quorumReplication(leader: number, followers: ReadonlyArray<readonly [number, number, number]>): string {
  const now = 1733400000000;
  const rows = [
    ["NodeId", "DirectoryId", "LogEndOffset", "Lag", "LastFetchTimestamp", "LastCaughtUpTimestamp", "Status"],
    [String(leader), "K90IZ-0DRNazJ49kCZ1EMQ", "10843", "0", String(now), String(now), "Leader"],
    ...followers.map(([id, lag, ago]) => [String(id), "aUARLskQTCW4qCZDtS_cwA", String(10843 - lag), String(lag), String(now - 40), String(now - ago), "Follower"]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => `${row.map((cell, column) => `${cell.padEnd(widths[column])}\t`).join("")}\n`).join("");
}

/**
 * ssh to a node: Kafka's tools answer from files in WORK_DIR (down-<ip> makes a node fail to
 * answer); `cat > <file>` keeps a reassignment plan; a reassignment started by --execute runs
 * until VERIFY_RUNNING verifies have seen it, and then the topics' description shows its replicas.
 */
const KAFKA_SSH = [
  'host=""; for a; do [[ $a == ubuntu@* ]] && host=${a#ubuntu@}; done',
  'args=" $* "',
  '[[ -f "$WORK_DIR/down-$host" ]] && { echo "Connection to node -1 ($host/$host:9092) could not be established." >&2; exit 1; }',
  'case $args in',
  // srvr through bash's /dev/tcp on the member (ZooKeeper 3.8's StatCommand): zk-<ip> holds the
  // mode of each look, one a line, the last one kept; with no file the member is down.
  '  *"/dev/tcp/127.0.0.1/2181"*srvr*)',
  '    f="$WORK_DIR/zk-$host"; [[ -f $f ]] || { echo "bash: line 1: /dev/tcp/127.0.0.1/2181: Connection refused" >&2; exit 1; }',
  '    mode=$(head -n 1 "$f"); (($(wc -l < "$f") > 1)) && sed -i 1d "$f"',
  '    echo "srvr $host $mode" >> "$WORK_DIR/srvr-asked"',
  '    if [[ $mode == not-serving ]]; then echo "This ZooKeeper instance is not currently serving requests"; exit 0; fi',
  '    printf "Zookeeper version: 3.8.4-9316c2a7a97e1666d8f4593f34dd6fc36ecc436c, built on 2024-02-12 22:16 UTC\\nLatency min/avg/max: 0/0.4127/31\\nReceived: 1482\\nSent: 1481\\nConnections: 2\\nOutstanding: 0\\nZxid: 0x300000021\\nMode: %s\\nNode count: 163\\n" "$mode"; exit 0 ;;',
  '  *" cat > "*) cat > "$WORK_DIR/plan.json"; exit 0 ;;',
  '  *" systemctl disable --now kafka.service "*) echo "$host" >> "$WORK_DIR/stopped"; exit 0 ;;',
  '  *kafka-topics.sh*--under-replicated-partitions*) n=$(cat "$WORK_DIR/urp-left" 2>/dev/null || echo 0); if ((n > 0)); then echo $((n - 1)) > "$WORK_DIR/urp-left"; printf "\\tTopic: orders\\tPartition: 1\\tLeader: 2\\tReplicas: 2,1,3\\tIsr: 2,3\\tElr: \\tLastKnownElr: \\n"; fi; exit 0 ;;',
  '  *kafka-topics.sh*--under-min-isr-partitions*|*kafka-topics.sh*--unavailable-partitions*) exit 0 ;;',
  '  *kafka-topics.sh*--describe*) cat "$WORK_DIR/describe"; exit 0 ;;',
  // ClusterTool's connection options and --config belong to its subcommand; it has no --command-config.
  '  *"kafka-cluster.sh --"*|*kafka-cluster.sh*--command-config*) echo "kafka-cluster: error: unrecognized arguments: \'$*\'" >&2; exit 1 ;;',
  '  *"kafka-cluster.sh list-endpoints --bootstrap-server "*) cat "$WORK_DIR/endpoints"; exit 0 ;;',
  '  *"kafka-cluster.sh unregister --bootstrap-server "*) id=${args##*--id }; id=${id%% *}; echo "$id" >> "$WORK_DIR/unregistered"; grep -v "^$id " "$WORK_DIR/endpoints" > "$WORK_DIR/e" || true; mv "$WORK_DIR/e" "$WORK_DIR/endpoints"; echo "Broker $id is no longer registered."; exit 0 ;;',
  '  *kafka-broker-api-versions.sh*) cat "$WORK_DIR/api-versions"; exit 0 ;;',
  '  *kafka-metadata-quorum.sh*" describe --replication "*) cat "$WORK_DIR/quorum-replication"; exit 0 ;;',
  '  *kafka-metadata-quorum.sh*) cat "$WORK_DIR/quorum-status"; exit 0 ;;',
  // Kafka refuses a new reassignment while one runs (TerseReassignmentFailureException, on stdout).
  '  *kafka-reassign-partitions.sh*--execute*)',
  '    if (($(cat "$WORK_DIR/verify-left" 2>/dev/null || echo 0) > 0)); then echo "Cannot execute because there is an existing partition assignment."; exit 1; fi',
  '    echo "${VERIFY_RUNNING:-0}" > "$WORK_DIR/verify-left"',
  '    echo "$args" >> "$WORK_DIR/executed"; echo "Current partition replica assignment"; echo; echo "Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed."; echo "Successfully started partition reassignments for orders-0"; exit 0 ;;',
  // --list (curReassignmentsToString): the running moves, target replicas first, then those leaving.
  '  *kafka-reassign-partitions.sh*--list*)',
  '    if (($(cat "$WORK_DIR/verify-left" 2>/dev/null || echo 0) == 0)); then echo "No partition reassignments found."; exit 0; fi',
  '    echo "Current partition reassignments:"',
  '    python3 -c \'import json,sys',
  'now = {}',
  'for line in open(sys.argv[2]):',
  '    d = dict(f.split(": ", 1) for f in line.rstrip("\\n").split("\\t") if ": " in f)',
  '    if "Partition" in d: now[(d["Topic"], int(d["Partition"]))] = [int(r) for r in d["Replicas"].split(",")]',
  'for p in sorted(json.load(open(sys.argv[1]))["partitions"], key=lambda p: (p["topic"], p["partition"])):',
  '    old, new = now[(p["topic"], p["partition"])], p["replicas"]',
  '    adding, removing = [r for r in new if r not in old], [r for r in old if r not in new]',
  '    j = lambda rs: ",".join(map(str, rs))',
  '    print("%s-%d: replicas: %s.%s%s" % (p["topic"], p["partition"], j(new + removing), " adding: %s." % j(adding) if adding else "", " removing: %s." % j(removing) if removing else ""))\' "$WORK_DIR/plan.json" "$WORK_DIR/describe"',
  '    exit 0 ;;',
  '  *kafka-reassign-partitions.sh*--verify*)',
  '    n=$(cat "$WORK_DIR/verify-left" 2>/dev/null || echo 0)',
  '    echo "Status of partition reassignment:"',
  '    if ((n > 0)); then echo $((n - 1)) > "$WORK_DIR/verify-left"; python3 -c \'import json,sys; [print("Reassignment of partition %s-%d is still in progress." % (p["topic"], p["partition"])) for p in json.load(open(sys.argv[1]))["partitions"]]\' "$WORK_DIR/plan.json"; exit 0; fi',
  '    python3 -c \'import json,sys',
  'plan = {(p["topic"], p["partition"]): p["replicas"] for p in json.load(open(sys.argv[1]))["partitions"]}',
  'out = []',
  'for line in open(sys.argv[2]):',
  '    fields = line.rstrip("\\n").split("\\t")',
  '    d = dict(f.split(": ", 1) for f in fields if ": " in f)',
  '    if "Partition" in d and (d["Topic"], int(d["Partition"])) in plan:',
  '        r = ",".join(map(str, plan[(d["Topic"], int(d["Partition"]))]))',
  '        fields = [("Replicas: " + r if f.startswith("Replicas: ") else "Isr: " + r if f.startswith("Isr: ") else f) for f in fields]',
  '    out.append("\\t".join(fields))',
  'open(sys.argv[2], "w").write("\\n".join(out) + "\\n")',
  '[print("Reassignment of partition %s-%d is completed." % k) for k in sorted(plan)]\' "$WORK_DIR/plan.json" "$WORK_DIR/describe"',
  '    echo "Clearing broker-level throttles on brokers 1,2,3,4"; exit 0 ;;',
  "esac",
  'echo "unexpected ssh: $*" >&2; exit 3',
].join("\n");

const KNIFE_NODES = [
  'case "$1 $2 $3" in',
  '  "node list "*) cat "$WORK_DIR/chef-nodes" 2>/dev/null; exit 0 ;;',
  '  "data bag show") [[ -f "$WORK_DIR/bag-item" ]] && { cat "$WORK_DIR/bag-item"; exit 0; }; ' + KNIFE_NOT_FOUND + " ;;",
  '  *) exit 0 ;;',
  "esac",
].join("\n");
const stubs = { ssh: KAFKA_SSH, knife: KNIFE_NODES, sleep: "exit 0", timeout: 'shift; "$@"', "cloud-init": "exit 0" };

/** A ZooKeeper-mode cluster whose ensemble (the first three nodes, as the Chef server holds it) serves behind one leader. */
const ZK_HEALTHY: Readonly<Record<string, string>> = {
  "bag-item": JSON.stringify({ id: "zookeeper", _default: IPS.slice(0, 3) }),
  [`zk-${IPS[0]}`]: "follower\n",
  [`zk-${IPS[1]}`]: "leader\n",
  [`zk-${IPS[2]}`]: "follower\n",
};
/** A KRaft cluster whose three combined controllers are caught up behind node 1. */
const KRAFT_HEALTHY: Readonly<Record<string, string>> = {
  "bag-item": JSON.stringify({ id: "kraft", _default: { cluster_id: "MkU3OEVBNTcwNTJENDM2Qk", quorum: "dynamic", controllers: IPS.slice(0, 3).map((address, index) => ({ id: index + 1, address })) } }),
  "quorum-status": quorumStatus(1),
  "quorum-replication": quorumReplication(1, [[2, 0, 100], [3, 12, 400]]),
};

/** A scratch directory whose cluster answers with these files. */
function cluster(files: Readonly<Record<string, string>>): string {
  const dir = runBash("exit 0").dir;
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "work", name), text);
  return dir;
}

describe("the drain guard (Terraform side)", () => {
  const json = kafkaJson("--kafka.nodes", "4");
  const guard = json.resource.terraform_data["drain-guard"];

  it("is one resource with an instance per broker, so lowering kafka.nodes keeps its block and runs its destroy-time script", () => {
    expect(Object.keys(guard.for_each)).toEqual(["1", "2", "3", "4"]);
    expect(guard.triggers_replace).toEqual({ nodeId: "${each.key}" });
    expect(guard.provisioner.map((p: Json) => Object.values(p)[0].when)).toEqual(["destroy", "destroy"]);
  });

  it("waits, when destroyed, before every broker's volume attachment, and so before its instance and volume", () => {
    // Every broker's ZooKeeper volume (members' and the fourth's) stops its instance on detach too.
    expect(guard.depends_on).toEqual(
      [0, 1, 2, 3].flatMap((index) => [`aws_volume_attachment.data-volume-${index}-attachment`, `aws_volume_attachment.zookeeper-data-volume-${index}-attachment`]),
    );
  });

  it("refers in its provisioners and connection to nothing but itself, as Terraform requires of destroy-time provisioners", () => {
    const text = JSON.stringify([guard.provisioner, guard.connection]);
    expect([...text.matchAll(/\$\{([^}]*)\}/g)].map((match) => match[1]).filter((expression) => !/^(file\()?self\.input\.[A-Za-z]+\)?$/.test(expression))).toEqual([]);
    expect(guard.input.script).toBe("${local.drain_guard_script}");
    expect(guard.input.privateKeyPath).toBe("${var.deployer_private_key_path}");
  });

  it("carries kafka.deletionProtection in its script, as the state holds it at destroy", () => {
    const script = (argv: string[]): string => unescapeTerraformTemplate(kafkaJson(...argv).locals.drain_guard_script as string);
    expect(script([])).toContain("DELETION_PROTECTION='true'");
    expect(script(["--kafka.deletionProtection", "false"])).toContain("DELETION_PROTECTION='false'");
  });

  it("installs the drain command with every broker's id, address and zone", () => {
    const install = json.resource.terraform_data["drain-command"];
    expect(install.triggers_replace.brokers).toMatch(/^\$\{join\(",", \["1@\$\{aws_instance\.node-0_instance_[0-9A-F]+\.private_ip\}@/);
  });
});

describe("the roll guards (Terraform side)", () => {
  it("chain the nodes: each node's instance waits for its guard, which waits for the node before it", () => {
    const json = kafkaJson("--kafka.nodes", "4");
    const instances = Object.keys(json.resource.aws_instance).sort();
    for (let index = 1; index < 4; index += 1) {
      const guard = json.resource.terraform_data[`roll-guard-node-${index}`];
      expect(json.resource.aws_instance[instances[index]].depends_on).toContain(`terraform_data.roll-guard-node-${index}`);
      expect(guard.depends_on).toContain(`aws_instance.${instances[index - 1]}`);
      // What stops or replaces the next node: a change of either runs the guard again, just before.
      expect(Object.keys(guard.triggers_replace)).toEqual(["instanceType", "subnet"]);
      // Never a reference to the node it gates: that would be a cycle.
      expect(JSON.stringify(guard)).not.toContain(instances[index]);
    }
  });

  it("guard the first node too, asking it at the address EC2 gave the plan, never through its instance", () => {
    const json = kafkaJson("--kafka.nodes", "4");
    const instances = Object.keys(json.resource.aws_instance).sort();
    const guard = json.resource.terraform_data["roll-guard-node-0"];
    expect(json.resource.aws_instance[instances[0]].depends_on).toContain("terraform_data.roll-guard-node-0");
    expect(guard.triggers_replace).toEqual({ instanceType: json.resource.aws_instance[instances[0]].instance_type, subnet: json.resource.aws_instance[instances[0]].subnet_id });
    // Before every Kafka instance: it waits for none.
    expect(JSON.stringify(guard)).not.toMatch(/aws_instance\.node-|aws_volume_attachment\./);
    const script = unescapeTerraformTemplate(guard.provisioner[0].file.content as string);
    expect(script).toContain("PREVIOUS_IP='${element(concat(data.aws_instances.placed-node-0.private_ips, [\"\"]), 0)}'");
    expect(script).toContain("PREVIOUS_NAME='insight-dev-kafka-0'");
  });

  it("read the quorum's members from the very item the stack uploads, in both modes", () => {
    for (const [argv, upload] of [[[], "zoo-bag"], [["--kafka.mode", "kraft"], "kraft-bag"]] as const) {
      const json = kafkaJson(...argv);
      const uploaded = /^step "upload (\S+)\/(\S+)"$/m.exec(unescapeTerraformTemplate(json.resource.terraform_data[upload].provisioner[0].file.content as string));
      expect(uploaded).not.toBeNull();
      for (const name of ["roll-guard-node-0", "roll-guard-node-1"]) {
        const script = unescapeTerraformTemplate(json.resource.terraform_data[name].provisioner[0].file.content as string);
        expect(script).toContain(`knife_as_admin data bag show '${uploaded![1]}' '${uploaded![2]}' --format json`);
      }
    }
  });

  it("chain dedicated controllers first, then the brokers", () => {
    const json = kafkaJson("--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true");
    const names = Object.keys(json.resource.terraform_data).filter((name) => name.startsWith("roll-guard-"));
    expect(names.sort()).toEqual(["roll-guard-controller-0", "roll-guard-controller-1", "roll-guard-controller-2", "roll-guard-node-0", "roll-guard-node-1", "roll-guard-node-2"]);
    expect(json.resource.aws_instance[Object.keys(json.resource.aws_instance).find((name) => name.startsWith("controller-0_"))!].depends_on).toContain("terraform_data.roll-guard-controller-0");
    expect(json.resource.terraform_data["roll-guard-node-0"].depends_on.join()).toContain("aws_instance.controller-2_instance_");
  });

  it("refuses at plan a change that moves several nodes to other subnets, from where EC2 says they run", () => {
    const json = kafkaJson();
    const check = json.resource.terraform_data["placement-check"].lifecycle.precondition[0];
    expect(check.condition).toBe("${length(local.kafka_nodes_moving) <= 1}");
    expect(check.error_message).toContain("REFUSED: %d Kafka nodes would move to other subnets in one apply");
    for (const index of [0, 1, 2]) {
      expect(json.data.aws_instances[`placed-node-${index}`].filter).toEqual([{ name: "tag:Name", values: [`insight-dev-kafka-${index}`] }]);
      expect(json.data.aws_instances[`placed-here-node-${index}`].filter[1].name).toBe("subnet-id");
      expect(json.locals.kafka_nodes_moving).toContain(`data.aws_instances.placed-here-node-${index}.ids`);
    }
  });
});

describe("validate's model of the guards", () => {
  const nodes = modelNodes(kafkaJson());

  it("keeps the stack's instances, volumes, attachments and guards with their dependencies", () => {
    const guard = nodes.find((node) => node.address === "terraform_data.drain-guard")!;
    expect(guard.keys).toEqual(["1", "2", "3"]);
    // Every attachment stops its instance before it detaches: a ZooKeeper member's own volume's too.
    expect(guard.after.filter((address) => address.startsWith("aws_volume_attachment."))).toEqual([
      "aws_volume_attachment.data-volume-0-attachment", "aws_volume_attachment.data-volume-1-attachment", "aws_volume_attachment.data-volume-2-attachment",
      "aws_volume_attachment.zookeeper-data-volume-0-attachment", "aws_volume_attachment.zookeeper-data-volume-1-attachment", "aws_volume_attachment.zookeeper-data-volume-2-attachment",
    ]);
    const node1 = nodes.find((node) => node.address.startsWith("aws_instance.node-1_"))!;
    expect(node1.after).toEqual(["terraform_data.roll-guard-node-1"]);
    const node0 = nodes.find((node) => node.address.startsWith("aws_instance.node-0_"))!;
    expect(node0.after).toEqual(["terraform_data.roll-guard-node-0"]);
  });

  it("leaves a removed broker's resources and guard instance out, keeping the guard's block", () => {
    const config = modelConfig(nodes, 2).resource.terraform_data as Json;
    expect(Object.keys(config).some((name) => /node-2_|data-volume-2/.test(name))).toBe(false);
    expect(Object.keys(config[modelName("terraform_data.drain-guard")].for_each)).toEqual(["1", "2"]);
  });
});

describeScripts("drain-guard (stub-run)", () => {
  const scripts = new KafkaProvisionScripts(configFrom());
  const kraftScripts = new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft"));
  const args = [String(4), "insight-dev-kafka-3", IPS[3], IPS[0], IPS[1], IPS[2]];
  const withArgs = (script: string, dir: string, argv: readonly string[] = args) => {
    writeFileSync(join(dir, "guard.sh"), script);
    writeFileSync(join(dir, "with-args.sh"), `exec bash ${join(dir, "guard.sh")} ${argv.join(" ")}\n`);
    return runBash("", { stubs, dir, file: join(dir, "with-args.sh") });
  };

  it("passes shellcheck in both modes", () => {
    expect(shellcheck(scripts.drainGuard()).output).toBe("");
    expect(shellcheck(kraftScripts.drainGuard()).output).toBe("");
  });

  it("refuses while the broker holds replicas, naming the partitions and the drain command, and destroys nothing", () => {
    const dir = cluster({ describe: described({ orders: [[1, 2, 4], [2, 3, 1], [3, 4, 2]], __consumer_offsets: [[4, 1, 2]] }) });
    const result = withArgs(scripts.drainGuard(), dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain(`REFUSED: broker 4 (insight-dev-kafka-3) still holds replicas of 3 partitions (orders-0 orders-2 __consumer_offsets-0): drain it first, on the workstation: ${DRAIN_COMMAND} 4; then apply again; nothing was destroyed`);
  });

  it("lets a broker that holds nothing go (ZooKeeper mode: no registration to check)", () => {
    const dir = cluster({ describe: described({ orders: [[1, 2, 3], [2, 3, 1]] }) });
    const result = withArgs(scripts.drainGuard(), dir);
    expect(result.status).toBe(0);
    expect(result.output).toContain("broker 4 (insight-dev-kafka-3) is drained: Terraform may destroy it");
  });

  it("asks the other brokers when the broker itself does not answer (a stopped broker still holds its replicas)", () => {
    const dir = cluster({ describe: described({ orders: [[1, 2, 4]] }), [`down-${IPS[3]}`]: "" });
    const result = withArgs(scripts.drainGuard(), dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain(`no answer from the broker at ${IPS[3]}`);
    expect(result.output).toContain("still holds replicas of 1 partitions (orders-0)");
  });

  it("refuses when no broker answers: nothing tells what the broker holds", () => {
    const dir = cluster(Object.fromEntries(IPS.map((ip) => [`down-${ip}`, ""])));
    const result = withArgs(scripts.drainGuard(), dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain("REFUSED: no broker answers, so nothing tells whether broker 4 (insight-dev-kafka-3) still holds replicas");
  });

  it("asks nothing when kafka.deletionProtection is off (a teardown)", () => {
    const off = new KafkaProvisionScripts(configFrom("--kafka.deletionProtection", "false")).drainGuard();
    const dir = cluster({ describe: described({ orders: [[1, 2, 4]] }) });
    const result = withArgs(off, dir);
    expect(result.status).toBe(0);
    expect(result.output).toContain("kafka.deletionProtection is off");
    expect(stubCalls(dir).filter((call) => call.startsWith("ssh "))).toEqual([]);
  });

  it("KRaft: refuses a drained broker that is still registered, fenced or not, and passes once it is unregistered", () => {
    const registered = endpoints([1, 2, 3, 4].map((id) => ({ id, host: IPS[id - 1], rack: "us-west-2a", fenced: id === 4 })));
    const dir = cluster({ describe: described({ orders: [[1, 2, 3]] }), endpoints: registered, [`down-${IPS[3]}`]: "" });
    const still = withArgs(kraftScripts.drainGuard(), dir);
    expect(still.status).toBe(1);
    expect(still.output).toContain(`REFUSED: broker 4 (insight-dev-kafka-3) holds no replica but is still registered with the controllers: finish its drain, on the workstation: ${DRAIN_COMMAND} 4`);
    writeFileSync(join(dir, "work", "endpoints"), endpoints([1, 2, 3].map((id) => ({ id, host: IPS[id - 1], rack: "us-west-2a" }))));
    const gone = withArgs(kraftScripts.drainGuard(), dir);
    expect(gone.status).toBe(0);
    expect(gone.output).toContain("broker 4 is not registered with the controllers");
  });
});

describeScripts("the drain command (stub-run)", () => {
  const brokers = [0, 1, 2, 3].map(broker);
  const zk = new KafkaProvisionScripts(configFrom()).drainBrokers(brokers, []);
  const kraft = new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft")).drainBrokers(brokers, [1, 2, 3]);
  const drain = (script: string, dir: string, argv: readonly string[], env: Record<string, string> = {}) => {
    writeFileSync(join(dir, "drain.sh"), script);
    writeFileSync(join(dir, "with-args.sh"), `exec bash ${join(dir, "drain.sh")} ${argv.join(" ")}\n`);
    return runBash("", { stubs, dir, file: join(dir, "with-args.sh"), env });
  };

  it("passes shellcheck, and installs through a here-document that keeps it byte for byte", () => {
    expect(shellcheck(zk).output).toBe("");
    expect(shellcheck(kraft).output).toBe("");
    const install = new KafkaProvisionScripts(configFrom()).installDrainCommand(brokers, []);
    expect(shellcheck(install).output).toBe("");
    const dir = runBash("exit 0").dir;
    const result = runBash(install, { dir, stubs: { sudo: 'exec "$@"' } });
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, "root", DRAIN_COMMAND), "utf8")).toBe(`${zk}\n`);
  });

  it("moves every replica off the broker, each to a broker that stays and lacks it, same zone first, the leader's place kept; throttled; waits for --verify", () => {
    // Broker 4 (us-west-2a) holds three partitions; broker 1, in its zone, takes each it lacks.
    const dir = cluster({ describe: described({ orders: [[4, 2, 3], [2, 4, 3], [1, 2, 4]], logs: [[2, 3, 1]] }) });
    const result = drain(zk, dir, ["4"], { VERIFY_RUNNING: "2" });
    expect(result.output).toContain("moving 3 partitions");
    expect(result.status).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, "work", "plan.json"), "utf8")) as Json;
    expect(plan).toEqual({
      version: 1,
      partitions: [
        { topic: "orders", partition: 0, replicas: [1, 2, 3] },
        { topic: "orders", partition: 1, replicas: [2, 1, 3] },
        { topic: "orders", partition: 2, replicas: [1, 2, 3] },
      ],
    });
    expect(readFileSync(join(dir, "work", "executed"), "utf8")).toContain("--execute --throttle 50000000");
    expect(result.output).toContain("3 of 3 partitions still moving");
    expect(result.output).toContain("reassignment done; --verify lifted the throttle");
    expect(result.output).toContain("broker(s) 4 drained: lower kafka.nodes and deploy");
    // ZooKeeper mode: a broker deregisters itself when it stops; nothing is unregistered.
    expect(stubCalls(dir).join("\n")).not.toContain("kafka-cluster.sh");
  });

  it("hands back, saying so, while the reassignment is still running after its checks", () => {
    const dir = cluster({ describe: described({ orders: [[4, 2, 3]] }) });
    const result = drain(zk, dir, ["4"], { VERIFY_RUNNING: "99", KAFKA_DRAIN_VERIFY_ATTEMPTS: "3" });
    expect(result.status).toBe(1);
    expect(result.output).toContain("the reassignment is still running after 3 checks; it goes on in the cluster, throttled: run this command again to keep waiting");
  });

  it("run again after handing back, waits on the running reassignment with the plan it kept, and starts none", () => {
    const dir = cluster({ describe: described({ orders: [[4, 2, 3], [1, 2, 3]] }) });
    const first = drain(zk, dir, ["4"], { VERIFY_RUNNING: "5", KAFKA_DRAIN_VERIFY_ATTEMPTS: "2" });
    expect(first.status).toBe(1);
    expect(first.output).toContain("run this command again to keep waiting");
    const again = drain(zk, dir, ["4"]);
    expect(again.output).toContain("a partition reassignment is running: orders-0: replicas: 1,2,3,4. adding: 1. removing: 4.");
    expect(again.output).toMatch(/waiting on it with the plan of the earlier drain, \S+\/platform-drain-[0-9TZ]+\.json \(1 partitions\)/);
    expect(again.status).toBe(0);
    expect(again.output).toContain("reassignment done; --verify lifted the throttle");
    expect(again.output).toContain("broker(s) 4 drained: lower kafka.nodes and deploy");
    expect(again.output).not.toContain("plan the moves");
    // One --execute in all: the first run's.
    expect(readFileSync(join(dir, "work", "executed"), "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("says in one line what to do when a reassignment runs and no plan of an earlier drain is left", () => {
    const dir = cluster({ describe: described({ orders: [[4, 2, 3]] }) });
    drain(zk, dir, ["4"], { VERIFY_RUNNING: "5", KAFKA_DRAIN_VERIFY_ATTEMPTS: "1" });
    for (const file of readdirSync(join(dir, "log")).filter((name) => name.endsWith(".json"))) unlinkSync(join(dir, "log", file));
    const again = drain(zk, dir, ["4"]);
    expect(again.status).toBe(1);
    expect(again.output).toContain(`no plan of an earlier drain is left in ${join(dir, "log")} to wait on it with: wait until kafka-reassign-partitions.sh --list on ${IPS[0]} prints "No partition reassignments found.", then run this command again`);
    expect(readFileSync(join(dir, "work", "executed"), "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("KRaft: once drained, stops the broker and unregisters it; a second run finds nothing to do", () => {
    const dir = cluster({ describe: described({ orders: [[4, 2, 3]] }), endpoints: endpoints([1, 2, 3, 4].map((id) => ({ id, host: IPS[id - 1], rack: "r" }))) });
    const first = drain(kraft, dir, ["4"]);
    expect(first.status).toBe(0);
    expect(readFileSync(join(dir, "work", "stopped"), "utf8").trim()).toBe(IPS[3]);
    expect(readFileSync(join(dir, "work", "unregistered"), "utf8").trim()).toBe("4");
    const second = drain(kraft, dir, ["4"]);
    expect(second.status).toBe(0);
    expect(second.output).toContain("no partition has a replica on broker(s) 4");
    expect(second.output).toContain("broker 4 is not registered");
  });

  it("refuses a KRaft controller, an unknown id, and draining every broker", () => {
    const dir = cluster({ describe: described({ orders: [[1, 2, 3]] }) });
    expect(drain(kraft, dir, ["2"]).output).toContain("broker 2 is also a controller of the metadata quorum");
    expect(drain(zk, dir, ["9"]).output).toContain("broker 9 is not one of this cluster's brokers (1 2 3 4)");
    expect(drain(zk, dir, ["1", "2", "3", "4"]).output).toContain("draining every broker leaves nowhere to move the replicas to");
    expect(drain(zk, dir, []).status).toBe(2);
  });

  it("says so when the brokers that stay cannot hold a partition's replicas", () => {
    const dir = cluster({ describe: described({ orders: [[4, 2, 3]] }) });
    const result = drain(zk, dir, ["4", "1"]);
    expect(result.status).toBe(1);
    expect(result.output).toContain("orders-0 has 3 replicas: the 2 brokers that stay cannot hold them");
  });
});

// A roll guard's deployed wait is 60 looks 10 s apart; the runs that wait it out take 3 (each
// look asks every stubbed node again).
const shortWait = (script: string): string => withSetting(script, "ATTEMPTS", "60", "3");

describeScripts("roll-guard (stub-run)", () => {
  const zk = new KafkaProvisionScripts(configFrom());
  const kraft = new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft"));
  const guard = (scripts: KafkaProvisionScripts, previous: GuardedNode = broker(0)) => scripts.rollGuard(previous, "insight-dev-kafka-1");

  it("waits 60 looks 10 s apart (10 minutes) after a node changes, and before the first", () => {
    for (const script of [guard(zk), guard(kraft), zk.firstRollGuard(broker(0))]) {
      expect(script).toMatch(/^ATTEMPTS='60'$/m);
      expect(script).toMatch(/^INTERVAL='10'$/m);
    }
    const dir = cluster({ ...ZK_HEALTHY, "chef-nodes": "insight-dev-kafka-0\n", "api-versions": apiVersions([1, 2, 3]), "urp-left": "1000" });
    const result = runBash(withSetting(guard(zk), "ATTEMPTS", "60", "2"), { stubs, dir });
    expect(result.output).toContain("the cluster is not healthy 20s after insight-dev-kafka-0 changed");
    expect(stubCalls(dir).filter((call) => call === "sleep 10")).toHaveLength(1);
  });

  it("passes shellcheck in both modes", () => {
    expect(shellcheck(guard(zk)).output).toBe("");
    expect(shellcheck(guard(kraft)).output).toBe("");
    expect(shellcheck(guard(new KafkaProvisionScripts(configFrom(...DEDICATED)))).output).toBe("");
  });

  it("waits for nothing after a node the Chef server never saw (a first deploy), and asks no node", () => {
    const dir = cluster({ "chef-nodes": "" });
    const result = runBash(guard(zk), { stubs, dir });
    expect(result.status).toBe(0);
    expect(result.output).toContain("insight-dev-kafka-0 was never bootstrapped: it runs no Kafka yet, nothing to wait for");
    expect(stubCalls(dir).filter((call) => call.startsWith("ssh "))).toEqual([]);
  });

  it("waits until the changed broker is live and no partition is under-replicated, then lets the next node go", () => {
    // Broker 1 is not live at the first look; each wait brings it back; two looks see an under-replicated partition.
    const dir = cluster({ ...ZK_HEALTHY, "chef-nodes": "insight-dev-kafka-0\ninsight-dev-kafka-1\n", "api-versions": apiVersions([2, 3]), "api-next": apiVersions([1, 2, 3]), "urp-left": "2" });
    const result = runBash(guard(zk), { stubs: { ...stubs, sleep: `cp "$WORK_DIR/api-next" "$WORK_DIR/api-versions"; exit 0` }, dir });
    expect(result.status).toBe(0);
    expect(result.output).toContain("broker 1 is not among the live brokers yet");
    expect(result.output).toContain("1 under-replicated partitions: orders-1");
    expect(result.output).toContain("healthy after insight-dev-kafka-0: the next node may change");
  });

  it("stops the apply, the next nodes untouched, when the cluster stays unhealthy", () => {
    const dir = cluster({ ...ZK_HEALTHY, "chef-nodes": "insight-dev-kafka-0\n", "api-versions": apiVersions([1, 2, 3]), "urp-left": "1000" });
    const result = runBash(shortWait(guard(zk)), { stubs, dir });
    expect(result.status).toBe(1);
    expect(result.output).toContain("the cluster is not healthy 30s after insight-dev-kafka-0 changed (above: what is wrong); the nodes after it were not touched");
  });

  it("ZooKeeper: asks every member of the item the Chef server holds, and passes behind one leader", () => {
    const dir = cluster({ ...ZK_HEALTHY, "chef-nodes": "insight-dev-kafka-0\n", "api-versions": apiVersions([1, 2, 3]) });
    const result = runBash(guard(zk), { stubs, dir });
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, "work", "srvr-asked"), "utf8").trim().split("\n")).toEqual([`srvr ${IPS[0]} follower`, `srvr ${IPS[1]} leader`, `srvr ${IPS[2]} follower`]);
  });

  it("ZooKeeper: waits while a member does not serve yet, naming it, and lets the next node go once it follows", () => {
    const dir = cluster({ ...ZK_HEALTHY, "chef-nodes": "insight-dev-kafka-0\n", "api-versions": apiVersions([1, 2, 3]), [`zk-${IPS[0]}`]: "not-serving\nnot-serving\nfollower\n" });
    const result = runBash(guard(zk), { stubs, dir });
    expect(result.status).toBe(0);
    expect(result.output).toContain(`ZooKeeper member ${IPS[0]} does not serve (This ZooKeeper instance is not currently serving requests)`);
    expect(result.output).toContain("healthy after insight-dev-kafka-0: the next node may change");
  });

  it("ZooKeeper: stops the apply, naming the member, when one stays down: the next stop would leave 1 of 3", () => {
    const files: Record<string, string> = { ...ZK_HEALTHY, "chef-nodes": "insight-dev-kafka-0\n", "api-versions": apiVersions([1, 2, 3]) };
    delete files[`zk-${IPS[0]}`];
    const result = runBash(shortWait(guard(zk)), { stubs, dir: cluster(files) });
    expect(result.status).toBe(1);
    expect(result.output).toContain(`ZooKeeper member ${IPS[0]} does not serve (no answer)`);
    expect(result.output).toContain("the cluster is not healthy 30s after insight-dev-kafka-0 changed");
    const first = runBash(shortWait(zk.firstRollGuard(broker(0))), { stubs, dir: cluster({ ...files, [`zk-${IPS[1]}`]: "not-serving\n" }) });
    expect(first.status).toBe(1);
    expect(first.output).toContain(`ZooKeeper member ${IPS[1]} does not serve (This ZooKeeper instance is not currently serving requests)`);
    expect(first.output).toContain("the ZooKeeper ensemble has no leader");
  });

  it("refuses when the Chef server gives no quorum item: the members cannot be known", () => {
    const files: Record<string, string> = { ...ZK_HEALTHY, "chef-nodes": "insight-dev-kafka-0\n", "api-versions": apiVersions([1, 2, 3]) };
    delete files["bag-item"];
    const result = runBash(guard(zk), { stubs, dir: cluster(files) });
    expect(result.status).toBe(1);
    expect(result.output).toContain("the Chef server gives no zoo_bag/zookeeper item: the ZooKeeper ensemble's members are unknown");
  });

  it("KRaft: needs a quorum leader and every voter caught up; a lagging voter is named until the apply stops", () => {
    const healthy = { ...KRAFT_HEALTHY, "chef-nodes": "insight-dev-kafka-0\n", "api-versions": apiVersions([1, 2, 3]) };
    const dir = cluster(healthy);
    expect(runBash(guard(kraft), { stubs, dir }).status).toBe(0);
    expect(stubCalls(dir).join("\n")).toContain(`--bootstrap-controller ${IPS.slice(0, 3).map((ip) => `${ip}:9095`).join(",")} --command-config /etc/kafka/tools.properties`);
    const lagging = runBash(shortWait(guard(kraft)), { stubs, dir: cluster({ ...healthy, "quorum-replication": quorumReplication(1, [[2, 0, 100], [3, 5000, 100]]) }) });
    expect(lagging.status).toBe(1);
    expect(lagging.output).toContain(`controller 3 (${IPS[2]}) lags 5000 records (at most 1000)`);
    expect(lagging.output).toContain("the cluster is not healthy 30s after insight-dev-kafka-0 changed");
    const stale = runBash(shortWait(guard(kraft)), { stubs, dir: cluster({ ...healthy, "quorum-replication": quorumReplication(1, [[2, 0, 60_000], [3, 0, 100]]) }) });
    expect(stale.status).toBe(1);
    expect(stale.output).toContain(`controller 2 (${IPS[1]}) last caught up 60000 ms before the leader (at most 10000)`);
    const leaderless = runBash(shortWait(guard(kraft)), { stubs, dir: cluster({ ...healthy, "quorum-status": quorumStatus(-1) }) });
    expect(leaderless.status).toBe(1);
    expect(leaderless.output).toContain("the controller quorum has no leader");
  });

  it("KRaft: a dedicated controller just changed is healthy once it is a caught-up voter; its broker checks are not asked", () => {
    const dedicated = new KafkaProvisionScripts(configFrom(...DEDICATED));
    const controller: GuardedNode = { name: "insight-dev-controller-0", ip: "10.0.16.20", nodeId: 1001, broker: false, rack: "us-west-2a" };
    const item = JSON.stringify({ id: "kraft", _default: { cluster_id: "MkU3OEVBNTcwNTJENDM2Qk", quorum: "dynamic", controllers: ["10.0.16.20", "10.0.32.21", "10.0.48.22"].map((address, index) => ({ id: 1001 + index, address })) } });
    const healthy = { "chef-nodes": "insight-dev-controller-0\n", "bag-item": item, "quorum-status": quorumStatus(1002), "quorum-replication": quorumReplication(1002, [[1001, 0, 100], [1003, 0, 100]]) };
    const dir = cluster(healthy);
    const asked = runBash(dedicated.rollGuard(controller, "insight-dev-controller-1"), { stubs, dir });
    expect(asked.status).toBe(0);
    expect(stubCalls(dir).join("\n")).toContain("--bootstrap-controller 10.0.16.20:9095,10.0.32.21:9095,10.0.48.22:9095 --command-config /etc/kafka/tools.properties");
    expect(stubCalls(dir).join("\n")).not.toContain("kafka-topics.sh");
    const behind = runBash(shortWait(dedicated.rollGuard(controller, "insight-dev-controller-1")), { stubs, dir: cluster({ ...healthy, "quorum-replication": quorumReplication(1002, [[1001, 20_000, 100], [1003, 0, 100]]) }) });
    expect(behind.status).toBe(1);
    expect(behind.output).toContain("controller 1001 (10.0.16.20) lags 20000 records (at most 1000)");
  });
});

describe("Kafka's tools in the workstation scripts", () => {
  /** Every function a script defines, by name, in order. */
  const definitions = (script: string): string[] => [...script.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)\(\) \{$/gm)].map((match) => match[1]);
  const rendered = [configFrom(), configFrom("--kafka.mode", "kraft"), configFrom("--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true")].flatMap((config) => {
    const scripts = new KafkaProvisionScripts(config);
    const mode = `${config.kafka.mode}${config.kafka.dedicatedControllers ? ", dedicated controllers" : ""}`;
    return Object.entries({
      converge: scripts.convergeNodes(IPS.slice(0, 3), { bag: "kafka_bag", id: "quorum", json: '{"id":"quorum","_default":[]}' }),
      "roll guard": scripts.rollGuard(broker(0), "insight-dev-kafka-1"),
      "first roll guard": scripts.firstRollGuard(broker(0)),
      "drain guard": scripts.drainGuard(),
      "drain command": scripts.drainBrokers([broker(0), broker(1)], []),
      "rebalance command": scripts.rebalancePartitions([broker(0), broker(1)]),
    }).map(([name, script]) => ({ what: `${name} (${mode})`, script }));
  });

  it("define each function once, and one kafka_tool <node address> <tool.sh> <arguments...> in all of them", () => {
    const twice = rendered.flatMap(({ what, script }) => definitions(script).filter((name, index, all) => all.indexOf(name) !== index).map((name) => `${what}: ${name}`));
    expect(twice).toEqual([]);
    const runners = new Set(rendered.map(({ script }) => /^kafka_tool\(\) \{$[\s\S]*?^\}$/m.exec(script)?.[0]));
    expect(runners.size).toBe(1);
    expect([...runners][0]).toContain("local address=$1 tool=$2");
  });
});

describeScripts("the first node's roll guard (stub-run)", () => {
  const zk = new KafkaProvisionScripts(configFrom());
  const first = (ip = IPS[0]) => zk.firstRollGuard({ ...broker(0), ip });

  it("passes shellcheck", () => {
    expect(shellcheck(first()).output).toBe("");
  });

  it("passes at once on a new cluster, asking no node", () => {
    const dir = cluster({ "chef-nodes": "" });
    const result = runBash(first(""), { stubs, dir });
    expect(result.status).toBe(0);
    expect(result.output).toContain("insight-dev-kafka-0 was never bootstrapped: it runs no Kafka yet, nothing to wait for");
    expect(stubCalls(dir).filter((call) => call.startsWith("ssh "))).toEqual([]);
  });

  it("waits until the cluster is healthy before the first node changes", () => {
    const dir = cluster({ ...ZK_HEALTHY, "chef-nodes": "insight-dev-kafka-0\n", "api-versions": apiVersions([1, 2, 3]), "urp-left": "2" });
    const result = runBash(first(), { stubs, dir });
    expect(result.status).toBe(0);
    expect(result.output).toContain("1 under-replicated partitions: orders-1");
    expect(result.output).toContain("healthy before insight-dev-kafka-0: it may change");
  });

  it("stops the apply, every node untouched, when the cluster stays unhealthy", () => {
    const dir = cluster({ ...ZK_HEALTHY, "chef-nodes": "insight-dev-kafka-0\n", "api-versions": apiVersions([1, 2, 3]), "urp-left": "1000" });
    const result = runBash(shortWait(first()), { stubs, dir });
    expect(result.status).toBe(1);
    expect(result.output).toContain("the cluster is not healthy: waited 30s before insight-dev-kafka-0 changes (above: what is wrong); no node was touched; apply again once it is");
  });

  it("passes when EC2 had no instance of the node at plan: nothing runs there to ask", () => {
    const dir = cluster({ "chef-nodes": "insight-dev-kafka-0\n" });
    const result = runBash(first(""), { stubs, dir });
    expect(result.status).toBe(0);
    expect(result.output).toContain("EC2 had no instance named insight-dev-kafka-0 when Terraform planned");
    expect(stubCalls(dir).filter((call) => call.startsWith("ssh "))).toEqual([]);
  });
});

// --- Dedicated KRaft controllers: destroyed only once the converge has removed them from the voters ---
const DEDICATED = ["--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true"];
const CONTROLLER_IPS = ["10.0.16.20", "10.0.32.21", "10.0.48.22"];
const CONTROLLER_DIRS = ["K90IZ-0DRNazJ49kCZ1EMQ", "aUARLskQTCW4qCZDtS_cwA", "2ggvsS4kQb-fSJ_-zC_Ang"];

describe("the controller guard (Terraform side)", () => {
  const json = kafkaJson(...DEDICATED);
  const guard = json.resource.terraform_data["controller-guard"];

  it("is one resource with an instance per dedicated controller, keyed by node id; the brokers' drain guard keeps its keys", () => {
    expect(Object.keys(guard.for_each)).toEqual(["1001", "1002", "1003"]);
    expect(guard.triggers_replace).toEqual({ nodeId: "${each.key}" });
    expect(guard.provisioner.map((p: Json) => Object.values(p)[0].when)).toEqual(["destroy", "destroy"]);
    expect(Object.keys(json.resource.terraform_data["drain-guard"].for_each)).toEqual(["1", "2", "3"]);
  });

  it("waits, when destroyed, before every controller's volume attachment, and so before its instance and volume", () => {
    expect(guard.depends_on).toEqual([0, 1, 2].map((index) => `aws_volume_attachment.controller-data-volume-${index}-attachment`));
  });

  it("passes the script the controller, its directory id and the other controllers to ask, all from itself as last deployed", () => {
    const text = JSON.stringify([guard.provisioner, guard.connection]);
    expect([...text.matchAll(/\$\{([^}]*)\}/g)].map((match) => match[1]).filter((expression) => !/^(file\()?self\.input\.[A-Za-z]+\)?$/.test(expression))).toEqual([]);
    expect(guard.provisioner[1]["remote-exec"].inline).toEqual([
      "bash /tmp/platform-controller-guard-${self.input.nodeId}.sh ${self.input.nodeId} ${self.input.nodeName} ${self.input.address} ${self.input.directoryId} ${self.input.others}",
    ]);
    const second = guard.for_each["1002"];
    expect(second.name).toBe("insight-dev-kafka-controller-1");
    expect(second.address).toMatch(/^\$\{aws_instance\.controller-1_instance_[0-9A-F]+\.private_ip\}$/);
    // The id the data bag gives the controller, which remove-controller needs.
    expect(second.directoryId).toBe("${local.controller-directory-id-1002-text}");
    expect(second.others).toMatch(/^\$\{join\(" ", \[aws_instance\.controller-0_instance_[0-9A-F]+\.private_ip, aws_instance\.controller-2_instance_[0-9A-F]+\.private_ip\]\)\}$/);
    expect(guard.input.script).toBe("${local.controller_guard_script}");
    expect(unescapeTerraformTemplate(json.locals.controller_guard_script as string)).toBe(new KafkaProvisionScripts(configFrom(...DEDICATED)).controllerGuard());
  });

  it("carries kafka.deletionProtection in its script, and has an instance only per dedicated controller", () => {
    const script = (argv: string[]): string => unescapeTerraformTemplate(kafkaJson(...DEDICATED, ...argv).locals.controller_guard_script as string);
    expect(script([])).toContain("DELETION_PROTECTION='true'");
    expect(script(["--kafka.deletionProtection", "false"])).toContain("DELETION_PROTECTION='false'");
    expect(kafkaJson().resource.terraform_data["controller-guard"]).toBeUndefined();
  });

  it("stays declared, with no instance, when no controller is dedicated: turning dedicatedControllers off still runs each guard before its controller's attachment goes", () => {
    const combined = kafkaJson("--kafka.mode", "kraft").resource.terraform_data["controller-guard"] as Json;
    expect(combined.for_each).toEqual({});
    expect(combined.provisioner).toEqual(kafkaJson(...DEDICATED).resource.terraform_data["controller-guard"].provisioner);
  });
});

describe("validate's model of the controller guards", () => {
  const nodes = modelNodes(kafkaJson(...DEDICATED), /^(controller-guard$|converge$|bootstrap-|kraft-bag$)/);

  it("keeps the controllers' guard on their attachments, and the converge that removes them from the voters", () => {
    const guard = nodes.find((node) => node.address === "terraform_data.controller-guard")!;
    expect(guard.keys).toEqual(["1001", "1002", "1003"]);
    expect(guard.after.filter((address) => address.startsWith("aws_volume_attachment."))).toEqual([0, 1, 2].map((index) => `aws_volume_attachment.controller-data-volume-${index}-attachment`));
    const converge = nodes.find((node) => node.address === "terraform_data.converge")!;
    expect(converge.after).toContain("terraform_data.bootstrap-controller-2");
    // Nothing makes the converge wait for a guard that waits for it.
    expect(converge.after.join()).not.toContain("controller-guard");
  });

  it("leaves the removed controllers' resources and guard instances out; the converge marks them out of the voters only when told to", () => {
    const config = controllerModelConfig(nodes, [1, 2], "2", true).resource.terraform_data as Json;
    expect(Object.keys(config).some((name) => /controller-[12]_|controller-data-volume-[12]|(bootstrap|roll-guard)-controller-[12]/.test(name))).toBe(false);
    expect(Object.keys(config[modelName("terraform_data.controller-guard")].for_each)).toEqual(["1001"]);
    expect(config[modelName("terraform_data.converge")].provisioner[0]["local-exec"].command).toBe("echo 'create terraform_data.converge' >> order.log; touch voted-out-1002; touch voted-out-1003");
    const idle = controllerModelConfig(nodes, [1, 2], "2", false).resource.terraform_data as Json;
    expect(idle[modelName("terraform_data.converge")].provisioner[0]["local-exec"].command).not.toContain("touch");
  });
});

describeScripts("controller-guard (stub-run)", () => {
  const QUORUM_TOOL = join(__dirname, "fixtures", "kafka-metadata-quorum.py");
  const guardScript = (argv: readonly string[] = [], attempts?: number): string => {
    const script = new KafkaProvisionScripts(configFrom(...DEDICATED, ...argv)).controllerGuard();
    return attempts === undefined ? script : script.replace(/^GUARD_ATTEMPTS='[0-9]+'$/m, `GUARD_ATTEMPTS='${attempts}'`);
  };
  /** ssh to a controller: down-<address> makes it not answer; kafka-metadata-quorum.sh is the stand-in, on the shared quorum state. */
  const CONTROLLER_SSH = [
    'host=""; for a; do [[ $a == ubuntu@* ]] && host=${a#ubuntu@}; done',
    '[[ -f "$WORK_DIR/down-$host" ]] && { echo "ssh: connect to host $host port 22: Connection timed out" >&2; exit 255; }',
    'if [[ " $* " == *kafka-metadata-quorum.sh* ]]; then',
    '  shift $(( $(printf "%s\\n" "$@" | grep -n "kafka-metadata-quorum.sh$" | cut -d: -f1) ))',
    `  exec python3 ${QUORUM_TOOL} "$WORK_DIR/quorum.json" "$host" "$@"`,
    "fi",
    'echo "unexpected ssh: $*" >&2; exit 3',
  ].join("\n");
  /** The converge of the same apply, at the guard's n-th wait: remove-controller of that controller through controller 1001. */
  const convergeRemovesAt = (n: number, id: number): string =>
    [
      'count=$(($(cat "$WORK_DIR/sleeps" 2>/dev/null || echo 0) + 1)); echo "$count" > "$WORK_DIR/sleeps"',
      `if ((count == ${n})); then python3 ${QUORUM_TOOL} "$WORK_DIR/quorum.json" ${CONTROLLER_IPS[0]} --bootstrap-controller ${CONTROLLER_IPS[0]}:9093 remove-controller --controller-id ${id} --controller-directory-id ${CONTROLLER_DIRS[id - 1001]} >/dev/null; fi`,
      "exit 0",
    ].join("\n");
  /** A running quorum of the three dedicated controllers (dynamic, or static: no directory ids). */
  const quorum = (voters: readonly number[], kind: "dynamic" | "static" = "dynamic"): string => {
    const dir = runBash("exit 0").dir;
    const entry = (id: number) => ({ id, dir: kind === "static" ? null : CONTROLLER_DIRS[id - 1001], host: CONTROLLER_IPS[id - 1001] });
    writeFileSync(join(dir, "work", "quorum.json"), JSON.stringify({
      cluster_id: "MkU3OEVBNTcwNTJENDM2Qg", leader: voters[0], voters: voters.map(entry), observers: [],
      hosts: Object.fromEntries(CONTROLLER_IPS.map((ip, index) => [ip, { id: 1001 + index, dir: CONTROLLER_DIRS[index] }])),
    }));
    return dir;
  };
  /** The guard for controller 1003, as Terraform's remote-exec runs it. */
  const guardRun = (script: string, dir: string, sleep = "exit 0") => {
    writeFileSync(join(dir, "guard.sh"), script);
    const argv = ["1003", "insight-dev-kafka-controller-2", CONTROLLER_IPS[2], CONTROLLER_DIRS[2], CONTROLLER_IPS[0], CONTROLLER_IPS[1]];
    writeFileSync(join(dir, "with-args.sh"), `exec bash ${join(dir, "guard.sh")} ${argv.join(" ")}\n`);
    return runBash("", { stubs: { ssh: CONTROLLER_SSH, sleep }, dir, file: join(dir, "with-args.sh") });
  };
  const describedThrough = (dir: string): string[] =>
    stubCalls(dir).filter((call) => call.startsWith("ssh ") && call.includes("describe --status")).map((call) => call.match(/ubuntu@(\S+)/)![1]);

  it("passes shellcheck", () => {
    expect(shellcheck(guardScript()).output).toBe("");
  });

  it("waits while the controller still votes and lets Terraform destroy it once the converge has removed it", () => {
    const dir = quorum([1001, 1002, 1003]);
    const result = guardRun(guardScript(), dir, convergeRemovesAt(3, 1003));
    expect(result.status).toBe(0);
    expect(result.output).toContain("controller 1003 is still a voter (voters 1001,1002,1003; asked 10.0.16.20): waiting up to 5400s for the converge of this apply to remove it (remove-controller)");
    expect(result.output).toContain("controller 1003 is not a voter (asked 10.0.16.20; voters 1001,1002)");
    expect(result.output).toContain("controller 1003 (insight-dev-kafka-controller-2) no longer votes: Terraform may destroy it");
    // Asked through a controller that stays, four looks: three while it voted, one after.
    expect(describedThrough(dir)).toEqual(Array(4).fill(CONTROLLER_IPS[0]));
    expect(readFileSync(join(dir, "work", "sleeps"), "utf8").trim()).toBe("3");
  });

  it("refuses at its bound, naming the apply again and the remove-controller command with the live directory id; removes nothing itself", () => {
    const dir = quorum([1001, 1002, 1003]);
    const result = guardRun(guardScript([], 3), dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain(
      `REFUSED: controller 1003 (insight-dev-kafka-controller-2) is still a voter (voters 1001,1002,1003; asked 10.0.16.20) after 45s: apply again once the converge has removed it, or remove it by hand, on 10.0.16.20: sudo -u kafka /opt/kafka/current/bin/kafka-metadata-quorum.sh --bootstrap-controller 10.0.16.20:9095 --command-config /etc/kafka/controller-tools.properties remove-controller --controller-id 1003 --controller-directory-id ${CONTROLLER_DIRS[2]}; nothing was destroyed`,
    );
    expect(stubCalls(dir).join("\n")).not.toContain("remove-controller");
    expect(JSON.parse(readFileSync(join(dir, "work", "quorum.json"), "utf8")).voters.map((voter: Json) => voter.id)).toEqual([1001, 1002, 1003]);
  });

  it("waits 30 minutes plus 10 per node the converge rolls before it refuses: the converge removes controllers only after rolling every node", () => {
    const attempts = (argv: string[]): number => Number(guardScript(argv).match(/^GUARD_ATTEMPTS='([0-9]+)'$/m)![1]);
    // 15 s apart: 3 controllers and 3 brokers, 90 minutes; 10 brokers more, 100 minutes more.
    expect(attempts([])).toBe(360);
    expect(attempts(["--kafka.nodes", "13"])).toBe(760);
    expect(attempts(["--kafka.nodes", "13", "--kafka.controllerNodes", "5"])).toBe(840);
  });

  it("asks the controller itself when the others do not answer", () => {
    const dir = quorum([1001, 1002]);
    writeFileSync(join(dir, "work", `down-${CONTROLLER_IPS[0]}`), "");
    writeFileSync(join(dir, "work", `down-${CONTROLLER_IPS[1]}`), "");
    const result = guardRun(guardScript(), dir);
    expect(result.status).toBe(0);
    expect(result.output).toContain("controller 1003 is not a voter (asked 10.0.48.22; voters 1001,1002)");
    expect(describedThrough(dir)).toEqual(CONTROLLER_IPS);
  });

  it("refuses when no controller answers for four looks in a row: nothing tells whether it still votes", () => {
    const dir = quorum([1001, 1002, 1003]);
    for (const ip of CONTROLLER_IPS) writeFileSync(join(dir, "work", `down-${ip}`), "");
    const result = guardRun(guardScript(), dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain(
      "REFUSED: no controller (10.0.16.20 10.0.32.21 10.0.48.22) answers kafka-metadata-quorum.sh describe --status, so nothing tells whether controller 1003 (insight-dev-kafka-controller-2) still votes; bring the quorum back and apply again, or set kafka.deletionProtection to false and deploy to destroy it unchecked; nothing was destroyed",
    );
    expect(describedThrough(dir)).toHaveLength(12);
  });

  it("refuses a static quorum's voter outright: no directory id, no remove-controller", () => {
    const dir = quorum([1001, 1002, 1003], "static");
    const result = guardRun(guardScript(), dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain(
      "REFUSED: controller 1003 (insight-dev-kafka-controller-2) is a voter of a static quorum (controller.quorum.voters; voters 1001,1002,1003), which cannot remove a voter on a running cluster: set kafka.controllerNodes back to 3 and deploy (docs/kafka.md, KRaft quorum changes); nothing was destroyed",
    );
    expect(stubCalls(dir).filter((call) => call.startsWith("sleep"))).toEqual([]);
  });

  it("asks nothing when kafka.deletionProtection is off (a teardown)", () => {
    const dir = quorum([1001, 1002, 1003]);
    const result = guardRun(guardScript(["--kafka.deletionProtection", "false"]), dir);
    expect(result.status).toBe(0);
    expect(result.output).toContain("kafka.deletionProtection is off: controller 1003 (insight-dev-kafka-controller-2) is destroyed without asking the quorum whether it still votes");
    expect(stubCalls(dir).filter((call) => call.startsWith("ssh "))).toEqual([]);
  });
});
