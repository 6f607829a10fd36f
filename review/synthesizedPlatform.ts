import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** Every stack's synthesized Terraform JSON, by stack name. */
export type SynthesizedPlatform = Readonly<Record<string, Json>>;

/** Reads `<outdir>/stacks/<name>/cdk.tf.json` for every stack cdktf wrote. */
export function readSynthesized(outdir: string): SynthesizedPlatform {
  const stacksDir = join(outdir, "stacks");
  if (!existsSync(stacksDir)) throw new Error(`${outdir} holds no synthesized stacks (no stacks/ directory)`);
  const stacks: Record<string, Json> = {};
  for (const name of readdirSync(stacksDir).sort()) {
    const file = join(stacksDir, name, "cdk.tf.json");
    if (existsSync(file)) stacks[name] = JSON.parse(readFileSync(file, "utf8")) as Json;
  }
  return stacks;
}

/**
 * Synthesizes the app of the checkout in `dir` as `cdktf synth` would (its own code, its own
 * config rules), with these app arguments, and reads what it wrote. The process exits 1 with
 * one line per config mistake; that message is passed on.
 */
export function synthesizeCheckout(dir: string, appArgs: readonly string[] = [], env: Readonly<Record<string, string | undefined>> = process.env): SynthesizedPlatform {
  const outdir = mkdtempSync(join(tmpdir(), "platform-review-"));
  try {
    const result = spawnSync(process.execPath, ["--import", "tsx", "main.ts", ...appArgs], {
      cwd: dir,
      encoding: "utf8",
      env: { ...env, PATH: process.env.PATH, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" },
      timeout: 300_000,
    });
    if (result.error) throw new Error(`synth in ${dir} did not finish: ${result.error.message}`);
    if (result.status !== 0) {
      // The checkout is built with the working tree's node_modules: a package it imports may be gone.
      const missing = /Cannot find module '([^']+)'/.exec(result.stderr)?.[1];
      if (missing !== undefined && !missing.startsWith(".")) {
        throw new Error(`synth in ${dir} failed: it imports ${missing}, which the working tree's node_modules no longer has; review against a later base, or install that package`);
      }
      // The first lines say what went wrong; a stack trace's last lines rarely do.
      const message = (result.stderr || result.stdout).trim().split("\n").filter((line) => !/^\s+at /.test(line)).slice(0, 8).join(" | ");
      throw new Error(`synth in ${dir} failed (exit ${String(result.status)}): ${message}`);
    }
    return readSynthesized(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
