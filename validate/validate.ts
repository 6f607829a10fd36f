// Terraform's own checks of the synthesized stacks: init, validate, `terraform test` with a mocked
// AWS provider, the Kafka bootstraps' order in Terraform's graph, each user data script as
// Terraform evaluates and gzips it, and the review's replace-or-update table against the provider's
// own plan. Everything runs in a scratch copy; nothing touches real state.
// `npm run validate -- --only=force-new` runs the last check alone, `--only=guard-models` the Kafka
// stack's guard models alone.
process.setSourceMapsEnabled(false);

import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { App, type TerraformStack } from "cdktf";
import { loadConfig } from "../config/loadConfig";
import { buildPlatform } from "../stacks/buildPlatform";
import { LOCK_FILE_NAME } from "../stacks/ProviderLock";
import type { Json as PlatformJson, SynthesizedPlatform } from "../review/synthesizedPlatform";
import { checkBootstrapOrder } from "./bootstrapOrder";
import { forceNewCases, forceNewConfig, forceNewState, judgeCases, plannedActions } from "./forceNewPlan";
import { checkControllerGuardModel, checkGuardModel, checkPlaintextGuardModel, type ModelTerraform } from "./guardModel";
import {
  mirrorCliConfig,
  pinnedAwsVersion,
  PLUGIN_MIRROR_ENV,
  providerSource,
  providerVersionOverride,
  SCRATCH_BACKEND_OVERRIDE,
  SKIP_ENV,
  versionToUse,
} from "./terraformSetup";
import { testPrelude } from "./testPrelude";
import { expectedScriptPath, userDataTest, userDataTestFile, type UserDataCase } from "./userDataTest";

interface Variant {
  readonly name: string;
  readonly argv: readonly string[];
  readonly extraTests: readonly string[];
  /** Test directories of its stacks that it leaves out, because it lacks what they test. @default none */
  readonly skipTests?: readonly string[];
  /** Whether its Kafka stack's guard models are applied (real terraform apply and destroy runs). */
  readonly guardModels: boolean;
}

/**
 * The configs validated: the default, a broker outside the ensemble, both KRaft layouts, SSM
 * interface endpoints, and operator access through an EC2 Instance Connect Endpoint. The guard
 * models run on two that hold every guard between them: the default removes a ZooKeeper member,
 * whose own volume its drain guard must keep too; the dedicated controllers add the controller
 * guard. The others' broker removed (outside the
 * ensemble, or a KRaft broker) has only the instance, volume and attachment the dedicated
 * controllers' broker has, and their roll guards chain brokers as the default's do.
 */
const VARIANTS: readonly Variant[] = [
  { name: "default", argv: [], extraTests: [], guardModels: true },
  { name: "zookeeper-4-brokers", argv: ["--kafka.nodes", "4"], extraTests: [], guardModels: false },
  { name: "kraft-4-brokers", argv: ["--kafka.mode", "kraft", "--kafka.nodes", "4"], extraTests: ["kafka-kraft"], guardModels: false },
  { name: "kraft-dedicated-controllers", argv: ["--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true"], extraTests: ["kafka-kraft"], guardModels: true },
  { name: "ssm-interface-endpoints", argv: ["--network.interfaceEndpoints", "true"], extraTests: [], guardModels: false },
  // No admin_cidr to test: the chef stack's own tests give way to the endpoint's.
  {
    name: "instance-connect-endpoint",
    argv: ["--chef.operatorAccess", "instance-connect-endpoint"],
    extraTests: ["chef-instance-connect-endpoint"],
    skipTests: ["chef"],
    guardModels: false,
  },
];

const TESTS_DIR = join(__dirname, "tests");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

interface Outcome {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
}

