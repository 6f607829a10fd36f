import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * What `cdktf synth` does around the app besides running it, so that running the app directly
 * writes and prints the same (the CLI costs seconds of start-up). The CLI (cdktf-cli 0.21,
 * SynthStack.synth) sets CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS so the app writes every stack
 * and the manifest even with error annotations; then it prints the manifest's annotations, fails
 * on an error one, removes stack directories the app no longer writes, and names the stacks.
 */

/** The variable the cdktf CLI sets for the app it runs; the app sees it only when run by the CLI. */
const CLI_MARKER = "CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS";

/** Whether the cdktf CLI (synth, deploy, diff, output) runs this app. */
export function runByCdktfCli(env: Readonly<Record<string, string | undefined>>): boolean {
  return env[CLI_MARKER] !== undefined;
}

/** Makes the stacks created from now on keep synthesizing past an error annotation, as under the CLI. */
export function continuePastErrorAnnotations(): void {
  process.env[CLI_MARKER] = "true";
}

/** The stack directories an out dir holds, before the app writes it. */
export function stackDirectories(outdir: string): string[] {
  const stacks = join(outdir, "stacks");
  if (!existsSync(stacks)) return [];
  return readdirSync(stacks).filter((name) => statSync(join(stacks, name)).isDirectory());
}

interface Annotation {
  readonly constructPath: string;
  readonly level: string;
  readonly message: string;
}

interface Manifest {
  readonly stacks: Record<string, { readonly name: string; readonly annotations?: readonly Annotation[] }>;
}

const LEVELS: Readonly<Record<string, string>> = { "@cdktf/info": "INFO", "@cdktf/warn": "WARN", "@cdktf/error": "ERROR" };

/**
 * The CLI's steps after the app has written `outdir`: removes the stack directories of `before`
 * that the manifest no longer names, prints each annotation as the CLI does, and names the
 * stacks. Returns the exit code: 1 when an annotation is an error, as the CLI.
 */
export function finishAsCdktfCli(outdir: string, before: readonly string[], log: (line: string) => void = console.log): number {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as Manifest;
  const stacks = Object.values(manifest.stacks);
  const names = stacks.map((stack) => stack.name);
  for (const orphan of before.filter((name) => !names.includes(name))) rmSync(join(outdir, "stacks", orphan), { recursive: true, force: true });
  let errors = 0;
  for (const annotation of stacks.flatMap((stack) => stack.annotations ?? [])) {
    const level = LEVELS[annotation.level] ?? annotation.level;
    if (level === "ERROR") errors += 1;
    log(`${level} [${annotation.constructPath}]: ${annotation.message}`);
  }
  if (errors > 0) {
    log("While synthesizing one or more error annotations have been encountered. Please check the log output above.");
    return 1;
  }
  log(`Generated Terraform code for the stacks: ${names.join(", ")}`);
  return 0;
}
