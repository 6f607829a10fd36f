/**
 * New brokers take only new topics until partitions are reassigned: the rebalance command, run
 * under bash against stubs that print what Kafka's own tools print (ReassignPartitionsCommand's
 * --generate, --execute, --list and --verify, TopicCommand's --list and replication reports,
 * BrokerApiVersionsCommand, MetadataQuorumCommand), and its install step in the synthesized JSON.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type GuardedNode, KafkaProvisionScripts, REBALANCE_COMMAND } from "../constructs/kafkaProvisionScripts";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { configFrom, kafkaJson, type Json } from "./helpers";
import { runBash, shellcheck, stubCalls } from "./shell";
import { describeScripts } from "./tiers";

const IPS = ["10.0.16.10", "10.0.32.11", "10.0.48.12", "10.0.16.13"];
const broker = (index: number): GuardedNode => ({ name: `insight-dev-kafka-${index}`, ip: IPS[index], nodeId: index + 1, broker: true, rack: "us-west-2a" });
const BROKERS = [0, 1, 2, 3].map(broker);

/** kafka-broker-api-versions.sh: one block per live broker; Kafka 4's Node adds isFenced after the rack. */
const apiVersions = (ids: readonly number[], kafka4 = false): string =>
  ids
    .map((id) => `${IPS[id - 1]}:9092 (id: ${id} rack: us-west-2a${kafka4 ? " isFenced: false" : ""}) -> (\n\tProduce(0): 0 to 11 [usable: 11],\n\tFetch(1): 4 to 17 [usable: 17]\n)\n`)
    .join("");

/** kafka-metadata-quorum.sh describe --status. */
const quorumStatus = (leader: number): string =>
  `ClusterId:              MkU3OEVBNTcwNTJENDM2Qk\nLeaderId:               ${leader}\nLeaderEpoch:            15\nHighWatermark:          46\nMaxFollowerLag:         0\nMaxFollowerLagTimeMs:   0\nCurrentVoters:          [{"id": 1, "directoryId": null, "endpoints": ["CONTROLLER://10.0.16.10:9093"]}]\nCurrentObservers:       []\n`;

/** The cluster's partitions, topic to each partition's replicas, kept in work/assignment.json. */
type Assignment = Record<string, number[][]>;

/**
 * kafka-reassign-partitions.sh, on the assignment in WORK_DIR. --generate proposes, per topic,
 * partition p on brokers p, p+1, ... of the broker list (Kafka starts at a random broker; the
 * stub at the first), printed as ReassignPartitionsCommand prints it: a title line, the compact
 * JSON with log_dirs "any", a blank line, the proposal. A reassignment started by --execute runs
 * until VERIFY_RUNNING --verify calls have seen it, then the assignment takes the plan.
 */
