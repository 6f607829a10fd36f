import { mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kafkaNodeRole } from "../constructs/kafkaNodeRole";
import { renderScript } from "../constructs/renderScript";
import { tarGz } from "../constructs/tarGz";
import type { PlatformConfig } from "../config/PlatformConfig";
import { COOKBOOKS_DIR } from "../stacks/ChefStack";
import type { PrivateNetwork } from "./privateNetwork";
import { run, runAsync, start, tryRun, waitForSync } from "./system";
import type { Teardown } from "./Teardown";

const PROJECT = join(__dirname, "..");
/** The rehearsal's Gemfile (knife, chef-zero, Chef Infra Client), and where its gems go. */
export const GEMFILE_DIR = join(PROJECT, "rehearsal");
export const BUNDLE_DIR = join(PROJECT, "vendor", "rehearsal-bundle");
const CHEF_ZERO_PORT = 8889;
const MIRROR_PORT = 8000;

/** The workstation side of a rehearsal: where the provisioner scripts run, and with what. */
export interface Workstation {
  /** PLATFORM_FS_ROOT of the provisioner scripts: the workstation's /home/ubuntu lives below it. */
  readonly root: string;
  readonly logDir: string;
  readonly env: Readonly<Record<string, string>>;
  /** The public half of the workstation's bootstrap key, which every node accepts. */
  readonly bootstrapPublicKey: string;
}

export function bundleEnv(): Record<string, string> {
  return { BUNDLE_GEMFILE: join(GEMFILE_DIR, "Gemfile"), BUNDLE_PATH: BUNDLE_DIR, BUNDLE_FROZEN: "true" };
}

/**
 * chef-zero (HTTPS, self-signed, which knife ssl fetch then trusts) and a plain HTTP server for the
 * ZooKeeper tarball, both on the workstation side of the bridge; and the workstation's files:
 * the bootstrap key, knife's config and the stand-ins for commands a rehearsal has no use for.
 */
export function startServices(net: PrivateNetwork, mirrorDir: string, runDir: string, teardown: Teardown): Workstation {
  const root = join(runDir, "workstation");
  const logDir = join(runDir, "logs");
  const bin = join(root, "bin");
  const home = join(root, "home", "ubuntu");
  const knifeDir = join(home, "chef-repo", ".chef");
  for (const dir of [bin, join(home, ".ssh"), knifeDir, logDir]) mkdirSync(dir, { recursive: true });

  const background = (name: string, command: string, args: string[], env: Record<string, string> = {}): void => {
    const log = join(logDir, `${name}.log`);
    writeFileSync(log, "");
    const child = start(command, args, openSync(log, "a"), { netns: net.workstationNetns, env });
    // Its own process group (detached), stopped as a whole; never what keeps this process alive.
    child.unref();
    teardown.add(name, () => {
      if (child.pid !== undefined) tryRun("kill", ["--", `-${child.pid}`]);
    });
  };
  background("chef-zero", "bundle", ["exec", "chef-zero", "--host", net.workstationIp, "--port", String(CHEF_ZERO_PORT), "--ssl", "--log-level", "warn"], bundleEnv());
  background("mirror", "python3", ["-m", "http.server", String(MIRROR_PORT), "--bind", net.workstationIp, "--directory", mirrorDir]);

  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "platform-bootstrap@rehearsal", "-f", join(home, ".ssh", "platform_bootstrap")]);
  // chef-zero checks no signatures; knife still wants a key to sign with.
  run("openssl", ["genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", join(knifeDir, "admin.pem")]);
  writeFileSync(
    join(knifeDir, "config.rb"),
    [
      "current_dir = File.dirname(__FILE__)",
      'node_name "admin"',
      'client_key "#{current_dir}/admin.pem"',
      // chef-zero serves a single organization, at its root.
      `chef_server_url "https://${net.serverName}:${CHEF_ZERO_PORT}"`,
      'trusted_certs_dir "#{current_dir}/trusted_certs"',
      'cookbook_path ["#{current_dir}/../cookbooks"]',
      "",
    ].join("\n"),
  );
  const stub = (name: string, body: string): void => writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  stub("knife", `export BUNDLE_GEMFILE='${bundleEnv().BUNDLE_GEMFILE}' BUNDLE_PATH='${BUNDLE_DIR}' BUNDLE_FROZEN=true\nexec bundle exec knife "$@"`);
  // The workstation has no cloud-init to wait for here, and the scripts already run as root.
  stub("cloud-init", '[ "$1" = status ] && exit 0; exit 1');
  stub("sudo", 'exec "$@"');

  const env = { PLATFORM_FS_ROOT: root, PLATFORM_LOG_DIR: logDir, PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  const workstation = { root, logDir, env, bootstrapPublicKey: join(home, ".ssh", "platform_bootstrap.pub") };
  const serving = (): boolean => tryRun("curl", ["-sk", "--max-time", "2", `https://${net.workstationIp}:${CHEF_ZERO_PORT}/`], { netns: net.workstationNetns }).status === 0;
  if (!waitForSync(serving, 60)) throw new Error(`chef-zero did not answer on ${net.workstationIp}:${CHEF_ZERO_PORT} within 60 s (see ${logDir}/chef-zero.log)`);
  run("knife", ["ssl", "fetch", "--config", join(knifeDir, "config.rb")], { netns: net.workstationNetns, env });
  return workstation;
}

