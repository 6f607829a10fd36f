/**
 * Which Node.js releases can run this project's cdktf CLI. The CLI (0.21) starts Terraform through
 * a native terminal module, @cdktf/node-pty-prebuilt-multiarch, and loads it at start-up for every
 * command, synth included. That module ships compiled builds per platform and per Node ABI and
 * nothing else: on a Node whose ABI has no build there, every cdktf command dies with
 * "Cannot find module '../build/Release/pty.node'". package.json's `engines` (enforced by
 * `.npmrc`'s engine-strict at `npm ci`) names the releases; this module checks a runtime against
 * the builds actually installed, so the two can be compared by a test and cannot drift apart.
 *
 *   npx tsx scripts/nodeSupport.ts    # prints why this Node cannot run the CLI, or nothing
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { platform, arch } from "node:os";
import { dirname, join } from "node:path";

/** The facts about a Node runtime that decide whether the terminal module loads. */
export interface NodeRuntime {
  /** As `process.version`, e.g. "v22.13.0". */
  readonly version: string;
  /** As `process.versions.modules`, e.g. "127". */
  readonly abi: string;
  /** As `os.platform()`. */
  readonly platform: string;
  /** As `os.arch()`. */
  readonly arch: string;
  /** Linux with musl libc (Alpine), whose builds are separate files. */
  readonly musl: boolean;
}

/** The running Node. */
export function currentRuntime(): NodeRuntime {
  return { version: process.version, abi: process.versions.modules, platform: platform(), arch: arch(), musl: platform() === "linux" && existsSync("/etc/alpine-release") };
}

/** The installed terminal module's directory of compiled builds. */
export function installedPrebuildsDir(): string {
  return join(dirname(require.resolve("@cdktf/node-pty-prebuilt-multiarch/package.json")), "prebuilds");
}

/** The path the terminal module would load on this runtime (its own naming), or undefined when it has no build for it. */
export function terminalModuleBuild(runtime: NodeRuntime, prebuildsDir: string): string | undefined {
  const dir = join(prebuildsDir, `${runtime.platform}-${runtime.arch}`);
  const path =
    runtime.platform === "win32"
      ? join(dir, `abi${runtime.abi}`, "build", "Release", "pty.node")
      : join(dir, `node.abi${runtime.abi}${runtime.musl ? ".musl" : ""}.node`);
  return existsSync(path) ? path : undefined;
}

/** The ABIs the terminal module has builds for on a platform, ascending. */
export function prebuiltAbis(platformName: string, archName: string, musl: boolean, prebuildsDir: string): number[] {
  const dir = join(prebuildsDir, `${platformName}-${archName}`);
  if (!existsSync(dir)) return [];
  const pattern = platformName === "win32" ? /^abi(\d+)$/ : musl ? /^node\.abi(\d+)\.musl\.node$/ : /^node\.abi(\d+)\.node$/;
  return readdirSync(dir)
    .map((name) => pattern.exec(name)?.[1])
    .filter((abi): abi is string => abi !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The major versions an `engines.node` range of the form "^20.17.0 || ^22.13.0" admits, with each one's minimum. */
export function admittedReleases(engines: string): { readonly major: number; readonly minimum: string }[] {
  return engines.split("||").map((part) => {
    const match = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(part);
    if (!match) throw new Error(`engines.node "${engines}": write it as caret ranges joined by ||, e.g. ^20.17.0 || ^22.13.0`);
    return { major: Number(match[1]), minimum: `${match[1]}.${match[2]}.${match[3]}` };
  });
}

/** One line saying why this runtime cannot run the cdktf CLI, or undefined when it can. */
export function nodeSupportProblem(runtime: NodeRuntime, engines: string, prebuildsDir: string): string | undefined {
  const [major, minor, patch] = runtime.version.replace(/^v/, "").split(".").map(Number);
  const release = admittedReleases(engines).find((candidate) => candidate.major === major);
  const [, minMinor, minPatch] = (release?.minimum ?? "0.0.0").split(".").map(Number);
  if (!release || minor < minMinor || (minor === minMinor && patch < minPatch)) {
    return `Node.js ${runtime.version} is not supported: use ${engines} (package.json engines; .nvmrc names the default, e.g. nvm install && nvm use)`;
  }
  if (!terminalModuleBuild(runtime, prebuildsDir)) {
    const abis = prebuiltAbis(runtime.platform, runtime.arch, runtime.musl, prebuildsDir);
    return (
      `Node.js ${runtime.version} (ABI ${runtime.abi}) on ${runtime.platform}-${runtime.arch}${runtime.musl ? " (musl)" : ""}: the cdktf CLI's terminal module ` +
      `(@cdktf/node-pty-prebuilt-multiarch) has no build for it, so no cdktf command can start; it has builds for ABI ${abis.join(", ") || "none"} here`
    );
  }
  return undefined;
}

/** Exits 1 with the problem when this Node cannot run the cdktf CLI; a few file reads, so the app runs it on every direct synth. */
export function checkNodeSupport(): void {
  const engines = (JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
  const problem = nodeSupportProblem(currentRuntime(), engines, installedPrebuildsDir());
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}

if (require.main === module) checkNodeSupport();
