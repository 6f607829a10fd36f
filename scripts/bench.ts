/**
 * Benchmark of what users type (a script, not a test), side by side in one run so the machine's
 * load is shared alike: each round runs every command once, in turn, and the medians are printed.
 *
 *   npm run bench                  # 5 rounds; the review and the sizes 3 runs each
 *   npm run bench -- --runs 9
 *
 * 1. `npm run synth` against the app alone (`node --import tsx main.ts`, the floor), and
 *    `npx cdktf synth` (the CLI around the same app), each writing its own out dir; the ratio of
 *    `npm run synth` to the app is the cost of the npm wrapper.
 * 2. `npm run review -- --base HEAD~30`. A base that imports a package the working tree no longer
 *    installs cannot be synthesized (the review says so): then the bench says so too, and times
 *    the review from the farthest of HEAD~25, HEAD~20 ... HEAD~5 that it can synthesize.
 * 3. The app's wall time and peak memory at three sizes.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..");

interface Size {
  readonly name: string;
  readonly flags: readonly string[];
}

const LARGE_NETWORK = [
  "--network.azCount", "6",
  "--network.natGateways", "perAz",
  "--network.publicSubnetCidrs", "10.0.0.0/24,10.0.1.0/24,10.0.2.0/24,10.0.3.0/24,10.0.4.0/24,10.0.5.0/24",
  "--network.privateSubnetCidrs", "10.0.16.0/20,10.0.32.0/20,10.0.48.0/20,10.0.64.0/20,10.0.80.0/20,10.0.96.0/20",
];

/**
 * The large sizes: six AZs with a NAT gateway each, 100 Spark workers and 31 Kafka brokers, with
 * a 5-member ZooKeeper ensemble or, in KRaft mode, 3 dedicated controllers.
 */
const SIZES: readonly Size[] = [
  { name: "default", flags: [] },
  { name: "large", flags: [...LARGE_NETWORK, "--kafka.nodes", "31", "--kafka.zookeeperNodes", "5", "--spark.workers", "100"] },
  {
    name: "large-kraft",
    flags: [...LARGE_NETWORK, "--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true", "--kafka.nodes", "31", "--spark.workers", "100"],
  },
];

/** Runs a command line in the project with a fresh out dir; returns its wall time and the app's peak memory when it reports one. */
function timed(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { seconds: number; peakMb?: number } {
  const outdir = mkdtempSync(join(tmpdir(), "platform-bench-"));
  const started = process.hrtime.bigint();
  const result = spawnSync(command, [...args.map((arg) => arg.replace("$OUTDIR", outdir))], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(outdir, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status}):\n${result.stderr}`);
  const peak = /PEAK_RSS_KB=(\d+)/.exec(result.stderr);
  return { seconds, ...(peak ? { peakMb: Number(peak[1]) / 1024 } : {}) };
}

const app = (flags: readonly string[] = []) => timed(process.execPath, ["--require", "./scripts/reportPeakMemory.cjs", "--import", "tsx", "main.ts", ...flags]);
const npmSynth = () => timed("npm", ["run", "--silent", "synth"]);
const cdktfSynth = () => timed("npx", ["cdktf", "synth", "--output", "$OUTDIR"]);
const review = (base: string) => timed("npm", ["run", "--silent", "review", "--", "--base", base]);

/** The farthest base from HEAD~30 down that the review can synthesize, with the first sample; notes why nearer ones were tried. */
function reviewBase(): { base: string; first: { seconds: number } } | undefined {
  for (const distance of [30, 25, 20, 15, 10, 5]) {
    const base = `HEAD~${distance}`;
    try {
      return { base, first: review(base) };
    } catch (error) {
      const reason = /review: (.*)/.exec((error as Error).message)?.[1] ?? (error as Error).message.split("\n")[0];
      console.log(`npm run review -- --base ${base}: cannot be reviewed here: ${reason}`);
    }
  }
  return undefined;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 5;
const slowRuns = Math.max(1, Math.ceil(runs / 2));
const line = (label: string, text: string) => console.log(`${label.padEnd(34)} ${text}`);
const secondsOf = (samples: readonly { seconds: number }[]) => `median ${median(samples.map((s) => s.seconds)).toFixed(2)} s`;

console.log(`load average at start: ${loadavg().map((load) => load.toFixed(2)).join(" ")} (${runs} rounds)`);
app(); // warm the file system cache and tsx's transform cache

const rounds = Array.from({ length: runs }, () => ({ app: app(), npm: npmSynth(), cli: cdktfSynth() }));
const ratios = rounds.map((round) => round.npm.seconds / round.app.seconds);
line("node --import tsx main.ts (app)", secondsOf(rounds.map((round) => round.app)));
line("npm run synth", `${secondsOf(rounds.map((round) => round.npm))}  ratio to the app: median ${median(ratios).toFixed(2)}x`);
line("npx cdktf synth", `${secondsOf(rounds.map((round) => round.cli))}  ratio to the app: median ${median(rounds.map((round) => round.cli.seconds / round.app.seconds)).toFixed(2)}x`);

const reviewable = reviewBase();
if (reviewable) {
  const { base, first } = reviewable;
  line(`npm run review -- --base ${base}`, `${secondsOf([first, ...Array.from({ length: slowRuns - 1 }, () => review(base))])}  (${slowRuns} runs)`);
}

for (const size of SIZES) {
  const samples = Array.from({ length: size.flags.length === 0 ? runs : slowRuns }, () => app(size.flags));
  line(`app, ${size.name} size`, `${secondsOf(samples)}  median peak RSS ${median(samples.map((s) => s.peakMb ?? 0)).toFixed(0)} MB  (${samples.length} runs)`);
}
console.log(`load average at end: ${loadavg().map((load) => load.toFixed(2)).join(" ")}`);
