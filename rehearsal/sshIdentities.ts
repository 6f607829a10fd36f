import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderScript } from "../constructs/renderScript";
import { SPARK_JOBS_KEY_FILE, SPARK_JOBS_USER } from "../constructs/sparkJobsIdentity";
import type { PlatformConfig } from "../config/PlatformConfig";
import type { Checks } from "./Checks";
import type { PrivateNetwork, RehearsalNode } from "./privateNetwork";
import { tryRun } from "./system";
import { deployerSsh, GEMFILE_DIR, pinnedSshFromWorkstation, sshOptions, type Workstation } from "./workstationSide";

/** Where the stand-in for SSM keeps the parameters on the node, and the file that makes it unreachable. */
const SSM_FILE = "/etc/platform-rehearsal/ssm.json";
const SSM_DOWN = "/etc/platform-rehearsal/ssm-unreachable";

/**
 * boto3 and botocore as far as the key lookup uses them (an SSM client's get_parameters, a
 * Config), answering from SSM_FILE, which only root writes; an exception while SSM_DOWN exists,
 * as a lost endpoint raises one.
 */
const STAND_IN_MODULES: Readonly<Record<string, string>> = {
  "boto3/__init__.py": [
    '"""The rehearsal\'s stand-in for boto3\'s SSM client."""',
    "import json, os",
    "",
    "class _Ssm:",
    "    def get_parameters(self, Names):",
    `        if os.path.exists(${JSON.stringify(SSM_DOWN)}):`,
    '            raise ConnectionError("the rehearsal\'s SSM is unreachable")',
    `        with open(${JSON.stringify(SSM_FILE)}) as held:`,
    "            values = json.load(held)",
    '        return {"Parameters": [{"Name": name, "Value": values[name]} for name in Names if name in values]}',
    "",
    "def client(service, region_name=None, config=None):",
    '    if service != "ssm":',
    "        raise ValueError(service)",
    "    return _Ssm()",
    "",
  ].join("\n"),
  "botocore/__init__.py": "",
  "botocore/config.py": "class Config:\n    def __init__(self, **settings):\n        self.settings = settings\n",
};
/** A directory on Debian's python3 path, whatever its minor version. */
const MODULES_DIR = "/usr/lib/python3/dist-packages";

export interface SshIdentityState {
  readonly config: PlatformConfig;
  readonly net: PrivateNetwork;
  readonly workstation: Workstation;
}

/**
 * The workstation's two identities through the platform's key lookups and a real sshd, on one
 * node: the partial's accept_ssh_key (the bootstrap key for ubuntu) and accept_jobs_key (the
 * Spark master's jobs user), against a stand-in for SSM holding what the workstation and
 * Terraform publish. The rehearsal's nodes carry no Spark; the functions and sshd are what is shown.
 */
