/**
 * The README's cdktf deploy, diff, destroy and output commands, taken from README.md itself and
 * run as written by the real cdktf CLI (npx cdktf, its synth, its terminal module) against a
 * terraform stand-in (terraformStandIn.ts) that records every call. A README edit that breaks a
 * command fails here. The stand-in asks the real Terraform, when it is on PATH, whether it
 * accepts the variables each stack is given.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { copyWorkingTree } from "../workingTreeCopy";
import { installTerraformStandIn } from "./installTerraformStandIn";
import type { StandInCall } from "./terraformStandIn";

const ROOT = join(__dirname, "..", "..");
/** README.md and every page under docs/: the documentation an operator copies commands from. */
const DOC_FILES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];
const DOCS = new Map(DOC_FILES.map((file): [string, string] => [file, readFileSync(join(ROOT, file), "utf8")]));
const README = [...DOCS.values()].join("\n");
/** Other places that tell the operator a cdktf command to run. */
const HINT_FILES = ["pipeline/writeConfig.ts", "pipeline/pipelineConfig.ts"];
const VERBS = ["deploy", "diff", "destroy", "output"] as const;
type Verb = (typeof VERBS)[number];
const COMMAND = new RegExp(`(?:CHECKPOINT_DISABLE=1 )?npx cdktf (?:${VERBS.join("|")})\\b[^\`\\n]*`, "g");

interface Documented {
  readonly command: string;
  readonly verb: Verb;
  readonly stacks: readonly string[];
  readonly flags: readonly string[];
  readonly sources: string[];
}

interface Run {
  readonly status: number | null;
  readonly output: string;
  readonly calls: StandInCall[];
  readonly seconds: number;
}

function parse(command: string): Omit<Documented, "sources"> {
  const words = command.replace(/^CHECKPOINT_DISABLE=1 /, "").split(/\s+/).slice(2);
  const verb = words[0] as Verb;
  const rest = words.slice(1);
  const flags: string[] = [];
  const stacks: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i].startsWith("-")) {
      flags.push(rest[i]);
      if (["--outputs-file", "--var", "--var-file"].includes(rest[i])) flags.push(rest[++i]);
    } else stacks.push(rest[i]);
  }
  return { command, verb, stacks, flags };
}

/** Every cdktf command the README and the hint files document, each once (the CHECKPOINT_DISABLE=1 prefix aside). */
function documentedCommands(): Documented[] {
  const found = new Map<string, Documented>();
  const texts: [string, string][] = [...DOCS.entries(), ...HINT_FILES.map((file): [string, string] => [file, readFileSync(join(ROOT, file), "utf8")])];
  for (const [source, text] of texts) {
    for (const match of text.matchAll(COMMAND)) {
      const command = match[0].trim();
      const key = command.replace(/^CHECKPOINT_DISABLE=1 /, "");
      const known = found.get(key);
      if (known) {
        if (!known.sources.includes(source)) known.sources.push(source);
        if (command.startsWith("CHECKPOINT_DISABLE=1 ") && !known.command.startsWith("CHECKPOINT_DISABLE=1 ")) found.set(key, { ...parse(command), sources: known.sources });
      } else found.set(key, { ...parse(command), sources: [source] });
    }
  }
  return [...found.values()];
}

/** The `export TF_VAR_...` lines of the README's "Deploying from a laptop", as an operator pastes them. */
const DEPLOY_PAGE = DOCS.get("docs/deploy.md")!;
const DEPLOYING = DEPLOY_PAGE.slice(DEPLOY_PAGE.indexOf("## Deploying from a laptop"), DEPLOY_PAGE.indexOf("\n## ", DEPLOY_PAGE.indexOf("## Deploying from a laptop") + 1));
const operatorExports = DEPLOYING.split("\n")
  .map((line) => line.trim())
  .filter((line) => /^export TF_VAR_\w+=/.test(line));

