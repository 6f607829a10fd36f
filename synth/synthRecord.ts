import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENV_PREFIX, PROJECT_CONFIG_FILE } from "../config/loadConfig";
import type { PlatformConfig } from "../config/PlatformConfig";

/** Written beside manifest.json: the config an out dir was synthesized with, and where it came from. */
export const SYNTH_RECORD_FILE = "platform-synth.json";

/** What one synth of the app was given. */
export interface SynthRecord {
  /** Who ran the app: the cdktf CLI (synth, deploy, diff, output) or a user (`npm run synth`, `npx tsx main.ts`). */
  readonly synthesizedBy: "cdktf" | "app";
  /** The app's arguments, `--config` included: the cdktf CLI never passes any. */
  readonly commandLine: readonly string[];
  /** The PLATFORM_* variables of the app's environment, by name. */
  readonly environment: Readonly<Record<string, string>>;
  /** The config file read, if any. */
  readonly configFile: string | null;
  /** sha256 of the resolved config's JSON. */
  readonly digest: string;
  readonly config: PlatformConfig;
}

export interface SynthRecordSources {
  readonly synthesizedBy: SynthRecord["synthesizedBy"];
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly configFile: string | undefined;
}

export function synthRecord(config: PlatformConfig, sources: SynthRecordSources): SynthRecord {
  const environment = Object.fromEntries(
    Object.entries(sources.env)
      .filter((entry): entry is [string, string] => entry[0].startsWith(ENV_PREFIX) && entry[1] !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const digest = createHash("sha256").update(JSON.stringify(config)).digest("hex");
  return { synthesizedBy: sources.synthesizedBy, commandLine: [...sources.argv], environment, configFile: sources.configFile ?? null, digest, config };
}

export function readSynthRecord(outdir: string): SynthRecord | undefined {
  const path = join(outdir, SYNTH_RECORD_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as SynthRecord;
  } catch {
    return undefined;
  }
}

export function writeSynthRecord(outdir: string, record: SynthRecord): void {
  writeFileSync(join(outdir, SYNTH_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** Settings given in ways a later `cdktf deploy` may not see: the command line, and PLATFORM_* variables of this shell. */
function transientSources(record: SynthRecord): string[] {
  const sources: string[] = [];
  if (record.commandLine.length > 0) sources.push(record.commandLine.join(" "));
  sources.push(...Object.entries(record.environment).map(([name, value]) => `${name}=${value}`));
  return sources;
}

/**
 * Why the cdktf CLI's own synth must not replace `previous` with `next`, or undefined when it may.
 * It must not when the out dir was synthesized with settings from the command line (which the
 * CLI never passes), or by a user with PLATFORM_* variables this environment does not have, and
 * the config it is about to synthesize differs: deploying then would deploy another platform
 * than the one synthesized and reviewed.
 */
export function resynthesisProblem(previous: SynthRecord | undefined, next: SynthRecord, outdir: string): string | undefined {
  if (!previous || previous.digest === next.digest) return undefined;
  const environmentLost = previous.synthesizedBy === "app" && JSON.stringify(previous.environment) !== JSON.stringify(next.environment);
  if (previous.commandLine.length === 0 && !environmentLost) return undefined;
  const changes = differences(previous.config, next.config)
    .slice(0, 5)
    .map(({ path, before, after }) => `${path} ${JSON.stringify(before)} there, ${JSON.stringify(after)} now`);
  return [
    `${outdir} was synthesized with ${transientSources(previous).join(" ")}, which this synth does not see (the cdktf CLI runs the app without flags): ${changes.join("; ")}. Refusing to replace it.`,
    `  to deploy what was synthesized: npx cdktf deploy --skip-synth <stacks> (diff and output take --skip-synth too)`,
    `  to give every command these settings: put them in ${PROJECT_CONFIG_FILE} (or export the PLATFORM_* variables), then npm run synth`,
    `  to drop them: npm run synth without them, then run this command again`,
  ].join("\n");
}

/** A warning for a user's synth whose settings a later `cdktf deploy` will not see, or undefined. */
export function transientSettingsWarning(record: SynthRecord, outdir: string): string | undefined {
  if (record.synthesizedBy !== "app") return undefined;
  const lines: string[] = [];
  if (record.commandLine.length > 0) {
    lines.push(
      `warning: ${record.commandLine.join(" ")} is on the command line only: cdktf deploy, diff and output synthesize again without it, and refuse to while ${outdir} holds this synth.`,
      `  deploy this synth as it is: npx cdktf deploy --skip-synth <stacks>; or put the settings in ${PROJECT_CONFIG_FILE}, which every command reads`,
    );
  }
  const environment = Object.keys(record.environment);
  if (environment.length > 0) {
    lines.push(`note: ${environment.join(", ")} from the environment: a later cdktf deploy sees the same platform only with the same values set`);
  }
  return lines.length > 0 ? lines.join("\n") : undefined;
}

interface Difference {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

function differences(before: unknown, after: unknown, path = ""): Difference[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => differences(before[key], after[key], path ? `${path}.${key}` : key));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
