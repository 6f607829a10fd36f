import { DEFAULT_CONFIG } from "./defaults";
import { CONFIG_FILE_ENV, ENV_PREFIX } from "./loadConfig";

/** Whether a command line asks for help instead of a synth. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/** Every settable key as `section.key`, with its default, in the order of the defaults. */
export function configKeys(): Array<{ readonly key: string; readonly value: unknown }> {
  const keys: Array<{ key: string; value: unknown }> = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      if (typeof value === "object" && value !== null && !Array.isArray(value)) walk(value as Record<string, unknown>, `${prefix}${name}.`);
      else keys.push({ key: `${prefix}${name}`, value });
    }
  };
  walk(DEFAULT_CONFIG as unknown as Record<string, unknown>, "");
  return keys;
}

/** What `npx tsx main.ts --help` prints: the sources of settings and every key with its default. */
export function configUsage(): string {
  const shown = (value: unknown): string => {
    if (Array.isArray(value)) return value.length === 0 ? "(empty)" : value.join(",");
    if (typeof value === "string") return value === "" ? "(empty)" : value.length > 40 ? `${value.slice(0, 16)}... (pinned)` : value;
    return String(value);
  };
  const width = Math.max(...configKeys().map(({ key }) => key.length));
  return [
    "Synthesizes the platform's Terraform into cdktf.out/stacks/<stack>/cdk.tf.json.",
    "",
    "Usage: npx tsx main.ts [--config <file.json>] [--<section>.<key> <value> ...]",
    "",
    "Settings, later sources win:",
    `  defaults < the JSON file of --config or ${CONFIG_FILE_ENV} < ${ENV_PREFIX}<SECTION>__<KEY> environment variables < flags`,
    "  Lists are comma-separated: --kafka.clientSecurityGroupIds sg-0123456789abcdef0,sg-0fedcba9876543210",
    "",
    "Keys and their defaults (docs/reference/configuration.md has the rules):",
    ...configKeys().map(({ key, value }) => `  --${key.padEnd(width)}  ${shown(value)}`),
    "",
  ].join("\n");
}
