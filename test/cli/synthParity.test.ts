/**
 * `npm run synth` (the app run directly) writes what `cdktf synth` writes, file by file, and a
 * deploy through the real cdktf CLI refuses to deploy other than what was synthesized with flags.
 * Slow (the CLI starts in seconds), so it runs with `npm run test:cli`, not `npm test`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { copyWorkingTree } from "../workingTreeCopy";
import { installTerraformStandIn } from "./installTerraformStandIn";
import { SYNTH_RECORD_FILE } from "../../synth/synthRecord";
import type { StandInCall } from "./terraformStandIn";

let sandbox = "";
let project = "";
let env: NodeJS.ProcessEnv = {};

function run(command: string, extraEnv: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; output: string } {
  const result = spawnSync("bash", ["-c", command], { cwd: project, env: { ...env, ...extraEnv }, encoding: "utf8", timeout: 300_000 });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

/** Every file under `dir`, by path relative to it. */
function filesOf(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  };
  walk(dir);
  return files;
}

/** Synthesizes into cdktf.out with a stack directory the app does not write, and moves the result to `name`. */
function synthesize(command: string, name: string): { run: ReturnType<typeof run>; files: Map<string, string> } {
  rmSync(join(project, "cdktf.out"), { recursive: true, force: true });
  mkdirSync(join(project, "cdktf.out", "stacks", "retired"), { recursive: true });
  writeFileSync(join(project, "cdktf.out", "stacks", "retired", "cdk.tf.json"), "{}");
  const result = run(command);
  renameSync(join(project, "cdktf.out"), join(sandbox, name));
  return { run: result, files: filesOf(join(sandbox, name)) };
}

beforeAll(() => {
  sandbox = mkdtempSync(join(tmpdir(), "synth-parity-"));
  project = join(sandbox, "project");
  copyWorkingTree(project);
  const bin = join(sandbox, "bin");
  mkdirSync(bin);
  installTerraformStandIn(bin);
  env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TF_VAR_") && !name.startsWith("PLATFORM_") && !name.startsWith("CDKTF_")));
  env = { ...env, PATH: `${bin}${delimiter}${process.env.PATH}`, CHECKPOINT_DISABLE: "1" };
});

afterAll(() => {
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

describe("npm run synth and cdktf synth", () => {
  it("write the same files, byte for byte, from the project config file, and both drop a stack directory the app no longer writes", () => {
    writeFileSync(join(project, "platform.config.json"), JSON.stringify({ kafka: { mode: "kraft", nodes: 5 } }));
    try {
      const cli = synthesize("npx cdktf synth", "cli-out");
      const direct = synthesize("npm run --silent synth", "direct-out");
      expect(cli.run.status).toBe(0);
      expect(direct.run.status).toBe(0);
      expect([...direct.files.keys()].sort()).toEqual([...cli.files.keys()].sort());
      expect([...cli.files.keys()]).not.toContain(join("stacks", "retired", "cdk.tf.json"));
      for (const [path, text] of cli.files) {
        if (path === SYNTH_RECORD_FILE) continue;
        expect({ path, same: direct.files.get(path) === text }).toEqual({ path, same: true });
      }
      // The record differs only in who ran the app.
      const record = (files: Map<string, string>) => JSON.parse(files.get(SYNTH_RECORD_FILE)!) as Record<string, unknown>;
      expect({ ...record(direct.files), synthesizedBy: "" }).toEqual({ ...record(cli.files), synthesizedBy: "" });
      expect([record(cli.files).synthesizedBy, record(direct.files).synthesizedBy]).toEqual(["cdktf", "app"]);
      expect((record(cli.files).config as { kafka: { nodes: number } }).kafka.nodes).toBe(5);
      expect(direct.run.stdout.trim()).toBe("Generated Terraform code for the stacks: chef, kafka, monitoring, network, spark, storage");
      // The cdktf CLI wraps its message at its terminal's width.
      expect(cli.run.stdout.replace(/\s+/g, " ")).toContain("Generated Terraform code for the stacks: chef, kafka, monitoring, network, spark, storage");
    } finally {
      rmSync(join(project, "platform.config.json"), { force: true });
    }
  });
});

describe("cdktf deploy after a synth with flags", () => {
  const deployKafka = (flags: string) => {
    const log = join(sandbox, `calls-${Date.now()}.jsonl`);
    const stack = JSON.parse(readFileSync(join(project, "cdktf.out", "stacks", "kafka", "cdk.tf.json"), "utf8")) as { variable?: Record<string, unknown> };
    const tfVars = Object.fromEntries(Object.keys(stack.variable ?? {}).map((name) => [`TF_VAR_${name}`, "stand-in"]));
    const result = run(`npx cdktf deploy kafka --ignore-missing-stack-dependencies --auto-approve ${flags}`, { ...tfVars, TERRAFORM_STANDIN_LOG: log });
    const calls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as StandInCall) : [];
    return { ...result, applies: calls.filter((call) => call.args[0] === "apply") };
  };
  const kafkaInstances = (): number =>
    Object.keys((JSON.parse(readFileSync(join(project, "cdktf.out", "stacks", "kafka", "cdk.tf.json"), "utf8")) as { resource: { aws_instance: object } }).resource.aws_instance).length;

  it("is refused before any apply, naming the flag, and cdktf.out keeps the 5 nodes synthesized", () => {
    rmSync(join(project, "cdktf.out"), { recursive: true, force: true });
    expect(run("npx tsx main.ts --kafka.nodes 5").status).toBe(0);
    const deploy = deployKafka("");
    expect(deploy.status).not.toBe(0);
    expect(deploy.output).toContain("cdktf.out was synthesized with --kafka.nodes 5, which this synth does not see");
    expect(deploy.applies).toEqual([]);
    expect(kafkaInstances()).toBe(5);
  });

  it("with --skip-synth applies the 5 nodes synthesized", () => {
    const deploy = deployKafka("--skip-synth");
    expect({ status: deploy.status, output: deploy.status === 0 ? "" : deploy.output.slice(-2000) }).toEqual({ status: 0, output: "" });
    expect(deploy.applies.map((call) => call.stack)).toEqual(["kafka"]);
    expect(kafkaInstances()).toBe(5);
  });
});
