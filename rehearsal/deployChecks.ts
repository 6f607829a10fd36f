import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KafkaProvisionScripts, type DataBagItem, type ProvisionedNode } from "../constructs/kafkaProvisionScripts";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import type { KafkaSecurity, PlatformConfig } from "../config/PlatformConfig";
import { JVM_METRICS } from "../constructs/monitoring/agentConfig";
import { KAFKA_PORTS } from "../stacks/KafkaStack";
import type { Checks } from "./Checks";
import { WORKSTATION_HOST_KEYS_DIR } from "./hostKeys";
import { assertOneLeader, describeModes, type SampleTimes } from "./leaderClaims";
import { memberMetrics, ZOOKEEPER_RULES } from "./memberMetrics";
import { memberModes, watchMembers } from "./memberModes";
import { VOLUME_MOUNT, type NodeContainer } from "./nodeContainer";
import type { PrivateNetwork, RehearsalNode } from "./privateNetwork";
import { run, tryRun, waitFor } from "./system";
import { deployerSsh, runScript, runScriptAsync, sshOptions, stageChefRepo, type DeliveredUserData, type Workstation } from "./workstationSide";

/** What the checks act on: the rehearsal's nodes, scripts and workstation side. */
export interface RehearsalState {
  /** The rehearsal's platform config with these flags added, as a user would change it. */
  readonly configWith: (...flags: string[]) => PlatformConfig;
  readonly net: PrivateNetwork;
  /** The first this many nodes are the ZooKeeper ensemble; the others are only its clients. */
  readonly ensembleSize: number;
  /** zoo_bag/zookeeper as the deploy uploaded it. */
  readonly zooBag: DataBagItem;
  readonly workstation: Workstation;
  readonly scripts: KafkaProvisionScripts;
  readonly provisioned: ProvisionedNode[];
  readonly serverId: string;
  readonly containers: Map<string, NodeContainer>;
  /** Boots the node's container afresh, as a new instance; resolves once it takes an SSH login, to its instance id (what it published its host keys as). */
  readonly boot: (node: RehearsalNode) => Promise<string>;
  /** What each machine's last boot was sent as user data, by machine name. */
  readonly delivered: ReadonlyMap<string, DeliveredUserData>;
  /** The host directory a node sees at VOLUME_MOUNT through every boot: its kept volume. */
  readonly volumeDir: (node: RehearsalNode) => string;
  /**
   * kafka.security of the first deploy (`scripts` and the staged role were made with it). Not
   * "tls": the checks move the running ensemble to TLS in the documented stages first.
   */
  readonly deployedSecurity: KafkaSecurity;
}

const ZK_CLI = "/usr/share/zookeeper/bin/zkCli.sh";
/** The node's key, certificate and the platform CA, written at bootstrap. */
const PLATFORM_TLS = "/etc/platform/tls";
const ZK_SECURE_PORT = 2182;
/** The heap the zookeeper-cluster cookbook gives a member by default. */
const ZOOKEEPER_HEAP_MB = 512;
/**
 * The converges look at the cluster's health every 2 s instead of the deployed 10 s
 * (PLATFORM_HEALTH_POLL, the operator's setting docs/kafka.md names): the same gate before each
 * node, but a member that serves again a second after its restart is not waited on for ten, at
 * each of the rehearsal's many restarts and membership changes.
 */
const CONVERGE_ENV = { PLATFORM_HEALTH_POLL: "2" };

