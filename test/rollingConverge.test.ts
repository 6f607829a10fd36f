import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KafkaProvisionScripts, ROLLING_HEALTH } from "../constructs/kafkaProvisionScripts";
import { KAFKA_PORTS } from "../stacks/KafkaStack";
import { CLUSTER_SSH } from "./clusterStubs";
import { configFrom } from "./helpers";
import { runBash, shellcheck, stubCalls } from "./shell";
import { describeScripts } from "./tiers";

// The converge script rendered as Terraform runs it, run against a stubbed cluster (see
// clusterStubs.ts): ZooKeeper's `srvr`, kafka-topics.sh and kafka-metadata-quorum.sh answer in
// their real layouts. Short waits come from the script's own PLATFORM_HEALTH_* overrides.
const STUBS = { ssh: CLUSTER_SSH, knife: "exit 0", sudo: "exit 0" };
const FAST = { PLATFORM_HEALTH_TIMEOUT: "10", PLATFORM_HEALTH_POLL: "0.05" };

/** A scratch directory whose WORK_DIR/cluster holds these files (each ends with a newline). */
function cluster(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), "rolling-converge-"));
  const state = join(dir, "work", "cluster");
  mkdirSync(state, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(state, name), content.endsWith("\n") ? content : `${content}\n`);
  return dir;
}
const write = (dir: string, name: string, content: string): void => writeFileSync(join(dir, "work", "cluster", name), `${content}\n`);
const remove = (dir: string, name: string): void => rmSync(join(dir, "work", "cluster", name), { force: true });
/** Every look the script took at the cluster, and every client run, in order. */
const events = (dir: string): string[] => readFileSync(join(dir, "work", "cluster", "events"), "utf8").trim().split("\n");
const clientRuns = (dir: string): string[] => events(dir).flatMap((event) => (event.startsWith("run ") ? [event.slice(4)] : []));
/** The events after the client run on `from`, up to the next client run. */
const between = (dir: string, from: string): string[] => {
  const all = events(dir);
  const start = all.indexOf(`run ${from}`);
  const next = all.findIndex((event, index) => index > start && event.startsWith("run "));
  return all.slice(start + 1, next < 0 ? undefined : next);
};
const lines = (output: string, text: string): string[] => output.split("\n").filter((line) => line.includes(text));