const REASSIGN_TOOL = [
  "import json, os, sys",
  'work = os.environ["WORK_DIR"]',
  "args = sys.argv[1:]",
  "def value(flag): return args[args.index(flag) + 1]",
  'state_file = os.path.join(work, "assignment.json")',
  "state = json.load(open(state_file))",
  'left_file = os.path.join(work, "verify-left")',
  "left = int(open(left_file).read()) if os.path.exists(left_file) else 0",
  "def plan_json(parts):",
  '    return json.dumps({"version": 1, "partitions": [{"topic": t, "partition": p, "replicas": r, "log_dirs": ["any"] * len(r)} for (t, p, r) in parts]}, separators=(",", ":"))',
  "def plan_of(path): return [(p['topic'], p['partition'], p['replicas']) for p in json.load(open(path))['partitions']]",
  'if "--generate" in args:',
  "    if os.path.exists(os.path.join(work, 'rackless')):",
  "        print('Error: Not all brokers have rack information. Add --disable-rack-aware in command line to make replica assignment without rack information.')",
  "        print('org.apache.kafka.admin.AdminOperationException: Not all brokers have rack information. Add --disable-rack-aware in command line to make replica assignment without rack information.')",
  "        print('\tat org.apache.kafka.tools.reassign.ReassignPartitionsCommand.getBrokerMetadata(ReassignPartitionsCommand.java:684)')",
  "        sys.exit(1)",
  "    topics = [t['topic'] for t in json.load(open(os.path.join(work, 'remote-' + os.path.basename(value('--topics-to-move-json-file')))))['topics']]",
  "    brokers = [int(b) for b in value('--broker-list').split(',')]",
  "    current = sorted((t, p, r) for t in topics for p, r in enumerate(state[t]))",
  "    proposed = [(t, p, [brokers[(p + i) % len(brokers)] for i in range(len(r))]) for (t, p, r) in current]",
  '    print("Current partition replica assignment\\n%s\\n\\nProposed partition reassignment configuration\\n%s" % (plan_json(current), plan_json(proposed)))',
  '    sys.exit(0)',
  "if '--list' in args:",
  "    if left == 0: print('No partition reassignments found.'); sys.exit(0)",
  "    print('Current partition reassignments:')",
  "    for (t, p, r) in plan_of(os.path.join(work, 'remote-plan.json')):",
  "        old = state[t][p]",
  "        adding = [b for b in r if b not in old]; removing = [b for b in old if b not in r]",
  "        j = lambda rs: ','.join(map(str, rs))",
  "        print('%s-%d: replicas: %s.%s%s' % (t, p, j(r + removing), ' adding: %s.' % j(adding) if adding else '', ' removing: %s.' % j(removing) if removing else ''))",
  "    sys.exit(0)",
  "plan = plan_of(os.path.join(work, 'remote-' + os.path.basename(value('--reassignment-json-file'))))",
  "if '--execute' in args and os.path.exists(os.path.join(work, 'execute-fails')):",
  "    print('Error reassigning partition(s):\\norders-1: The broker 4 is not alive.')",
  "    sys.exit(1)",
  "if '--execute' in args:",
  "    if left > 0:",
  "        print('Cannot execute because there is an existing partition assignment.  Use --additional to override this and create a new partition assignment in addition to the existing one. The --additional flag can also be used to change the throttle by resubmitting the current reassignment.')",
  "        sys.exit(1)",
  "    open(left_file, 'w').write(os.environ.get('VERIFY_RUNNING', '0'))",
  "    open(os.path.join(work, 'executed'), 'a').write(' '.join(args) + '\\n')",
  "    print('Current partition replica assignment\\n\\n%s\\n\\nSave this to use as the --reassignment-json-file option during rollback' % plan_json([(t, p, state[t][p]) for (t, p, _) in plan]))",
  "    print('Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.')",
  "    print('Successfully started partition reassignments for %s' % ','.join('%s-%d' % (t, p) for (t, p, _) in plan))",
  "    sys.exit(0)",
  "if '--verify' in args and os.path.exists(os.path.join(work, 'verify-fails')):",
  "    os.remove(os.path.join(work, 'verify-fails'))",
  "    print('Error: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listPartitionReassignments')",
  "    sys.exit(1)",
  "if '--verify' in args:",
  "    print('Status of partition reassignment:')",
  "    if left > 0:",
  "        open(left_file, 'w').write(str(left - 1))",
  "        for (t, p, _) in plan: print('Reassignment of partition %s-%d is still in progress.' % (t, p))",
  "        sys.exit(0)",
  "    for (t, p, r) in plan:",
  "        if os.path.exists(os.path.join(work, 'elsewhere')) and p == 0: state[t][p] = [9, 8, 7][:len(r)]",
  "        elif os.path.exists(os.path.join(work, 'executed')): state[t][p] = r",
  "        if state[t][p] == r: print('Reassignment of partition %s-%d is completed.' % (t, p))",
  "        else: print('There is no active reassignment of partition %s-%d, but replica set is %s rather than %s.' % (t, p, ','.join(map(str, state[t][p])), ','.join(map(str, r))))",
  "    json.dump(state, open(state_file, 'w'))",
  "    print('Clearing broker-level throttles on brokers 1,2,3,4')",
  "    print('Clearing topic-level throttles on topics %s' % ','.join(sorted(set(t for (t, _, _) in plan))))",
  "    sys.exit(0)",
  "print('unexpected arguments: %s' % args); sys.exit(3)",
].join("\n");