interface Manifest {
  readonly stacks: Record<string, { readonly dependencies: string[] }>;
}
interface StackJson {
  readonly variable?: Record<string, unknown>;
  readonly output?: Record<string, { readonly sensitive?: boolean }>;
}

let sandbox = "";
let project = "";
let env: NodeJS.ProcessEnv = {};
const realTerraform = (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "terraform")).find((path) => existsSync(path));
const documented = documentedCommands();
const runs = new Map<string, Run>();
let manifest: Manifest = { stacks: {} };
const stackJson = (stack: string): StackJson => JSON.parse(readFileSync(join(project, "cdktf.out", "stacks", stack, "cdk.tf.json"), "utf8")) as StackJson;
const declared = (stack: string): string[] => Object.keys(stackJson(stack).variable ?? {});

/** Runs a command line as an operator would, after the README's exports, in the project copy. */
function run(command: string): Run {
  const log = join(sandbox, `calls-${runs.size}-${Date.now()}.jsonl`);
  const started = Date.now();
  const result = spawnSync("bash", ["-c", [...operatorExports, command].join("\n")], {
    cwd: project,
    env: { ...env, TERRAFORM_STANDIN_LOG: log },
    encoding: "utf8",
    timeout: 300_000,
  });
  const calls = existsSync(log)
    ? readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as StandInCall)
    : [];
  return { status: result.status, output: `${result.stdout}${result.stderr}`, calls, seconds: (Date.now() - started) / 1000 };
}

/** The call that does a verb's work in one stack. */
function isMainCall(verb: Verb, call: StandInCall): boolean {
  const [command] = call.args;
  return { deploy: command === "apply", destroy: command === "destroy", diff: command === "plan", output: command === "output" }[verb];
}

beforeAll(() => {
  sandbox = mkdtempSync(join(tmpdir(), "readme-commands-"));
  project = join(sandbox, "project");
  copyWorkingTree(project);

  const bin = join(sandbox, "bin");
  mkdirSync(bin);
  installTerraformStandIn(bin);
  // The README's admin_cidr line asks checkip.amazonaws.com for the operator's address.
  writeFileSync(join(bin, "curl"), "#!/usr/bin/env bash\necho 203.0.113.7\n");
  chmodSync(join(bin, "curl"), 0o755);

  const home = join(sandbox, "home");
  mkdirSync(join(home, ".ssh"), { recursive: true });
  writeFileSync(join(home, ".ssh", "platform.pem"), "stand-in for the operator's private key\n", { mode: 0o600 });

  env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TF_VAR_") && name !== "TERRAFORM_BINARY_NAME"));
  env = { ...env, PATH: `${bin}${delimiter}${process.env.PATH}`, HOME: home, CHECKPOINT_DISABLE: "1", ...(realTerraform ? { TERRAFORM_STANDIN_REAL: realTerraform } : {}) };

  for (const entry of documented) runs.set(entry.command, run(entry.command));
  manifest = JSON.parse(readFileSync(join(project, "cdktf.out", "manifest.json"), "utf8")) as Manifest;
});

