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
  const dir = join(mkdtempSync(join(tmpdir(), "platform-base-")), "checkout");
  execFileSync("git", ["worktree", "add", "--detach", "--quiet", dir, commit], { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
  try {
    const modules = join(repo, "node_modules");
    if (existsSync(modules)) symlinkSync(modules, join(dir, "node_modules"));
    return use(dir);
  } finally {
    execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: repo, stdio: "ignore" });
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
}
