import { execFileSync } from "node:child_process";
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
  const base = withWorktree(repo, commit, (dir) => synthesizeCheckout(dir, appArgs));
  const head = synthesizeWorkingTree(appArgs, options.env ?? process.env);
  const dirty = git(repo, "status", "--porcelain") !== "";
  const baseLabel = commit.startsWith(options.base) ? commit.slice(0, 7) : `${options.base} (${commit.slice(0, 7)})`;
  return compare(base, head, baseLabel, `working tree (${git(repo, "rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes" : ""})`);
}

/** The review of two synths already at hand. */
export function compare(base: SynthesizedPlatform, head: SynthesizedPlatform, baseLabel: string, headLabel: string): Review {
  const { resources, stacks } = diffPlatforms(base, head);
  return { base: baseLabel, head: headLabel, findings: findingsOf(resources, stacks), resources, stacks };
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