const outcomes: Outcome[] = [];
function record(what: string, ok: boolean, detail = ""): void {
  outcomes.push({ what, ok, detail });
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? `: ${detail}` : ""}`);
}

function terraform(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync("terraform", args, { cwd, env, encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
  if (result.error) throw new Error(`terraform ${args.join(" ")}: ${result.error.message}`);
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

function firstLines(text: string, count = 12): string {
  return text.trim().split("\n").filter((line) => line.trim() !== "").slice(0, count).join("\n      ");
}

/** `# expect-error: <text>` right above `run "<name>"`: that run must stop with an error saying <text>. */
function expectedErrors(testFile: string): Map<string, string> {
  const expected = new Map<string, string>();
  for (const match of testFile.matchAll(/^#\s*expect-error:\s*(.+?)\s*\n\s*run\s+"([^"]+)"/gm)) expected.set(match[2], match[1]);
  return expected;
}

/** Runs `terraform test -json` and checks every run: passed, or stopped with its expected error. */
function runTests(dir: string, env: NodeJS.ProcessEnv, files: ReadonlyMap<string, string>, label: string): void {
  const result = terraform(["test", "-json", "-no-color"], dir, env);
  const runs = new Map<string, string>();
  const diagnostics = new Map<string, string[]>();
  for (const line of result.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as Json;
    const key = `${String(entry["@testfile"])}#${String(entry["@testrun"] ?? "")}`;
    if (entry.type === "test_run" && entry.test_run?.progress === "complete") runs.set(key, String(entry.test_run.status));
    if (entry.type === "diagnostic") diagnostics.set(key, [...(diagnostics.get(key) ?? []), `${String(entry.diagnostic.summary)}: ${String(entry.diagnostic.detail ?? "")}`]);
  }
  for (const [file, text] of files) {
    const expected = expectedErrors(text);
    const names = [...text.matchAll(/^run\s+"([^"]+)"/gm)].map((match) => match[1]);
    for (const name of names) {
      const key = `${file}#${name}`;
      const status = runs.get(key) ?? "not run";
      const said = diagnostics.get(key) ?? diagnostics.get(`${file}#`) ?? [];
      const message = expected.get(name);
      if (message === undefined) {
        record(`${label} ${file} run ${name}`, status === "pass", status === "pass" ? "" : `${status}\n      ${firstLines(said.join("\n"))}`);
      } else {
        const stopped = status === "error" || status === "fail";
        const matched = said.some((text) => text.includes(message));
        record(`${label} ${file} run ${name} stops with "${message}"`, stopped && matched, stopped && matched ? "" : `${status}; said: ${firstLines(said.join("\n")) || "nothing"}`);
      }
    }
  }
  if (runs.size === 0) record(`${label} terraform test`, false, firstLines(result.stderr || result.stdout));
}

/** Terraform's base64gzip of each expected script must gunzip (here, with zlib) to the script. */
function checkGzip(dir: string, env: NodeJS.ProcessEnv, cases: readonly UserDataCase[], label: string): void {
  const consoleDir = mkdtempSync(join(dir, "console-"));
  // One expression: console reads all of its input as one, and base64 has no comma.
  const gzips = cases.map((userDataCase) => `base64gzip(file(${JSON.stringify(join(dir, expectedScriptPath(userDataCase)))}))`);
  const result = terraform(["console"], consoleDir, env, `join(",", [${gzips.join(", ")}])\n`);
  const encoded = /^"([A-Za-z0-9+/=,]+)"$/.exec(result.stdout.trim())?.[1].split(",") ?? [];
  cases.forEach((userDataCase, index) => {
    const unpacked = encoded[index] === undefined ? undefined : gunzipSync(Buffer.from(encoded[index], "base64")).toString("utf8");
    const detail = unpacked === undefined ? firstLines(result.stderr || result.stdout.slice(0, 500)) : unpacked === userDataCase.expected ? "" : "differs from the script";
    record(`${label} base64gzip(local.${userDataCase.local}) gunzips to the script`, unpacked === userDataCase.expected, detail);
  });
}

function validateStack(
  stack: TerraformStack,
  json: Json,
  source: ReturnType<typeof providerSource>,
  stackDir: string,
  work: string,
  env: NodeJS.ProcessEnv,
  variant: Variant,
  label: string,
): void {
  const name = stack.node.id;
  const dir = join(work, name);
  cpSync(stackDir, dir, { recursive: true });
  writeFileSync(join(dir, "scratch_backend_override.tf.json"), SCRATCH_BACKEND_OVERRIDE);
  const pinned = pinnedAwsVersion(json);
  const use = versionToUse(source, pinned);
  if (use?.overridden) {
    writeFileSync(join(dir, "provider_version_override.tf.json"), providerVersionOverride(use.version));
    // The project's lock holds the pinned version's hashes, which another version cannot match.
    rmSync(join(dir, LOCK_FILE_NAME), { force: true });
  }

  // With the pinned version, init installs it only as the lock says and may not change the lock:
  // a hash the lock lacks for this platform is only a warning from a read-only init, so it fails here.
  const init = terraform(["init", "-input=false", "-no-color", ...(use?.overridden ? [] : ["-lockfile=readonly"])], dir, env);
  const lockIncomplete = `${init.stdout}${init.stderr}`.includes("Provider lock file not updated");
  record(
    `${label} terraform init (aws ${use?.version ?? pinned}${use?.overridden ? "" : ", as the project's lock says"})`,
    init.status === 0 && !lockIncomplete,
    init.status !== 0 ? firstLines(init.stderr || init.stdout) : lockIncomplete ? `${LOCK_FILE_NAME} lacks a hash of the package installed here: update it (docs/deploy.md)` : "",
  );
  if (init.status !== 0) return;
  const validate = terraform(["validate", "-no-color"], dir, env);
  record(`${label} terraform validate`, validate.status === 0, validate.status === 0 ? "" : firstLines(validate.stderr || validate.stdout, 30));

  const tests = join(dir, "tests");
  mkdirSync(join(tests, "expected"), { recursive: true });
  cpSync(join(TESTS_DIR, "mocks"), join(tests, "mocks"), { recursive: true });
  const prelude = testPrelude(json);
  const files = new Map<string, string>();
  for (const testDir of [name, ...variant.extraTests.filter((extra) => extra.startsWith(`${name}-`))].filter((dir) => !(variant.skipTests ?? []).includes(dir))) {
    const from = join(TESTS_DIR, testDir);
    if (!existsSync(from)) continue;
    for (const file of readdirSync(from).filter((entry) => entry.endsWith(".tftest.hcl"))) {
      const text = readFileSync(join(from, file), "utf8");
      files.set(`tests/${file}`, text);
      writeFileSync(join(tests, file), `${prelude}\n${text}`);
    }
  }
  const userData = userDataTest(stack);
  if (userData.cases.length > 0) {
    for (const userDataCase of userData.cases) writeFileSync(join(dir, expectedScriptPath(userDataCase)), userDataCase.expected);
    const text = userDataTestFile(userData);
    files.set("tests/user_data.tftest.hcl", text);
    writeFileSync(join(tests, "user_data.tftest.hcl"), `${prelude}\n${text}`);
  }
  if (files.size > 0) runTests(dir, env, files, label);
  if (userData.cases.length > 0) checkGzip(dir, env, userData.cases, label);

  if (name === "kafka") {
    // terraform test cannot assert an order; Terraform's dependency graph states it.
    const graph = terraform(["graph"], dir, env);
    const order = checkBootstrapOrder(graph.stdout, json);
    const detail = order.problems.length > 0 ? order.problems.join("; ") : `${order.others.length} bootstraps outside the quorum wait for the ${order.quorum.length} of the quorum`;
    record(`${label} bootstrap order in terraform graph`, graph.status === 0 && order.problems.length === 0, graph.status === 0 ? detail : firstLines(graph.stderr));
    bootstrapsOutsideQuorum += order.others.length;

    if (variant.guardModels) checkGuardModels(json, dir, env, label, variant.argv);
  }
}

/** Runs terraform in `dir`, writes and reads its files: what a guard model needs. */
type ModelIo = [terraform: ModelTerraform, write: (file: string, text: string) => void, read: (file: string) => string];

/** Applies one guard model in its own directory and records what it showed. */
function applyGuardModel(dir: string, env: NodeJS.ProcessEnv, what: string, check: (...io: ModelIo) => { readonly problems: readonly string[] }, passed: string): void {
  const started = Date.now();
  mkdirSync(dir, { recursive: true });
  const { problems } = check(
    (args) => terraform(args, dir, env),
    (file, text) => writeFileSync(join(dir, file), text),
    (file) => readFileSync(join(dir, file), "utf8"),
  );
  record(`${what} in a terraform apply of the stack's dependencies`, problems.length === 0, problems.length > 0 ? problems.join("; ") : `${passed} (${Math.round((Date.now() - started) / 1000)} s)`);
}

/**
 * The drain and roll guards, applied for real on a provider-free model of the Kafka stack's own
 * dependencies: a first deploy, a broker removed without a drain, a teardown. With dedicated
 * controllers, lowering kafka.controllerNodes too: the same apply waits for the converge to remove
 * them from the voters before any of their resources goes.
 */
function checkGuardModels(json: Json, dir: string, env: NodeJS.ProcessEnv, label: string, argv: readonly string[]): void {
  const count = (pattern: RegExp): number => Object.keys((json.resource?.aws_instance ?? {}) as Json).filter((name) => pattern.test(name)).length;
  const brokers = count(/^node-\d+_/);
  applyGuardModel(
    join(dir, "guard-model"),
    env,
    `${label} guards`,
    (...io) => checkGuardModel(json, brokers, ...io),
    `${brokers} brokers created one at a time; removing broker ${brokers - 1} undrained stopped at its drain guard with nothing destroyed; teardown with protection off passed`,
  );
  // The same stack one deploy earlier, in the middle of the move to TLS.
  const migrating = synthesizedKafka([...argv, "--kafka.security", "migrating"], join(dir, "synth-migrating"));
  applyGuardModel(
    join(dir, "plaintext-guard-model"),
    env,
    `${label} plaintext guard`,
    (...io) => checkPlaintextGuardModel(migrating, json, ...io),
    "kafka.security migrating to tls refused at the guard with every plaintext rule in place; passed once its check did",
  );
  const controllers = count(/^controller-\d+_/);
  if (controllers > 1) {
    applyGuardModel(
      join(dir, "controller-guard-model"),
      env,
      `${label} controller guards`,
      (...io) => checkControllerGuardModel(json, controllers, ...io),
      `${controllers} to 1 controllers: refused with nothing destroyed while they still vote; passed once the converge of the same apply removed them; teardown with protection off passed`,
    );
  }
}

/** The Kafka stack's JSON for a config given as flags, synthesized into `outdir`. */
function synthesizedKafka(argv: readonly string[], outdir: string): Json {
  const app = new App({ outdir });
  buildPlatform(app, loadConfig({ argv: [...argv], env: {} }));
  app.synth();
  return JSON.parse(readFileSync(join(outdir, "stacks", "kafka", "cdk.tf.json"), "utf8")) as Json;
}

let bootstrapsOutsideQuorum = 0;

/**
 * The review's force-new table against the AWS provider's plan: every argument the platform sets,
 * changed on a copy of its resource whose state holds it as synthesized, planned without refresh
 * (fake credentials, every endpoint on a closed loopback port: the plan asks AWS nothing).
 */
function checkForceNewTable(platforms: readonly SynthesizedPlatform[], source: ReturnType<typeof providerSource>, pinned: string, work: string, env: NodeJS.ProcessEnv): void {
  const started = Date.now();
  const version = versionToUse(source, pinned)?.version ?? pinned;
  const { cases, unchecked } = forceNewCases(platforms);
  const dir = join(work, "force-new");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "main.tf.json"), `${JSON.stringify(forceNewConfig(cases, version), null, 2)}\n`);
  writeFileSync(join(dir, "terraform.tfstate"), `${JSON.stringify(forceNewState(cases), null, 2)}\n`);
  const init = terraform(["init", "-input=false", "-no-color"], dir, env);
  record(`[force-new] terraform init (aws ${version})`, init.status === 0, init.status === 0 ? "" : firstLines(init.stderr || init.stdout));
  if (init.status !== 0) return;
  const plan = terraform(["plan", "-refresh=false", "-json", "-input=false", "-lock=false"], dir, env);
  const errors = plan.stdout.split("\n").filter((line) => line.includes('"@level":"error"')).map((line) => { const diagnostic = (JSON.parse(line) as Json).diagnostic; return [diagnostic?.summary, diagnostic?.detail, diagnostic?.address].filter(Boolean).join(": ") || line; });
  record(`[force-new] terraform plan -refresh=false of ${cases.length} changed copies`, plan.status === 0, plan.status === 0 ? "" : firstLines(errors.join("\n") || plan.stderr));
  if (plan.status !== 0) return;
  for (const result of judgeCases(cases, plannedActions(plan.stdout))) record(`[force-new] ${result.what}`, result.ok, result.detail);
  console.log(`     (aws ${version}; not checked: ${unchecked.join("; ") || "none"}; ${Math.round((Date.now() - started) / 1000)} s)`);
}

