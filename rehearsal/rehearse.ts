/**
 * The deploy rehearsal: the platform's real provisioning path on local systemd machines.
 *
 *   sudo npm run rehearse                                  # 5 nodes, 3 of them the ZooKeeper ensemble, grown to 5 and back
 *   sudo npm run rehearse -- --nodes 3 --zookeeper-nodes 1   # a single member, grown to 3
 *   sudo npm run rehearse -- --nodes 7 --zookeeper-nodes 5
 *   sudo npm run rehearse -- --first-security tls             # TLS from the first deploy: no move from plaintext
 *   sudo npm run rehearse -- --prepare                        # only build the node image (kept between runs), then stop
 *   sudo npm run rehearse -- --keep-logs                      # keep the machines' logs even when every check passed
 *
 * Builds (once) a Debian 12 machine image with cloud-init, boots the workstation and the nodes as
 * systemd-nspawn containers on a private bridge, each from a NoCloud seed holding its user data
 * gzipped by Terraform, serves the Chef API with chef-zero over HTTPS, and runs the very scripts
 * Terraform runs on the workstation (rendered by the project's own code with these nodes'
 * addresses), delivered as Terraform delivers them (scp, then bash over SSH as ubuntu): the data
 * bag upload, one knife bootstrap per node in parallel, and the converge. Then it checks what a
 * deploy must have produced and prints a summary table. Everything it starts is removed on exit.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { KafkaProvisionScripts } from "../constructs/kafkaProvisionScripts";
import { renderScript } from "../constructs/renderScript";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import { loadConfig } from "../config/loadConfig";
import type { PlatformConfig } from "../config/PlatformConfig";
import { Checks } from "./Checks";
import { carryHostKeys, NODE_HOST_KEYS_FILE, runHostKeyChecks, WORKSTATION_HOST_KEYS_DIR } from "./hostKeys";
import { awaitFirstBoot } from "./cloudInitState";
import { runDeployChecks } from "./deployChecks";
import { runSshIdentityChecks } from "./sshIdentities";
import type { NodeContainer } from "./nodeContainer";
import { nodeImage } from "./nodeImage";
import { createPrivateNetwork, type RehearsalNode } from "./privateNetwork";
import { run, tryRun } from "./system";
import { Teardown } from "./Teardown";
import { bootMachine, bootWorkstation, bundleEnv, GEMFILE_DIR, runScript, runScriptAsync, sshOptions, stageChefRepo, startServices, type DeliveredUserData } from "./workstationSide";
import { zookeeperTarball } from "./zookeeperTarball";

const CACHE_DIR = process.env.REHEARSAL_CACHE_DIR ?? "/var/cache/platform-rehearsal";
const DEBIAN_MIRROR = process.env.REHEARSAL_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

const checks = new Checks();
const teardown = new Teardown();
let failed = false;

async function main(): Promise<void> {
  // By default two brokers more than the ensemble: nodes that are only its clients, until the
  // ensemble grows onto them (and shrinks back).
  const nodeCount = Number(flag("--nodes") ?? "5");
  if (!Number.isInteger(nodeCount) || nodeCount < 1) throw new Error(`--nodes: ${flag("--nodes")} must be a count of at least 1`);
  const zookeeperFlag = flag("--zookeeper-nodes");
  const firstSecurity = flag("--first-security") ?? "plaintext";
  if (!["plaintext", "tls"].includes(firstSecurity)) throw new Error(`--first-security: ${firstSecurity} must be plaintext (moved to TLS by the checks) or tls`);
  if (process.platform !== "linux" || process.getuid?.() !== 0) throw new Error("the rehearsal needs Linux and root (network namespaces and systemd-nspawn)");
  // The nodes run the host's gem bundle (native extensions included): it fits Debian 12's Ruby only.
  const hostRuby = tryRun("ruby", ["-e", "print RUBY_VERSION"]).output;
  const hostDebian = tryRun("cat", ["/etc/debian_version"]).output;
  if (!hostRuby.startsWith("3.1.") || !hostDebian.startsWith("12")) {
    throw new Error(`the rehearsal runs on Debian 12 with its Ruby 3.1, whose gems the Debian 12 nodes share (this host: Debian ${hostDebian.trim() || "none"}, Ruby ${hostRuby || "none"})`);
  }
  for (const command of ["debootstrap", "systemd-nspawn", "ip", "ssh", "scp", "ssh-keygen", "bundle", "flock"]) {
    if (tryRun("sh", ["-c", `command -v ${command}`]).status !== 0) throw new Error(`${command} is missing (see the README, "Rehearse a deploy locally")`);
  }

  if (process.argv.includes("--prepare")) {
    // The node image alone (debootstrap: minutes on a new machine), built ahead while other work runs.
    console.log(`node image ready: ${nodeImage(CACHE_DIR, DEBIAN_MIRROR)}`);
    return;
  }

  const runDir = mkdtempSync("/var/tmp/platform-rehearsal-");
  // Failure messages point at logs in here: they stay when anything failed.
  // --keep-logs keeps them after a run that passed too, to read where its time went.
  const keepLogs = process.argv.includes("--keep-logs");
  teardown.add(runDir, () => {
    if (failed || checks.failed() || keepLogs) console.log(`logs kept in ${runDir}`);
    else run("rm", ["-rf", runDir]);
  });
  console.log(`rehearsal of ${nodeCount} nodes; work and logs in ${runDir} (removed at the end unless something fails)`);
  checks.note(
    "Kafka: not run. No Kafka distribution can be fetched here, so the role turns the broker off " +
      "(insight-kafka-cluster install_kafka false, logged on every node); no broker is reported running.",
  );

  await checks.step("gems for knife, chef-zero and the nodes' client", () => {
    const env = bundleEnv();
    if (tryRun("bundle", ["check"], { env }).status !== 0) run("bundle", ["install", "--jobs", "4", "--retry", "3", "--quiet"], { env, timeoutSeconds: 900 });
  });
  const image = await checks.step("node image", () => nodeImage(CACHE_DIR, DEBIAN_MIRROR));
  const net = await checks.step("private network", () => createPrivateNetwork(`prh${process.pid % 10000}`, nodeCount, runDir, teardown));
  const zookeeper = await checks.step("ZooKeeper tarball from Debian's jars", () => zookeeperTarball(runDir));

  const baseFlags = [
    // The gems are Chef's own builds: the Chef flavor, with its licence accepted for the rehearsal.
    "--chef.flavor", "chef", "--chef.acceptLicense", "true", "--chef.workstationPackageChecksum", "",
    "--kafka.nodes", String(nodeCount),
    ...(zookeeperFlag === undefined ? [] : ["--kafka.zookeeperNodes", zookeeperFlag]),
    "--kafka.replicationFactor", String(Math.min(nodeCount, 3)),
    "--kafka.minInsyncReplicas", nodeCount === 1 ? "1" : "2",
    "--kafka.zookeeperVersion", zookeeper.version,
    "--kafka.zookeeperSha512", zookeeper.sha512,
  ];
  const configWith = (...flags: string[]): PlatformConfig => loadConfig({ argv: [...baseFlags, ...flags], env: {} });
  // The first deploy runs plaintext (a cluster made before TLS; its nodes get their key material
  // all the same), and the checks move it to TLS, the default, while it runs (--first-security
  // tls deploys TLS from the start and skips the move).
  // The platform's own rules size the ensemble (kafka.zookeeperNodes) and refuse a bad --zookeeper-nodes.
  const config = configWith("--kafka.security", firstSecurity);
  const ensembleSize = config.kafka.zookeeperNodes;
  const host = await checks.step("chef-zero and the download mirror", () => startServices(net, zookeeper.mirrorDir, runDir, teardown));
  const machineBoot = { image, runDir, hostsFile: net.nodeHostsFile, teardown };
  const workstation = await checks.step("workstation: booted by cloud-init from its gzipped user data, which uploads cookbooks and the kafka-node role through a knife that holds the admin key on no disk", () => {
    stageChefRepo(config, net, host);
    return bootWorkstation(config, net, host, machineBoot);
  });
  checks.note(`User data: gzipped by ${workstation.delivered.gzippedBy}, delivered through a NoCloud seed to Debian's cloud-init.`);

  const containers = new Map<string, NodeContainer>();
  const delivered = new Map<string, DeliveredUserData>([[net.workstation.name, workstation.delivered]]);
  const nodeScript = renderScript("kafka-node", { setupCommand: SETUP_COMMAND, hostKeysParameter: NODE_HOST_KEYS_FILE }, { templatesDir: `${GEMFILE_DIR}/templates` });
  const boots = new Map<string, number>();
  // The checks' SSH keeps no host key: the scripts' own known_hosts must meet each node as they would.
  const onNode = (node: RehearsalNode) => (command: string) =>
    tryRun("ssh", [...sshOptions(workstation), `ubuntu@${node.ip}`, command], { netns: net.hostNetns, timeoutSeconds: 30 });
  // A node is up once it takes an SSH login and cloud-init has run its user data. Now and then a
  // container's boot stalls before logins are allowed (pam_nologin); booting it afresh is what a
  // stuck instance would get too. Every boot is a new instance to cloud-init.
  const boot = async (node: RehearsalNode): Promise<string> => {
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const count = (boots.get(node.name) ?? 0) + 1;
      boots.set(node.name, count);
      // The node's kept volume: the same directory through every boot, as an EBS volume outlives its instance.
      const volumeDir = join(runDir, "volumes", node.name);
      mkdirSync(volumeDir, { recursive: true });
      const booted = bootMachine(node, `boot-${count}-${node.name}`, nodeScript, machineBoot, { authorizedKey: workstation.bootstrapPublicKey, volumeDir });
      containers.set(node.name, booted.container);
      delivered.set(node.name, booted.delivered);
      // Booted once its user data has run. A cloud-init unit that systemd could not start (seen
      // in containers: exit 219/CGROUP) leaves cloud-init running forever; that boot is retried.
      const state = await awaitFirstBoot(onNode(node), 90, 180);
      if (state.kind === "done") {
        // What SSM carries on AWS: the host keys this instance published, for the next bootstrap.
        carryHostKeys(booted.container, net, workstation);
        return `boot-${count}-${node.name}`;
      }
      if (state.kind === "error") throw new Error(`${node.name}: cloud-init ran its user data with errors: ${state.detail} (see /var/log/cloud-init-output.log there)`);
      const why = state.kind === "no-login" ? "took no SSH login within 90 s of booting" : state.kind === "stuck" ? `cloud-init did not finish: ${state.detail}` : "cloud-init still running after 180 s";
      console.log(`${node.name} ${why} (attempt ${attempt}); see ${runDir}/${node.name}.console.log; booting it afresh`);
      booted.container.stop();
    }
    throw new Error(`${node.name} did not finish booting (an SSH login and cloud-init done) after booting twice (see ${runDir}/${node.name}.console.log)`);
  };
  await checks.step(`boot ${nodeCount} nodes`, async () => {
    await Promise.all(net.nodes.map(boot));
  });

  const scripts = new KafkaProvisionScripts(config, WORKSTATION_HOST_KEYS_DIR);
  // Racks as a deploy spreads nodes over two zones; ids as the stack numbers its brokers.
  const provisioned = net.nodes.map((node, index) => ({
    name: node.name,
    ip: node.ip,
    // The boot that came up: a stalled first boot is booted afresh as a new instance.
    instanceId: `boot-${boots.get(node.name) ?? 1}-${node.name}`,
    rack: `rehearsal-zone-${"ab"[index % 2]}`,
    nodeId: index + 1,
    broker: true,
  }));
  const serverId = "chef-zero";
  const bootstrapOutputs = new Map<string, string>();
  // As the stack generates it: the first nodes are the ensemble.
  const ensemble = net.nodes.slice(0, ensembleSize).map((node) => node.ip);
  const zooBag = { bag: "zoo_bag", id: "zookeeper", json: JSON.stringify({ _default: ensemble, id: "zookeeper" }) };
  // As Terraform orders them: every node's published host keys pinned before anything reaches it over SSH.
  await checks.step(`host-keys: ${nodeCount} nodes' published host keys pinned on the workstation`, async () => {
    const results = await Promise.all(provisioned.map((node) => runScriptAsync(scripts.pinHostKeys(node), `host-keys-${node.name}`, net, workstation)));
    const failed = results.filter((result) => result.status !== 0);
    if (failed.length > 0) throw new Error(`${failed.length} pins failed:\n${failed.map((result) => result.output.trim().split("\n").slice(-6).join("\n")).join("\n---\n")}`);
  });
  await checks.step(`zoo-bag: upload data bag zoo_bag/zookeeper (${ensembleSize} of ${nodeCount} nodes)`, () => runScript(scripts.uploadDataBag(zooBag), "upload-zoo-bag", net, workstation));
  await checks.step(`bootstrap-node: ${nodeCount} knife bootstraps in parallel`, async () => {
    const results = await Promise.all(provisioned.map((node) => runScriptAsync(scripts.bootstrapNode(node, serverId), `bootstrap-${node.name}`, net, workstation)));
    results.forEach((result, index) => bootstrapOutputs.set(provisioned[index].name, result.output));
    const failed = results.filter((result) => result.status !== 0);
    if (failed.length > 0) throw new Error(`${failed.length} bootstraps failed:\n${failed.map((result) => result.output.trim().split("\n").slice(-12).join("\n")).join("\n---\n")}`);
  });
  await runHostKeyChecks(checks, { config, net, workstation, scripts, provisioned, serverId, containers, bootstrapOutputs });
  await runSshIdentityChecks(checks, { config, net, workstation });

  await runDeployChecks(checks, { configWith, net, ensembleSize, zooBag, workstation, scripts, provisioned, serverId, containers, boot, delivered, volumeDir: (node) => join(runDir, "volumes", node.name), deployedSecurity: config.kafka.security });
  teardown.runAll();
  checks.printSummary();
  process.exitCode = checks.failed() ? 1 : 0;
}

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

main().catch((error: unknown) => {
  console.error(`rehearsal stopped: ${(error as Error).message}`);
  failed = true;
  teardown.runAll();
  checks.printSummary();
  process.exitCode = 1;
});
