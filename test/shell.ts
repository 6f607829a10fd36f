import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertScriptTier } from "./tiers";

export interface BashRun {
  readonly status: number | null;
  readonly output: string;
  /** The temporary directory the run used: stubs in bin/, logs in log/, WORK_DIR = work/, files the script installs under root/. */
  readonly dir: string;
}

export interface BashOptions {
  /** Commands replaced by small bash bodies, put first on PATH. */
  readonly stubs?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  /** Reuse a directory from an earlier run, to test re-runs. */
  readonly dir?: string;
  /** Run this file, e.g. the copy a script kept of itself, instead of writing the script to script.sh. @default script.sh */
  readonly file?: string;
}

/**
 * Runs a rendered script under bash with stubbed commands, so its control flow can be tested
 * without root, network or apt. Every stub appends its name and arguments to calls.log.
 */
export function runBash(script: string, options: BashOptions = {}): BashRun {
  assertScriptTier("runBash");
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "script-test-"));
  const bin = join(dir, "bin");
  for (const sub of ["bin", "log", "work", "root"]) mkdirSync(join(dir, sub), { recursive: true });
  for (const [name, body] of Object.entries(options.stubs ?? {})) {
    const path = join(bin, name);
    writeFileSync(path, `#!/usr/bin/env bash\necho "${name} $*" >> "${dir}/calls.log"\n${body}\n`);
    chmodSync(path, 0o755);
  }
  const file = options.file ?? join(dir, "script.sh");
  if (options.file === undefined) writeFileSync(file, script);
  const result = spawnSync("bash", [file], {
    encoding: "utf8",
    env: {
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
      HOME: dir,
      PLATFORM_LOG_DIR: join(dir, "log"),
      WORK_DIR: join(dir, "work"),
      PLATFORM_FS_ROOT: join(dir, "root"),
      ...options.env,
    },
    timeout: 30_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, dir };
}

/** Lints a script with shellcheck; fails with a clear message when shellcheck is not installed. */
export function shellcheck(script: string): { status: number | null; output: string } {
  assertScriptTier("shellcheck");
  const result = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: script, encoding: "utf8" });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error("shellcheck is not installed: install it (Debian/Ubuntu: apt-get install shellcheck) and run the tests again");
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * The script with one of its `NAME='value'` settings set to another value, for a run that waits
 * out a deployed timeout in a few stubbed attempts instead of a hundred (each attempt asks the
 * stubbed cluster again, seconds of bash on a busy machine). Fails unless the script sets that
 * name to the deployed value exactly once, so the deployed value stays asserted.
 */
export function withSetting(script: string, name: string, deployed: string, value: string): string {
  const line = new RegExp(`^${name}='${deployed}'$`, "gm");
  const found = script.match(line)?.length ?? 0;
  if (found !== 1) throw new Error(`the script sets ${name}='${deployed}' ${found} times, not once`);
  return script.replace(line, `${name}='${value}'`);
}

/** Every stubbed command a run (or several runs in one directory) made, one line each, in order. */
export function stubCalls(dir: string): string[] {
  const log = join(dir, "calls.log");
  return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
}
