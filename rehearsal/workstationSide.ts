import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { knifeConfigPath } from "../constructs/chefPackages";
import { chefRepoDigests, chefRepoRolesJson } from "../constructs/chefRepo";
import { kafkaNodeRole, type ChefRole } from "../constructs/kafkaNodeRole";
import { pkiContext } from "../constructs/pki";
import { renderScript } from "../constructs/renderScript";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import { tarGz } from "../constructs/tarGz";
import type { PlatformConfig } from "../config/PlatformConfig";
import { COOKBOOKS_DIR } from "../stacks/ChefStack";
import { awaitFirstBoot } from "./cloudInitState";
import { gzipAsTerraform, writeNoCloudSeed } from "./noCloudSeed";
import { bootNodeContainer, type NodeContainer } from "./nodeContainer";
import type { PrivateNetwork, RehearsalNode } from "./privateNetwork";
import { CommandError, failureTail, run, runAsync, start, tryRun, waitForSync } from "./system";
import type { Teardown } from "./Teardown";

const PROJECT = join(__dirname, "..");
/** The rehearsal's Gemfile (knife, chef-zero, Chef Infra Client), and where its gems go. */
export const GEMFILE_DIR = join(PROJECT, "rehearsal");
export const BUNDLE_DIR = join(PROJECT, "vendor", "rehearsal-bundle");
/** The rehearsal's own user data templates (what stands in for scripts that need AWS). */
const TEMPLATES_DIR = join(GEMFILE_DIR, "templates");
const CHEF_ZERO_PORT = 8889;
const MIRROR_PORT = 8000;
/** Under the download server's root: what the data bucket's chef-repo/ prefix holds on AWS. */
const CHEF_REPO_PREFIX = "chef-repo";

/** What every machine's first boot received, to check what cloud-init made of it. */
export interface DeliveredUserData {
  /** sha256 of the bytes EC2 would deliver: the gzip. */
  readonly userDataSha256: string;
  /** sha256 of the script before gzip: what must run, and what the setup command must hold. */
  readonly scriptSha256: string;
  /** Who gzipped it: Terraform's base64gzip, or zlib without terraform. */
  readonly gzippedBy: string;
}

/** The host side of a rehearsal: the Chef server, the download server, and the operator's laptop. */
export interface HostSide {
  /** Host-side files under `<root>/home/ubuntu`: knife's config for the checks and copies of keys. */
  readonly root: string;
  readonly logDir: string;
  /** Environment of host-side tools: the knife stand-in on PATH. */
  readonly env: Readonly<Record<string, string>>;
  /** The key pair's private key, Terraform's connection to the workstation (its public half goes in the workstation's meta-data). */
  readonly deployerKey: string;
  /** Where stageChefRepo writes the cookbooks and the role, served as the bucket's chef-repo/. */
  readonly repoDir: string;
  readonly serverUrl: string;
  readonly repoUrl: string;
}

/** The workstation: a container booted by cloud-init, where the provisioner scripts run. */
export interface Workstation extends HostSide {
  readonly ip: string;
  /** The workstation's bootstrap key's public half, copied out once it made it; every node mounts it. */
  readonly bootstrapPublicKey: string;
  readonly delivered: DeliveredUserData;
}

export function bundleEnv(): Record<string, string> {
  return { BUNDLE_GEMFILE: join(GEMFILE_DIR, "Gemfile"), BUNDLE_PATH: BUNDLE_DIR, BUNDLE_FROZEN: "true" };
}

/**
 * chef-zero (HTTPS, self-signed; its certificate served as the Chef server publishes its own) and
 * a plain HTTP server for the ZooKeeper tarball and the chef repo, on the host side of the bridge;
 * the deployer's key pair; and a knife the checks use to read what the Chef server holds.
 */
