/**
 * A `terraform` that records what the cdktf CLI asks of it and answers just enough for the CLI to
 * go on, so the README's cdktf commands can run without AWS. The test transpiles this file to
 * plain JavaScript and puts it first on PATH as `terraform`.
 *
 * Each call appends one JSON line to $TERRAFORM_STANDIN_LOG: the arguments, the stack (the
 * working directory's name), the TF_VAR_* values it received, when it started and ended, and
 * the verdict on the variables. Variables are judged by the real Terraform when
 * $TERRAFORM_STANDIN_REAL names it: a configuration holding only the stack's variable blocks
 * (with their validations) is planned with the same -var/-var-file arguments and environment,
 * so Terraform itself refuses an undeclared -var, a missing value or a value its validation
 * rejects. Without it, the same three rules are applied here.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";

/** One line of the stand-in's log. */
export interface StandInCall {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly stack: string;
  /** TF_VAR_<name> values in the environment, by name. */
  readonly tfVars: Readonly<Record<string, string>>;
  /** Names given with -var on the command line. */
  readonly cliVars: readonly string[];
  /** Epoch milliseconds, fractional. */
  readonly start: number;
  readonly end: number;
  readonly exitCode: number;
  /** Who judged the variables: "terraform" (the real binary) or "rule"; absent when not judged. */
  readonly variablesJudgedBy?: "terraform" | "rule";
  readonly message?: string;
}

interface StackJson {
  readonly variable?: Record<string, { readonly default?: unknown }>;
  readonly output?: Record<string, { readonly sensitive?: boolean }>;
}

const now = (): number => performance.timeOrigin + performance.now();
const start = now();
const args = process.argv.slice(2);
const cwd = process.cwd();
const stackFile = join(cwd, "cdk.tf.json");
const stack: StackJson = existsSync(stackFile) ? (JSON.parse(readFileSync(stackFile, "utf8")) as StackJson) : {};
const tfVars = Object.fromEntries(
  Object.entries(process.env)
    .filter(([name]) => name.startsWith("TF_VAR_"))
    .map(([name, value]) => [name.slice("TF_VAR_".length), value ?? ""]),
);

/** The -var and -var-file arguments, in both of Terraform's spellings, kept as Terraform would receive them. */
function variableArguments(): { readonly forward: string[]; readonly cliVars: string[] } {
  const forward: string[] = [];
  const cliVars: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const flag = /^--?(var|var-file)(?:=(.*))?$/.exec(arg);
    if (!flag) continue;
    const value = flag[2] ?? args[++i] ?? "";
    forward.push(`-${flag[1]}=${value}`);
    if (flag[1] === "var") cliVars.push(value.split("=")[0]);
  }
  return { forward, cliVars };
}

/** Terraform's own verdict on the variables this call would give the stack. */
function judgeWithTerraform(terraform: string, forward: readonly string[]): { ok: boolean; message: string } {
  const dir = mkdtempSync(join(tmpdir(), "standin-vars-"));
  try {
    const variables = stack.variable ?? {};
    writeFileSync(join(dir, "main.tf.json"), JSON.stringify(Object.keys(variables).length > 0 ? { variable: variables } : {}));
    const plan = spawnSync(terraform, ["plan", "-input=false", "-no-color", "-refresh=false", ...forward], { cwd: dir, env: process.env, encoding: "utf8" });
    const text = `${plan.stdout}${plan.stderr}`;
    const message = text.includes("Error:") ? text.slice(text.indexOf("Error:")).trim() : "";
    return { ok: plan.status === 0, message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same rules, for a machine without Terraform: an undeclared -var is refused, and a variable without a default needs a value. */
function judgeByRule(cliVars: readonly string[]): { ok: boolean; message: string } {
  const declared = stack.variable ?? {};
  const undeclared = cliVars.filter((name) => !(name in declared));
  if (undeclared.length > 0) return { ok: false, message: `Error: Value for undeclared variable: A variable named "${undeclared[0]}" was assigned on the command line, but the root module does not declare a variable of that name.` };
  const missing = Object.entries(declared).filter(([name, block]) => block.default === undefined && !cliVars.includes(name) && !(name in tfVars));
  if (missing.length > 0) return { ok: false, message: `Error: No value for required variable: The root module input variable "${missing[0][0]}" is not set, and has no default value.` };
  return { ok: true, message: "" };
}

function answer(): { exitCode: number; stdout: string; judgedBy?: "terraform" | "rule"; message?: string; cliVars: string[] } {
  const [command] = args;
  const { forward, cliVars } = variableArguments();
  if (command === "version" && args.includes("-json")) return { exitCode: 0, stdout: `${JSON.stringify({ terraform_version: "1.11.4", platform: "linux_amd64", provider_selections: {}, terraform_outdated: false })}\n`, cliVars };
  if (command === "-v" || command === "version" || command === "-version") return { exitCode: 0, stdout: "Terraform v1.11.4\non linux_amd64\n", cliVars };
  if (command === "init") return { exitCode: 0, stdout: "Terraform has been successfully initialized!\n", cliVars };
  if (command === "providers" && args[1] === "lock") return { exitCode: 0, stdout: "Success! Terraform has updated the lock file.\n", cliVars };
  if (command === "output" && args.includes("-json")) {
    const outputs = Object.fromEntries(
      Object.entries(stack.output ?? {}).map(([name, block]) => [name, { sensitive: block.sensitive ?? false, type: "string", value: `standin-${basename(cwd)}-${name}` }]),
    );
    return { exitCode: 0, stdout: `${JSON.stringify(outputs)}\n`, cliVars };
  }
  if (command === "plan" || command === "apply" || command === "destroy") {
    const real = process.env.TERRAFORM_STANDIN_REAL;
    const judgedBy = real ? "terraform" : "rule";
    const verdict = real ? judgeWithTerraform(real, forward) : judgeByRule(cliVars);
    if (!verdict.ok) return { exitCode: 1, stdout: `${verdict.message}\n`, judgedBy, message: verdict.message, cliVars };
    const done = { plan: "No changes. Your infrastructure matches the configuration.", apply: "Apply complete! Resources: 0 added, 0 changed, 0 destroyed.", destroy: "Destroy complete! Resources: 0 destroyed." }[command];
    return { exitCode: 0, stdout: `${done}\n`, judgedBy, cliVars };
  }
  const message = `terraform stand-in: no answer for: terraform ${args.join(" ")}`;
  return { exitCode: 1, stdout: `${message}\n`, message, cliVars };
}

const result = answer();
process.stdout.write(result.stdout);
const call: StandInCall = {
  args,
  cwd,
  stack: basename(cwd),
  tfVars,
  cliVars: result.cliVars,
  start,
  end: now(),
  exitCode: result.exitCode,
  ...(result.judgedBy ? { variablesJudgedBy: result.judgedBy } : {}),
  ...(result.message ? { message: result.message } : {}),
};
const log = process.env.TERRAFORM_STANDIN_LOG;
if (log) appendFileSync(log, `${JSON.stringify(call)}\n`);
process.exitCode = result.exitCode;
