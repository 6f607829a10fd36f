import { spawn, spawnSync, type ChildProcess } from "node:child_process";

/** Thrown when a command the rehearsal runs fails; says which and shows its output's tail. */
export class CommandError extends Error {}

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec`). */
  readonly netns?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  /** Seconds before the command is killed. @default 600 */
  readonly timeoutSeconds?: number;
}

function argvFor(command: string, args: readonly string[], options: RunOptions): [string, string[]] {
  return options.netns ? ["ip", ["netns", "exec", options.netns, command, ...args]] : [command, [...args]];
}

/** Runs a command to its end; throws a CommandError naming it when it fails. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): string {
  const result = tryRun(command, args, options);
  if (result.status !== 0) {
    throw new CommandError(`${command} ${args.join(" ")} exited ${result.status ?? "on a signal"}:\n${failureTail(result.output)}`);
  }
  return result.output;
}

/** The last lines of a failed command's output, for its error message. */
export function failureTail(output: string): string {
  return output.trim().split("\n").slice(-15).join("\n");
}

/** Runs a command to its end and returns its status and output (stdout then stderr; stdout alone too), whatever they are. */
export function tryRun(command: string, args: readonly string[], options: RunOptions = {}): { status: number | null; output: string; stdout: string } {
  const [file, argv] = argvFor(command, args, options);
  const result = spawnSync(file, argv, {
    encoding: "utf8",
    input: options.input,
    env: { ...process.env, ...options.env },
    timeout: (options.timeoutSeconds ?? 600) * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}`, stdout: result.stdout ?? "" };
}

/** Starts a long-running command in the background; its output goes to `logFile`'s descriptor. */
export function start(command: string, args: readonly string[], logFd: number, options: RunOptions = {}): ChildProcess {
  const [file, argv] = argvFor(command, args, options);
  return spawn(file, argv, { env: { ...process.env, ...options.env }, stdio: ["ignore", logFd, logFd], detached: true });
}

/** Process groups of the commands runAsync is running; the teardown stops what is left of them. */
export const runningGroups = new Set<number>();

export interface RunAsyncOptions extends RunOptions {
  /** Ends the command early: its whole group is killed, and it resolves as when it ends. */
  readonly signal?: AbortSignal;
}

/**
 * Runs a command in the background, in a process group of its own, and resolves with its status
 * and all of its output when it ends (stdout and stderr as they came; stdout alone too). On
 * timeout or abort the whole group is killed (knife, ssh and all), not only the command itself.
 */
export function runAsync(command: string, args: readonly string[], options: RunAsyncOptions = {}): Promise<{ status: number | null; output: string; stdout: string }> {
  const [file, argv] = argvFor(command, args, options);
  return new Promise((resolve) => {
    const child = spawn(file, argv, { env: { ...process.env, ...options.env }, detached: true });
    const group = child.pid;
    if (group !== undefined) runningGroups.add(group);
    let output = "";
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    options.signal?.addEventListener("abort", () => killGroup(group), { once: true });
    const timer = setTimeout(() => killGroup(group), (options.timeoutSeconds ?? 600) * 1000);
    let exitStatus: number | null = null;
    let straggler: NodeJS.Timeout | undefined;
    child.on("exit", (status) => {
      exitStatus = status;
      // The script's tee may still be writing its last lines: wait for the output to close, and
      // kill only what still holds it open (an ssh left behind, say) after a grace period.
      straggler = setTimeout(() => killGroup(group), 10_000);
    });
    child.on("close", () => {
      clearTimeout(timer);
      clearTimeout(straggler);
      if (group !== undefined) runningGroups.delete(group);
      resolve({ status: exitStatus, output, stdout });
    });
  });
}

/** SIGKILL to a process group, if it still exists. */
export function killGroup(group: number | undefined): void {
  if (group === undefined) return;
  try {
    process.kill(-group, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** waitFor for code that cannot await (setup and teardown): blocks between checks. */
export function waitForSync(ready: () => boolean, seconds: number, intervalSeconds = 1): boolean {
  const deadline = Date.now() + seconds * 1000;
  while (!ready()) {
    if (Date.now() >= deadline) return false;
    tryRun("sleep", [String(intervalSeconds)]);
  }
  return true;
}

/** Waits until `ready()` is true, checking every `intervalMs`; false when `seconds` pass first. */
export async function waitFor(ready: () => boolean, seconds: number, intervalMs = 1000): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (ready()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