/** Uploads the cookbooks and the generated role with the workstation's own upload function. */
export function uploadChefRepo(config: PlatformConfig, net: PrivateNetwork, workstation: Workstation): void {
  stageChefRepo(config, net, workstation);
  const staging = join(workstation.root, "staging");
  // Where converge-nodes finds the workstation's user data, which re-uploads them.
  const userData = join(workstation.root, "var", "lib", "cloud", "instance");
  mkdirSync(userData, { recursive: true });
  writeFileSync(
    join(userData, "user-data.txt"),
    renderScript(
      "upload-chef-repo",
      { knifeConfig: "/home/ubuntu/chef-repo/.chef/config.rb", cookbooksArchive: join(staging, "cookbooks.tar.gz"), rolesJson: join(staging, "roles.json") },
      { templatesDir: join(GEMFILE_DIR, "templates") },
    ),
  );
  run("bash", [join(userData, "user-data.txt")], { netns: net.workstationNetns, env: workstation.env });
}

/**
 * Writes the cookbooks and the role generated from `config` where the workstation's upload step
 * reads them (the next converge uploads them). `zookeeper` adds settings a platform config cannot
 * express, for the checks that break a member on purpose.
 */
export function stageChefRepo(config: PlatformConfig, net: PrivateNetwork, workstation: Workstation, zookeeper: Record<string, unknown> = {}): void {
  const staging = join(workstation.root, "staging");
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, "cookbooks.tar.gz"), tarGz(COOKBOOKS_DIR));
  const role = kafkaNodeRole(config);
  // What a rehearsal changes in the role: the mirror it serves, and no Kafka (none can be fetched).
  const rehearsalRole = {
    ...role,
    override_attributes: {
      ...role.override_attributes,
      "zookeeper-cluster": { ...(role.override_attributes["zookeeper-cluster"] as object), mirrors: [`http://${net.workstationIp}:${MIRROR_PORT}`], ...zookeeper },
      "insight-kafka-cluster": { install_kafka: false },
    },
  };
  writeFileSync(join(staging, "roles.json"), JSON.stringify([rehearsalRole], null, 2));
}

export function runScript(script: string, name: string, net: PrivateNetwork, workstation: Workstation): string {
  const file = join(workstation.root, `${name}.sh`);
  writeFileSync(file, script);
  return run("bash", [file], { netns: net.workstationNetns, env: workstation.env, timeoutSeconds: 1200 });
}

export function runScriptAsync(script: string, name: string, net: PrivateNetwork, workstation: Workstation): Promise<{ status: number | null; output: string }> {
  const file = join(workstation.root, `${name}.sh`);
  writeFileSync(file, script);
  return runAsync("bash", [file], { netns: net.workstationNetns, env: workstation.env, timeoutSeconds: 1200 });
}

