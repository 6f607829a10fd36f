import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The commit a ref names, or a one-line error saying the ref is not one. */
export function resolveCommit(repo: string, ref: string): string {
  try {
    return execFileSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: repo, encoding: "utf8" }).trim();
  } catch {
    throw new Error(`--base ${ref}: not a commit in this repository (fetch it first, e.g. git fetch origin main)`);
  }
}

/**
 * Runs `use` on a detached checkout of `commit` in a temporary git worktree, which shares this
 * repository's installed node_modules, and removes the worktree afterwards whatever happens.
 */
export function withWorktree<T>(repo: string, commit: string, use: (dir: string) => T): T {
  const parent = mkdtempSync(join(tmpdir(), "platform-base-"));
  const dir = join(parent, "checkout");
  try {
    execFileSync("git", ["worktree", "add", "--detach", "--quiet", dir, commit], { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
    const modules = join(repo, "node_modules");
    if (existsSync(modules)) symlinkSync(modules, join(dir, "node_modules"));
    return use(dir);
  } finally {
    // Cleanup never hides what went wrong above; prune forgets a worktree whose directory is gone.
    try {
      if (existsSync(dir)) execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: repo, stdio: "ignore" });
    } catch {
      // the directory goes below, and prune drops the registration
    }
    rmSync(parent, { recursive: true, force: true });
    try {
      execFileSync("git", ["worktree", "prune"], { cwd: repo, stdio: "ignore" });
    } catch {
      // nothing left to prune
    }
  }
}