export function startServices(net: PrivateNetwork, mirrorDir: string, runDir: string, teardown: Teardown): HostSide {
  const root = join(runDir, "host");
  const logDir = join(runDir, "logs");
  const bin = join(root, "bin");
  const home = join(root, "home", "ubuntu");
  const knifeDir = join(home, "chef-repo", ".chef");
  const repoDir = join(mirrorDir, CHEF_REPO_PREFIX);
  for (const dir of [bin, join(home, ".ssh"), knifeDir, logDir, repoDir]) mkdirSync(dir, { recursive: true });

  const background = (name: string, command: string, args: string[], env: Record<string, string> = {}): void => {
    const log = join(logDir, `${name}.log`);
    writeFileSync(log, "");
    const child = start(command, args, openSync(log, "a"), { netns: net.hostNetns, env });
    // Its own process group (detached), stopped as a whole; never what keeps this process alive.
    child.unref();
    teardown.add(name, () => {
      if (child.pid !== undefined) tryRun("kill", ["--", `-${child.pid}`]);
    });
  };
  background("chef-zero", "bundle", ["exec", "chef-zero", "--host", net.hostIp, "--port", String(CHEF_ZERO_PORT), "--ssl", "--log-level", "warn"], bundleEnv());
  background("mirror", "python3", ["-m", "http.server", String(MIRROR_PORT), "--bind", net.hostIp, "--directory", mirrorDir]);

  const deployerKey = join(root, "deployer_key");
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "deployer@rehearsal", "-f", deployerKey]);
  // chef-zero checks no signatures; knife still wants a key to sign with.
  run("openssl", ["genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", join(knifeDir, "admin.pem")]);
  const serverUrl = `https://${net.serverName}:${CHEF_ZERO_PORT}`;
  writeFileSync(
    join(knifeDir, "config.rb"),
    [
      "current_dir = File.dirname(__FILE__)",
      'node_name "admin"',
      'client_key "#{current_dir}/admin.pem"',
      // chef-zero serves a single organization, at its root.
      `chef_server_url "${serverUrl}"`,
      'trusted_certs_dir "#{current_dir}/trusted_certs"',
      "",
    ].join("\n"),
  );
  writeFileSync(join(bin, "knife"), `#!/bin/sh\nexport BUNDLE_GEMFILE='${bundleEnv().BUNDLE_GEMFILE}' BUNDLE_PATH='${BUNDLE_DIR}' BUNDLE_FROZEN=true\nexec bundle exec knife "$@"\n`, { mode: 0o755 });

  const env = { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  const serving = (): boolean => tryRun("curl", ["-sk", "--max-time", "2", `${serverUrl.replace(net.serverName, net.hostIp)}/`], { netns: net.hostNetns }).status === 0;
  if (!waitForSync(serving, 60)) throw new Error(`chef-zero did not answer on ${net.hostIp}:${CHEF_ZERO_PORT} within 60 s (see ${logDir}/chef-zero.log)`);
  run("knife", ["ssl", "fetch", "--config", join(knifeDir, "config.rb")], { netns: net.hostNetns, env });
  // What the Chef server publishes in SSM (the certificate it presents, read on its own machine):
  // the host's copy of chef-zero's, served beside the chef repo for the workstation to trust.
  const [certificate] = readdirSync(join(knifeDir, "trusted_certs")).filter((file) => file.endsWith(".crt"));
  if (certificate === undefined) throw new Error(`knife ssl fetch left no certificate of chef-zero in ${knifeDir}/trusted_certs`);
  copyFileSync(join(knifeDir, "trusted_certs", certificate), join(repoDir, "server-certificate"));
  // What the server publishes as its admin key, which the workstation's knife reads at each start.
  copyFileSync(join(knifeDir, "admin.pem"), join(repoDir, "admin-key"));
  return { root, logDir, env, deployerKey, repoDir, serverUrl, repoUrl: `http://${net.hostIp}:${MIRROR_PORT}/${CHEF_REPO_PREFIX}` };
}

/** What boots a machine: its image, the gems it mounts, and where seeds and logs go. */
export interface MachineBoot {
  readonly image: string;
  readonly runDir: string;
  readonly hostsFile: string;
  readonly teardown: Teardown;
}

/**
 * Boots a machine with cloud-init fed a NoCloud seed: user data gzipped the way Terraform sends it,
 * and the key pair's key when it has one. Resolves with the container and what it was sent.
 */
export function bootMachine(
  machine: RehearsalNode,
  instanceId: string,
  script: string,
  boot: MachineBoot,
  access: { readonly authorizedKey?: string; readonly publicKeys?: readonly string[]; readonly volumeDir?: string },
): { container: NodeContainer; delivered: DeliveredUserData } {
  const gzipped = gzipAsTerraform(script);
  const seedDir = writeNoCloudSeed(join(boot.runDir, "seeds", instanceId), {
    instanceId,
    hostname: machine.name,
    userData: gzipped.bytes,
    publicKeys: access.publicKeys,
  });
  const container = bootNodeContainer(
    { node: machine, image: boot.image, gemfileDir: GEMFILE_DIR, bundleDir: BUNDLE_DIR, hostsFile: boot.hostsFile, seedDir, authorizedKey: access.authorizedKey, logDir: boot.runDir, volumeDir: access.volumeDir },
    boot.teardown,
  );
  return { container, delivered: { userDataSha256: sha256(gzipped.bytes), scriptSha256: sha256(Buffer.from(script)), gzippedBy: gzipped.by } };
}

/**
 * Boots the workstation as EC2 and cloud-init would: the key pair's key through meta-data and its
 * setup as gzipped user data. Resolves once cloud-init has finished, with the bootstrap key's
 * public half copied out for the nodes (on AWS it travels through SSM).
 */
