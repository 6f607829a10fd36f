import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PLAN_ENVIRONMENT, PLAN_WORKFLOW, planRoleTrustPolicy } from "../review/planRolePolicy";
import { synthesizeWorkingTree } from "../review/synthesizeWorkingTree";

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
    // The README's full test command: every tier, the script tests too.
    expect(review).toContain("run: npm run test:all");
    expect(review).toContain('npm run --silent review -- --base "origin/${GITHUB_BASE_REF}" --markdown review.md --json review.json');
    expect(review).toContain('cat review.md >> "$GITHUB_STEP_SUMMARY"');
    expect(review).toMatch(/if: github\.event\.pull_request\.head\.repo\.full_name == github\.repository\n\s+uses: actions\/github-script@[0-9a-f]{40} # v[\d.]+/);
    // One comment, updated on each push, never longer than GitHub accepts.
    expect(review).toContain('comment.user.type === "Bot" && comment.body && comment.body.startsWith(marker)');
    expect(review).toContain("const limit = 60000;");
    expect(review).toContain("cdktf.out/stacks/*/cdk.tf.json");
    // Terraform's own validate and mock-provider tests, from the registry's pinned provider, before the review.
    expect(review).toMatch(/uses: hashicorp\/setup-terraform@[0-9a-f]{40} # v[\d.]+\n\s+with:\n\s+terraform_version: \d+\.\d+\.\d+\n\s+terraform_wrapper: false\n\n\s+- name: [^\n]+\n\s+run: npm run validate\n/);
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

  it("keeps the terraform plan jobs off until the repository configures them, and away from forks", () => {
    const plan = job("plan");
    for (const name of ["plan-synth", "plan"]) expect(job(name)).toContain("if: vars.PLAN_ROLE_ARN != '' && github.event.pull_request.head.repo.full_name == github.repository");
    expect(plan).toContain("environment: platform-plan");
    expect(plan).toContain("role-to-assume: ${{ vars.PLAN_ROLE_ARN }}");
    expect(job("plan-synth")).toContain("PLATFORM_STATE__BUCKET: ${{ vars.STATE_BUCKET }}");
    expect(plan).toContain("terraform plan -input=false -lock=false");
    expect(plan).toContain("for stack in network storage chef spark kafka monitoring; do");
  });

  it("keeps the plan job when the findings gate fails, replaces a stale review on failure, names the head, and holds credentials back", () => {
    // The gate is a job of its own reading the review's JSON: the plan job needs only the review.
    expect(job("gate")).toMatch(/needs: review\n\s+if: vars\.REVIEW_FAIL_ON != ''/);
    expect(job("gate")).toContain(".summary[$kind]");
    expect(job("review")).not.toContain("--fail-on");
    expect(job("plan")).toMatch(/needs: plan-synth\n/);
    // A timeout cancels the job: the stale review is replaced then too.
    expect(job("review")).toMatch(/if: \(failure\(\) \|\| cancelled\(\)\) && github\.event\.pull_request\.head\.repo\.full_name == github\.repository\n\s+uses: actions\/github-script@[0-9a-f]{40} # v[\d.]+/);
    expect(job("review")).toContain("Platform review failed at ${context.payload.pull_request.head.sha}");
    expect(job("review")).toContain("Reviewed head: ${context.payload.pull_request.head.sha}");
    for (const name of ["review", "plan-synth"]) expect(job(name)).toMatch(/uses: actions\/checkout@[0-9a-f]{40} # v[\d.]+\n\s+with:\n(?:\s+#.*\n|\s+fetch-depth: 0\n)*\s+persist-credentials: false\n/);
    expect(job("plan")).toMatch(/uses: hashicorp\/setup-terraform@[0-9a-f]{40} # v[\d.]+\n\s+with:\n\s+terraform_version: \d+\.\d+\.\d+\n/);
  });

  it("runs no code of the repository where AWS credentials or an OIDC token can be had", () => {
    // Every step of a job granted id-token may ask GitHub for a token and assume the role itself:
    // the pull request's code (npm's install scripts, the app's synth) runs in jobs without it.
    const jobs = [...WORKFLOW.slice(WORKFLOW.indexOf("\njobs:\n")).matchAll(/^ {2}([a-z-]+):\n {4}/gm)].map((match) => match[1]);
    expect(jobs).toEqual(["review", "gate", "plan-synth", "plan"]);
    for (const name of jobs) {
      const text = job(name);
      const runsRepositoryCode = /actions\/checkout@|\bnpm |\bnpx |\bnode |\btsx /.test(text);
      const canAssumeTheRole = /id-token: write|configure-aws-credentials/.test(text);
      expect({ name, both: runsRepositoryCode && canAssumeTheRole }).toEqual({ name, both: false });
    }
    expect(job("plan-synth")).toContain("npm ci\n          npm run synth");
    expect(job("plan-synth")).toMatch(/uses: actions\/upload-artifact@[0-9a-f]{40} # v[\d.]+\n\s+with:\n\s+name: plan-stacks\n/);
    const plan = job("plan");
    expect(plan).toMatch(/needs: plan-synth\n/);
    expect(plan).toMatch(/uses: actions\/download-artifact@[0-9a-f]{40} # v[\d.]+\n\s+with:\n\s+name: plan-stacks\n/);
    // In the plan job, the credentials come after every other step but Terraform's and the upload.
    const credentials = plan.indexOf("aws-actions/configure-aws-credentials");
    expect(credentials).toBeGreaterThan(plan.indexOf("name: Check the stacks use only"));
    expect(plan.slice(credentials)).not.toMatch(/uses: (?!actions\/upload-artifact@)/);
    expect(plan.slice(credentials).match(/^ {8}run: .*$/gm)?.map((line) => line.trim())).toEqual(["run: |"]);
  });

  /** The plan job's check of the synthesized JSON, run as the job runs it, in `dir`. */
  const guard = (dir: string) => {
    const text = job("plan");
    const start = text.indexOf("\n", text.indexOf("run: |", text.indexOf("name: Check the stacks use only"))) + 1;
    const script = text.slice(start, text.indexOf("exit \"$status\"", start) + 'exit "$status"'.length).replace(/^ {10}/gm, "");
    return spawnSync("bash", ["-eo", "pipefail", "-c", script], { cwd: dir, encoding: "utf8", env: { ...process.env, STATE_BUCKET: "acme-terraform-state" } });
  };

  it("checks, before the credentials, that the stacks' JSON reaches no other provider, backend or file", () => {
    const platform = synthesizeWorkingTree([], { PLATFORM_STATE__BUCKET: "acme-terraform-state" });
    const write = (stacks: Record<string, object>) => {
      const dir = mkdtempSync(join(tmpdir(), "plan-guard-"));
      for (const [name, stack] of Object.entries(stacks)) {
        mkdirSync(join(dir, "cdktf.out", "stacks", name), { recursive: true });
        writeFileSync(join(dir, "cdktf.out", "stacks", name, "cdk.tf.json"), JSON.stringify(stack));
      }
      return dir;
    };
    const passes = guard(write(platform));
    expect(passes.stdout + passes.stderr).toBe("");
    expect(passes.status).toBe(0);
    const chef = platform.chef;
    const tampered = {
      ...platform,
      chef: {
        ...chef,
        terraform: { ...chef.terraform, required_providers: { ...chef.terraform.required_providers, external: { source: "hashicorp/external" } } },
        data: { ...chef.data, external: { leak: { program: ["sh", "-c", "env"] } } },
        locals: {
          ...chef.locals,
          environ: "${base64encode(file(\"/proc/self/environ\"))}",
          // Terraform takes a space or a comment between a function's name and its parenthesis.
          spaced: "${file (\"/proc/self/environ\")}",
          commented: "${file /* x */ (\"/proc/self/environ\")}",
        },
        provider: { aws: [{ ...chef.provider.aws[0], endpoints: [{ sts: "https://collector.example" }] }] },
      },
    };
    const refused = guard(write(tampered));
    expect(refused.status).toBe(1);
    for (const problem of [
      "provider external from hashicorp/external",
      "data source type external",
      'reads the file "/proc/self/environ"',
      'calls a file function: ${file ("/proc/self/environ")',
      'calls a file function: ${file /* x */ ("/proc/self/environ")',
      "AWS provider setting endpoints",
    ]) {
      expect(refused.stdout).toContain(`::error file=cdktf.out/stacks/chef/cdk.tf.json::${problem}`);
    }
  });

  it("pins every action to a full commit SHA, with the release it is", () => {
    // A tag can be moved to other code; a commit cannot.
    const uses = WORKFLOW.match(/uses: .*/g) ?? [];
    expect(uses.length).toBeGreaterThan(5);
    for (const use of uses) expect(use).toMatch(/^uses: [\w-]+\/[\w-]+@[0-9a-f]{40} # v\d+(\.\d+){2}$/);
  });

  it("documents a trust policy that names this workflow's pull request runs as well as the environment", () => {
    const docs = readFileSync(join(ROOT, "docs", "ci-review.md"), "utf8");
    const block = /```json plan-role-trust\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(block).toBeDefined();
    const trust = JSON.parse(block ?? "{}");
    expect(trust).toEqual(planRoleTrustPolicy({ account: "111122223333", repository: "acme/platform" }));
    const condition = trust.Statement[0].Condition;
    expect(condition.StringLike["token.actions.githubusercontent.com:job_workflow_ref"]).toBe(`acme/platform/${PLAN_WORKFLOW}@refs/pull/*/merge`);
    expect(condition.StringEquals["token.actions.githubusercontent.com:sub"]).toBe(`repo:acme/platform:environment:${PLAN_ENVIRONMENT}`);
    // The names the trust policy uses are this workflow's.
    expect(WORKFLOW).toBe(readFileSync(join(ROOT, PLAN_WORKFLOW), "utf8"));
    expect(job("plan")).toContain(`environment: ${PLAN_ENVIRONMENT}\n`);
  });
});