describeScripts("rolling converge, ZooKeeper mode", () => {
  const ZK = ["10.0.16.5", "10.0.32.6", "10.0.48.7"];
  const zooCfg = ["clientPort=2181", ...ZK.map((ip, index) => `server.${index + 1}=${ip}:2888:3888`)].join("\n");
  const script = new KafkaProvisionScripts(configFrom()).convergeNodes(ZK, { bag: "zoo_bag", id: "zookeeper", json: JSON.stringify({ _default: ZK, id: "zookeeper" }) });
  /** Three members, `leader` leading, Kafka on every node, every partition in sync. */
  const running = (leader: string, files: Readonly<Record<string, string>> = {}): string =>
    cluster({
      ...Object.fromEntries(ZK.map((ip) => [`zk-${ip}`, ip === leader ? "leader" : "follower"])),
      ...Object.fromEntries(ZK.map((ip) => [`config-${ip}`, zooCfg])),
      ...files,
    });
  const URP_TWO = "events:3:2:2,3,1:2,1 events:7:1:1,3,2:1,2";

  it("restarts the ZooKeeper leader last, and waits out the election its restart causes", () => {
    // The leader's restart: it stops serving for two looks while 10.0.32.6 is elected.
    const dir = running(ZK[0], { [`after-run-${ZK[0]}`]: `printf 'not-serving\\nnot-serving\\nfollower\\n' >"$C/zk-${ZK[0]}"; echo leader >"$C/zk-${ZK[1]}"` });
    const run = runBash(script, { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(clientRuns(dir)).toEqual([ZK[1], ZK[2], ZK[0]]);
    expect(run.output).toContain(`next: ${ZK[0]}, the ZooKeeper leader, after the other members`);
    expect(lines(run.output, "waiting (up to 10s): ")).toEqual([
      expect.stringContaining(`waiting (up to 10s): ZooKeeper member ${ZK[0]} does not serve (This ZooKeeper instance is not currently serving requests)`),
    ]);
    expect(between(dir, ZK[0]).filter((event) => event.startsWith(`srvr ${ZK[0]}`))).toEqual([`srvr ${ZK[0]} not-serving`, `srvr ${ZK[0]} not-serving`, `srvr ${ZK[0]} follower`]);
    expect(run.output).toContain("healthy: ZooKeeper leader 10.0.32.6, 2 followers; no under-replicated, under-min-ISR or unavailable partitions");
    expect(run.output).toContain("converged 3 nodes");
  });

  it("after a broker's run, waits until no partition is under-replicated, then goes on", () => {
    const dir = running(ZK[0], { [`after-run-${ZK[1]}`]: `printf '%s\\n' '${URP_TWO}' '${URP_TWO}' 'events:3:2:2,3,1:2,1' - >"$C/under-replicated"` });
    const run = runBash(script, { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(clientRuns(dir)).toEqual([ZK[1], ZK[2], ZK[0]]);
    // The next node's run only after the look that found none.
    expect(between(dir, ZK[1]).filter((event) => event.startsWith("topics under-replicated"))).toEqual([
      "topics under-replicated 2",
      "topics under-replicated 2",
      "topics under-replicated 1",
      "topics under-replicated 0",
    ]);
    expect(lines(run.output, "waiting (up to 10s): ")).toEqual([
      expect.stringContaining("waiting (up to 10s): 2 under-replicated partitions: events-3 events-7"),
      expect.stringContaining("waiting (up to 10s): 1 under-replicated partitions: events-3"),
    ]);
  });

  it("stops when the partitions do not catch up in time, naming them, with the later nodes untouched; a re-run finishes", () => {
    const dir = running(ZK[0], { [`after-run-${ZK[1]}`]: `echo '${URP_TWO}' >"$C/under-replicated"` });
    const run = runBash(script, { stubs: STUBS, env: { ...FAST, PLATFORM_HEALTH_TIMEOUT: "1" }, dir });
    expect(run.status).not.toBe(0);
    expect(clientRuns(dir)).toEqual([ZK[1]]);
    expect(lines(run.output, "STOPPED")).toEqual([
      expect.stringContaining(
        `STOPPED after ${ZK[1]}: not healthy again within 1s: 2 under-replicated partitions: events-3 events-7; not converged: ${ZK[0]} ${ZK[2]}; run again once it is (PLATFORM_HEALTH_TIMEOUT sets the wait)`,
      ),
    ]);
    expect(run.output).toContain("FAILED at step 'run cinc-client on 3 nodes, one at a time, each after the cluster is healthy'");
    // Caught up later: the same script, run again, converges every node.
    remove(dir, `after-run-${ZK[1]}`);
    write(dir, "under-replicated", "-");
    const again = runBash(script, { stubs: STUBS, env: FAST, dir });
    expect(again.status).toBe(0);
    expect(clientRuns(dir)).toEqual([ZK[1], ZK[1], ZK[2], ZK[0]]);
  });

  it("names at most ten partitions, and how many more", () => {
    const many = Array.from({ length: 12 }, (_unused, index) => `clicks:${index}:1:1,2,3:1,2`).join(" ");
    const dir = running(ZK[0], { [`after-run-${ZK[1]}`]: `echo '${many}' >"$C/under-replicated"` });
    const run = runBash(script, { stubs: STUBS, env: { ...FAST, PLATFORM_HEALTH_TIMEOUT: "0" }, dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`12 under-replicated partitions: ${Array.from({ length: 10 }, (_unused, index) => `clicks-${index}`).join(" ")} and 2 more; not converged`);
  });

  it("refuses to start on an unhealthy cluster, naming what is wrong, and converges no node", () => {
    const dir = running(ZK[0], {
      "under-replicated": "orders:0:1:1,2,3:1",
      "under-min-isr": "orders:0:1:1,2,3:1",
      unavailable: "orders:5:none:2,3,1:",
    });
    const run = runBash(script, { stubs: STUBS, env: { ...FAST, PLATFORM_HEALTH_TIMEOUT: "1" }, dir });
    expect(run.status).not.toBe(0);
    expect(clientRuns(dir)).toEqual([]);
    expect(lines(run.output, "REFUSED")).toEqual([
      expect.stringContaining(
        "REFUSED: the cluster is not healthy before any restart (waited 1s): 1 under-replicated partitions: orders-0; 1 under-min-isr partitions: orders-0; 1 unavailable partitions: orders-5; no node was converged; run again once it is",
      ),
    ]);
    // Two leaders (a split ensemble) are refused the same way.
    const split = runBash(script, { stubs: STUBS, env: { ...FAST, PLATFORM_HEALTH_TIMEOUT: "0" }, dir: running(ZK[0], { [`zk-${ZK[2]}`]: "leader" }) });
    expect(split.status).not.toBe(0);
    expect(lines(split.output, "REFUSED")).toEqual([expect.stringContaining(`the ZooKeeper ensemble has 2 leaders (${ZK[0]} ${ZK[2]})`)]);
  });

  it("converges a member that does not serve first, before any serving node, and refuses when partitions suffer too", () => {
    const dir = running(ZK[0], { [`zk-${ZK[2]}`]: "down", [`after-run-${ZK[2]}`]: `echo follower >"$C/zk-${ZK[2]}"` });
    const run = runBash(script, { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(clientRuns(dir)).toEqual([ZK[2], ZK[1], ZK[0]]);
    expect(run.output).toContain(`ZooKeeper member ${ZK[2]} does not serve (no answer): converging ${ZK[2]} first, before any serving node`);
    // Still down after its run: the converge stops there, every serving node untouched.
    const stillDown = running(ZK[0], { [`zk-${ZK[2]}`]: "down" });
    const stopped = runBash(script, { stubs: STUBS, env: { ...FAST, PLATFORM_HEALTH_TIMEOUT: "0" }, dir: stillDown });
    expect(stopped.status).not.toBe(0);
    expect(clientRuns(stillDown)).toEqual([ZK[2]]);
    expect(lines(stopped.output, "STOPPED")).toEqual([expect.stringContaining(`STOPPED after ${ZK[2]}: not healthy within 0s: ZooKeeper member ${ZK[2]} does not serve (no answer); not converged: ${ZK[0]} ${ZK[1]}`)]);
    const alsoPartitions = running(ZK[0], { [`zk-${ZK[2]}`]: "down", "under-replicated": "events:1:2:3,2,1:2,1" });
    const refused = runBash(script, { stubs: STUBS, env: { ...FAST, PLATFORM_HEALTH_TIMEOUT: "0" }, dir: alsoPartitions });
    expect(refused.status).not.toBe(0);
    expect(clientRuns(alsoPartitions)).toEqual([]);
    expect(lines(refused.output, "REFUSED")).toEqual([expect.stringContaining(`ZooKeeper member ${ZK[2]} does not serve (no answer); 1 under-replicated partitions: events-1`)]);
  });

  it("says once, loudly, that the partitions go unchecked where no broker has Kafka's tools, and still gates on ZooKeeper", () => {
    const dir = running(ZK[1], { "no-kafka": "" });
    const run = runBash(script, { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(lines(run.output, "NOT CHECKED")).toEqual([
      expect.stringContaining(
        "NOT CHECKED: no broker has /opt/kafka/current/bin/kafka-topics.sh (Kafka is not installed on 10.0.16.5 10.0.32.6 10.0.48.7): under-replicated, under-min-ISR and unavailable partitions go unchecked in this converge; only the ZooKeeper ensemble's health gates each restart",
      ),
    ]);
    expect(stubCalls(dir).filter((call) => call.includes("kafka-topics.sh") && !call.includes("test -x"))).toEqual([]);
    expect(clientRuns(dir)).toEqual([ZK[0], ZK[2], ZK[1]]);
    expect(run.output).toContain("healthy: ZooKeeper leader 10.0.32.6, 2 followers; partitions not checked (no Kafka tools)");
  });

  it("refuses a health wait that is not a number of seconds", () => {
    const run = runBash(script, { stubs: STUBS, env: { PLATFORM_HEALTH_TIMEOUT: "5m" }, dir: running(ZK[0]) });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("PLATFORM_HEALTH_TIMEOUT (5m) must be whole seconds and PLATFORM_HEALTH_POLL (10) seconds");
    expect(stubCalls(run.dir).filter((call) => call.includes("cinc-client"))).toEqual([]);
  });
});

describeScripts("rolling converge, KRaft mode", () => {
  const CONTROLLERS = ["10.0.16.20", "10.0.32.21", "10.0.48.22"];
  const BROKERS = ["10.0.16.5", "10.0.32.6", "10.0.48.7"];
  const kraftItem = (ids: readonly number[], ips: readonly string[]): string =>
    JSON.stringify({ _default: { cluster_id: "MkU3OEVBNTcwNTJENDM2Qg", controllers: ids.map((id, index) => ({ address: ips[index], id })) }, id: "kraft" });
  const voters = (ids: readonly number[], ips: readonly string[]): string => `controller.quorum.voters=${ids.map((id, index) => `${id}@${ips[index]}:9093`).join(",")}`;
  const configs = (ids: readonly number[], ips: readonly string[]): Record<string, string> => Object.fromEntries(ips.map((ip) => [`config-${ip}`, voters(ids, ips)]));

  it("with dedicated controllers: the controllers first, the active controller last of them, each voter caught up before the next", () => {
    const ids = [1001, 1002, 1003];
    const script = new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true")).convergeNodes([...CONTROLLERS, ...BROKERS], {
      bag: "kafka_bag",
      id: "kraft",
      json: kraftItem(ids, CONTROLLERS),
    });
    const dir = cluster({
      ...configs(ids, CONTROLLERS),
      "kraft-leader": "1001",
      voters: ids.join(" "),
      observers: "1 2 3",
      // A restarted follower catches up: behind in records, then behind in time only.
      [`after-run-${CONTROLLERS[1]}`]: `printf '%s\\n' '4200 30000' '4200 30000' '0 100' >"$C/voter-1002"`,
      [`after-run-${CONTROLLERS[2]}`]: `printf '%s\\n' '0 30000' '0 100' >"$C/voter-1003"`,
      // The active controller's restart hands leadership to 1002.
      [`after-run-${CONTROLLERS[0]}`]: `echo 1002 >"$C/kraft-leader"; printf '%s\\n' '2500 20000' '0 100' >"$C/voter-1001"`,
    });
    const run = runBash(script, { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(clientRuns(dir)).toEqual([CONTROLLERS[1], CONTROLLERS[2], CONTROLLERS[0], ...BROKERS]);
    expect(run.output).toContain(`next: ${CONTROLLERS[0]}, the active controller, after the other members`);
    expect(lines(run.output, "waiting (up to 10s): ")).toEqual([
      expect.stringContaining(`controller 1002 (${CONTROLLERS[1]}) lags 4200 records (at most 1000)`),
      expect.stringContaining(`controller 1003 (${CONTROLLERS[2]}) last caught up 30000 ms before the leader (at most 10000)`),
      expect.stringContaining(`controller 1001 (${CONTROLLERS[0]}) lags 2500 records (at most 1000)`),
    ]);
    expect(between(dir, CONTROLLERS[1]).filter((event) => event.startsWith("quorum replication"))).toHaveLength(3);
    expect(run.output).toContain(`healthy: active controller 1002 (${CONTROLLERS[1]}), 3 voters caught up; no under-replicated, under-min-ISR or unavailable partitions`);
    // The tools run on the first broker, with the cookbook's client settings, against the controllers' and brokers' listeners.
    const toolCalls = stubCalls(dir).filter((call) => call.includes("/opt/kafka/current/bin/kafka-") && !call.includes("test -x"));
    expect(new Set(toolCalls.map((call) => call.match(/ubuntu@(\S+)/)?.[1]))).toEqual(new Set([BROKERS[0]]));
    // With TLS the controllers' TLS listener, asked with the node's SSL settings.
    const controllers = CONTROLLERS.map((ip) => `${ip}:9095`).join(",");
    const brokers = BROKERS.map((ip) => `${ip}:9094`).join(",");
    const tool = (command: string): string => `sudo -n timeout 120 env LOG_DIR=/var/log/kafka /opt/kafka/current/bin/${command}`;
    expect(toolCalls).toContainEqual(expect.stringMatching(new RegExp(`${tool(`kafka-metadata-quorum.sh --bootstrap-controller ${controllers} --command-config /etc/kafka/tools.properties describe --status`)}$`)));
    expect(toolCalls).toContainEqual(expect.stringMatching(new RegExp(`${tool(`kafka-metadata-quorum.sh --bootstrap-controller ${controllers} --command-config /etc/kafka/tools.properties describe --replication`)}$`)));
    expect(toolCalls).toContainEqual(expect.stringMatching(new RegExp(`${tool(`kafka-topics.sh --bootstrap-server ${brokers} --command-config /etc/kafka/tools.properties --describe --unavailable-partitions`)}$`)));
  });

  it("with combined nodes: the controllers among the brokers go first, the active one last of them", () => {
    const nodes = [...BROKERS, "10.0.16.8", "10.0.32.9"];
    const script = new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft", "--kafka.nodes", "5")).convergeNodes(nodes, { bag: "kafka_bag", id: "kraft", json: kraftItem([1, 2, 3], BROKERS) });
    const dir = cluster({ ...configs([1, 2, 3], BROKERS), "kraft-leader": "2", voters: "1 2 3", observers: "4 5" });
    const run = runBash(script, { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(clientRuns(dir)).toEqual([BROKERS[0], BROKERS[2], BROKERS[1], "10.0.16.8", "10.0.32.9"]);
  });

  it("refuses to start without an active controller, and where no broker has Kafka's tools", () => {
    const script = new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft")).convergeNodes(BROKERS, { bag: "kafka_bag", id: "kraft", json: kraftItem([1, 2, 3], BROKERS) });
    const leaderless = cluster({ ...configs([1, 2, 3], BROKERS), "kraft-leader": "-1", voters: "1 2 3" });
    const run = runBash(script, { stubs: STUBS, env: { ...FAST, PLATFORM_HEALTH_TIMEOUT: "0" }, dir: leaderless });
    expect(run.status).not.toBe(0);
    expect(clientRuns(leaderless)).toEqual([]);
    expect(lines(run.output, "REFUSED")).toEqual([
      expect.stringContaining(
        `REFUSED: the cluster is not healthy before any restart (waited 0s): no controller quorum status: kafka-metadata-quorum.sh on ${BROKERS[0]}: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: describeMetadataQuorum`,
      ),
    ]);
    const noKafka = cluster({ ...configs([1, 2, 3], BROKERS), "no-kafka": "", "kraft-leader": "1", voters: "1 2 3" });
    const absent = runBash(script, { stubs: STUBS, env: FAST, dir: noKafka });
    expect(absent.status).not.toBe(0);
    expect(lines(absent.output, "REFUSED")).toEqual([
      expect.stringContaining(`REFUSED: no broker has /opt/kafka/current/bin/kafka-topics.sh (${BROKERS.join(" ")}): neither the controller quorum nor the partitions can be checked; nothing was converged`),
    ]);
    expect(stubCalls(noKafka).filter((call) => call.includes("cinc-client"))).toEqual([]);
  });
});

describeScripts("rolling converge script", () => {
  it("is shellcheck-clean in both modes, and its stub cluster too", () => {
    for (const flags of [[], ["--kafka.mode", "kraft"], ["--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true"]]) {
      const script = new KafkaProvisionScripts(configFrom(...flags)).convergeNodes(["10.0.16.5"], { bag: "b", id: "i", json: "{}" });
      expect(shellcheck(script).output).toBe("");
    }
    expect(shellcheck(CLUSTER_SSH).output).toBe("");
  });

  it("asks on the ports the stack opens and waits as long as documented by default", () => {
    const script = new KafkaProvisionScripts(configFrom()).convergeNodes(["10.0.16.5"], { bag: "b", id: "i", json: "{}" });
    expect(script).toContain(`ZOOKEEPER_CLIENT_PORT='${KAFKA_PORTS.zookeeperClient}'`);
    // The TLS listener by default; ZooKeeper's plaintext port only on each member's loopback.
    expect(script).toContain(`KAFKA_BROKER_PORT='${KAFKA_PORTS.brokerTls}'`);
    expect(new KafkaProvisionScripts(configFrom("--kafka.security", "plaintext")).convergeNodes(["10.0.16.5"], { bag: "b", id: "i", json: "{}" })).toContain(`KAFKA_BROKER_PORT='${KAFKA_PORTS.broker}'`);
    // KRaft's controllers on their TLS listener with the node's SSL settings; on the plaintext one,
    // which every controller keeps until "tls", with the controller listener's own settings.
    expect(script).toContain(`KAFKA_CONTROLLER_PORT='${KAFKA_PORTS.controllerTls}'\nKAFKA_CONTROLLER_COMMAND_CONFIG='/etc/kafka/tools.properties'\n`);
    for (const security of ["migrating", "plaintext"]) {
      expect(new KafkaProvisionScripts(configFrom("--kafka.security", security)).convergeNodes(["10.0.16.5"], { bag: "b", id: "i", json: "{}" })).toContain(
        `KAFKA_CONTROLLER_PORT='${KAFKA_PORTS.controller}'\nKAFKA_CONTROLLER_COMMAND_CONFIG='/etc/kafka/controller-tools.properties'\n`,
      );
    }
    // The quorum changes ask the same listener with the same settings.
    const quorumChange = (security: string): string[] => {
      const kraft = new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft", "--kafka.security", security)).convergeNodes(["10.0.16.5"], { bag: "b", id: "i", json: "{}" });
      return [/^KRAFT_PORT=.*$/m.exec(kraft)?.[0] ?? "", /^KRAFT_COMMAND_CONFIG=.*$/m.exec(kraft)?.[0] ?? ""];
    };
    expect(quorumChange("tls")).toEqual([`KRAFT_PORT='${KAFKA_PORTS.controllerTls}'`, "KRAFT_COMMAND_CONFIG='/etc/kafka/tools.properties'"]);
    expect(quorumChange("migrating")).toEqual([`KRAFT_PORT='${KAFKA_PORTS.controller}'`, "KRAFT_COMMAND_CONFIG='/etc/kafka/controller-tools.properties'"]);
    expect(script).toContain(`ROLL_TIMEOUT='${ROLLING_HEALTH.timeoutSeconds}'`);
    const docs = readFileSync(join(__dirname, "..", "docs", "kafka.md"), "utf8");
    expect(docs).toContain(`${ROLLING_HEALTH.timeoutSeconds} s`);
    expect(docs).toContain(`${ROLLING_HEALTH.maxLag} records`);
  });
});
