import type { ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { containerCgroups, removeContainerCgroups } from "./containerCgroup";
import type { RehearsalNode } from "./privateNetwork";
import { start, waitForSync } from "./system";
import type { Teardown } from "./Teardown";

export interface NodeContainerProps {
  readonly node: RehearsalNode;
  /** The read-only root every node boots (nodeImage). */
  readonly image: string;
  /** Mounted read-only where the node's chef-client stand-in finds its bundle. */
  readonly gemfileDir: string;
  readonly bundleDir: string;
  readonly hostsFile: string;
  /** The NoCloud seed (meta-data, user-data) cloud-init boots this instance from (writeNoCloudSeed). */
  readonly seedDir: string;
  /**
   * Mounted as ubuntu's authorized_keys: the stand-in for the key lookup a Kafka node's user data
   * sets up (sshd asking SSM), since there is no SSM here. @default none (the workstation gets its
   * key pair's key from cloud-init)
   */
  readonly authorizedKey?: string;
  readonly logDir: string;
  /**
   * A host directory mounted read-write at VOLUME_MOUNT: the stand-in for the EBS volume a
   * replaced instance keeps (the root overlay is thrown away). @default none
   */
  readonly volumeDir?: string;
}

/** Where a node sees its kept volume (NodeContainerProps.volumeDir). */
export const VOLUME_MOUNT = "/data/zookeeper";

/** A running machine: a systemd-nspawn container booted with systemd as PID 1, cloud-init and sshd. */
export interface NodeContainer {
  readonly node: RehearsalNode;
  /** Powers the node off and waits for it; also what the teardown does. */
  stop(): void;
  /** The container's root file system as the host sees it (its init's /proc/<pid>/root): read without SSH. */
  root(): string;
}

/**
 * Boots one machine. Its root is the image behind a throwaway overlay, so every boot is a new
 * instance (new host keys, a first cloud-init run, nothing left from a previous one) at the
 * machine's fixed address.
 */
export function bootNodeContainer(props: NodeContainerProps, teardown: Teardown): NodeContainer {
  const { node } = props;
  const log = openSync(join(props.logDir, `${node.name}.console.log`), "a");
  const cgroups = containerCgroups(node.name);
  // systemd-nspawn joins the container's own cgroups first (exec keeps the process).
  const child: ChildProcess = start(
    "sh",
    [
      "-c",
      'for dir in $REHEARSAL_CGROUPS; do echo "$$" >"$dir/cgroup.procs"; done; exec systemd-nspawn "$@"',
      "systemd-nspawn",
      `--directory=${props.image}`,
      "--volatile=overlay",
      "--boot",
      "--register=no",
      "--keep-unit",
      `--machine=${node.name}`,
      `--hostname=${node.name}`,
      `--network-namespace-path=/run/netns/${node.netns}`,
      `--bind-ro=${props.gemfileDir}:/opt/rehearsal`,
      `--bind-ro=${props.bundleDir}:/opt/rehearsal-bundle`,
      `--bind-ro=${props.hostsFile}:/etc/hosts`,
      `--bind-ro=${props.seedDir}:/var/lib/cloud/seed/nocloud`,
      ...(props.authorizedKey === undefined ? [] : [`--bind-ro=${props.authorizedKey}:/home/ubuntu/.ssh/authorized_keys`]),
      ...(props.volumeDir === undefined ? [] : [`--bind=${props.volumeDir}:${VOLUME_MOUNT}`]),
      "--console=passive",
    ],
    log,
    { env: { REHEARSAL_CGROUPS: cgroups.join(" ") } },
  );
  closeSync(log);
  child.unref();
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    // SIGTERM asks systemd-nspawn to power the container off cleanly.
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, "SIGTERM");
      } catch {
        return;
      }
      const pid = child.pid;
      if (!waitForSync(() => !isRunning(pid), 30, 0.5)) process.kill(pid, "SIGKILL");
    }
    removeContainerCgroups(cgroups);
  };
  teardown.add(`container ${node.name}`, stop);
  // systemd-nspawn's one child is the container's init, whose root is the container's.
  const root = (): string => {
    const init = child.pid === undefined ? "" : readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/)[0];
    if (!init) throw new Error(`${node.name}: its container runs no init`);
    return `/proc/${init}/root`;
  };
  return { node, stop, root };
}

/** True while the process runs; an exited child not yet reaped counts as stopped. */
function isRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}
