import { spawn } from "node:child_process";
import type { SampleTimes } from "./leaderClaims";
import type { PrivateNetwork } from "./privateNetwork";
import { killGroup, runningGroups, tryRun } from "./system";

/**
 * Python that asks every member given on its command line for `srvr`, all at once, and keeps its
 * Mode in `modes`: "down" when nothing answers, "not serving" when it runs without a quorum.
 * Members asked one after another can show an old leader read just before it stopped beside the
 * leader elected after it.
 */
const ASK_ALL = [
  "import json, re, socket, sys, threading, time",
  "def ask(ip, modes):",
  "    try:",
  "        s = socket.create_connection((ip, 2181), timeout=3)",
  "    except OSError:",
  "        modes[ip] = 'down'",
  "        return",
  "    try:",
  "        s.sendall(b'srvr')",
  "        answer = s.makefile().read()",
  "    except OSError:",
  "        answer = ''",
  "    found = re.search(r'^Mode: (\\w+)', answer, re.M)",
  "    modes[ip] = found.group(1) if found else 'not serving'",
  "def ask_all():",
  "    modes = {}",
  "    threads = [threading.Thread(target=ask, args=(ip, modes)) for ip in sys.argv[1:]]",
  "    for thread in threads: thread.start()",
  "    for thread in threads: thread.join()",
  "    return modes",
].join("\n");

/** Every member's Mode, asked at once. */
export function memberModes(net: PrivateNetwork, ips: readonly string[]): Map<string, string> {
  const asked = tryRun("python3", ["-c", `${ASK_ALL}\nmodes = ask_all()\nfor ip in sys.argv[1:]: print(ip, modes[ip])`, ...ips], { netns: net.hostNetns, timeoutSeconds: 15 });
  const answered = new Map(asked.stdout.split("\n").flatMap((line) => {
    const [ip, ...mode] = line.trim().split(" ");
    return ip && mode.length > 0 ? [[ip, mode.join(" ")] as [string, string]] : [];
  }));
  return new Map(ips.map((ip) => [ip, answered.get(ip) ?? "not serving"]));
}

/** A watch of the members, stopped by `stop`, which resolves with every sample taken. */
export interface MemberWatch extends SampleTimes {
  stop(): Promise<Array<Map<string, string>>>;
}

/**
 * Samples every member's mode twice a second until stopped, in one process for the whole watch
 * (a process per sample cost more CPU than the converges it watched). The times are monotonic
 * seconds, Python's and the clock systemd's *TimestampMonotonic properties read alike, shared
 * with the containers.
 */
export function watchMembers(net: PrivateNetwork, ips: readonly string[]): MemberWatch {
  const loop = [
    ASK_ALL,
    "while True:",
    "    started = time.monotonic()",
    "    modes = ask_all()",
    "    print(json.dumps([started, time.monotonic(), modes]), flush=True)",
    "    time.sleep(max(0.0, started + 0.5 - time.monotonic()))",
  ].join("\n");
  // A group of its own, which the teardown kills should a check fail before stopping it.
  const child = spawn("ip", ["netns", "exec", net.hostNetns, "python3", "-c", loop, ...ips], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  const group = child.pid;
  if (group !== undefined) runningGroups.add(group);
  const samples: Array<Map<string, string>> = [];
  const startedAt: number[] = [];
  const takenAt: number[] = [];
  let pending = "";
  let errors = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const [started, taken, modes] = JSON.parse(line) as [number, number, Record<string, string>];
      startedAt.push(started);
      takenAt.push(taken);
      samples.push(new Map(ips.map((ip) => [ip, modes[ip] ?? "not serving"])));
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const closed = new Promise<void>((resolve) =>
    child.on("close", () => {
      if (group !== undefined) runningGroups.delete(group);
      resolve();
    }),
  );
  return {
    startedAt,
    takenAt,
    stop: async () => {
      killGroup(group);
      await closed;
      if (samples.length === 0) throw new Error(`the members' watch took no sample: ${errors.trim().split("\n").slice(-3).join(" ")}`);
      return samples;
    },
  };
}