afterAll(() => {
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

const find = (verb: Verb, stacks: readonly string[]): Documented | undefined =>
  documented.find((entry) => entry.verb === verb && entry.stacks.length === stacks.length && stacks.every((stack) => entry.stacks.includes(stack)));
const ALL = ["network", "storage", "chef", "spark", "kafka", "monitoring"];

describe("the README's cdktf commands, run by the cdktf CLI against a recording terraform", () => {
  it("documents a deploy of every stack, a deploy of chef alone, a diff, a destroy of every stack and an output, each on one line", () => {
    expect(find("deploy", ALL)).toBeDefined();
    expect(find("deploy", ["chef"])).toBeDefined();
    expect(documented.some((entry) => entry.verb === "diff")).toBe(true);
    expect(find("destroy", ALL)).toBeDefined();
    expect(documented.some((entry) => entry.verb === "output")).toBe(true);
    // A placeholder such as <stack> cannot run as written.
    expect(documented.filter((entry) => /[<>]/.test(entry.command)).map((entry) => `${entry.sources.join(", ")}: ${entry.command}`)).toEqual([]);
    // A code span that wraps a line would be cut here and run short: every README command ends its span.
    for (const entry of documented.filter((candidate) => candidate.sources.some((source) => DOCS.has(source)))) {
      expect({ command: entry.command, closed: README.includes(`${entry.command}\``) || README.includes(`${entry.command}\n`) }).toEqual({ command: entry.command, closed: true });
      expect(entry.command.startsWith("CHECKPOINT_DISABLE=1 ")).toBe(true);
    }
  });

  it("exports a TF_VAR_ value for every variable any stack declares", () => {
    const exported = operatorExports.map((line) => /^export TF_VAR_(\w+)=/.exec(line)![1]).sort();
    expect(exported).toEqual([...new Set(Object.keys(manifest.stacks).flatMap(declared))].sort());
  });

  describe.each(documented.map((entry) => [entry.command, entry] as const))("%s", (_command, entry) => {
    const result = (): Run => runs.get(entry.command)!;

    it("exits 0", () => {
      expect({ status: result().status, output: result().status === 0 ? "" : result().output.slice(-3000) }).toEqual({ status: 0, output: "" });
    });

    it("runs terraform's step for exactly the stacks it names, once each", () => {
      const stacks = result().calls.filter((call) => isMainCall(entry.verb, call)).map((call) => call.stack);
      expect([...stacks].sort()).toEqual([...entry.stacks].sort());
    });

    it("gives each stack a value for every variable it declares, and none for a variable it does not", () => {
      if (entry.verb === "output") return;
      for (const call of result().calls.filter((candidate) => isMainCall(entry.verb, candidate))) {
        const names = declared(call.stack);
        expect({ stack: call.stack, undeclaredOnCommandLine: call.cliVars.filter((name) => !names.includes(name)) }).toEqual({ stack: call.stack, undeclaredOnCommandLine: [] });
        expect({ stack: call.stack, missing: names.filter((name) => !(name in call.tfVars) && !call.cliVars.includes(name)) }).toEqual({ stack: call.stack, missing: [] });
        expect({ stack: call.stack, judgedBy: call.variablesJudgedBy, accepted: call.exitCode === 0 }).toEqual({ stack: call.stack, judgedBy: realTerraform ? "terraform" : "rule", accepted: true });
      }
    });

    it("initializes each stack against the project's provider lock: no -upgrade, no `terraform providers lock` from the registry", () => {
      const inits = result().calls.filter((call) => ["init", "providers"].includes(call.args[0]));
      if (entry.verb !== "output") expect(inits.filter((call) => call.args[0] === "init").map((call) => call.stack).sort()).toEqual([...entry.stacks].sort());
      for (const call of inits) expect({ stack: call.stack, args: call.args.filter((arg) => arg === "-upgrade" || arg === "providers" || arg === "lock") }).toEqual({ stack: call.stack, args: [] });
    });

    it("starts each stack only after the stacks it must follow have finished", () => {
      if (entry.verb !== "deploy" && entry.verb !== "destroy") return;
      const main = result().calls.filter((call) => isMainCall(entry.verb, call));
      for (const call of main) {
        const before =
          entry.verb === "deploy"
            ? manifest.stacks[call.stack].dependencies
            : Object.entries(manifest.stacks)
                .filter(([, stack]) => stack.dependencies.includes(call.stack))
                .map(([name]) => name);
        for (const other of main.filter((candidate) => before.includes(candidate.stack))) {
          expect({ stack: call.stack, after: other.stack, inOrder: call.start >= other.end }).toEqual({ stack: call.stack, after: other.stack, inOrder: true });
        }
      }
    });
  });

  it("deploy chef --ignore-missing-stack-dependencies applies chef alone, with admin_cidr and key_pair_name delivered to it", () => {
    const entry = find("deploy", ["chef"])!;
    expect(entry.flags).toContain("--ignore-missing-stack-dependencies");
    const applies = runs.get(entry.command)!.calls.filter((call) => call.args[0] === "apply");
    expect(applies.map((call) => call.stack)).toEqual(["chef"]);
    expect(applies[0].tfVars).toMatchObject({ admin_cidr: "203.0.113.7/32", key_pair_name: "platform" });
  });

  it("deploy of every stack gives kafka the deployer key's path, which exists (Terraform's validation)", () => {
    const kafka = runs.get(find("deploy", ALL)!.command)!.calls.find((call) => call.args[0] === "apply" && call.stack === "kafka")!;
    expect(kafka.tfVars.deployer_private_key_path).toBe(join(env.HOME!, ".ssh", "platform.pem"));
    expect(kafka.exitCode).toBe(0);
  });

  it("destroy takes monitoring first, then kafka, and network and storage last", () => {
    const order = runs
      .get(find("destroy", ALL)!.command)!
      .calls.filter((call) => call.args[0] === "destroy")
      .sort((a, b) => a.start - b.start)
      .map((call) => call.stack);
    expect(order.slice(0, 2)).toEqual(["monitoring", "kafka"]);
    expect(order.slice(4).sort()).toEqual(["network", "storage"]);
  });

  it("the outputs file holds every output the README reads from it", () => {
    const entry = documented.find((candidate) => candidate.verb === "output" && candidate.sources.includes("docs/pipeline.md"))!;
    expect(runs.get(entry.command)!.status).toBe(0);
    const file = entry.flags[entry.flags.indexOf("--outputs-file") + 1];
    const outputs = JSON.parse(readFileSync(join(project, file), "utf8")) as Record<string, Record<string, unknown>>;
    expect(Object.keys(outputs).sort()).toEqual([...entry.stacks].sort());
    const reads = [...README.matchAll(/require\("\.\/outputs\.json"\)\.(\w+)\.(\w+)/g)].map((match) => [match[1], match[2]]);
    expect(reads.length).toBeGreaterThan(0);
    for (const [stack, name] of reads) expect({ stack, name, value: outputs[stack]?.[name] }).toEqual({ stack, name, value: `standin-${stack}-${name}` });
  });
});

describe("what the harness catches (the commands the README documented before)", () => {
  it("deploying chef alone without the flag is refused by the CLI before any apply", () => {
    const result = run("CHECKPOINT_DISABLE=1 npx cdktf deploy chef --var admin_cidr=203.0.113.7/32");
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("The following dependencies are not included in the stacks to run: network, storage");
    expect(result.calls.filter((call) => call.args[0] === "apply")).toEqual([]);
  });

  it("--var on a deploy of every stack is refused by Terraform in a stack that does not declare it", () => {
    const result = run("CHECKPOINT_DISABLE=1 npx cdktf deploy network storage chef spark kafka --var admin_cidr=203.0.113.7/32");
    expect(result.status).not.toBe(0);
    // network and storage start together; the CLI stops the rest once one fails.
    const refused = result.calls.filter((call) => call.args[0] === "apply" && call.exitCode !== 0);
    expect(refused.length).toBeGreaterThan(0);
    for (const call of refused) {
      expect(["network", "storage"]).toContain(call.stack);
      expect(call.message).toContain('A variable named "admin_cidr" was assigned on the command line');
    }
    expect(result.calls.some((call) => call.args[0] === "apply" && call.stack === "chef")).toBe(false);
  });
});

afterAll(() => {
  const timings = [...runs.entries()].map(([command, result]) => `${result.seconds.toFixed(1)} s  ${command}`);
  process.stdout.write(`README commands (terraform variables judged by ${realTerraform ? `the real ${realTerraform}` : "the stand-in's rule"}):\n${timings.join("\n")}\n`);
});
