/**
 * The config a user deploys with is the config every command sees. `cdktf deploy`, `diff` and
 * `output` synthesize again and pass the app no flags, so: every run of the app reads the
 * project's platform.config.json; a synth with flags says loudly that deploy will not see them;
 * and the CLI's own synth refuses to replace an out dir made with settings it cannot see.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, PROJECT_CONFIG_FILE } from "../config/loadConfig";
import { DEFAULT_CONFIG } from "../config/defaults";
import { resynthesisProblem, synthRecord, SYNTH_RECORD_FILE, type SynthRecord } from "../synth/synthRecord";
import { configFrom } from "./helpers";

const ROOT = join(__dirname, "..");
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PLATFORM_") && !name.startsWith("CDKTF_")));

/** The app, run as a user runs it, or (byCli) as the cdktf CLI runs it inside deploy, diff and output. */
function runApp(outdir: string, argv: string[], options: { byCli?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  return spawnSync(process.execPath, ["--import", "tsx", "main.ts", ...argv], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...cleanEnv, ...options.env, CDKTF_OUTDIR: outdir, ...(options.byCli ? { CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: "true" } : {}) },
  });
}
const kafkaInstances = (outdir: string): number =>
  Object.keys((JSON.parse(readFileSync(join(outdir, "stacks", "kafka", "cdk.tf.json"), "utf8")) as { resource: { aws_instance: object } }).resource.aws_instance).length;

describe("the project config file", () => {
  it(`is read when present and no other file is named: ${PROJECT_CONFIG_FILE}`, () => {
    const files: Record<string, string> = { "/project/platform.config.json": '{"kafka":{"nodes":5}}', "other.json": '{"kafka":{"nodes":7}}' };
    const sources = { env: {}, projectFile: "/project/platform.config.json", fileExists: (path: string) => path in files, readFile: (path: string) => files[path] };
    expect(loadConfig(sources).kafka.nodes).toBe(5);
    expect(loadConfig({ ...sources, argv: ["--config", "other.json"] }).kafka.nodes).toBe(7);
    expect(loadConfig({ ...sources, env: { PLATFORM_CONFIG: "other.json" } }).kafka.nodes).toBe(7);
    expect(loadConfig({ ...sources, fileExists: () => false })).toEqual(DEFAULT_CONFIG);
  });

  it("names itself in a config error", () => {
    const sources = { env: {}, projectFile: "/project/platform.config.json", fileExists: () => true, readFile: () => '{"kafka":{"nodez":5}}' };
    expect(() => loadConfig(sources)).toThrow("kafka.nodez (in /project/platform.config.json): unknown key (did you mean kafka.nodes?)");
  });
});

describe("a deploy sees the platform that was synthesized", () => {
  it("a synth with flags warns that deploy will not see them; the CLI's synth then refuses to replace it, and leaves it as it was", () => {
    const outdir = mkdtempSync(join(tmpdir(), "flags-synth-"));
    const direct = runApp(outdir, ["--kafka.nodes", "5"]);
    expect(direct.status).toBe(0);
    expect(direct.stderr).toContain("warning: --kafka.nodes 5 is on the command line only: cdktf deploy, diff and output synthesize again without it");
    expect(direct.stderr).toContain("npx cdktf deploy --skip-synth");
    const recorded = readFileSync(join(outdir, SYNTH_RECORD_FILE), "utf8");

    const byCli = runApp(outdir, [], { byCli: true });
    expect(byCli.status).toBe(1);
    expect(byCli.stderr).toContain(`${outdir} was synthesized with --kafka.nodes 5, which this synth does not see (the cdktf CLI runs the app without flags): kafka.nodes 5 there, 3 now. Refusing to replace it.`);
    expect(kafkaInstances(outdir)).toBe(5);
    expect(readFileSync(join(outdir, SYNTH_RECORD_FILE), "utf8")).toBe(recorded);
  });

  it("the CLI's synth replaces a synth made from a config file it also reads, after the file changed", () => {
    const outdir = mkdtempSync(join(tmpdir(), "file-synth-"));
    const file = join(outdir, "..", `${outdir.split("/").pop()}.json`);
    writeFileSync(file, '{"kafka":{"nodes":5}}');
    expect(runApp(outdir, [], { env: { PLATFORM_CONFIG: file } }).stderr).not.toContain("warning:");
    writeFileSync(file, '{"kafka":{"nodes":7}}');
    const byCli = runApp(outdir, [], { byCli: true, env: { PLATFORM_CONFIG: file } });
    expect({ status: byCli.status, stderr: byCli.stderr }).toEqual({ status: 0, stderr: "" });
    expect(kafkaInstances(outdir)).toBe(7);
  });

  describe("when the CLI's synth may replace an out dir", () => {
    /** The record of a synth giving `nodes` Kafka nodes, made by `synthesizedBy` with these flags and PLATFORM_* variables. */
    const record = (synthesizedBy: SynthRecord["synthesizedBy"], nodes: number, argv: string[] = [], env: Record<string, string> = {}): SynthRecord =>
      synthRecord(configFrom("--kafka.nodes", String(nodes)), { synthesizedBy, argv, env, configFile: undefined });
    const now = record("cdktf", 3);

    it("refuses one made with flags", () => {
      expect(resynthesisProblem(record("app", 5, ["--kafka.nodes", "5"]), now, "cdktf.out")).toContain("kafka.nodes 5 there, 3 now");
    });
    it("refuses one a user made with PLATFORM_* variables this environment lacks", () => {
      expect(resynthesisProblem(record("app", 5, [], { PLATFORM_KAFKA__NODES: "5" }), now, "cdktf.out")).toContain("PLATFORM_KAFKA__NODES=5");
    });
    it("allows one the CLI made with other exported variables (the user changed them on purpose)", () => {
      expect(resynthesisProblem(record("cdktf", 5, [], { PLATFORM_KAFKA__NODES: "5" }), now, "cdktf.out")).toBeUndefined();
    });
    it("allows one made with flags that give the same platform", () => {
      expect(resynthesisProblem(record("app", 3, ["--kafka.nodes", "3"]), now, "cdktf.out")).toBeUndefined();
    });
    it("allows one made without flags", () => {
      expect(resynthesisProblem(record("app", 3), record("cdktf", 5), "cdktf.out")).toBeUndefined();
    });
  });
});