/** The checks a deploy must pass, in order; each is one row of the summary. */
export async function runDeployChecks(checks: Checks, state: RehearsalState): Promise<void> {
  const { net, workstation } = state;
  const members = net.nodes.slice(0, state.ensembleSize);
  const clients = net.nodes.slice(state.ensembleSize);
  const allIps = net.nodes.map((node) => node.ip);
  const onNode = (node: RehearsalNode, command: string): string =>
    run("ssh", [...sshOptions(workstation), `ubuntu@${node.ip}`, command], { netns: net.hostNetns, timeoutSeconds: 120 });
  // Every -Xmx on the member's java command line; the JVM takes the last.
  const heapFlags = (node: RehearsalNode): string[] => onNode(node, "ps -o args= -C java").match(/-Xmx\d+[mMgG]/g) ?? [];
  const unitProperty = (node: RehearsalNode, property: string): string => onNode(node, `systemctl show --property=${property} --value zookeeper.service`).trim();
  const modes = (): Map<string, string> => memberModes(net, members.map((node) => node.ip));
  const ensemble = members.map((node) => node.ip);
  const pids = (): string[] => members.map((node) => unitProperty(node, "MainPID"));
  // What the nodes were last converged with: the first deploy's, until the checks move it to TLS.
  let security = state.deployedSecurity;
  let scripts = state.scripts;
  // The port brokers reach the ensemble on: its TLS port once kafka.security is "tls".
  const brokerZookeeperPort = (): number => (security === "tls" ? KAFKA_PORTS.zookeeperSecureClient : KAFKA_PORTS.zookeeperClient);

  // The broker settings the wrapper computed, as the Chef server keeps them with the node.
  const brokerProperties = (name: string): Record<string, unknown> => {
    const shown = run("knife", ["node", "show", name, "--long", "--format", "json", "--config", knifeConfig(workstation)], { netns: net.hostNetns, env: workstation.env });
    const node = JSON.parse(shown) as { default?: { "kafka-cluster"?: { config?: { properties?: Record<string, unknown> } } } };
    return node.default?.["kafka-cluster"]?.config?.properties ?? {};
  };

  await checks.check(`cloud-init ran each machine's gzipped user data as sent, and ${SETUP_COMMAND} runs it again`, () => {
    const userData = "/var/lib/cloud/instance/user-data.txt";
    const report = (machine: RehearsalNode, onMachine: (command: string) => string): string => {
      const expected = state.delivered.get(machine.name);
      if (!expected) throw new Error(`${machine.name}: no record of its user data`);
      const sums = onMachine(`sudo sha256sum ${userData} /var/lib/cloud/instance/scripts/part-001 ${SETUP_COMMAND}`);
      const [kept, unpacked, command] = sums.trim().split("\n").map((line) => line.split(" ")[0]);
      if (kept !== expected.userDataSha256) throw new Error(`${machine.name}: ${userData} is not the gzip it was sent`);
      if (unpacked !== expected.scriptSha256 || command !== expected.scriptSha256) throw new Error(`${machine.name}: part-001 or ${SETUP_COMMAND} is not the script it was sent`);
      const status = onMachine("cloud-init status").trim();
      if (status !== "status: done") throw new Error(`${machine.name}: cloud-init ${status}`);
      return machine.name;
    };
    const onWorkstation = (command: string): string => run("ssh", [...deployerSsh(workstation), command], { netns: net.hostNetns, timeoutSeconds: 120 });
    const checked = [report(net.workstation, onWorkstation), ...net.nodes.map((node) => report(node, (command) => onNode(node, command)))];
    // What cloud-init keeps is the gzip: the old way of re-running the setup cannot work.
    const raw = tryRun("ssh", [...deployerSsh(workstation), `sudo bash ${userData}`], { netns: net.hostNetns, timeoutSeconds: 60 });
    if (raw.status === 0 || !raw.output.includes("cannot execute binary file")) throw new Error(`bash ${userData} should fail on the gzip it holds: ${lastLines(raw.output)}`);
    onNode(net.nodes[0], `sudo ${SETUP_COMMAND}`);
    return `${checked.length} machines (user data gzipped by ${workstation.delivered.gzippedBy}); bash ${userData}: cannot execute binary file; sudo ${SETUP_COMMAND} re-ran on ${net.nodes[0].name}`;
  });

  await checks.check("every node is registered with role[kafka-node]", () => {
    for (const node of net.nodes) {
      const shown = run("knife", ["node", "show", node.name, "--run-list", "--config", knifeConfig(workstation)], { netns: net.hostNetns, env: workstation.env });
      if (!shown.includes("role[kafka-node]")) throw new Error(`${node.name}: ${shown.trim()}`);
    }
  });

  await checks.check("every node has the rack its bootstrap gave it", () => {
    for (const node of state.provisioned) {
      const shown = run("knife", ["node", "show", node.name, "--attribute", "insight-kafka-cluster.rack", "--config", knifeConfig(workstation)], {
        netns: net.hostNetns,
        env: workstation.env,
      });
      if (!shown.includes(`insight-kafka-cluster.rack: ${node.rack}`)) throw new Error(`${node.name}: ${shown.trim()}`);
    }
  });

  await checks.check(`the ${ensemble.length}-member ensemble runs with dynamic reconfiguration: zoo.cfg names the dynamic file ZooKeeper keeps, which lists every member; myid is each member's position`, () => {
    members.forEach((node, index) => {
      const zooCfg = onNode(node, "cat /etc/zookeeper/zoo.cfg");
      for (const setting of ["reconfigEnabled=true", "standaloneEnabled=false"]) {
        if (!zooCfg.split("\n").includes(setting)) throw new Error(`${node.name}: zoo.cfg lacks ${setting}`);
      }
      if (zooCfg.split("\n").some((line) => line.startsWith("server."))) throw new Error(`${node.name}: zoo.cfg still lists servers itself: ${zooCfg}`);
      const dynamicFile = /^dynamicConfigFile=(\S+)$/m.exec(zooCfg)?.[1];
      if (!dynamicFile) throw new Error(`${node.name}: zoo.cfg names no dynamicConfigFile`);
      const servers = onNode(node, `cat ${dynamicFile}`).split("\n").filter((line) => line.startsWith("server."));
      const expected = ensemble.map((ip, position) => `server.${position + 1}=${ip}:2888:3888:participant;`);
      if (servers.length !== ensemble.length || !expected.every((prefix, position) => servers[position]?.startsWith(prefix))) {
        throw new Error(`${node.name}: ${dynamicFile} lists ${servers.join(" ")}`);
      }
      const myid = onNode(node, "sudo cat /var/lib/zookeeper/myid").trim();
      if (myid !== String(index + 1)) throw new Error(`${node.name}: myid is ${myid}, expected ${index + 1}`);
    });
  });

  if (clients.length > 0) {
    await checks.check(`the ${clients.length} node(s) outside the ensemble run no ZooKeeper member, and their broker gets its own id and the ensemble's connect string`, () => {
      const connect = `${ensemble.map((ip) => `${ip}:${brokerZookeeperPort()}`).join(",")}/kafka`;
      const ids: string[] = [];
      for (const node of clients) {
        const unit = tryRun("ssh", [...sshOptions(workstation), `ubuntu@${node.ip}`, "systemctl cat zookeeper.service; ls /etc/zookeeper"], { netns: net.hostNetns });
        if (unit.status === 0 || unit.output.includes("zookeeper-cluster")) throw new Error(`${node.name} has a ZooKeeper member: ${lastLines(unit.output)}`);
        const properties = brokerProperties(node.name);
        const expectedId = net.nodes.indexOf(node) + 1;
        if (properties["broker.id"] !== expectedId || properties["zookeeper.connect"] !== connect) {
          throw new Error(`${node.name}: broker.id ${String(properties["broker.id"])}, zookeeper.connect ${String(properties["zookeeper.connect"])}; expected ${expectedId} and ${connect}`);
        }
        ids.push(`${node.name}: broker.id ${String(properties["broker.id"])}`);
      }
      return ids.join(", ");
    });
  }

  await checks.check("a quorum: one leader, the others followers", () => describeQuorum(modes(), members.length));

  await checks.check(`each member's JMX, read with ${ZOOKEEPER_RULES} and kept as a member's CloudWatch agent keeps it, gives every ZooKeeper metric the alarms read: quorum size ${members.length}, in quorum 1`, () => {
    const expected = JVM_METRICS.zookeeper.map((metric) => metric.name).sort();
    const onMember = (node: RehearsalNode) => (command: string, input?: string): string => {
      const result = tryRun("ssh", [...sshOptions(workstation), `ubuntu@${node.ip}`, command], { netns: net.hostNetns, timeoutSeconds: 120, input });
      if (result.status !== 0) throw new Error(`${node.name}: ${command} exited ${String(result.status)}: ${lastLines(result.output)}`);
      return result.stdout;
    };
    return members
      .map((node) => {
        const samples = memberMetrics(onMember(node), unitProperty(node, "MainPID"));
        const shown = samples.map((sample) => `${sample.name.replace(/^zookeeper_/, "")} ${sample.value}`).join(", ");
        const names = samples.map((sample) => sample.name).sort();
        if (names.join() !== expected.join()) throw new Error(`${node.name}: published ${names.join(", ") || "nothing"}, not once each of ${expected.join(", ")}`);
        const value = (name: string): number | undefined => samples.find((sample) => sample.name === name)?.value;
        if (value("zookeeper_quorum_size") !== members.length || value("zookeeper_in_quorum") !== 1 || !(value("zookeeper_outstanding_requests")! >= 0)) {
          throw new Error(`${node.name}: ${shown}`);
        }
        return `${node.name}: ${shown}`;
      })
      .join("; ");
  });

  await checks.check("a znode written through one member is read through another", () => {
    const path = `/rehearsal-${process.pid}`;
    zkCli(net, ensemble[0], `create ${path} written-through-${ensemble[0]}`);
    const read = zkCli(net, ensemble[ensemble.length - 1], `get ${path}`);
    if (!read.includes(`written-through-${ensemble[0]}`)) throw new Error(`read through ${ensemble[ensemble.length - 1]}: ${read.trim().split("\n").slice(-3).join(" ")}`);
  });

  const converge = (): Promise<{ status: number | null; output: string }> =>
    runScriptAsync(scripts.convergeNodes(allIps, state.zooBag), "converge-nodes", net, workstation, CONVERGE_ENV);
  const majority = Math.floor(members.length / 2) + 1;
  // One at a time: each restart comes after the previous member's client run ended, seconds
  // later; restarts at the same moment are a fraction of a second apart. (All containers share
  // the host's monotonic clock.) Returns each member's restart time too.
  const restartGaps = (pidsBefore: string[]): { gaps: number[]; starts: number[] } => {
    const restarts = members.map((node, index) => {
      if (unitProperty(node, "MainPID") === pidsBefore[index]) throw new Error(`${node.name} was not restarted`);
      return Number(unitProperty(node, "ExecMainStartTimestampMonotonic")) / 1e6;
    });
    const ordered = [...restarts].sort((a, b) => a - b);
    const gaps = ordered.slice(1).map((time, index) => time - ordered[index]);
    if (gaps.some((gap) => gap < 3)) throw new Error(`members restarted ${gaps.map((gap) => gap.toFixed(1)).join(" s, ")} s apart: not one at a time`);
    return { gaps, starts: restarts };
  };
  // When each member's last stop began (0 if it never stopped), in monotonic seconds.
  const stops = (): Map<string, number> => new Map(members.map((node) => [node.ip, Number(unitProperty(node, "ActiveExitTimestampMonotonic")) / 1e6]));
  // Running: the process answers on 2181, serving or (during an election) not yet. Never two
  // members reporting leader in one sample, but for a leader stopping (assertOneLeader).
  const majorityAlwaysUp = (samples: Array<Map<string, string>>, times: SampleTimes): number => {
    if (samples.length === 0) throw new Error("no sample of the members was taken during the change");
    const fewestUp = Math.min(...samples.map((sample) => [...sample.values()].filter((mode) => mode !== "down").length));
    if (members.length > 1 && fewestUp < majority) throw new Error(`at one moment only ${fewestUp} of ${members.length} members were running (${samples.length} samples)`);
    assertOneLeader(samples, times, stops());
    return fewestUp;
  };
  const readThrough = (node: RehearsalNode, path: string, expected: string): void => {
    const read = zkCli(net, node.ip, `get ${path}`);
    if (!read.includes(expected)) throw new Error(`${path} read through ${node.name}: ${read.trim().split("\n").slice(-3).join(" ")}`);
  };

  // A cluster deployed in plaintext, moved to TLS while it runs, one deploy or converge per
  // ZooKeeper roll (docs/tls.md, "Moving a running plaintext cluster to TLS"): the TLS checks
  // after this one then prove the end state on the moved ensemble.
  if (security === "plaintext") {
    const zooCfgSettings = (node: RehearsalNode): Map<string, string> =>
      new Map(onNode(node, "cat /etc/zookeeper/zoo.cfg").split("\n").flatMap((line) => (/^[\w.]+=/.test(line) ? [[line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as [string, string]] : [])));
    // zoo.cfg's quorum settings as `grep -E` shows them, "absent" for a line it lacks.
    const quorumSettings = (node: RehearsalNode): string => {
      const settings = zooCfgSettings(node);
      return ["secureClientPort", "sslQuorum", "portUnification"].map((key) => `${key}=${settings.get(key) ?? "absent"}`).join(" ");
    };
    const before = members.map(quorumSettings);
    const expectedPlaintext = "secureClientPort=absent sslQuorum=absent portUnification=absent";
    const path = `/rehearsal-tls-move-${process.pid}`;
    const stageScripts = (stage: KafkaSecurity): void => {
      const staged = state.configWith("--kafka.security", stage);
      stageChefRepo(staged, net, workstation);
      // Still reading the host keys the rehearsal carries: later replacements pin from them.
      scripts = new KafkaProvisionScripts(staged, WORKSTATION_HOST_KEYS_DIR);
    };
    // Every broker's zookeeper.connect: the ensemble on the port the stage gives brokers.
    const brokersConnect = (port: number): string => {
      const connect = `${ensemble.map((ip) => `${ip}:${port}`).join(",")}/kafka`;
      for (const node of net.nodes) {
        const brokerConnect = brokerProperties(node.name)["zookeeper.connect"];
        if (brokerConnect !== connect) throw new Error(`${node.name}'s broker has zookeeper.connect ${String(brokerConnect)}, not ${connect}`);
      }
      return `every broker's zookeeper.connect on ${port}`;
    };

    // The refusal of a plaintext-to-tls jump is ChefSpec's (zookeeper-cluster's quorum TLS stage):
    // a row of its own here would cost a whole converge.
    const rolls: Array<{ name: string; stage: KafkaSecurity; settings: string; brokerPort?: number; restarts: boolean }> = [
      {
        name: 'ZooKeeper roll 1 of the move to TLS, kafka.security "migrating": secureClientPort 2182 opens, both quorum protocols accepted, plaintext still opened',
        stage: "migrating",
        settings: `secureClientPort=${ZK_SECURE_PORT} sslQuorum=false portUnification=true`,
        // A broker moves to 2182 in this roll once every member serves it: which ones did depends
        // on the order of the roll.
        restarts: true,
      },
      {
        name: 'the middle stage\'s second converge ("migrating" again): every broker moves to ZooKeeper\'s 2182, having asked each member srvr over TLS with its certificate; no member restarts',
        stage: "migrating",
        settings: `secureClientPort=${ZK_SECURE_PORT} sslQuorum=false portUnification=true`,
        brokerPort: KAFKA_PORTS.zookeeperSecureClient,
        restarts: false,
      },
      {
        name: 'ZooKeeper roll 2, kafka.security "tls": each member opens TLS quorum connections and still accepts plaintext ones (a plaintext quorum handshake is taken); brokers move to 2182',
        stage: "tls",
        settings: `secureClientPort=${ZK_SECURE_PORT} sslQuorum=true portUnification=true`,
        brokerPort: KAFKA_PORTS.zookeeperSecureClient,
        restarts: true,
      },
      {
        name: "ZooKeeper roll 3, the next converge: every member reported sslQuorum to the Chef server, so port unification goes; a plaintext quorum connection to every member's 3888 and the leader's 2888 refused",
        stage: "tls",
        settings: `secureClientPort=${ZK_SECURE_PORT} sslQuorum=true portUnification=absent`,
        restarts: true,
      },
    ];
    let rolled = 0;
    for (const [index, roll] of rolls.entries()) {
      await checks.check(roll.name, async () => {
        if (rolled !== index) throw new Error(`not run: roll ${rolled + 1} failed`);
        if (index === 0 && before.some((line) => line !== expectedPlaintext)) throw new Error(`not a plaintext ensemble: ${before.join("; ")}`);
        if (index === 0) zkCli(net, ensemble[0], `create ${path} written-before-the-move-to-tls`);
        // A roll with the stage of the one before converges the same config again.
        if (index === 0 || roll.stage !== rolls[index - 1].stage) stageScripts(roll.stage);
        const pidsBefore = pids();
        const watch = watchMembers(net, members);
        const started = Date.now();
        const result = await converge();
        const samples = await watch.stop();
        const convergeSeconds = (Date.now() - started) / 1000;
        if (result.status !== 0) throw new Error(`the converge failed: ${lastLines(result.output)}`);
        security = roll.stage;
        const gaps = roll.restarts ? restartGaps(pidsBefore).gaps : [];
        const restarted = members.filter((node, at) => unitProperty(node, "MainPID") !== pidsBefore[at]);
        if (!roll.restarts && restarted.length > 0) throw new Error(`restarted although nothing of ZooKeeper changed: ${restarted.map((node) => node.name).join(", ")}`);
        const fewestUp = majorityAlwaysUp(samples, watch);
        const quorum = describeQuorum(modes(), members.length);
        const wrong = members.flatMap((node) => (quorumSettings(node) === roll.settings ? [] : [`${node.name}: ${quorumSettings(node)}`]));
        if (wrong.length > 0) throw new Error(`zoo.cfg is not ${roll.settings}: ${wrong.join("; ")}`);
        // Through another member each roll.
        const reader = members[(index + 1) % members.length];
        readThrough(reader, path, "written-before-the-move-to-tls");
        const connect = roll.brokerPort === undefined ? "" : `; ${brokersConnect(roll.brokerPort)}`;
        let probed = "";
        if (index === 2) {
          // Port unification: the handshake is taken, and the member's log says so.
          const accepted = members.map((node) => {
            const answer = plaintextQuorumProbe(net, node.ip, 3888);
            if (answer !== "kept open") throw new Error(`${node.name}:3888 with port unification ${answer} a plaintext quorum handshake`);
            const logged = onNode(node, `sudo grep -c 'Accepted plaintext connection from /${net.hostIp}:' /var/log/zookeeper/zookeeper.log || true`).trim();
            if (logged === "0") throw new Error(`${node.name}'s log shows no plaintext connection accepted from ${net.hostIp}`);
            return node.name;
          });
          probed = `; a plaintext quorum handshake kept open by ${accepted.join(", ")} ("Accepted plaintext connection" logged)`;
        }
        if (index === 3) {
          const leaderIp = [...modes()].find(([, mode]) => mode === "leader")?.[0];
          const endpoints = members.flatMap((node) => [`${node.ip}:3888`, ...(node.ip === leaderIp ? [`${node.ip}:2888`] : [])]);
          const refused = endpoints.map((endpoint) => {
            const [ip, port] = endpoint.split(":");
            const answer = plaintextQuorumProbe(net, ip, Number(port));
            if (!answer.startsWith("refused")) throw new Error(`${endpoint} ${answer} a plaintext quorum handshake`);
            return `${endpoint} ${answer}`;
          });
          probed = `; plaintext quorum handshake: ${refused.join(", ")}`;
        }
        rolled += 1;
        // The table keeps a detail's first 160 characters: the probes' answers in full here.
        if (probed) console.log(probed.slice(2));
        const restartsSaid = roll.restarts ? `restarts ${gaps.map((gap) => gap.toFixed(1)).join(" s and ")} s apart` : "no restart";
        return `converge ${convergeSeconds.toFixed(0)} s; ${quorum}; zoo.cfg ${roll.settings}; ${restartsSaid}, never fewer than ${fewestUp} of ${members.length} running (${samples.length} samples); read through ${reader.name}${connect}${probed}`;
      });
    }
  }

  // Mutual TLS, as the cookbook sets it up by default: the certificate subject every Kafka node
  // shares (RFC 2253, as ZooKeeper's x509 authentication names a client) is the super user.
  const config = state.configWith();
  const brokerDn = `CN=kafka-broker,O=${config.project}-${config.environment}`;
  // The CA the nodes trust, as one of them holds it (public), for the host's openssl.
  const caFile = join(mkdtempSync(join(tmpdir(), "rehearsal-ca-")), "ca.crt");
  const tlsReady = await checks.check("ZooKeeper's quorum and clients run over mutual TLS: each member's election port (3888), the leader's quorum port (2888) and every secure client port (2182) present a chain to the platform CA and answer only a client with a certificate", () => {
    writeFileSync(caFile, onNode(members[0], `cat ${PLATFORM_TLS}/ca.crt`));
    const leaderIp = [...modes()].find(([, mode]) => mode === "leader")?.[0];
    const endpoints = members.flatMap((node) => [`${node.ip}:3888`, `${node.ip}:${ZK_SECURE_PORT}`, ...(node.ip === leaderIp ? [`${node.ip}:2888`] : [])]);
    const seen = endpoints.map((endpoint) => {
      const ip = endpoint.split(":")[0];
      // No client certificate: the member presents its chain, then ends the handshake.
      const bare = tryRun("sh", ["-c", `printf srvr | timeout 10 openssl s_client -connect ${endpoint} -CAfile ${caFile} -verify_return_error -verify_ip ${ip} -quiet 2>&1`], { netns: net.hostNetns, timeoutSeconds: 20 });
      const chain = tryRun("sh", ["-c", `timeout 10 openssl s_client -connect ${endpoint} -CAfile ${caFile} -verify_return_error -verify_ip ${ip} -showcerts </dev/null 2>&1`], { netns: net.hostNetns, timeoutSeconds: 20 });
      if (!/^depth=1 /m.test(chain.output) || !chain.output.includes("Verify return code: 0 (ok)")) throw new Error(`${endpoint}: no chain to the platform CA for ${ip}: ${lastLines(chain.output)}`);
      if (/^Mode: /m.test(bare.output) || !/alert|error/i.test(bare.output)) throw new Error(`${endpoint} answered a client without a certificate: ${lastLines(bare.output)}`);
      return endpoint;
    });
    // With this node's certificate (the member's own, on the member) the secure port answers.
    const withCertificate = onNode(members[0], `printf srvr | sudo timeout 10 openssl s_client -quiet -connect ${members[0].ip}:${ZK_SECURE_PORT} -CAfile ${PLATFORM_TLS}/ca.crt -cert ${PLATFORM_TLS}/node.crt -key ${PLATFORM_TLS}/node.key -verify_return_error -verify_ip ${members[0].ip} 2>/dev/null || true`);
    if (!/^Mode: (leader|follower)$/m.test(withCertificate)) throw new Error(`${members[0].name}: srvr over TLS with its certificate: ${lastLines(withCertificate)}`);
    return `${seen.length} TLS endpoints, chain verified, refused without a certificate; srvr over TLS with one: ${/^Mode: \w+/m.exec(withCertificate)?.[0]}`;
  });

  await checks.check("a znode with an x509 ACL: created over TLS as the members' certificate subject, refused to a plaintext client without it (NoAuth), read over TLS through another member", () => {
    if (!tlsReady) throw new Error("not checked: the TLS check before failed");
    const path = `/rehearsal-acl-${process.pid}`;
    const secureCli = (node: RehearsalNode, command: string): string =>
      onNode(node, `sudo -n -u zookeeper env ZOO_LOG_DIR=/var/log/zookeeper /opt/zookeeper/current/bin/zkCli.sh -client-configuration /etc/zookeeper/zkcli-tls.properties -server ${node.ip}:${ZK_SECURE_PORT} ${command} 2>&1`);
    // zkCli's ACL syntax splits at commas, which the subject holds: auth:: is the session's own x509 id.
    secureCli(members[0], `create ${path} tls-only auth::cdrwa`);
    const acl = secureCli(members[0], `getAcl ${path}`);
    // zkCli prints an Id in jute's CSV form: a comma as %2C.
    if (!acl.includes(`'x509,'${brokerDn.replace(/,/g, "%2C")}`) || /'world,'anyone/.test(acl)) throw new Error(`ACL of ${path}: ${lastLines(acl)}`);
    const refused = ["get", "set"].map((verb) => {
      const plain = tryRun(ZK_CLI, ["-server", `${ensemble[0]}:2181`, verb, path, ...(verb === "set" ? ["overwritten"] : [])], { netns: net.hostNetns, timeoutSeconds: 60 });
      if (!plain.output.includes(`Insufficient permission : ${path}`)) throw new Error(`a plaintext ${verb} of ${path} was not refused: ${lastLines(plain.output)}`);
      return verb;
    });
    const other = members[members.length - 1];
    const read = secureCli(other, `get ${path}`);
    if (!/^tls-only$/m.test(read)) throw new Error(`read over TLS through ${other.name}: ${lastLines(read)}`);
    return `ACL x509:${brokerDn}:cdrwa; plaintext ${refused.join(" and ")}: Insufficient permission (NoAuth); read over TLS through ${other.name}`;
  });

  await checks.check("each member's keystore and truststore: the zookeeper user's alone (0600); with openssl and keytool, the shared subject, a SAN with the node's address, a chain to the platform CA, its key, over 300 days left", () => {
    const keystore = "/etc/zookeeper/tls/keystore.pem";
    const truststore = "/etc/zookeeper/tls/truststore.pem";
    return members
      .map((node) => {
        const owners = onNode(node, `sudo stat -c '%U %a' ${keystore} ${truststore}`).trim().split("\n");
        if (owners.some((line) => line !== "zookeeper 600")) throw new Error(`${node.name}: stores owned ${owners.join(", ")}, not zookeeper 600`);
        const leaf = onNode(node, `sudo openssl x509 -in ${keystore} -noout -subject -nameopt RFC2253 -ext subjectAltName -enddate`);
        if (!leaf.includes(`subject=${brokerDn}\n`)) throw new Error(`${node.name}: subject ${/^subject=.*$/m.exec(leaf)?.[0]}, expected ${brokerDn}`);
        if (!new RegExp(`IP Address:${node.ip.replace(/\./g, "\\.")}(,|$)`, "m").test(leaf)) throw new Error(`${node.name}: SAN without its address ${node.ip}: ${lastLines(leaf)}`);
        const expiry = tryRun("ssh", [...sshOptions(workstation), `ubuntu@${node.ip}`, `sudo openssl x509 -in ${keystore} -noout -checkend ${300 * 86400}`], { netns: net.hostNetns });
        if (expiry.status !== 0) throw new Error(`${node.name}: under 300 days left (${/^notAfter=.*$/m.exec(leaf)?.[0]})`);
        const verified = onNode(node, `sudo openssl verify -CAfile ${truststore} ${keystore}`);
        if (!verified.includes(`${keystore}: OK`)) throw new Error(`${node.name}: ${verified.trim()}`);
        const sameKey = onNode(node, `sudo sh -c '[ "$(openssl x509 -in ${keystore} -noout -pubkey)" = "$(openssl pkey -in ${keystore} -pubout)" ] && echo match'`);
        if (sameKey.trim() !== "match") throw new Error(`${node.name}: the keystore's key is not its certificate's`);
        // keytool reads certificates, not the key: the keystore's two, then the truststore.
        const printed = onNode(node, `sudo sh -c 'sed -n "/-BEGIN CERTIFICATE-/,/-END CERTIFICATE-/p" ${keystore} | keytool -printcert; keytool -printcert -file ${truststore}'`);
        const owners2 = [...printed.matchAll(/^Owner: (.*)$/gm)].map((match) => match[1]);
        if (owners2.length !== 3 || owners2[0] !== brokerDn.split(",").join(", ") || owners2[1] !== owners2[2]) throw new Error(`${node.name}: keytool reads ${owners2.join(" / ")}`);
        return `${node.name}: ${/^notAfter=(.*)$/m.exec(leaf)?.[1]}`;
      })
      .join("; ");
  });

  await checks.check(`each member runs with the ${ZOOKEEPER_HEAP_MB} MB heap its unit sets`, () => {
    for (const node of members) {
      const heaps = heapFlags(node);
      if (heaps[heaps.length - 1] !== `-Xmx${ZOOKEEPER_HEAP_MB}m`) throw new Error(`${node.name} runs with ${heaps.join(" ") || "no -Xmx"}`);
    }
  });

  await checks.check("systemd-analyze verify passes on the units the cookbooks write", () => {
    for (const node of members) {
      const result = tryRun("ssh", [...sshOptions(workstation), `ubuntu@${node.ip}`, "sudo systemd-analyze verify /etc/systemd/system/zookeeper.service 2>&1"], { netns: net.hostNetns });
      if (result.status !== 0 || result.output.trim() !== "") throw new Error(`${node.name}: ${result.output.trim().split("\n").join("; ")}`);
    }
  });

  await checks.check("systemctl stop ends a member cleanly: its JVM's exit 143 counts as success, not a failed unit", async () => {
    const node = members[members.length - 1];
    onNode(node, "sudo systemctl stop zookeeper.service");
    const stopped = `${unitProperty(node, "ActiveState")}/${unitProperty(node, "Result")}`;
    onNode(node, "sudo systemctl start zookeeper.service");
    if (stopped !== "inactive/success") throw new Error(`${node.name}: after systemctl stop the unit is ${stopped}, not inactive/success`);
    const back = await waitFor(() => ["leader", "follower", "standalone"].includes(memberMode(net, node.ip)), 90, 2000);
    if (!back) throw new Error(`${node.name} did not rejoin after systemctl start: ${memberMode(net, node.ip)}`);
    return `${node.name}: ${stopped}, then back as ${memberMode(net, node.ip)}`;
  });

  await checks.check("a second converge updates nothing", () => {
    const output = runScript(scripts.convergeNodes(allIps, state.zooBag), "converge-nodes", net, workstation, CONVERGE_ENV);
    const updated = allIps.map((ip) => new RegExp(`${ip.replace(/\./g, "\\.")}: (\\d+)/(\\d+) resources updated`).exec(output));
    const changed = updated.flatMap((match, index) => (match && match[1] === "0" ? [] : [`${allIps[index]}: ${match?.[0] ?? "no summary"}`]));
    if (changed.length > 0) throw new Error(changed.join("; "));
    return updated.map((match) => match?.[0]).join(", ");
  });

  // A single member has no other to take over.
  if (members.length > 1) {
    await checks.check("the leader killed: a new leader within 60 s, and systemd restarts the member", async () => {
      const before = modes();
      const leaderIp = [...before].find(([, mode]) => mode === "leader")?.[0];
      const leader = members.find((node) => node.ip === leaderIp);
      if (!leader) throw new Error(`no leader to kill: ${describeModes(before)}`);
      // As a crash would: SIGKILL to the member's JVM, which systemd must restart (Restart=on-failure).
      onNode(leader, `sudo sh -c 'kill -KILL "$(systemctl show --property=MainPID --value zookeeper.service)"'`);
      const newLeader = await waitFor(() => [...modes()].some(([ip, mode]) => ip !== leader.ip && mode === "leader"), 60);
      if (!newLeader) throw new Error(`no other member became leader: ${describeModes(modes())}`);
      const back = await waitFor(() => ["leader", "follower"].includes(memberMode(net, leader.ip)), 90, 2000);
      if (!back) throw new Error(`${leader.name} did not come back (systemd Restart=on-failure): ${memberMode(net, leader.ip)}`);
      return `${leader.name} killed; now ${describeModes(modes())}`;
    });
  }

  const dataFiles = (node: RehearsalNode): string[] => onNode(node, `sudo ls ${VOLUME_MOUNT}/version-2`).trim().split("\n").filter(Boolean);
  // Every later change keeps ZooKeeper's data on the kept volume.
  const onVolume = { data_dir: VOLUME_MOUNT };
  const changedHeap = 384;
  /** The heap change's roll: who led before it, and when each member's service started. */
  let heapRoll: { leader: string | undefined; starts: number[] } | undefined;

  await checks.check(`a ZooKeeper heap changed in the platform config (${changedHeap} MB): members restart one at a time, each only once every member serves again`, async () => {
    stageChefRepo(state.configWith("--kafka.zookeeperHeapMb", String(changedHeap)), net, workstation);
    const pidsBefore = pids();
    const leaderBefore = [...modes()].find(([, mode]) => mode === "leader")?.[0];
    const watch = watchMembers(net, members);
    const result = await converge();
    const samples = await watch.stop();
    if (result.status !== 0) throw new Error(`the converge failed: ${lastLines(result.output)}`);
    const { gaps, starts } = restartGaps(pidsBefore);
    heapRoll = { leader: leaderBefore, starts };
    for (const node of members) {
      const heaps = heapFlags(node);
      if (heaps[heaps.length - 1] !== `-Xmx${changedHeap}m`) throw new Error(`${node.name} still runs with ${heaps.join(" ")}`);
    }
    const fewestUp = majorityAlwaysUp(samples, watch);
    // Each member stopped only once every member served again: in the last sample read before its
    // stop began (ActiveExitTimestamp), every member was the leader or a follower.
    const leads = members.map((node) => {
      const stopped = Number(unitProperty(node, "ActiveExitTimestampMonotonic")) / 1e6;
      const last = watch.takenAt.filter((time) => time < stopped).length - 1;
      if (last < 0) throw new Error(`no sample of the members before ${node.name} stopped`);
      const notServing = members.filter((member) => !["leader", "follower"].includes(samples[last].get(member.ip) ?? "down"));
      if (notServing.length > 0) throw new Error(`${node.name} stopped while ${notServing.map((member) => `${member.name} was ${samples[last].get(member.ip) ?? "down"}`).join(", ")}`);
      return stopped - watch.takenAt[last];
    });
    return `restarts ${gaps.map((gap) => gap.toFixed(1)).join(" s and ")} s apart, each once every member served (last sample ${leads.map((lead) => lead.toFixed(1)).join(", ")} s before each stop); never fewer than ${fewestUp} of ${members.length} running (${samples.length} samples)`;
  });

  if (members.length > 1) {
    await checks.check("the converge restarts the ZooKeeper leader last", () => {
      if (!heapRoll) throw new Error("the heap change's converge did not finish");
      const { leader, starts } = heapRoll;
      const last = members[starts.indexOf(Math.max(...starts))];
      if (last.ip !== leader) throw new Error(`${last.name} restarted last, not the leader before the converge (${leader ?? "none"})`);
      return `${last.name}, the leader before the converge, restarted last`;
    });
  }

  // With a single member, the broken setting would take the whole ensemble down: no others to keep.
  if (members.length > 1) {
    await checks.check("a broken ZooKeeper setting fails the converge at the first member it runs and goes no further", async () => {
      // tickTime 0: ZooKeeper refuses to start. The health check must see that, not the old process.
      stageChefRepo(state.configWith("--kafka.zookeeperHeapMb", String(changedHeap)), net, workstation, { config: { tickTime: 0 }, health_timeout: 20 });
      const result = await converge();
      if (result.status === 0) throw new Error("the converge passed with a member that cannot start");
      // The leader goes last, so the first member run is not always the first listed; brokers
      // outside the ensemble may run before it.
      const ran = [...result.output.matchAll(/next: ([\d.]+)/g)].map((match) => match[1]);
      const first = ran[ran.length - 1] ?? "none";
      const membersRun = ran.filter((ip) => ensemble.includes(ip));
      if (membersRun.length !== 1 || membersRun[0] !== first || !result.output.includes(`failed on ${first}`) || !result.output.includes("the nodes after it were not converged")) {
        throw new Error(`the converge did not stop at the first member it ran (ran ${ran.join(", ")}): ${lastLines(result.output)}`);
      }
      // Failed for the reason staged: the restarted member never served.
      if (!result.output.includes("did not report a Mode within 20s")) throw new Error(`the converge failed for another reason: ${lastLines(result.output)}`);
      const others = members.filter((node) => node.ip !== first).map((node) => memberMode(net, node.ip));
      if (members.length > 1 && !others.includes("leader")) throw new Error(`the untouched members lost their quorum: ${others.join(", ")}`);
      return `stopped at ${first}; the others: ${others.join(", ")}`;
    });
  }

  // One converge repairs the setting and moves every member's data (a member's client run fixes both).
  await checks.check(`the setting repaired and data_dir moved to the kept volume (${VOLUME_MOUNT}): every member stops, moves its data and rejoins the quorum, one at a time; a znode written before is read after`, async () => {
    const path = `/rehearsal-moved-${process.pid}`;
    zkCli(net, ensemble[ensemble.length - 1], `create ${path} written-before-the-move`);
    stageChefRepo(state.configWith("--kafka.zookeeperHeapMb", String(changedHeap)), net, workstation, onVolume);
    const pidsBefore = pids();
    const watch = watchMembers(net, members);
    const result = await converge();
    const samples = await watch.stop();
    if (result.status !== 0) throw new Error(`the converge failed: ${lastLines(result.output)}`);
    const gaps = members.length > 1 ? restartGaps(pidsBefore).gaps : [];
    const fewestUp = majorityAlwaysUp(samples, watch);
    const moved = members.map((node) => {
      const left = onNode(node, "sudo sh -c 'ls -A /var/lib/zookeeper; grep ^dataDir= /etc/zookeeper/zoo.cfg'").trim();
      if (left !== `dataDir=${VOLUME_MOUNT}`) throw new Error(`${node.name}: /var/lib/zookeeper still holds data, or zoo.cfg names another dataDir: ${left.split("\n").join(" ")}`);
      const files = dataFiles(node);
      if (!files.some((file) => file.startsWith("log.") || file.startsWith("snapshot."))) throw new Error(`${node.name}: no snapshot or log in ${VOLUME_MOUNT}/version-2`);
      return files.length;
    });
    for (const node of members) readThrough(node, path, "written-before-the-move");
    return `${describeQuorum(modes(), members.length)}; ${moved.join(", ")} files moved; restarts ${gaps.map((gap) => gap.toFixed(1)).join(" s and ")} s apart; never fewer than ${fewestUp} of ${members.length} running, never two leaders (${samples.length} samples)`;
  });

  // Terraform re-runs only the replaced node's bootstrap; running all of them shows the others stay untouched.
  const replace = async (replaced: RehearsalNode): Promise<void> => {
    state.containers.get(replaced.name)?.stop();
    const instanceId = await state.boot(replaced);
    const index = state.provisioned.findIndex((node) => node.name === replaced.name);
    state.provisioned[index] = { ...state.provisioned[index], instanceId };
    const results = await Promise.all(
      state.provisioned.map((node) => runScriptAsync(scripts.bootstrapNode(node, state.serverId), `bootstrap-${node.name}`, net, workstation)),
    );
    results.forEach((result, position) => {
      const node = state.provisioned[position];
      if (result.status !== 0) throw new Error(`bootstrap of ${node.name} failed: ${result.output.trim().split("\n").slice(-5).join(" ")}`);
      const skipped = result.output.includes(`${node.name} is already registered from`);
      if (node.name === replaced.name ? skipped : !skipped) throw new Error(`${node.name} was ${skipped ? "skipped" : "registered again"}`);
    });
  };

  if (clients.length > 0) {
    await checks.check("a broker outside the ensemble replaced: only it is registered again, and no member restarts", async () => {
      const before = pids();
      const replaced = clients[clients.length - 1];
      await replace(replaced);
      const after = pids();
      if (after.join() !== before.join()) throw new Error(`member PIDs changed from ${before.join(", ")} to ${after.join(", ")}`);
      return `${replaced.name} registered again as broker ${String(brokerProperties(replaced.name)["broker.id"])}; members' PIDs unchanged (${after.join(", ")})`;
    });
  }

  if (members.length > 1) {
    await checks.check("one member replaced with its kept volume (same address, new host key): only it is registered again, it starts on its own data, a znode written before is read through it after", async () => {
      const replaced = members[1];
      const path = `/rehearsal-replaced-${process.pid}`;
      zkCli(net, ensemble[0], `create ${path} written-before-the-replacement`);
      const filesBefore = dataFiles(replaced);
      const watch = watchMembers(net, members);
      const stoppedAt = Number(process.hrtime.bigint()) / 1e9;
      await replace(replaced);
      const ready = await waitFor(() => describeQuorumOrNull(modes(), members.length) !== null, 90, 2000);
      const samples = await watch.stop();
      if (!ready) throw new Error(`no quorum after the replacement: ${describeModes(modes())}`);
      assertOneLeader(samples, watch, new Map([[replaced.ip, stoppedAt]]));
      const filesAfter = dataFiles(replaced);
      const lost = filesBefore.filter((file) => !filesAfter.includes(file));
      if (lost.length > 0) throw new Error(`${replaced.name} came back without ${lost.join(", ")} (now ${filesAfter.join(", ")})`);
      readThrough(replaced, path, "written-before-the-replacement");
      return `${replaced.name} registered again with its ${filesBefore.length} data files; ${describeModes(modes())}`;
    });

    await checks.check("one member replaced with an empty volume: its bootstrap refuses to start it as an empty voter, the others keep their quorum", async () => {
      const replaced = members[members.length - 1];
      state.containers.get(replaced.name)?.stop();
      run("rm", ["-rf", state.volumeDir(replaced)]);
      run("mkdir", ["-p", state.volumeDir(replaced)]);
      const instanceId = await state.boot(replaced);
      const index = state.provisioned.findIndex((node) => node.name === replaced.name);
      state.provisioned[index] = { ...state.provisioned[index], instanceId };
      const result = await runScriptAsync(scripts.bootstrapNode(state.provisioned[index], state.serverId), `bootstrap-${replaced.name}`, net, workstation);
      if (result.status === 0) throw new Error(`${replaced.name} was bootstrapped and runs as ${memberMode(net, replaced.ip)}`);
      const line = result.output.split("\n").find((text) => text.includes("has no data"));
      if (!line) throw new Error(`the bootstrap failed for another reason: ${lastLines(result.output)}`);
      const mode = memberMode(net, replaced.ip);
      if (mode !== "down") throw new Error(`${replaced.name} runs ZooKeeper anyway: ${mode}`);
      const others = members.filter((node) => node !== replaced).map((node) => memberMode(net, node.ip));
      if (!others.includes("leader")) throw new Error(`the other members lost their quorum: ${others.join(", ")}`);
      return `refused: ${line.replace(/^.*zookeeper-cluster: /, "").slice(0, 100)}...; the others: ${others.join(", ")}`;
    });

    await checks.check("its data lost for good: the directory made by hand as the refusal says, the bootstrap again brings it in sync; a znode written before is read through it", async () => {
      const replaced = members[members.length - 1];
      const path = `/rehearsal-replaced-${process.pid}`;
      onNode(replaced, `sudo mkdir -p ${VOLUME_MOUNT}/version-2`);
      const index = state.provisioned.findIndex((node) => node.name === replaced.name);
      const result = await runScriptAsync(scripts.bootstrapNode(state.provisioned[index], state.serverId), `bootstrap-${replaced.name}`, net, workstation);
      if (result.status !== 0) throw new Error(`the bootstrap failed: ${lastLines(result.output)}`);
      const ready = await waitFor(() => describeQuorumOrNull(modes(), members.length) !== null, 90, 2000);
      if (!ready) throw new Error(`no quorum with ${replaced.name} back: ${describeModes(modes())}`);
      readThrough(replaced, path, "written-before-the-replacement");
      return describeModes(modes());
    });
  }

  // Membership changes on the running ensemble, through the upload and the converge as Terraform
  // runs them: members added and removed one at a time with reconfig. The members that stay in
  // the ensemble are voters throughout: a majority of them must run at every sample, none of
  // them restarts, no sample shows two leaders, and a znode written before is read after.
  const resize = async (from: readonly RehearsalNode[], to: readonly RehearsalNode[]): Promise<string> => {
    const label = `${from.length}-to-${to.length}`;
    const path = `/rehearsal-resize-${label}-${process.pid}`;
    zkCli(net, from[from.length - 1].ip, `create ${path} written-before-${label}`);
    const union = from.length > to.length ? from : to;
    const kept = from.filter((node) => to.includes(node));
    const removed = from.filter((node) => !to.includes(node));
    const pidsOf = (nodes: readonly RehearsalNode[]): string[] => nodes.map((node) => unitProperty(node, "MainPID"));
    const keptPids = pidsOf(kept);
    const item = { ...state.zooBag, json: JSON.stringify({ _default: to.map((node) => node.ip), id: "zookeeper" }) };
    const watch = watchMembers(net, union);
    const upload = await runScriptAsync(scripts.uploadDataBag(item), `upload-zoo-bag-${label}`, net, workstation);
    const result = upload.status === 0 ? await runScriptAsync(scripts.convergeNodes(allIps, item), `converge-nodes-${label}`, net, workstation, CONVERGE_ENV) : upload;
    const samples = await watch.stop();
    if (result.status !== 0) throw new Error(`${upload.status === 0 ? "the converge" : "the upload"} failed: ${lastLines(result.output)}`);
    const wanted = to.map((node, index) => `${index + 1} ${node.ip}`).join(",");
    for (const node of to) {
      const listed = membershipOf(net, node.ip).join(",");
      if (listed !== wanted) throw new Error(`${node.name}'s conf lists ${listed || "nothing"}, not ${wanted}`);
    }
    for (const node of removed) {
      const unit = `${unitProperty(node, "ActiveState")}/${tryRun("ssh", [...sshOptions(workstation), `ubuntu@${node.ip}`, "systemctl is-enabled zookeeper.service"], { netns: net.hostNetns }).output.trim()}`;
      if (unit !== "inactive/disabled") throw new Error(`${node.name}, removed, has zookeeper.service ${unit}, not inactive/disabled`);
    }
    const quorum = describeQuorum(new Map(to.map((node) => [node.ip, memberMode(net, node.ip)])), to.length);
    for (const node of to) readThrough(node, path, `written-before-${label}`);
    // Every broker's zookeeper.connect follows: the new members in, the removed ones out.
    const connect = `${to.map((node) => `${node.ip}:${brokerZookeeperPort()}`).join(",")}/kafka`;
    for (const node of net.nodes) {
      const brokerConnect = brokerProperties(node.name)["zookeeper.connect"];
      if (brokerConnect !== connect) throw new Error(`${node.name}'s broker has zookeeper.connect ${String(brokerConnect)}, not ${connect}`);
    }
    if (samples.length === 0) throw new Error("no sample of the members was taken during the change");
    // A leader that a reconfig removes stops committing once it commits the change (ZooKeeper's
    // Leader: allowedToCommit false) and hands over to a designated member, but answers "leader"
    // until its next checks of its followers (every half tick, 2 s ticks here) find none left and
    // it steps down. That claim, from a member leaving, beside one other leader, for at most
    // HANDOVER_SECONDS, commits nothing; any other second leader, or one that lasts, is two leaders.
    const HANDOVER_SECONDS = 10;
    let handoverStart: number | undefined;
    let handovers = 0;
    samples.forEach((sample, index) => {
      const leaders = [...sample].filter(([, mode]) => mode === "leader").map(([ip]) => ip);
      if (leaders.length <= 1) {
        handoverStart = undefined;
        return;
      }
      const leaving = leaders.filter((ip) => removed.some((node) => node.ip === ip));
      const at = watch.takenAt[index];
      handoverStart ??= at;
      if (leaders.length !== 2 || leaving.length !== 1 || at - handoverStart > HANDOVER_SECONDS) {
        throw new Error(`two leaders at one sample${at > handoverStart ? ` (for ${(at - handoverStart).toFixed(1)} s)` : ""}: ${describeModes(sample)}`);
      }
      handovers += 1;
    });
    const keptMajority = Math.floor(kept.length / 2) + 1;
    const fewestKept = Math.min(...samples.map((sample) => kept.filter((node) => sample.get(node.ip) !== "down").length));
    if (fewestKept < keptMajority) throw new Error(`at one sample only ${fewestKept} of the ${kept.length} members that stay were running`);
    const restarted = kept.filter((node, index) => unitProperty(node, "MainPID") !== keptPids[index]);
    if (restarted.length > 0) throw new Error(`members that stay restarted: ${restarted.map((node) => node.name).join(", ")}`);
    const steps = [...result.output.matchAll(/reconfig -(add|remove) (server\.\d+|\d+)/g)].map((match) => `${match[1]} ${match[2]}`);
    const handedOver = handovers > 0 ? ` (a removed leader still answered "leader" in ${handovers} sample(s) as it handed over)` : "";
    return `${steps.join(", ")}; ${quorum}; every broker's zookeeper.connect lists the ${to.length}; never two leaders${handedOver}, never fewer than ${fewestKept} of the ${kept.length} staying members running, none restarted (${samples.length} samples)`;
  };
  const allNodes = net.nodes;
  if (members.length === 1 && allNodes.length >= 3) {
    await checks.check("the ensemble grown 1 to 3 on a running cluster (kafka.nodes 1 to 3): the new members join one at a time and sync before they vote", () => resize(members, allNodes.slice(0, 3)));
  } else if (allNodes.length >= members.length + 2) {
    const grown = allNodes.slice(0, members.length + 2);
    let grew = false;
    await checks.check(`the ensemble grown ${members.length} to ${grown.length} on a running cluster: each new member joins, then reconfig -add, one at a time`, async () => {
      const summary = await resize(members, grown);
      grew = true;
      return summary;
    });
    // Shrinking starts from the grown ensemble.
    let shrank = false;
    if (grew) {
      await checks.check(`the ensemble shrunk ${grown.length} to ${members.length} on a running cluster: reconfig -remove one at a time (the leader last), then each removed member stops for good`, async () => {
        const summary = await resize(grown, members);
        shrank = true;
        return summary;
      });
    }
    // kafka.nodes 1 to 3 grows a single member to three (the ensemble size follows kafka.nodes).
    // The single member is the first of the three, shrunk to it: the same dynamic quorum of one a
    // new one-node cluster runs (standaloneEnabled=false). The two that join have empty volumes,
    // as new brokers do: they must not form a majority of their own.
    if (shrank && members.length === 3) {
      const single = members.slice(0, 1);
      let alone = false;
      await checks.check("the ensemble shrunk 3 to 1 on a running cluster: the last member keeps serving as a quorum of one", async () => {
        const summary = await resize(members, single);
        alone = true;
        return summary;
      });
      if (alone) {
        await checks.check("the ensemble grown 1 to 3 on a running cluster (kafka.nodes 1 to 3): two new members with empty volumes join one at a time and sync from the running member before they vote", () => {
          // As new brokers' volumes: nothing of the ensemble they once belonged to (the directory
          // stays, bind-mounted into the running container; its contents go).
          for (const node of members.slice(1)) run("find", [state.volumeDir(node), "-mindepth", "1", "-delete"]);
          return resize(single, members);
        });
      }
    }
  }
}

function knifeConfig(workstation: Workstation): string {
  return `${workstation.root}/home/ubuntu/chef-repo/.chef/config.rb`;
}

/** The member's Mode from `srvr`; "not serving" when it runs without a quorum, "down" when nothing answers. */
export function memberMode(net: PrivateNetwork, ip: string): string {
  return memberModes(net, [ip]).get(ip) ?? "not serving";
}

/** The membership a member reports in its answer to `conf`, as "<id> <address>" strings sorted by id; empty when it does not answer. */
function membershipOf(net: PrivateNetwork, ip: string): string[] {
  const asked = tryRun(
    "python3",
    [
      "-c",
      "import socket, sys\ntry:\n    s = socket.create_connection((sys.argv[1], 2181), timeout=3)\nexcept OSError:\n    sys.exit()\ns.sendall(b'conf')\nprint(s.makefile().read())",
      ip,
    ],
    { netns: net.hostNetns, timeoutSeconds: 10 },
  );
  const section = asked.output.split(/^membership:\s*$/m)[1] ?? "";
  return [...section.matchAll(/^server\.(\d+)=([^:\s]+):/gm)].map((match) => `${match[1]} ${match[2]}`).sort((a, b) => Number(a.split(" ")[0]) - Number(b.split(" ")[0]));
}

/**
 * Opens a plaintext connection to a member's quorum or election port and sends what a member
 * older than quorum TLS sends first: its server id as 8 bytes (99: above any member's, so an
 * election port that takes the connection keeps it). "kept open": taken as plaintext, nothing
 * said back for 2 s. "refused (...)": closed, reset, or answered with a TLS alert.
 */
function plaintextQuorumProbe(net: PrivateNetwork, ip: string, port: number): string {
  const asked = tryRun(
    "python3",
    [
      "-c",
      [
        "import socket, struct, sys",
        "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)",
        "s.sendall(struct.pack('>q', 99))",
        "s.settimeout(2)",
        "try:",
        "    data = s.recv(64)",
        "except socket.timeout:",
        "    print('kept open'); sys.exit()",
        "except ConnectionResetError:",
        "    print('refused (reset)'); sys.exit()",
        "if not data:",
        "    print('refused (closed)')",
        "elif data[0] == 0x15:",
        "    print('refused (TLS alert)')",
        "else:",
        "    print('answered in plaintext: ' + data.hex())",
      ].join("\n"),
      ip,
      String(port),
    ],
    { netns: net.hostNetns, timeoutSeconds: 20 },
  );
  return asked.output.trim().split("\n").pop() || `no answer (status ${String(asked.status)})`;
}

function lastLines(output: string): string {
  return output.trim().split("\n").slice(-6).join(" | ");
}

function zkCli(net: PrivateNetwork, ip: string, command: string): string {
  return run(ZK_CLI, ["-server", `${ip}:2181`, ...command.split(" ")], { netns: net.hostNetns, timeoutSeconds: 60 });
}

function describeQuorumOrNull(modes: Map<string, string>, size: number): string | null {
  const values = [...modes.values()];
  // standaloneEnabled=false: even a single member runs as a quorum (of one), so that it can grow.
  const expected = size === 1 ? values[0] === "leader" : values.filter((mode) => mode === "leader").length === 1 && values.filter((mode) => mode === "follower").length === size - 1;
  return expected ? describeModes(modes) : null;
}

function describeQuorum(modes: Map<string, string>, size: number): string {
  const described = describeQuorumOrNull(modes, size);
  if (described === null) throw new Error(`expected one leader and ${size - 1} followers: ${describeModes(modes)}`);
  return described;
}
