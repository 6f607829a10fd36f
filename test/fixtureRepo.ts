import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { copyWorkingTree } from "./workingTreeCopy";

/** A fixed identity and dates: a fixture's commits are the same whoever runs the test. */
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "fixture",
  GIT_AUTHOR_EMAIL: "fixture@example.com",
  GIT_COMMITTER_NAME: "fixture",
  GIT_COMMITTER_EMAIL: "fixture@example.com",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
};

/** An edit of one file: its new text, a function of its old text, or null to delete it. */
export type Edit = string | ((text: string) => string) | null;

/**
 * A git repository in a temporary directory whose first commit is this checkout's working tree
 * (the code under test, uncommitted changes included), sharing its node_modules; later commits
 * are the changes a review is tried on.
 */
export class FixtureRepo {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "review-fixture-"));
    copyWorkingTree(this.dir);
    this.git("init", "--quiet", "--initial-branch=main");
    // The symlink is not a directory, so the checkout's `node_modules/` ignore rule misses it.
    writeFileSync(join(this.dir, ".git", "info", "exclude"), "node_modules\n");
    this.commit("base", {});
  }

  /** Applies the edits and commits them; returns the commit. */
  commit(message: string, edits: Readonly<Record<string, Edit>>): string {
    for (const [file, edit] of Object.entries(edits)) {
      const path = join(this.dir, file);
      if (edit === null) {
        rmSync(path);
        continue;
      }
      mkdirSync(dirname(path), { recursive: true });
      const text = typeof edit === "function" ? edit(readFileSync(path, "utf8")) : edit;
      if (typeof edit === "function" && text === readFileSync(path, "utf8")) throw new Error(`fixture edit of ${file} changed nothing`);
      writeFileSync(path, text);
    }
    this.git("add", "--all", "--", ".");
    this.git("commit", "--quiet", "--allow-empty", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  git(...args: string[]): string {
    return execFileSync("git", args, { cwd: this.dir, encoding: "utf8", env: GIT_ENV }).trim();
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
