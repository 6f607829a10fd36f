import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { renderMarkdown } from "../../review/renderReview";
import { runReview } from "../../review/runReview";

/**
 * `npm run review` itself: real git worktrees of this repository's own history, and the command
 * started as a process (seconds each, so in the slow tier).
 */
const ROOT = join(__dirname, "..", "..");

describe("npm run review", () => {
  it("compares this repository's HEAD with the working tree in seconds, through a real git worktree", () => {
    const started = Date.now();
    const found = runReview({ repo: ROOT, base: "HEAD", env: {} });
    expect(found.base).toMatch(/^HEAD \([0-9a-f]{7}\)$/);
    expect(Date.now() - started).toBeLessThan(30_000);
    // Whatever the working tree holds, the base synthesized every stack.
    expect(renderMarkdown(found)).toMatch(/^## Platform review: HEAD \([0-9a-f]{7}\) → working tree/);
  });

  it("says when the base had other dependencies, since both sides are built with the working tree's", () => {
    // aa781b2 made provisioner steps terraform_data but still installed the null and random providers.
    const found = runReview({ repo: ROOT, base: "aa781b2", env: {} });
    expect(found.notes).toEqual([expect.stringMatching(/^package-lock\.json differs from the base's/)]);
    expect(renderMarkdown(found)).toContain("> package-lock.json differs from the base's");
    // What changed since in access includes the Chef server's read of the bootstrap key (operators log in to it).
    const security = found.findings.filter((finding) => finding.kind === "security");
    expect(security.map((finding) => finding.path)).toContain("chef/server/policy-read-bootstrap-key");
  });

  it("says in one line which package a base imports that the working tree no longer installs", () => {
    // 8fac6c7 still imported the null provider, which terraform_data replaced.
    expect(() => runReview({ repo: ROOT, base: "8fac6c7", env: {} })).toThrow(/it imports @cdktf\/provider-null\/lib\/provider, which the working tree's node_modules no longer has/);
  });

  it("prints its options on --help and exits 0", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "review/review.ts", "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("--fail-on");
  });

  it("fails with one line for a ref that is not a commit", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "review/review.ts", "--base", "no-such-ref"], { cwd: ROOT, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("review: --base no-such-ref: not a commit in this repository (fetch it first, e.g. git fetch origin main)");
  });
});
