/**
 * Every entry point a user runs answers --help with its usage, exits 0 and does nothing else:
 * no synth, no config error, no file written.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configKeys } from "../config/configUsage";

const ROOT = join(__dirname, "..");

function runTsx(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1", ...env },
  });
}

describe("--help", () => {
  it("main.ts prints the config sources and every key with its default, and synthesizes nothing", () => {
    const outdir = mkdtempSync(join(tmpdir(), "platform-help-"));
    const result = runTsx("main.ts", ["--help"], { CDKTF_OUTDIR: outdir });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    expect(result.stdout).toContain("Usage: npx tsx main.ts [--config <file.json>]");
    for (const { key } of configKeys()) expect(result.stdout).toContain(`--${key} `);
    expect(readdirSync(outdir)).toEqual([]);
  });

  it("the diagram prints its options and leaves the picture alone", () => {
    const out = join(mkdtempSync(join(tmpdir(), "diagram-help-")), "never.svg");
    const before = readFileSync(join(ROOT, "docs", "architecture.svg"), "utf8");
    const result = runTsx("review/diagram.ts", ["--help", "--out", out]);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    expect(result.stdout).toContain("--from");
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(join(ROOT, "docs", "architecture.svg"), "utf8")).toBe(before);
  });

  it("pipeline:config prints its options and exits 0 without asking for --outputs", () => {
    const out = join(mkdtempSync(join(tmpdir(), "pipeline-help-")), "build");
    const result = runTsx("pipeline/writeConfig.ts", ["--help", "--out", out]);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" });
    expect(result.stdout).toContain("--outputs");
    expect(existsSync(out)).toBe(false);
  });
});
