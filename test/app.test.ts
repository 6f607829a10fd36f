import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { buildPlatform } from "../stacks/buildPlatform";
import { configFrom } from "./helpers";

const ROOT = join(__dirname, "..");

describe("the platform app", () => {
  it("synthesizes every stack with the default config, guardrails included, with no credentials or network", () => {
    const outdir = mkdtempSync(join(tmpdir(), "platform-synth-"));
    const app = new App({ outdir });
    buildPlatform(app, configFrom());
    app.synth();
    expect(readdirSync(join(outdir, "stacks")).sort()).toEqual(["chef", "kafka", "monitoring", "network", "spark", "storage"]);
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8"));
    expect(Object.keys(manifest.stacks).sort()).toEqual(["chef", "kafka", "monitoring", "network", "spark", "storage"]);
  });

  it("exits non-zero with one line per config mistake and writes nothing", () => {
    const outdir = mkdtempSync(join(tmpdir(), "platform-bad-config-"));
    const result = spawnSync(process.execPath, ["--import", "tsx", "main.ts", "--kafka.zookeeperNodes", "4", "--kafka.nodes", "5"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" },
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "config error: kafka.zookeeperNodes: 4 must be odd: an even ZooKeeper ensemble tolerates no more failures than the odd one below it",
    );
    expect(readdirSync(outdir)).toEqual([]);
  });
});

describe("the Terraform the stacks need", () => {
  it("every stack refuses Terraform or OpenTofu below 1.10 (S3-native state locking)", () => {
    const outdir = mkdtempSync(join(tmpdir(), "platform-required-version-"));
    const app = new App({ outdir });
    buildPlatform(app, configFrom());
    app.synth();
    for (const stack of readdirSync(join(outdir, "stacks"))) {
      const json = JSON.parse(readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
      expect({ stack, requiredVersion: json.terraform?.required_version }).toEqual({ stack, requiredVersion: ">= 1.10" });
    }
  });
});