/** ssh to a broker: Kafka's tools answer from files in WORK_DIR; down-<ip> makes a node fail to answer; `cat > <file>` keeps the file as remote-<name>. */
const SSH = [
  'host=""; for a; do [[ $a == ubuntu@* ]] && host=${a#ubuntu@}; done',
  'args=" $* "',
  '[[ -f "$WORK_DIR/down-$host" ]] && { echo "ssh: connect to host $host port 22: Connection timed out" >&2; exit 255; }',
  'case $args in',
  '  *" cat > "*) f=${args##* cat > }; f=${f%% *}; f=${f##*/}; cat > "$WORK_DIR/remote-$f"; [[ $f == *-topics.json ]] || cp "$WORK_DIR/remote-$f" "$WORK_DIR/remote-plan.json"; exit 0 ;;',
  '  *kafka-broker-api-versions.sh*) cat "$WORK_DIR/api-versions"; exit 0 ;;',
  '  *kafka-topics.sh*--under-replicated-partitions*) cat "$WORK_DIR/urp" 2>/dev/null; exit 0 ;;',
  '  *kafka-topics.sh*--under-min-isr-partitions*|*kafka-topics.sh*--unavailable-partitions*) exit 0 ;;',
  // TopicCommand --list: sorted names, one a line; println of the empty join when there is none.
  '  *kafka-topics.sh*--list*--exclude-internal*) python3 -c \'import json,os; print("\\n".join(sorted(t for t in json.load(open(os.environ["WORK_DIR"] + "/assignment.json")) if t not in ("__consumer_offsets", "__transaction_state"))))\'; exit 0 ;;',
  '  *kafka-topics.sh*--list*) python3 -c \'import json,os; print("\\n".join(sorted(json.load(open(os.environ["WORK_DIR"] + "/assignment.json")))))\'; exit 0 ;;',
  '  *kafka-metadata-quorum.sh*) cat "$WORK_DIR/quorum-status"; exit 0 ;;',
  `  *kafka-reassign-partitions.sh*) shift $(( $(printf "%s\\n" "$@" | grep -n "kafka-reassign-partitions.sh$" | cut -d: -f1) )); exec python3 -c '${REASSIGN_TOOL.replace(/'/g, "'\\''")}' "$@" ;;`,
  "esac",
  'echo "unexpected ssh: $*" >&2; exit 3',
].join("\n");

const stubs = { ssh: SSH, sleep: "exit 0", timeout: 'shift; "$@"' };

/** A scratch directory whose cluster has these partitions and these live brokers. */
function cluster(assignment: Assignment, files: Readonly<Record<string, string>> = {}): string {
  const dir = runBash("exit 0").dir;
  writeFileSync(join(dir, "work", "assignment.json"), JSON.stringify(assignment));
  writeFileSync(join(dir, "work", "api-versions"), apiVersions([1, 2, 3, 4]));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "work", name), text);
  return dir;
}

/** Three brokers' topics, and broker 4 new and empty. */
const BEFORE: Assignment = {
  orders: [[1, 2, 3], [2, 3, 1], [3, 1, 2], [1, 3, 2]],
  logs: [[2, 1, 3]],
  __consumer_offsets: [[1, 2, 3], [2, 3, 1]],
};

const zkScript = new KafkaProvisionScripts(configFrom()).rebalancePartitions(BROKERS);
const kraftScript = new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft")).rebalancePartitions(BROKERS);

function rebalance(script: string, dir: string, argv: readonly string[] = [], env: Record<string, string> = {}) {
  writeFileSync(join(dir, "rebalance.sh"), script);
  writeFileSync(join(dir, "with-args.sh"), `exec bash ${join(dir, "rebalance.sh")} ${argv.join(" ")}\n`);
  return runBash("", { stubs, dir, file: join(dir, "with-args.sh"), env });
}

