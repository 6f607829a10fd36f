import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { reviewOf, type Finding, type FindingKind } from "./findings";
import { resolveCommit, withWorktree } from "./gitWorktree";
import type { Review } from "./renderReview";
import { diffPlatforms } from "./resourceDiff";
import { synthesizeCheckout, type SynthesizedPlatform } from "./synthesizedPlatform";
import { synthesizeWorkingTree } from "./synthesizeWorkingTree";
import { PROJECT_CONFIG_FILE } from "../config/loadConfig";

/** The kinds of finding `--fail-on` accepts. */
export const FAIL_KINDS: readonly FindingKind[] = ["security", "replacement", "stop-start", "re-run", "data-loss"];

/** The environment variable naming the config file, as the app reads it. */
const CONFIG_FILE_ENV = "PLATFORM_CONFIG";
/** The repository this code lives in: its working tree is synthesized in this process. */
const OWN_ROOT = resolve(__dirname, "..");

export interface ReviewOptions {
  /** The repository (any directory inside it). */
  readonly repo: string;
  /** Git ref of the base, e.g. `origin/main` or `HEAD~5`. */
  readonly base: string;
  /** Git ref of the head. @default the working tree */
  readonly head?: string;
  /**
   * The platform config file (relative to `cwd`, or absolute). Each side reads its own copy: the
   * base the file as committed at the base, the head the file as it is at the head.
   * @default PLATFORM_CONFIG from `env`, else none (each side's own platform.config.json, or the defaults)
   */
  readonly configFile?: string;
  /** Config flags for both sides, e.g. `["--kafka.nodes", "5"]`. @default [] */
  readonly appArgs?: readonly string[];
  /** Environment of both synths (PLATFORM_* settings). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where a relative `configFile` is found. @default process.cwd() */
  readonly cwd?: string;
  /** Synths of commits already made, by commit and config; a review adds its own. @default none */
  readonly cache?: Map<string, SideSynth>;
}

/** One side's synth and which config it used. */
export interface SideSynth {
  readonly platform: SynthesizedPlatform;
  /** For the reader: `config/prod.json as in 1a2b3c4`, `the defaults`. */
  readonly config: string;
}

/** How one side was synthesized: its app arguments and, for the reader, which config it used. */
interface Side {
  readonly args: string[];
  readonly config: string;
}

/**
 * Synthesizes the base commit (its own code and its own config file, in a temporary worktree,
 * in a child process) and the head (the working tree, in this process when it is this
 * repository's; otherwise a commit or another checkout, like the base), and compares them.
 */
