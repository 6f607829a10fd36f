import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findingsOf, type Finding, type FindingKind } from "./findings";
import { resolveCommit, withWorktree } from "./gitWorktree";
import type { Review } from "./renderReview";
import { diffPlatforms } from "./resourceDiff";
import { synthesizeCheckout, type SynthesizedPlatform } from "./synthesizedPlatform";
import { synthesizeWorkingTree } from "./synthesizeWorkingTree";

/** The kinds of finding `--fail-on` accepts. */
export const FAIL_KINDS: readonly FindingKind[] = ["security", "replacement", "data-loss"];

export interface ReviewOptions {
  /** The repository (any directory inside it). */
  readonly repo: string;
  /** Git ref of the base, e.g. `origin/main` or `HEAD~5`. */
  readonly base: string;
  /** App arguments for both synths, e.g. `["--config", "/abs/prod.json"]`. @default [] */
  readonly appArgs?: readonly string[];
  /** Environment of both synths (PLATFORM_* settings). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Synthesizes the base commit (its own code, in a temporary worktree, in a child process) and
 * the working tree (in this process), and compares them.
 */
export function runReview(options: ReviewOptions): Review {
  const repo = git(options.repo, "rev-parse", "--show-toplevel");
  const commit = resolveCommit(repo, options.base);
  const appArgs = options.appArgs ?? [];
  const env = options.env ?? process.env;
  const base = withWorktree(repo, commit, (dir) => synthesizeCheckout(dir, appArgs, env));
  const head = synthesizeWorkingTree(appArgs, env);
  const dirty = git(repo, "status", "--porcelain") !== "";
  const baseLabel = commit.startsWith(options.base) ? commit.slice(0, 7) : `${options.base} (${commit.slice(0, 7)})`;
  const notes: string[] = [];
  // The base is built with this checkout's node_modules: a dependency bump changes both sides alike.
  if (gitOrEmpty(repo, "show", `${commit}:package-lock.json`) !== readIfExists(join(repo, "package-lock.json"))) {
    notes.push("package-lock.json differs from the base's: both sides were synthesized with the working tree's dependencies, so what a dependency change alone does is not shown");
  }
  const review = compare(base, head, baseLabel, `working tree (${git(repo, "rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes" : ""})`);
  return { ...review, notes };
}

/** The review of two synths already at hand. */
export function compare(base: SynthesizedPlatform, head: SynthesizedPlatform, baseLabel: string, headLabel: string): Review {
  const { resources, stacks } = diffPlatforms(base, head);
  return { base: baseLabel, head: headLabel, findings: findingsOf(resources, stacks, base, head), resources, stacks };
}

/** The findings `--fail-on` fails on; refuses a kind it does not know. */
export function failingFindings(findings: readonly Finding[], failOn: readonly string[]): Finding[] {
  const unknown = failOn.filter((kind) => !FAIL_KINDS.includes(kind as FindingKind));
  if (unknown.length > 0) throw new Error(`--fail-on ${unknown.join(",")}: not one of ${FAIL_KINDS.join(", ")}`);
  return findings.filter((finding) => failOn.includes(finding.kind));
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