export async function bootWorkstation(config: PlatformConfig, net: PrivateNetwork, host: HostSide, boot: MachineBoot): Promise<Workstation> {
  const machine = net.workstation;
  const script = renderScript(
    "chef-workstation",
    { setupCommand: SETUP_COMMAND, workstationSetup: true, knifeConfig: knifeConfigPath(config.chef), serverUrl: host.serverUrl, repoUrl: host.repoUrl, pki: pkiContext(config) },
    { templatesDir: TEMPLATES_DIR },
  );
  const publicKey = run("ssh-keygen", ["-y", "-f", host.deployerKey]);
  const onWorkstation = (workstation: Workstation, command: string, timeoutSeconds = 30): { status: number | null; output: string } =>
    tryRun("ssh", [...deployerSsh(workstation), command], { netns: net.hostNetns, timeoutSeconds });
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const { container, delivered } = bootMachine(machine, `rehearsal-${machine.name}-${attempt}`, script, boot, { publicKeys: [publicKey] });
    const workstation: Workstation = { ...host, ip: machine.ip, bootstrapPublicKey: join(host.root, "home", "ubuntu", ".ssh", "platform_bootstrap.pub"), delivered };
    const state = await awaitFirstBoot((command) => onWorkstation(workstation, command), 120, 900);
    if (state.kind === "no-login") {
      throw new Error(`the workstation took no SSH login with the key pair's key within 120 s (see ${boot.runDir}/${machine.name}.console.log)`);
    }
    if (state.kind === "stuck" && attempt === 1) {
      // A cloud-init unit systemd could not start in the container (exit 219/CGROUP): boot afresh.
      console.log(`the workstation's cloud-init did not finish: ${state.detail}; booting it afresh`);
      container.stop();
      continue;
    }
    if (state.kind !== "done") {
      const log = onWorkstation(workstation, "sudo tail -n 30 /var/log/platform/chef-workstation.log /var/log/cloud-init-output.log");
      throw new Error(`cloud-init on the workstation did not finish cleanly (${state.kind === "running" ? "still running after 900 s" : state.detail}):\n${log.output.trim()}`);
    }
    // knife read the admin key for every upload above, and holds it in memory only.
    const keyLine = readFileSync(join(host.repoDir, "admin-key"), "utf8").split("\n")[1];
    // The line reaches grep on stdin: in sudo's arguments, the journal would keep it.
    const holders = onWorkstation(workstation, `echo '${keyLine}' | sudo grep -rlsF -f - /home /root /etc /tmp /var/tmp /var/log /var/lib/cloud /usr/local`, 60);
    if (holders.status !== 1) throw new Error(`the Chef admin key is on the workstation's disk (grep status ${holders.status}): ${holders.output.trim()}`);
    copyBootstrapKey(net, host, workstation);
    return workstation;
  }
  throw new Error("the workstation did not boot");
}

/** Copies of the workstation's bootstrap key for the nodes' authorized_keys and the checks' own SSH to nodes. */
function copyBootstrapKey(net: PrivateNetwork, host: HostSide, workstation: Workstation): void {
  // The public half is read by sshd as the node's ubuntu, so it must be readable by all.
  for (const [file, mode] of [["platform_bootstrap", 0o600], ["platform_bootstrap.pub", 0o644]] as const) {
    const content = run("ssh", [...deployerSsh(workstation), `cat .ssh/${file}`], { netns: net.hostNetns });
    writeFileSync(join(host.root, "home", "ubuntu", ".ssh", file), content, { mode });
  }
}

/** The rehearsal's own ssh from the host: throwaway machines, so no host key is kept or checked. */
const UNPINNED_SSH = ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"];

/** ssh to the workstation as Terraform's connection does: the key pair's key, user ubuntu, no host key check. */
export function deployerSsh(workstation: Workstation): string[] {
  return ["-i", workstation.deployerKey, ...UNPINNED_SSH, `ubuntu@${workstation.ip}`];
}

/**
 * The checks' own SSH to nodes, with a copy of the workstation's bootstrap key (or keyFile); the
 * scripts keep their known_hosts on the workstation.
 */
export function sshOptions(workstation: Workstation, keyFile = `${workstation.root}/home/ubuntu/.ssh/platform_bootstrap`): string[] {
  return ["-i", keyFile, ...UNPINNED_SSH];
}

/**
 * A command that runs on the workstation and logs in to a node the way the platform's own steps
 * do: with one of ubuntu's keys (.ssh/<key>) and the host keys the workstation pinned.
 */
export function pinnedSshFromWorkstation(key: string, user: string, ip: string, command: string): string {
  return `ssh -i .ssh/${key} -o UserKnownHostsFile=.ssh/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 ${user}@${ip} '${command}'`;
}

/**
 * The kafka-node role the platform generates, with what a rehearsal changes in it: the mirror it
 * serves ZooKeeper from, `zookeeper` merged into zookeeper-cluster's attributes, and no Kafka
 * (none can be fetched). Everything else the role says (kafka.security, the mode) stays.
 */
