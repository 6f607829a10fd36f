import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KafkaProvisionScripts, ZOOKEEPER_ENSEMBLE_CHANGE } from "../constructs/kafkaProvisionScripts";
import { CLUSTER_SSH } from "./clusterStubs";
import { configFrom } from "./helpers";
import { runBash, shellcheck, stubCalls, withSetting } from "./shell";
import { describeScripts } from "./tiers";

// ZooKeeper ensemble changes through dynamic reconfiguration, driven by the workstation's upload
// and converge scripts against a stubbed ensemble (test/fixtures/cluster-ssh.sh): `srvr` and
// `conf` answer as ZooKeeper 3.8 does, zkCli.sh's reconfig as ZooKeeperMain and ReconfigCommand
// print it, and a reconfig changes what every member's `conf` reports.
const STUBS = { ssh: CLUSTER_SSH, knife: 'echo "$*" >>"$WORK_DIR/knife-calls"; exit 0', sudo: "exit 0", sleep: "exit 0", "cloud-init": "exit 0" };
const FAST = { PLATFORM_HEALTH_TIMEOUT: "5", PLATFORM_HEALTH_POLL: "0.05" };
const IPS = ["10.0.16.5", "10.0.32.6", "10.0.48.7", "10.0.16.8", "10.0.32.9"];
const item = (ips: readonly string[]): string => JSON.stringify({ _default: ips, id: "zookeeper" });
/** zoo.cfg as ZooKeeper leaves it in the dynamic layout, and as the cookbook wrote it before (static). */
const DYNAMIC_CFG = "reconfigEnabled=true\nstandaloneEnabled=false\ndynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic.100000000";
const staticCfg = (ips: readonly string[]): string => ["clientPort=2181", ...ips.map((ip, index) => `server.${index + 1}=${ip}:2888:3888`)].join("\n");

/**
 * A scratch directory: `members` run in the dynamic layout (the first leads), every node in
 * `nodes` is reachable, and the other nodes run no member yet.
 */
function ensemble(members: readonly string[], nodes: readonly string[], files: Readonly<Record<string, string>> = {}, leader = members[0]): string {
  const dir = mkdtempSync(join(tmpdir(), "zk-reconfig-"));
  const state = join(dir, "work", "cluster");
  mkdirSync(state, { recursive: true });
  const write = (name: string, content: string): void => writeFileSync(join(state, name), content.endsWith("\n") ? content : `${content}\n`);
  write("ensemble", members.map((ip) => `${IPS.indexOf(ip) + 1} ${ip}`).join("\n"));
  write("no-kafka", "");
  for (const ip of nodes) {
    if (members.includes(ip)) {
      write(`zk-${ip}`, ip === leader ? "leader" : "follower");
      write(`config-${ip}`, DYNAMIC_CFG);
    }
  }
  // A node's run starts its member (as a joiner, a follower without a vote) or, once removed, stops it.
  write("after-run", 'if grep -q " ${host}$" "$C/ensemble" || [[ ! -f $C/zk-$host ]]; then [[ -f $C/zk-$host ]] || echo follower >"$C/zk-$host"; else echo down >"$C/zk-$host"; fi');
  for (const [name, content] of Object.entries(files)) write(name, content);
  return dir;
}
const events = (dir: string): string[] => readFileSync(join(dir, "work", "cluster", "events"), "utf8").trim().split("\n");
/** Client runs and reconfigs, in order. */
const changes = (dir: string): string[] => events(dir).filter((event) => event.startsWith("run ") || event.startsWith("reconfig "));
const membership = (dir: string): string => readFileSync(join(dir, "work", "cluster", "ensemble"), "utf8").trim();
const converge = (nodes: readonly string[], wanted: readonly string[]): string =>
  new KafkaProvisionScripts(configFrom()).convergeNodes(nodes, { bag: "zoo_bag", id: "zookeeper", json: item(wanted) });
const upload = (wanted: readonly string[]): string => new KafkaProvisionScripts(configFrom()).uploadDataBag({ bag: "zoo_bag", id: "zookeeper", json: item(wanted) });
const refusals = (output: string): string[] => output.split("\n").filter((line) => line.includes("REFUSED"));
const spec = (id: number, ip: string): string => `server.${id}=${ip}:2888:3888:participant;2181`;

