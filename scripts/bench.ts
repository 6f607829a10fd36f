/**
 * Synth benchmark (a script, not a test): runs the app process as `cdktf synth` would, several
 * times per size, and prints the median wall time and peak memory of the app process.
 *
 *   npm run bench                # 5 runs per size
 *   npm run bench -- --runs 9
 *
 * Targets on a 2-core machine: default size <= 1.5 s and <= 300 MB; large sizes <= 3 s.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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

function runOnce(flags: readonly string[]): { seconds: number; peakMb: number } {
  const outdir = mkdtempSync(join(tmpdir(), "platform-bench-"));
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ["--require", "./scripts/reportPeakMemory.cjs", "--import", "tsx", "main.ts", ...flags], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(outdir, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`synth failed (exit ${result.status}):\n${result.stderr}`);
  const peak = /PEAK_RSS_KB=(\d+)/.exec(result.stderr);
  if (!peak) throw new Error("the app did not report its peak memory");
  return { seconds, peakMb: Number(peak[1]) / 1024 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 5;

runOnce([]); // warm the file system cache and tsx's transform cache
for (const size of SIZES) {
  const samples = Array.from({ length: runs }, () => runOnce(size.flags));
  const seconds = median(samples.map((s) => s.seconds));
  const peakMb = median(samples.map((s) => s.peakMb));
  console.log(`${size.name.padEnd(Math.max(...SIZES.map((each) => each.name.length)))} runs=${runs} median wall ${seconds.toFixed(2)} s  median peak RSS ${peakMb.toFixed(0)} MB`);
}
