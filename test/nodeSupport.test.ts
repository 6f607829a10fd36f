import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { admittedReleases, installedPrebuildsDir, nodeSupportProblem, prebuiltAbis, type NodeRuntime } from "../scripts/nodeSupport";

const ROOT = join(__dirname, "..");
const ENGINES = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
const PREBUILDS = installedPrebuildsDir();
/** Node's own table of release → native module ABI, as the terminal module's installer reads it. */
const ABI_BY_MAJOR = new Map(
  (JSON.parse(readFileSync(require.resolve("node-abi/abi_registry.json"), "utf8")) as { runtime: string; target: string; abi: string }[])
    .filter((entry) => entry.runtime === "node")
    .map((entry) => [Number(entry.target.split(".")[0]), Number(entry.abi)]),
);
const linuxX64 = (version: string, abi: string): NodeRuntime => ({ version, abi, platform: "linux", arch: "x64", musl: false });

/** Runs `npm ci` in a copy of the project's manifests with npm believing it runs on `version`. */
function npmCiAs(version: string, dryRun: boolean): { status: number | null; output: string; installed: boolean } {
  const dir = mkdtempSync(join(tmpdir(), "engine-check-"));
  for (const file of ["package.json", "package-lock.json", ".npmrc"]) copyFileSync(join(ROOT, file), join(dir, file));
  const fake = join(dir, "fake-node-version.cjs");
  writeFileSync(fake, `Object.defineProperty(process, "version", { value: ${JSON.stringify(version)} });\nObject.defineProperty(process.versions, "node", { value: ${JSON.stringify(version.slice(1))} });\n`);
  const run = spawnSync("npm", ["ci", "--ignore-scripts", "--offline", "--no-audit", "--no-fund", ...(dryRun ? ["--dry-run"] : [])], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: `--require ${fake}`, npm_config_update_notifier: "false" },
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}`, installed: existsSync(join(dir, "node_modules")) };
}

describe("supported Node.js releases", () => {
  it("engines admits a Node LTS line exactly when the cdktf CLI's terminal module ships a build for its ABI on x64 Linux", () => {
    const admitted = admittedReleases(ENGINES).map((release) => release.major);
    const built = new Set(prebuiltAbis("linux", "x64", false, PREBUILDS));
    const ltsLines = [...ABI_BY_MAJOR.keys()].filter((major) => major >= 20 && major % 2 === 0);
    for (const major of ltsLines) expect({ major, admitted: admitted.includes(major) }).toEqual({ major, admitted: built.has(ABI_BY_MAJOR.get(major)!) });
    expect(admitted).toEqual([20, 22]);
  });

  it(".nvmrc names an admitted release line", () => {
    const nvmrc = readFileSync(join(ROOT, ".nvmrc"), "utf8").trim();
    expect(admittedReleases(ENGINES).map((release) => String(release.major))).toContain(nvmrc);
  });

  it("npm ci refuses Node 24 before installing anything, naming the supported range", () => {
    const run = npmCiAs("v24.1.0", false);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("EBADENGINE");
    expect(run.output).toContain(`Required: {"node":"${ENGINES}"}`);
    expect(run.installed).toBe(false);
  });

  it("npm ci refuses a Node 20 older than what the dependencies need", () => {
    const minimum20 = admittedReleases(ENGINES).find((release) => release.major === 20)!.minimum;
    const [major, minor] = minimum20.split(".").map(Number);
    expect(npmCiAs(`v${major}.${minor - 1}.0`, true).output).toContain("EBADENGINE");
  });

  it("npm ci accepts the oldest admitted release of each line (no dependency asks for more)", () => {
    for (const release of admittedReleases(ENGINES)) {
      const run = npmCiAs(`v${release.minimum}`, true);
      expect({ version: release.minimum, status: run.status, badEngine: run.output.includes("EBADENGINE") }).toEqual({ version: release.minimum, status: 0, badEngine: false });
    }
  });

  it("the runtime check accepts Node 20 and 22 on x64 Linux and refuses Node 24 and a Node 20 older than engines", () => {
    expect(nodeSupportProblem(linuxX64("v22.13.0", "127"), ENGINES, PREBUILDS)).toBeUndefined();
    expect(nodeSupportProblem(linuxX64("v20.17.0", "115"), ENGINES, PREBUILDS)).toBeUndefined();
    expect(nodeSupportProblem(linuxX64("v24.1.0", "137"), ENGINES, PREBUILDS)).toBe(
      `Node.js v24.1.0 is not supported: use ${ENGINES} (package.json engines; .nvmrc names the default, e.g. nvm install && nvm use)`,
    );
    expect(nodeSupportProblem(linuxX64("v20.9.0", "115"), ENGINES, PREBUILDS)).toContain("Node.js v20.9.0 is not supported");
  });

  it("the runtime check refuses an admitted release on a platform without its build (Node 22 on arm64 Linux)", () => {
    expect(nodeSupportProblem({ version: "v22.13.0", abi: "127", platform: "linux", arch: "arm64", musl: false }, ENGINES, PREBUILDS)).toBe(
      "Node.js v22.13.0 (ABI 127) on linux-arm64: the cdktf CLI's terminal module (@cdktf/node-pty-prebuilt-multiarch) has no build for it, so no cdktf command can start; it has builds for ABI 102, 108, 111, 115 here",
    );
  });

  it("the running Node passes its own check (the one npm run synth makes first)", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(ROOT, "scripts", "nodeSupport.ts")], { encoding: "utf8" });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  });
});