describeScripts("ZooKeeper ensemble changes, one member at a time", () => {
  it("renders scripts that pass shellcheck", () => {
    expect(shellcheck(converge(IPS, IPS)).output).toBe("");
    expect(shellcheck(upload(IPS)).output).toBe("");
  });

  it("grows 3 to 5: the old members roll first (leader last), then each new member runs, is added with reconfig and is waited for", () => {
    const dir = ensemble(IPS.slice(0, 3), IPS);
    const run = runBash(converge(IPS, IPS), { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(changes(dir)).toEqual([
      `run ${IPS[1]}`,
      `run ${IPS[2]}`,
      `run ${IPS[0]}`,
      `run ${IPS[3]}`,
      `reconfig -add ${spec(4, IPS[3])} on ${IPS[0]}`,
      `run ${IPS[4]}`,
      `reconfig -add ${spec(5, IPS[4])} on ${IPS[0]}`,
    ]);
    expect(run.output).toContain(`the running ZooKeeper ensemble changes one member at a time: members 1=${IPS[0]} 2=${IPS[1]} 3=${IPS[2]}; to add: 4=${IPS[3]} 5=${IPS[4]}; to remove: `);
    expect(run.output).toContain(`member 4 (${IPS[3]}) is a voter: 3 of 3 members list server.4=${IPS[3]}; ${IPS[3]} is follower`);
    expect(run.output).toContain(`member 5 (${IPS[4]}) is a voter: 4 of 4 members list server.5=${IPS[4]}; ${IPS[4]} is follower`);
    expect(membership(dir)).toBe(IPS.map((ip, index) => `${index + 1} ${ip}`).join("\n"));
    // Each add only after the health wait that followed the one before.
    const afterFirstAdd = events(dir).slice(events(dir).indexOf(`reconfig -add ${spec(4, IPS[3])} on ${IPS[0]}`));
    expect(afterFirstAdd.indexOf(`srvr ${IPS[3]} follower`)).toBeLessThan(afterFirstAdd.indexOf(`run ${IPS[4]}`));
  });

  it("grows 1 to 3 from a quorum of one", () => {
    const three = IPS.slice(0, 3);
    const dir = ensemble([IPS[0]], three);
    const run = runBash(converge(three, three), { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(changes(dir)).toEqual([`run ${IPS[0]}`, `run ${IPS[1]}`, `reconfig -add ${spec(2, IPS[1])} on ${IPS[0]}`, `run ${IPS[2]}`, `reconfig -add ${spec(3, IPS[2])} on ${IPS[0]}`]);
  });

  it("shrinks 5 to 3: removes the followers first and the leader last, each before its node's run stops it", () => {
    // Member 4 leads: it goes last, and member 1 is elected when it leaves.
    const dir = ensemble(IPS, IPS, { [`after-run-${IPS[3]}`]: `echo leader >"$C/zk-${IPS[0]}"` }, IPS[3]);
    const run = runBash(converge(IPS, IPS.slice(0, 3)), { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(changes(dir)).toEqual([
      `run ${IPS[0]}`,
      `run ${IPS[1]}`,
      `run ${IPS[2]}`,
      `reconfig -remove 5 on ${IPS[0]}`,
      `run ${IPS[4]}`,
      `reconfig -remove 4 on ${IPS[0]}`,
      `run ${IPS[3]}`,
    ]);
    expect(run.output).toContain(`member 5 (${IPS[4]}) is no longer a member: 4 of 4 members no longer list server.5`);
    expect(membership(dir)).toBe(IPS.slice(0, 3).map((ip, index) => `${index + 1} ${ip}`).join("\n"));
  });

  it("runs reconfig as the member's own certificate over its TLS port, at its own address, where the cookbook left a client configuration; plaintext on loopback elsewhere", () => {
    // ssh as the cluster answers it, keeping the command a zkCli run sends to the node.
    const keepCommand = `for last; do :; done; if [[ $last == *zkCli.sh* ]]; then printf '%s' "$last" >"$WORK_DIR/zkcli-command"; fi\n`;
    const dir = ensemble(IPS.slice(0, 3), IPS.slice(0, 4));
    const run = runBash(converge(IPS.slice(0, 4), IPS.slice(0, 4)), { stubs: { ...STUBS, ssh: keepCommand + CLUSTER_SSH }, env: FAST, dir });
    expect(run.status).toBe(0);
    // The node's side: its shell runs the command with sudo stubbed to print zkCli.sh's arguments.
    const node = mkdtempSync(join(tmpdir(), "zk-node-"));
    mkdirSync(join(node, "bin"));
    writeFileSync(join(node, "bin", "sudo"), '#!/usr/bin/env bash\nshift 6\nprintf "%s\\n" "$@"\n');
    chmodSync(join(node, "bin", "sudo"), 0o755);
    const config = join(node, "zkcli-tls.properties");
    const command = readFileSync(join(dir, "work", "zkcli-command"), "utf8").split(ZOOKEEPER_ENSEMBLE_CHANGE.clientTlsConfig).join(config);
    const onNode = (): string[] => spawnSync("sh", ["-c", command], { encoding: "utf8", env: { PATH: `${join(node, "bin")}:/usr/bin:/bin` } }).stdout.trim().split("\n");
    expect(onNode()).toEqual(["-server", "127.0.0.1:2181", "reconfig", "-add", spec(4, IPS[3])]);
    writeFileSync(config, "zookeeper.client.secure=true\n");
    expect(onNode()).toEqual(["-client-configuration", config, "-server", `${IPS[0]}:2182`, "reconfig", "-add", spec(4, IPS[3])]);
  });

  it("stops with one line naming zkCli's error when reconfig fails, the next member untouched", () => {
    const message = "No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced";
    const dir = ensemble(IPS.slice(0, 3), IPS, { "reconfig-fails": message });
    const run = runBash(converge(IPS, IPS), { stubs: STUBS, env: FAST, dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`reconfig -add ${spec(4, IPS[3])} failed: ${message}; the members stay 1,2,3; nothing more was changed`);
    expect(changes(dir)).not.toContain(`run ${IPS[4]}`);
  });

  it("shrinks 3 to 1, the leader last: a connection lost as the quorum re-forms is judged by the membership, not taken for a failure", () => {
    // Member 2 leads; the member asked (1) drops its clients as it takes over, before it answers.
    const three = IPS.slice(0, 3);
    const dir = ensemble(three, three, { [`after-run-${IPS[1]}`]: `echo leader >"$C/zk-${IPS[0]}"` }, IPS[1]);
    writeFileSync(join(dir, "work", "cluster", "reconfig-connection-lost"), "applied\n");
    const run = runBash(converge(three, [IPS[0]]), { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(changes(dir)).toEqual([`run ${IPS[0]}`, `reconfig -remove 3 on ${IPS[0]}`, `run ${IPS[2]}`, `reconfig -remove 2 on ${IPS[0]}`, `run ${IPS[1]}`]);
    expect(run.output).toContain("reconfig -remove 2 (10.0.32.6): the connection was lost before an answer; the members' own membership tells whether it was committed");
    expect(run.output).toContain("member 2 (10.0.32.6) is no longer a member: 1 of 1 members no longer list server.2");
    expect(membership(dir)).toBe(`1 ${IPS[0]}`);
  });

  // The deployed wait: 120 attempts 5 s apart. Every attempt asks the members over (stubbed) SSH,
  // so the runs that time out wait 3 attempts instead.
  const shortWait = (script: string): string => {
    expect(script).toMatch(/^ZK_WAIT_SECONDS='5'$/m);
    return withSetting(script, "ZK_WAIT_ATTEMPTS", "120", "3");
  };

  it("stops, naming what it saw, when a reconfig whose connection was lost was not committed", () => {
    const dir = ensemble(IPS.slice(0, 3), IPS);
    writeFileSync(join(dir, "work", "cluster", "reconfig-connection-lost"), "not-applied\n");
    const run = runBash(shortWait(converge(IPS, IPS)), { stubs: STUBS, env: FAST, dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`timed out after 15s waiting until member 4 (${IPS[3]}) is a voter (last seen: 0 of 3 members list server.4=${IPS[3]}`);
    expect(changes(dir)).not.toContain(`run ${IPS[4]}`);
    expect(membership(dir)).toBe(IPS.slice(0, 3).map((ip, index) => `${index + 1} ${ip}`).join("\n"));
  });

  it("waits a bounded time for a new member to be listed and serve, then names what it saw", () => {
    const dir = ensemble(IPS.slice(0, 3), IPS, { [`after-run-${IPS[3]}`]: `echo not-serving >"$C/zk-${IPS[3]}"`, [`conf-${IPS[1]}`]: `1=${IPS[0]},2=${IPS[1]},3=${IPS[2]}` });
    const run = runBash(shortWait(converge(IPS, IPS)), { stubs: STUBS, env: FAST, dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`timed out after 15s waiting until member 4 (${IPS[3]}) is a voter (last seen: 2 of 3 members list server.4=${IPS[3]} (not yet: ${IPS[1]}); ${IPS[3]} is not serving)`);
    expect(changes(dir)).not.toContain(`run ${IPS[4]}`);
  });

  it("refuses members that disagree about the membership, before any run", () => {
    const dir = ensemble(IPS.slice(0, 3), IPS, { [`conf-${IPS[2]}`]: `1=${IPS[0]},2=${IPS[1]}` });
    const run = runBash(converge(IPS, IPS), { stubs: STUBS, env: FAST, dir });
    expect(run.status).not.toBe(0);
    expect(refusals(run.output)).toEqual([
      expect.stringContaining(`REFUSED: the running ZooKeeper ensemble's members disagree about its membership (${IPS[0]}'s 1=${IPS[0]} 2=${IPS[1]} 3=${IPS[2]} vs ${IPS[2]}'s 1=${IPS[0]} 2=${IPS[1]})`),
    ]);
    expect(changes(dir)).toEqual([]);
  });

  it("moves one replaced member to its new address with reconfig -add of the same id, and refuses two at once", () => {
    const NEW = "10.0.48.70";
    const dir = ensemble(IPS.slice(0, 3), [...IPS.slice(0, 2), NEW]);
    const run = runBash(converge([...IPS.slice(0, 2), NEW], [...IPS.slice(0, 2), NEW]), { stubs: STUBS, env: FAST, dir });
    expect(run.status).toBe(0);
    expect(changes(dir)).toEqual([`run ${IPS[1]}`, `run ${IPS[0]}`, `run ${NEW}`, `reconfig -add ${spec(3, NEW)} on ${IPS[0]}`]);
    expect(membership(dir)).toBe(`1 ${IPS[0]}\n2 ${IPS[1]}\n3 ${NEW}`);
    const two = ensemble(IPS.slice(0, 3), [IPS[0], "10.0.32.60", NEW]);
    const refused = runBash(converge([IPS[0], "10.0.32.60", NEW], [IPS[0], "10.0.32.60", NEW]), { stubs: STUBS, env: FAST, dir: two });
    expect(refusals(refused.output)).toEqual([expect.stringContaining("REFUSED: this change replaces 2 of the running ZooKeeper ensemble's members at once (2 3:")]);
  });

  it("keeps refusing a resize of a static ensemble, naming the apply at its current size that switches it over", () => {
    const dir = ensemble([], IPS, Object.fromEntries(IPS.slice(0, 3).map((ip) => [`config-${ip}`, staticCfg(IPS.slice(0, 3))])));
    const run = runBash(upload(IPS), { stubs: STUBS, dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`the running ZooKeeper ensemble is static on ${IPS.slice(0, 3).join(" ")} (server lines in zoo.cfg): its members stay as they are until every member runs the dynamic layout, which an apply at its current size rolls out, one member at a time`);
    expect(refusals(run.output)).toEqual([expect.stringContaining("would change the running ZooKeeper ensemble from 3 members")]);
  });

  it("uploads the grown item for a dynamic ensemble, after reading its membership from a member", () => {
    const dir = ensemble(IPS.slice(0, 3), IPS);
    const run = runBash(upload(IPS), { stubs: STUBS, dir });
    expect(run.status).toBe(0);
    expect(run.output).toContain("to add: 4=10.0.16.8 5=10.0.32.9");
    expect(readFileSync(join(dir, "work", "knife-calls"), "utf8")).toContain("data bag from file zoo_bag");
    expect(stubCalls(dir).filter((call) => call.includes("zkCli.sh"))).toEqual([]);
  });
});
