import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Under each hierarchy's root: one directory per container the rehearsal boots. */
const PARENT = "platform-rehearsal";

let booted = 0;

/**
 * A cgroup of its own for one container, in every hierarchy its systemd manages: the named
 * `systemd` one and the unified one on a hybrid host, or the single cgroup2 one.
 *
 * systemd-nspawn runs with --keep-unit and --register=no (the rehearsal needs no systemd on the
 * host), so without this every container's systemd is handed the same cgroup, the caller's, and
 * each removes the others' unit cgroups as its own: a unit then fails to start with exit
 * 219/CGROUP ("Failed to attach to cgroup ... No such file or directory"). The nodes' Chef runs
 * met that through D-Bus, which waited 25 s for a systemd-hostnamed that never started, on
 * nearly every run; cloud-init's units met it at boot.
 *
 * Returns the directories the container's first process must join (none where the hierarchies
 * cannot be found or written: the container then shares the caller's, as before).
 */
export function containerCgroups(machine: string): string[] {
  booted += 1;
  const dirs: string[] = [];
  let mounts = "";
  try {
    mounts = readFileSync("/proc/self/mounts", "utf8");
  } catch {
    return [];
  }
  for (const root of managedHierarchies(mounts)) {
    const dir = join(root, PARENT, `${machine}.${process.pid}.${booted}`);
    try {
      mkdirSync(dir, { recursive: true });
      dirs.push(dir);
    } catch {
      // Read-only or not delegated to us: this hierarchy stays shared.
    }
  }
  return dirs;
}

/** Removes a stopped container's cgroups, deepest first; one still in use is left. */
export function removeContainerCgroups(dirs: readonly string[]): void {
  for (const dir of dirs) removeTree(dir);
}

function removeTree(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    try {
      if (statSync(path).isDirectory()) removeTree(path);
    } catch {
      // Gone already.
    }
  }
  try {
    rmdirSync(dir);
  } catch {
    // Still holds a process, or gone already.
  }
}

/** The mount points, in /proc/self/mounts, of the cgroup2 hierarchy and of v1's named systemd one. */
export function managedHierarchies(mounts: string): string[] {
  return mounts
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([, , type, options]) => type === "cgroup2" || (type === "cgroup" && (options ?? "").split(",").includes("name=systemd")))
    .map(([, mountPoint]) => mountPoint);
}