const runDirs = (dir: string): string[] => readdirSync(join(dir, "log")).filter((name) => name.startsWith("rebalance-")).map((name) => join(dir, "log", name));
const readJson = (path: string): Json => JSON.parse(readFileSync(path, "utf8")) as Json;
const assignmentOf = (dir: string): Assignment => readJson(join(dir, "work", "assignment.json")) as Assignment;
const toolCalls = (dir: string, pattern: string): string[] => stubCalls(dir).filter((call) => call.startsWith("ssh ") && call.includes(pattern));

describeScripts("the rebalance command (stub-run)", () => {
  it("passes shellcheck in both modes, and installs through a here-document that keeps it byte for byte", () => {
    expect(shellcheck(zkScript).output).toBe("");
    expect(shellcheck(kraftScript).output).toBe("");
    const install = new KafkaProvisionScripts(configFrom()).installRebalanceCommand(BROKERS);
    expect(shellcheck(install).output).toBe("");
    const dir = runBash("exit 0").dir;
    const result = runBash(install, { dir, stubs: { sudo: 'exec "$@"' } });
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, "root", REBALANCE_COMMAND), "utf8")).toBe(`${zkScript}\n`);
  });

  it("plans over every registered broker, keeps the rollback plan and the proposal, starts it throttled and waits for --verify", () => {
    const dir = cluster(BEFORE);
    const result = rebalance(zkScript, dir, [], { VERIFY_RUNNING: "2" });
    expect(result.status).toBe(0);
    // Every topic but the internal ones, listed by the command itself; every registered broker.
    const [run] = runDirs(dir);
    expect(readJson(join(run, "topics.json"))).toEqual({ version: 1, topics: [{ topic: "logs" }, { topic: "orders" }] });
    expect(toolCalls(dir, "--generate").join("\n")).toContain("--broker-list 1,2,3,4 --generate");
    // The rollback plan is Kafka's "current" assignment; the proposal leaves out what stays put.
    expect(readJson(join(run, "current-assignment.json")).partitions.map((p: Json) => [p.topic, p.partition, p.replicas])).toEqual([
      ["logs", 0, [2, 1, 3]],
      ["orders", 0, [1, 2, 3]],
      ["orders", 1, [2, 3, 1]],
      ["orders", 2, [3, 1, 2]],
      ["orders", 3, [1, 3, 2]],
    ]);
    const proposal = readJson(join(run, "proposed-assignment.json")).partitions.map((p: Json) => [p.topic, p.partition, p.replicas]);
    expect(proposal).toEqual([
      ["logs", 0, [1, 2, 3]],
      ["orders", 1, [2, 3, 4]],
      ["orders", 2, [3, 4, 1]],
      ["orders", 3, [4, 1, 2]],
    ]);
    expect(result.output).toContain("4 of 5 partitions change; replicas per broker (id:count) 1:5 2:5 3:5 4:0 -> 1:4 2:4 3:4 4:3");
    expect(result.output).toContain(`rollback plan (the current assignment): ${run}/current-assignment.json`);
    expect(result.output).toContain(`proposal: ${run}/proposed-assignment.json`);
    expect(readFileSync(join(dir, "work", "executed"), "utf8")).toMatch(/--reassignment-json-file \/tmp\/platform-rebalance-[0-9TZ]+\.json --execute --throttle 50000000/);
    expect(result.output).toContain("4 of 4 partitions still moving");
    expect(result.output).toContain("reassignment done; --verify lifted the throttle");
    // The new broker holds replicas now; the internal topic was left where it was.
    expect(assignmentOf(dir).orders[3]).toEqual([4, 1, 2]);
    expect(assignmentOf(dir).__consumer_offsets).toEqual(BEFORE.__consumer_offsets);
    // ZooKeeper mode with TLS: every tool presents the node's certificate on the TLS listener.
    const tools = stubCalls(dir).filter((call) => call.includes("/opt/kafka/current/bin/"));
    expect(tools.length).toBeGreaterThan(0);
    for (const call of tools) expect(call).toMatch(/--bootstrap-server 10\.0\.16\.10:9094 --command-config \/etc\/kafka\/tools\.properties/);
  });

  it("--dry-run stops after the plan, with both files kept; --throttle sets the rate; --include-internal takes the internal topics", () => {
    const dir = cluster(BEFORE);
    const dry = rebalance(zkScript, dir, ["--dry-run", "--include-internal"]);
    expect(dry.status).toBe(0);
    expect(dry.output).toContain("dry run: nothing was changed");
    const [run] = runDirs(dir);
    expect(existsSync(join(run, "current-assignment.json"))).toBe(true);
    expect(existsSync(join(run, "proposed-assignment.json"))).toBe(true);
    expect(readJson(join(run, "topics.json")).topics.map((t: Json) => t.topic)).toEqual(["__consumer_offsets", "logs", "orders"]);
    expect(toolCalls(dir, "--exclude-internal")).toEqual([]);
    expect(toolCalls(dir, "--execute")).toEqual([]);
    expect(assignmentOf(dir)).toEqual(BEFORE);

    const throttled = cluster(BEFORE);
    expect(rebalance(zkScript, throttled, ["--throttle", "10000000"]).status).toBe(0);
    expect(readFileSync(join(throttled, "work", "executed"), "utf8")).toContain("--execute --throttle 10000000");
  });

  it("refuses in one line, changing nothing, while a reassignment is in progress, naming the run to wait on", () => {
    const dir = cluster(BEFORE);
    const first = rebalance(zkScript, dir, [], { VERIFY_RUNNING: "50", KAFKA_REBALANCE_VERIFY_ATTEMPTS: "1" });
    expect(first.status).toBe(1);
    const [run] = runDirs(dir);
    // A later dry run's directory started nothing: it is not the one named.
    mkdirSync(join(dir, "log", "rebalance-29991231T000000Z"));
    writeFileSync(join(dir, "log", "rebalance-29991231T000000Z", "proposed-assignment.json"), readFileSync(join(run, "proposed-assignment.json")));
    const again = rebalance(zkScript, dir);
    expect(again.status).toBe(1);
    expect(again.output).toContain(
      `REFUSED: a partition reassignment is in progress (logs-0: replicas: 1,2,3. orders-1: replicas: 2,3,4,1. adding: 4. removing: 1. orders-2: replicas: 3,4,1,2. adding: 4. removing: 2.): if it is this command's, wait on it with ${REBALANCE_COMMAND} --wait ${run}, then run this command again; nothing was changed`,
    );
    // One --generate and one --execute in all: the first run's.
    expect(toolCalls(dir, "--generate")).toHaveLength(1);
    expect(toolCalls(dir, "--execute")).toHaveLength(1);
  });

  it("hands back at its bound naming the partitions left and --wait, which then waits it out without starting another", () => {
    const dir = cluster(BEFORE);
    const first = rebalance(zkScript, dir, [], { VERIFY_RUNNING: "5", KAFKA_REBALANCE_VERIFY_ATTEMPTS: "3" });
    expect(first.status).toBe(1);
    const [run] = runDirs(dir);
    expect(first.output).toContain(
      `the reassignment is still running after 3 checks, 4 of 4 partitions left (logs-0 orders-1 orders-2 orders-3); it goes on in the cluster, throttled to the rate it started with: keep waiting with ${REBALANCE_COMMAND} --wait ${run} (its last --verify lifts the throttle), or verify by hand on a broker: kafka-reassign-partitions.sh --bootstrap-server <broker>:9094 --reassignment-json-file /tmp/platform-rebalance-${run.split("rebalance-")[1]}.json --verify`,
    );
    const resumed = rebalance(zkScript, dir, ["--wait", run]);
    expect(resumed.status).toBe(0);
    expect(resumed.output).toContain("reassignment done; --verify lifted the throttle");
    expect(toolCalls(dir, "--execute")).toHaveLength(1);
    expect(toolCalls(dir, "--generate")).toHaveLength(1);
    expect(assignmentOf(dir).orders[3]).toEqual([4, 1, 2]);
  });

  it("says so when a partition ended elsewhere than planned", () => {
    const dir = cluster(BEFORE, { elsewhere: "" });
    const result = rebalance(zkScript, dir);
    expect(result.status).toBe(1);
    expect(result.output).toContain("There is no active reassignment of partition logs-0, but replica set is 9,8,7 rather than 1,2,3.");
    expect(result.output).toContain("some partitions ended with other replicas than planned (something else reassigned them); the throttle is lifted");
  });

  it("stops with Kafka's own line when --generate or --execute fails, naming --wait to lift a throttle left behind; a --verify that fails once is one more check", () => {
    const rackless = cluster(BEFORE, { rackless: "" });
    const generate = rebalance(zkScript, rackless);
    expect(generate.status).toBe(1);
    expect(generate.output).toContain(
      `kafka-reassign-partitions.sh on ${IPS[0]} failed (exit 1): Error: Not all brokers have rack information. Add --disable-rack-aware in command line to make replica assignment without rack information.`,
    );
    expect(generate.output).toContain("FAILED at step 'generate a plan over brokers 1,2,3,4'");
    expect(toolCalls(rackless, "--execute")).toEqual([]);

    const refused = cluster(BEFORE, { "execute-fails": "" });
    const execute = rebalance(zkScript, refused);
    expect(execute.status).toBe(1);
    const [run] = runDirs(refused);
    expect(execute.output).toContain("orders-1: The broker 4 is not alive.");
    expect(execute.output).toContain(`kafka-reassign-partitions.sh --execute on ${IPS[0]} failed (above: its answer); a throttle it may have set stays until ${REBALANCE_COMMAND} --wait ${run} lifts it`);
    expect(toolCalls(refused, "--verify")).toEqual([]);

    const flaky = cluster(BEFORE, { "verify-fails": "" });
    const verify = rebalance(zkScript, flaky, [], { VERIFY_RUNNING: "1" });
    expect(verify.status).toBe(0);
    expect(verify.output).toContain(`kafka-reassign-partitions.sh --verify on ${IPS[0]} failed: Error: org.apache.kafka.common.errors.TimeoutException`);
    expect(verify.output).toContain("reassignment done; --verify lifted the throttle");
  });

  it("refuses an unhealthy cluster in one line before planning: under-replicated partitions, or a deployed broker not registered", () => {
    const urp = cluster(BEFORE, { urp: "\tTopic: orders\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3\tElr: \tLastKnownElr: \n" });
    const sick = rebalance(zkScript, urp);
    expect(sick.status).toBe(1);
    expect(sick.output).toContain("REFUSED: the cluster is not healthy: 1 under-replicated partitions: orders-1; run this command again once it is; nothing was changed");
    expect(toolCalls(urp, "--generate")).toEqual([]);
    expect(runDirs(urp)).toEqual([]);

    const missing = cluster(BEFORE, { "api-versions": apiVersions([1, 2, 3]) });
    const result = rebalance(zkScript, missing);
    expect(result.status).toBe(1);
    expect(result.output).toContain("REFUSED: the cluster is not healthy: broker 4 (10.0.16.13) is not registered: the plan would leave it out");
    expect(toolCalls(missing, "--generate")).toEqual([]);
  });

  it("asks the next broker when one does not answer, and stops when none does", () => {
    const dir = cluster(BEFORE, { [`down-${IPS[0]}`]: "" });
    const result = rebalance(zkScript, dir, ["--dry-run"]);
    expect(result.status).toBe(0);
    expect(result.output).toContain(`no answer from the broker at ${IPS[0]}`);
    expect(result.output).toContain(`asking the broker at ${IPS[1]}`);
    const none = cluster(BEFORE, Object.fromEntries(IPS.map((ip) => [`down-${ip}`, ""])));
    const silent = rebalance(zkScript, none);
    expect(silent.status).toBe(1);
    expect(silent.output).toContain(`no broker answers kafka-broker-api-versions.sh (${IPS.join(" ")}); nothing was changed`);
  });

  it("has nothing to do when there are no topics, or the plan moves nothing", () => {
    const empty = cluster({ __consumer_offsets: [[1, 2, 3]] });
    const result = rebalance(zkScript, empty);
    expect(result.status).toBe(0);
    expect(result.output).toContain("no topics to rebalance (internal topics left out; --include-internal takes them); nothing was changed");
    const balanced = cluster({ orders: [[1, 2, 3], [2, 3, 4], [3, 4, 1], [4, 1, 2]] });
    const settled = rebalance(zkScript, balanced);
    expect(settled.status).toBe(0);
    expect(settled.output).toContain("every partition already sits where the plan puts it; nothing was changed");
    expect(toolCalls(balanced, "--execute")).toEqual([]);
  });

  it("rejects a bad --throttle, an unknown argument and a --wait without a run directory's proposal", () => {
    const dir = cluster(BEFORE);
    const zero = rebalance(zkScript, dir, ["--throttle", "0"]);
    expect(zero.status).toBe(2);
    expect(zero.output).toContain("--throttle takes bytes per second, a whole number above 0, not '0'");
    expect(rebalance(zkScript, dir, ["--throttle", "50MB"]).status).toBe(2);
    expect(rebalance(zkScript, dir, ["--fast"]).output).toContain("unknown argument --fast; usage:");
    expect(stubCalls(dir).filter((call) => call.startsWith("ssh "))).toEqual([]);
    expect(rebalance(zkScript, dir, ["--dry-run"]).status).toBe(0);
    const [dryRun] = runDirs(dir);
    const notStarted = rebalance(zkScript, dir, ["--wait", dryRun]);
    expect(notStarted.status).toBe(2);
    expect(notStarted.output).toContain(`${dryRun} is a run that started no reassignment (a dry run, or one that stopped before --execute): nothing to wait on`);
    expect(stubCalls(dir).filter((call) => call.includes("--verify"))).toEqual([]);
    const wait = rebalance(zkScript, dir, ["--wait", join(dir, "nowhere")]);
    expect(wait.status).toBe(2);
    expect(wait.output).toContain("holds no proposed-assignment.json: --wait takes the run directory an earlier run printed");
  });

  it("KRaft: runs the tools with the nodes' client settings, reads Kafka 4's broker lines, and refuses a quorum without a leader", () => {
    const dir = cluster(BEFORE, { "api-versions": apiVersions([1, 2, 3, 4], true), "quorum-status": quorumStatus(1) });
    const result = rebalance(kraftScript, dir);
    expect(result.status).toBe(0);
    expect(toolCalls(dir, "--generate").join("\n")).toContain("--command-config /etc/kafka/tools.properties --topics-to-move-json-file");
    expect(toolCalls(dir, "--generate").join("\n")).toContain("--broker-list 1,2,3,4 --generate");
    const leaderless = cluster(BEFORE, { "api-versions": apiVersions([1, 2, 3, 4], true), "quorum-status": quorumStatus(-1) });
    const refused = rebalance(kraftScript, leaderless);
    expect(refused.status).toBe(1);
    expect(refused.output).toContain("REFUSED: the cluster is not healthy: the controller quorum has no leader (LeaderId -1)");
    expect(toolCalls(leaderless, "--generate")).toEqual([]);
  });
});

describe("the rebalance command (Terraform side)", () => {
  const json = kafkaJson;

  it("is installed on the workstation with every broker's id and address, again whenever they or the script change", () => {
    const install = json("--kafka.nodes", "4").resource.terraform_data["rebalance-command"];
    expect(Object.keys(install.triggers_replace)).toEqual(["brokers", "script"]);
    expect(install.triggers_replace.brokers).toMatch(/^\$\{join\(",", \["1@\$\{aws_instance\.node-0_instance_[0-9A-F]+\.private_ip\}", "2@/);
    const script = unescapeTerraformTemplate(install.provisioner[0].file.content as string);
    expect(script).toContain(`sudo install -D -m 0755 "$staged" "\${FS_ROOT}"'${REBALANCE_COMMAND}'`);
    expect(script).toMatch(/^BROKERS=\('1 \$\{aws_instance\.node-0_instance_[0-9A-F]+\.private_ip\}' /m);
  });
});