/** What `--only=` can run alone. */
const ONLY = ["force-new", "guard-models"] as const;

function main(): void {
  const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
  if (only !== undefined && !(ONLY as readonly string[]).includes(only)) {
    console.error(`validate: --only=${only}: expected one of ${ONLY.join(", ")}`);
    process.exit(1);
  }
  const version = spawnSync("terraform", ["version", "-json"], { encoding: "utf8" });
  if (version.error || version.status !== 0) {
    const why = "terraform is not on PATH";
    if (process.env[SKIP_ENV] === "1") {
      console.log(`SKIPPED: ${why} (${SKIP_ENV}=1). Nothing was validated.`);
      return;
    }
    console.error(`validate: ${why}. Install Terraform >= 1.11, or set ${SKIP_ENV}=1 to skip on purpose.`);
    process.exit(1);
  }
  console.log(`terraform ${String((JSON.parse(version.stdout) as Json).terraform_version)}`);

  const source = providerSource(process.env);
  const scratch = mkdtempSync(join(tmpdir(), "platform-validate-"));
  const env: NodeJS.ProcessEnv = { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1", TF_INPUT: "0" };
  if (source.kind === "mirror") {
    writeFileSync(join(scratch, "cli.tfrc"), mirrorCliConfig(source.path));
    env.TF_CLI_CONFIG_FILE = join(scratch, "cli.tfrc");
    console.log(`providers from the mirror at ${source.path} (${PLUGIN_MIRROR_ENV}): hashicorp/aws ${source.versions.join(", ") || "none"}`);
  } else {
    if (source.cliConfig === "none") delete env.TF_CLI_CONFIG_FILE;
    // One download of the provider for every stack, unless the user has a cache already.
    env.TF_PLUGIN_CACHE_DIR ??= join(scratch, "plugin-cache");
    mkdirSync(env.TF_PLUGIN_CACHE_DIR, { recursive: true });
    console.log(`providers as Terraform installs them (${source.cliConfig === "user" ? "your CLI config" : "the registry"}); set ${PLUGIN_MIRROR_ENV} to use a local mirror`);
  }

  try {
    const seen = new Set<string>();
    let warned = false;
    const synthesized: SynthesizedPlatform[] = [];
    let pinned = "";
    for (const variant of VARIANTS) {
      const outdir = join(scratch, `synth-${variant.name}`);
      const app = new App({ outdir });
      const platform = buildPlatform(app, loadConfig({ argv: variant.argv, env: {} }));
      app.synth();
      const stacks: Record<string, PlatformJson> = {};
      synthesized.push(stacks);
      for (const stack of Object.values(platform) as TerraformStack[]) {
        const stackDir = join(outdir, "stacks", stack.node.id);
        const text = readFileSync(join(stackDir, "cdk.tf.json"), "utf8");
        stacks[stack.node.id] = JSON.parse(text) as PlatformJson;
        pinned ||= pinnedAwsVersion(stacks[stack.node.id]);
        if (only === "force-new") continue;
        // The same JSON in another config proves nothing new.
        if (seen.has(text)) continue;
        seen.add(text);
        const json = JSON.parse(text) as Json;
        const work = join(scratch, variant.name);
        const label = `[${variant.name}/${stack.node.id}]`;
        if (only === "guard-models") {
          if (stack.node.id === "kafka" && variant.guardModels) checkGuardModels(json, join(work, stack.node.id), env, label, variant.argv);
          continue;
        }
        const use = versionToUse(source, pinnedAwsVersion(json));
        if (use?.overridden && !warned) {
          warned = true;
          console.log(
            `\n!!! The stacks pin hashicorp/aws ${pinnedAwsVersion(json)}; the mirror has ${use.version}. validate runs against ${use.version} through an\n` +
              `!!! override file in each scratch copy. An argument that only ${pinnedAwsVersion(json)} knows fails here, one that ${pinnedAwsVersion(json)} dropped passes.\n` +
              `!!! The project's provider lock (${LOCK_FILE_NAME}, for ${pinnedAwsVersion(json)}) is left out of the scratch copies, so init checks no hash against it.\n`,
          );
        }
        mkdirSync(work, { recursive: true });
        validateStack(stack, json, source, stackDir, work, env, variant, label);
      }
    }
    if (only === undefined) record("some variant has bootstraps outside the quorum to order", bootstrapsOutsideQuorum > 0, `${bootstrapsOutsideQuorum} found`);
    if (only === undefined || only === "force-new") checkForceNewTable(synthesized, source, pinned, scratch, env);
  } finally {
    if (process.env.VALIDATE_KEEP_SCRATCH === "1") console.log(`scratch kept at ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }

  const failed = outcomes.filter((outcome) => !outcome.ok);
  console.log(`\nvalidate: ${outcomes.length - failed.length} passed, ${failed.length} failed`);
  if (failed.length > 0) process.exit(1);
}

main();
