import type { SampleTimes } from "./leaderClaims";
import type { PrivateNetwork, RehearsalNode } from "./privateNetwork";
import { runAsync, tryRun } from "./system";

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
 * with the containers. The times are filled in when the watch stops.
 */
export function watchMembers(net: PrivateNetwork, members: readonly RehearsalNode[]): MemberWatch {
  const ips = members.map((node) => node.ip);
  const loop = [
    ASK_ALL,
    "while True:",
    "    started = time.monotonic()",
    "    modes = ask_all()",
    "    print(json.dumps([started, time.monotonic(), modes]), flush=True)",
    "    time.sleep(max(0.0, started + 0.5 - time.monotonic()))",
  ].join("\n");
  const stopped = new AbortController();
  // Killed by stop; the timeout only ends a watch a failed check never stopped.
  const watching = runAsync("python3", ["-c", loop, ...ips], { netns: net.hostNetns, timeoutSeconds: 3600, signal: stopped.signal });
  const startedAt: number[] = [];
  const takenAt: number[] = [];
  return {
    startedAt,
    takenAt,
    stop: async () => {
      stopped.abort();
      const { output, stdout } = await watching;
      // The last line may have been cut by the kill.
      const lines = stdout.split("\n").slice(0, -1);
      if (lines.length === 0) throw new Error(`the members' watch took no sample: ${output.trim().split("\n").slice(-3).join(" ")}`);
      return lines.map((line) => {
        const [started, taken, modes] = JSON.parse(line) as [number, number, Record<string, string>];
        startedAt.push(started);
        takenAt.push(taken);
        return new Map(ips.map((ip) => [ip, modes[ip] ?? "not serving"]));
      });
    },
  };
}