export async function runSshIdentityChecks(checks: Checks, state: SshIdentityState): Promise<void> {
  const { config, net, workstation } = state;
  const node: RehearsalNode = net.nodes[net.nodes.length - 1];
  /** A command's standard output alone (sudo and ssh may warn on stderr); fails when it does. */
  const stdoutOf = (args: string[], input?: string): string => {
    const result = tryRun("ssh", args, { netns: net.hostNetns, timeoutSeconds: 120, input });
    if (result.status !== 0) throw new Error(`ssh ${args.slice(-1)[0]} exited ${result.status}: ${result.output.trim().split("\n").slice(-6).join(" ")}`);
    return result.stdout;
  };
  const asRoot = (command: string, input?: string): string =>
    stdoutOf([...sshOptions(workstation), `ubuntu@${node.ip}`, `sudo sh -c '${command}'`], input);
  const onWorkstation = (command: string): { status: number | null; output: string } =>
    tryRun("ssh", [...deployerSsh(workstation), command], { netns: net.hostNetns, timeoutSeconds: 60 });
  /** From the workstation, with its pinned host keys, as the pipeline's commands log in. */
  const fromWorkstation = (key: string, user: string, command: string): { status: number | null; output: string } =>
    onWorkstation(`${pinnedSshFromWorkstation(key, user, node.ip, command)} 2>&1`);

  await checks.check(
    `SSH identities on ${node.name}, through the partial's key lookups and sshd: the jobs key logs in as ${SPARK_JOBS_USER} (spark group, no sudo) from the workstation only, never as ubuntu; the bootstrap key never as ${SPARK_JOBS_USER}; a lost SSM answers with the key read last`,
    () => {
      const made = onWorkstation(`test -f .ssh/${SPARK_JOBS_KEY_FILE} || ssh-keygen -q -t ed25519 -N '' -C ${SPARK_JOBS_KEY_FILE}@rehearsal -f .ssh/${SPARK_JOBS_KEY_FILE}`);
      if (made.status !== 0) throw new Error(`the workstation did not make its jobs key: ${made.output.trim()}`);
      const parameterPath = `/${config.project}/${config.environment}/chef`;
      const parameters = { bootstrapKey: `${parameterPath}/bootstrap-public-key`, jobsKey: `${parameterPath}/jobs-public-key`, source: `${parameterPath}/bootstrap-key-source` };
      const published = {
        [parameters.bootstrapKey]: readFileSync(workstation.bootstrapPublicKey, "utf8").trim(),
        [parameters.jobsKey]: stdoutOf([...deployerSsh(workstation), `cat .ssh/${SPARK_JOBS_KEY_FILE}.pub`]).trim(),
        [parameters.source]: workstation.ip,
      };
      if (asRoot(`test -e ${MODULES_DIR}/boto3 && echo present || true`).trim() === "present") throw new Error(`${node.name} has a boto3 of its own in ${MODULES_DIR}; the stand-in would replace it`);
      for (const [file, text] of Object.entries(STAND_IN_MODULES)) asRoot(`install -D -m 0644 /dev/stdin ${MODULES_DIR}/${file}`, text);
      asRoot(`install -D -m 0644 /dev/stdin ${SSM_FILE}`, JSON.stringify(published));
      const script = renderScript(
        "ssh-identities",
        { region: config.region, acceptBootstrapKeyFrom: parameters.bootstrapKey, bootstrapKeySource: parameters.source, acceptJobsKeyFrom: parameters.jobsKey, jobsUser: SPARK_JOBS_USER },
        { templatesDir: join(GEMFILE_DIR, "templates") },
      );
      asRoot("install -m 0700 /dev/stdin /root/ssh-identities.sh", script);
      asRoot("bash /root/ssh-identities.sh");

      const lookup = asRoot("runuser -u platform-keys -- /usr/local/sbin/platform-bootstrap-key ubuntu").trim();
      if (lookup !== `from="${workstation.ip}" ${published[parameters.bootstrapKey]}`) throw new Error(`ubuntu's lookup answered: ${lookup}`);
      const jobs = fromWorkstation(SPARK_JOBS_KEY_FILE, SPARK_JOBS_USER, "id -un; id -nG; sudo -n true 2>/dev/null && echo sudo || echo no-sudo");
      const [user, groups, sudo] = jobs.output.trim().split("\n");
      if (jobs.status !== 0 || user !== SPARK_JOBS_USER) throw new Error(`the jobs key did not log in as ${SPARK_JOBS_USER} from the workstation (exit ${jobs.status}): ${jobs.output.trim()}`);
      if (!groups.split(" ").includes("spark") || groups.split(" ").includes("sudo")) throw new Error(`${SPARK_JOBS_USER}'s groups: ${groups}`);
      if (sudo !== "no-sudo") throw new Error(`${SPARK_JOBS_USER} may use sudo`);
      const refused = (what: string, result: { status: number | null; output: string }): void => {
        if (result.status === 0 || !result.output.includes("Permission denied (publickey")) throw new Error(`${what} was not refused (exit ${result.status}): ${result.output.trim()}`);
      };
      refused("the jobs key as ubuntu", fromWorkstation(SPARK_JOBS_KEY_FILE, "ubuntu", "true"));
      refused(`the bootstrap key as ${SPARK_JOBS_USER}`, fromWorkstation("platform_bootstrap", SPARK_JOBS_USER, "true"));
      // The same key from another address (the host's side of the bridge): from= refuses it. The
      // host's copy is removed once tried.
      const copyDir = mkdtempSync(join(tmpdir(), "platform-rehearsal-jobs-key-"));
      const hostCopy = join(copyDir, SPARK_JOBS_KEY_FILE);
      let fromHost: { status: number | null; output: string };
      try {
        writeFileSync(hostCopy, stdoutOf([...deployerSsh(workstation), `cat .ssh/${SPARK_JOBS_KEY_FILE}`]), { mode: 0o600 });
        fromHost = tryRun("ssh", [...sshOptions(workstation, hostCopy), `${SPARK_JOBS_USER}@${node.ip}`, "true"], { netns: net.hostNetns, timeoutSeconds: 60 });
      } finally {
        rmSync(copyDir, { recursive: true, force: true });
      }
      refused(`the jobs key from ${net.hostIp}`, fromHost);
      asRoot(`touch ${SSM_DOWN}`);
      try {
        const cached = fromWorkstation(SPARK_JOBS_KEY_FILE, SPARK_JOBS_USER, "id -un");
        if (cached.status !== 0) throw new Error(`with SSM unreachable the jobs key did not log in (exit ${cached.status}): ${cached.output.trim()}`);
      } finally {
        asRoot(`rm -f ${SSM_DOWN}`);
      }
      return `${SPARK_JOBS_USER} in ${groups.split(" ").filter((group) => group !== SPARK_JOBS_USER).join(" ")}, no sudo; refused: the jobs key as ubuntu, the bootstrap key as ${SPARK_JOBS_USER}, the jobs key from ${net.hostIp}; with SSM lost the kept answer logs in`;
    },
  );
}