export function runReview(options: ReviewOptions): Review {
  const repo = git(options.repo, "rev-parse", "--show-toplevel");
  const commit = resolveCommit(repo, options.base);
  const headCommit = options.head === undefined ? undefined : resolveCommit(repo, options.head);
  const env = { ...(options.env ?? process.env) };
  // An empty value (an unset CI variable) names no file, as the app reads it.
  const configFile = options.configFile || env[CONFIG_FILE_ENV] || undefined;
  // The app would read PLATFORM_CONFIG as the same file for both sides: each side gets its own --config instead.
  delete env[CONFIG_FILE_ENV];
  const flags = options.appArgs ?? [];
  const configPath = configFile === undefined ? undefined : resolve(options.cwd ?? process.cwd(), configFile);
  const inRepo = configPath === undefined ? undefined : repoRelative(repo, configPath);

  const side = (dir: string, at: string): Side => {
    const extra = flags.length > 0 ? ` with ${flags.join(" ")}` : "";
    // Without a file named, the app reads the checkout's own platform.config.json when it has one.
    if (configPath === undefined) {
      return { args: [...flags], config: existsSync(join(dir, PROJECT_CONFIG_FILE)) ? `${PROJECT_CONFIG_FILE} as in ${at}${extra}` : `the defaults${extra}` };
    }
    if (inRepo === undefined) return { args: ["--config", configPath, ...flags], config: `${configFile} (outside the repository, the same file for both sides)${extra}` };
    const file = join(dir, inRepo);
    if (!existsSync(file)) return { args: [...flags], config: `the defaults (${inRepo} is not in ${at})${extra}` };
    return { args: ["--config", file, ...flags], config: `${inRepo} as in ${at}${extra}` };
  };
  const synthesizeCommit = (at: string, label: string): SideSynth => {
    const key = `${at} ${JSON.stringify([configFile, flags, envSettings(env)])}`;
    const hit = options.cache?.get(key);
    if (hit) return hit;
    const made = withWorktree(repo, at, (dir) => {
      const chosen = side(dir, label);
      return { platform: synthesizeCheckout(dir, chosen.args, env), config: chosen.config };
    });
    options.cache?.set(key, made);
    return made;
  };

  const baseLabel = commit.startsWith(options.base) ? commit.slice(0, 7) : `${options.base} (${commit.slice(0, 7)})`;
  const base = synthesizeCommit(commit, baseLabel);
  let head: SideSynth;
  let headLabel: string;
  if (headCommit !== undefined) {
    headLabel = headCommit.startsWith(String(options.head)) ? headCommit.slice(0, 7) : `${String(options.head)} (${headCommit.slice(0, 7)})`;
    head = synthesizeCommit(headCommit, headLabel);
  } else {
    const dirty = git(repo, "status", "--porcelain") !== "";
    headLabel = `working tree (${git(repo, "rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes" : ""})`;
    const chosen = side(repo, "the working tree");
    const platform = realpathSync(repo) === realpathSync(OWN_ROOT) ? synthesizeWorkingTree(chosen.args, env) : synthesizeCheckout(repo, chosen.args, env);
    head = { platform, config: chosen.config };
  }
  const notes: string[] = [];
  // The base is built with this checkout's node_modules: a dependency bump changes both sides alike.
  const headLock = headCommit === undefined ? readIfExists(join(repo, "package-lock.json")) : gitOrEmpty(repo, "show", `${headCommit}:package-lock.json`);
  if (gitOrEmpty(repo, "show", `${commit}:package-lock.json`) !== headLock) {
    notes.push("package-lock.json differs from the base's: both sides were synthesized with the working tree's dependencies, so what a dependency change alone does is not shown");
  }
  const review = compare(base.platform, head.platform, baseLabel, headLabel);
  return { ...review, notes, configs: { base: base.config, head: head.config } };
}

/** The review of two synths already at hand. */
export function compare(base: SynthesizedPlatform, head: SynthesizedPlatform, baseLabel: string, headLabel: string): Review {
  const { resources, stacks, moves } = diffPlatforms(base, head);
  const { findings, plan } = reviewOf(resources, stacks, base, head, moves);
  return { base: baseLabel, head: headLabel, findings, resources, stacks, plan };
}

/** The findings `--fail-on` fails on; refuses a kind it does not know. */
export function failingFindings(findings: readonly Finding[], failOn: readonly string[]): Finding[] {
  const unknown = failOn.filter((kind) => !FAIL_KINDS.includes(kind as FindingKind));
  if (unknown.length > 0) throw new Error(`--fail-on ${unknown.join(",")}: not one of ${FAIL_KINDS.join(", ")}`);
  return findings.filter((finding) => failOn.includes(finding.kind));
}

/** The path of a file inside the repository, or undefined when it lies outside. */
function repoRelative(repo: string, path: string): string | undefined {
  const inside = relative(realpathSync(repo), existsSync(path) ? realpathSync(path) : path);
  return inside === "" || inside.startsWith("..") || isAbsolute(inside) ? undefined : inside;
}

function envSettings(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith("PLATFORM_")).sort());
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

function gitOrEmpty(cwd: string, ...args: string[]): string {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return "";
  }
}

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}
