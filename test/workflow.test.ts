import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..");
const WORKFLOW = readFileSync(join(ROOT, ".github", "workflows", "platform-review.yml"), "utf8");
/** GitHub's own workflow parser, run as the script users run (it is an ES module, which jest cannot load). */
const validate = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "scripts/validateWorkflows.ts", ...args], { cwd: ROOT, encoding: "utf8" });
/** The lines of one job, from its key to the next job's. */
const job = (name: string): string => {
  const start = WORKFLOW.indexOf(`\n  ${name}:\n`);
  const next = WORKFLOW.slice(start + 1).search(/\n {2}[a-z-]+:\n/);
  return next < 0 ? WORKFLOW.slice(start) : WORKFLOW.slice(start, start + 1 + next);
};

describe("the CI workflow users copy", () => {
  it("passes GitHub's own workflow parser", () => {
    const result = validate();
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("1 workflow(s), 0 problem(s)");
    expect(result.status).toBe(0);
  });

  it("is checked by a validator that does catch mistakes", () => {
    const dir = mkdtempSync(join(tmpdir(), "workflows-"));
    writeFileSync(join(dir, "broken.yml"), "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    env:\n      KEY: ${{ runner.temp }}/key\n    steps:\n      - rn: npm test\n");
    const result = validate(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("broken.yml (Line: 6, Col: 12): Unrecognized named-value: 'runner'");
    expect(result.stderr).toContain("Unexpected value 'rn'");
  });

  it("tests, reviews against the base branch, comments, and keeps cdktf.out, on every pull request", () => {
    expect(WORKFLOW).toMatch(/^on:\n {2}pull_request:/m);
    const review = job("review");
    expect(review).toContain("fetch-depth: 0");
    expect(review).toContain("run: npm ci");
    // The README's test command.
    expect(review).toContain("run: npm test");
    expect(review).toContain('npm run --silent review -- --base "origin/${GITHUB_BASE_REF}" --markdown review.md --json review.json');
    expect(review).toContain('cat review.md >> "$GITHUB_STEP_SUMMARY"');
    expect(review).toMatch(/if: github\.event\.pull_request\.head\.repo\.full_name == github\.repository\n\s+uses: actions\/github-script@v\d+/);
    // One comment, updated on each push, never longer than GitHub accepts.
    expect(review).toContain('comment.user.type === "Bot" && comment.body && comment.body.startsWith(marker)');
    expect(review).toContain("const limit = 60000;");
    expect(review).toContain("cdktf.out/stacks/*/cdk.tf.json");
    // Terraform's own validate and mock-provider tests, from the registry's pinned provider, before the review.
    expect(review).toMatch(/uses: hashicorp\/setup-terraform@v\d+\n\s+with:\n\s+terraform_version: \d+\.\d+\.\d+\n\s+terraform_wrapper: false\n\n\s+- name: [^\n]+\n\s+run: npm run validate\n/);
    // Every job reviews, synthesizes and plans the config that is deployed, named by a variable.
    expect(WORKFLOW).toMatch(/^env:\n(?:  .*\n)*  PLATFORM_CONFIG: \$\{\{ vars\.PLATFORM_CONFIG \}\}\n/m);
  });

  it("grants the least it needs: read by default, comment rights to the review job, an OIDC token to the plan job only", () => {
    expect(WORKFLOW).toMatch(/^permissions:\n {2}contents: read\n/m);
    expect(job("review")).toContain("pull-requests: write");
    expect(job("review")).not.toContain("id-token");
    expect(job("plan")).toContain("id-token: write");
  });

  it("fails a step when any command in a pipe fails (bash -eo pipefail, not GitHub's default bash -e)", () => {
    expect(WORKFLOW).toMatch(/^defaults:\n {2}run:\n(?: {4}#.*\n)* {4}shell: bash\n/m);
  });

  it("keeps the terraform plan job off until the repository configures it, and away from forks", () => {
    const plan = job("plan");
    expect(plan).toContain("environment: platform-plan");
    expect(plan).toContain("if: vars.PLAN_ROLE_ARN != '' && github.event.pull_request.head.repo.full_name == github.repository");
    expect(plan).toContain("role-to-assume: ${{ vars.PLAN_ROLE_ARN }}");
    expect(plan).toContain("PLATFORM_STATE__BUCKET: ${{ vars.STATE_BUCKET }}");
    expect(plan).toContain("terraform plan -input=false -lock=false");
    expect(plan).toContain("for stack in network storage chef spark kafka; do");
  });

  it("keeps the plan job when the findings gate fails, replaces a stale review on failure, names the head, and holds credentials back", () => {
    // The gate is a job of its own reading the review's JSON: the plan job needs only the review.
    expect(job("gate")).toMatch(/needs: review\n\s+if: vars\.REVIEW_FAIL_ON != ''/);
    expect(job("gate")).toContain(".summary[$kind]");
    expect(job("review")).not.toContain("--fail-on");
    expect(job("plan")).toMatch(/needs: review\n/);
    expect(job("review")).toMatch(/if: failure\(\) && github\.event\.pull_request\.head\.repo\.full_name == github\.repository\n\s+uses: actions\/github-script@v\d+/);
    expect(job("review")).toContain("Platform review failed at ${context.payload.pull_request.head.sha}");
    expect(job("review")).toContain("Reviewed head: ${context.payload.pull_request.head.sha}");
    for (const name of ["review", "plan"]) expect(job(name)).toMatch(/uses: actions\/checkout@v\d+\n\s+with:\n(?:\s+#.*\n|\s+fetch-depth: 0\n)*\s+persist-credentials: false\n/);
    const plan = job("plan");
    expect(plan).toMatch(/uses: hashicorp\/setup-terraform@v\d+\n\s+with:\n\s+terraform_version: \d+\.\d+\.\d+\n/);
    // npm ci and the app are the pull request's code: they run before any AWS credential exists.
    expect(plan.indexOf("npm run synth")).toBeGreaterThan(0);
    expect(plan.indexOf("npm run synth")).toBeLessThan(plan.indexOf("aws-actions/configure-aws-credentials"));
  });

  it("pins every action to a major version", () => {
    const uses = WORKFLOW.match(/uses: \S+/g) ?? [];
    expect(uses.length).toBeGreaterThan(5);
    for (const use of uses) expect(use).toMatch(/^uses: [\w-]+\/[\w-]+@v\d+$/);
  });
});