export function rehearsalNodeRole(config: PlatformConfig, mirror: string, zookeeper: Record<string, unknown> = {}): ChefRole {
  const role = kafkaNodeRole(config);
  return {
    ...role,
    override_attributes: {
      ...role.override_attributes,
      // The nodes reach nothing beyond the host, whose mirror serves ZooKeeper's tarball only: no
      // JMX exporter jar, so the members run without it here.
      "zookeeper-cluster": { ...(role.override_attributes["zookeeper-cluster"] as object), mirrors: [mirror], jmx_exporter: { enabled: false }, ...zookeeper },
      "insight-kafka-cluster": { ...(role.override_attributes["insight-kafka-cluster"] as object), install_kafka: false },
    },
  };
}

/**
 * Writes the cookbooks and the role generated from `config` where the workstation's setup reads
 * them (the bucket's chef-repo/ on AWS); the next converge uploads them. `zookeeper` adds
 * settings a platform config cannot express, for the checks that break a member on purpose.
 */
export function stageChefRepo(config: PlatformConfig, net: PrivateNetwork, host: HostSide, zookeeper: Record<string, unknown> = {}): void {
  const cookbooks = tarGz(COOKBOOKS_DIR);
  const rehearsalRole = rehearsalNodeRole(config, `http://${net.hostIp}:${MIRROR_PORT}`, zookeeper);
  const rolesJson = chefRepoRolesJson([rehearsalRole]);
  // Computed as the chef stack computes its parameter's value, from the very bytes served here.
  writeFileSync(join(host.repoDir, "sha256"), `${chefRepoDigests(cookbooks, rolesJson)}\n`);
  writeFileSync(join(host.repoDir, "cookbooks.tar.gz"), cookbooks);
  writeFileSync(join(host.repoDir, "roles.json"), rolesJson);
}

/** Variables a script run is given, as an operator would set them on the command line. */
export type ScriptEnv = Readonly<Record<string, string>>;

/**
 * Runs a provisioner script as Terraform's null_resource does: copies it to the workstation with
 * scp (the file provisioner) and runs `bash /tmp/platform-<name>.sh` there as ubuntu over SSH
 * (remote-exec), with the workstation's own sudo, cloud-init and knife.
 */
export function runScript(script: string, name: string, net: PrivateNetwork, workstation: Workstation, env: ScriptEnv = {}): string {
  const destination = copyScript(script, name, net, workstation);
  const result = tryRun("ssh", [...deployerSsh(workstation), commandLine(destination, env)], { netns: net.hostNetns, timeoutSeconds: 1200 });
  const log = keepRunLog(name, result.output, workstation);
  if (result.status !== 0) {
    throw new CommandError(`${name} exited ${result.status ?? "on a signal"} (whole output: ${log}):\n${failureTail(result.output)}`);
  }
  return result.output;
}

export async function runScriptAsync(script: string, name: string, net: PrivateNetwork, workstation: Workstation, env: ScriptEnv = {}): Promise<{ status: number | null; output: string }> {
  const destination = copyScript(script, name, net, workstation);
  const result = await runAsync("ssh", [...deployerSsh(workstation), commandLine(destination, env)], { netns: net.hostNetns, timeoutSeconds: 1200 });
  keepRunLog(name, result.output, workstation);
  return result;
}

/** `NAME=value ... bash <script>`, as Terraform's remote-exec runs it (with no variables) or an operator. */
export function commandLine(destination: string, env: ScriptEnv): string {
  const assignments = Object.entries(env).map(([name, value]) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name) || !/^[\w.:/-]*$/.test(value)) throw new Error(`a script's variable ${name}=${value}: a name of capitals and a plain value only`);
    return `${name}=${value} `;
  });
  return `${assignments.join("")}bash ${destination}`;
}

let runLogs = 0;

/** Each script run's whole output, numbered in order, beside the run's other logs. */
function keepRunLog(name: string, output: string, workstation: Workstation): string {
  const dir = join(workstation.root, "script-runs");
  mkdirSync(dir, { recursive: true });
  runLogs += 1;
  const file = join(dir, `${String(runLogs).padStart(3, "0")}-${name}.log`);
  writeFileSync(file, output);
  return file;
}

function copyScript(script: string, name: string, net: PrivateNetwork, workstation: Workstation): string {
  const local = join(workstation.root, `${name}.sh`);
  writeFileSync(local, script);
  const destination = `/tmp/platform-${name}.sh`;
  const target = deployerSsh(workstation);
  // scp's own protocol (-O), as Terraform's file provisioner speaks it.
  run("scp", ["-O", ...target.slice(0, -1), local, `${target[target.length - 1]}:${destination}`], { netns: net.hostNetns, timeoutSeconds: 60 });
  return destination;
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
