import { readFileSync } from "node:fs";
import { join } from "node:path";
import { App, Testing, type TerraformStack } from "cdktf";
// cdktf's own token resolution, as its stacks use it when they synthesize.
import { resolve } from "cdktf/lib/_tokens";
import { HardenedInstance } from "../constructs/HardenedInstance";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { loadConfig } from "../config/loadConfig";
import { buildPlatform } from "../stacks/buildPlatform";
import type { PlatformConfig } from "../config/PlatformConfig";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** The platform config as a user would get it from these flags, e.g. ["--kafka.nodes", "5"]. */
export function configFrom(...argv: string[]): PlatformConfig {
  return loadConfig({ argv, env: {} });
}

export function testApp(): App {
  return Testing.app();
}

/** The Kafka stack's Terraform JSON for the platform these flags configure. */
export function kafkaJson(...argv: string[]): Json {
  return synthJson(buildPlatform(testApp(), configFrom(...argv)).kafka);
}

/** The stack's synthesized Terraform JSON, aspects (guardrails) applied, parsed. */
export function synthJson(stack: TerraformStack): Json {
  return JSON.parse(Testing.synth(stack)) as Json;
}

/** Every resource of one type, by logical name. */
export function resourcesOf(json: Json, type: string): Record<string, Json> {
  return (json.resource?.[type] ?? {}) as Record<string, Json>;
}

export function dataOf(json: Json, type: string): Record<string, Json> {
  return (json.data?.[type] ?? {}) as Record<string, Json>;
}

/** The one resource of a type with this logical name; fails loudly when it is missing. */
export function resourceNamed(json: Json, type: string, name: string): Json {
  const resource = resourcesOf(json, type)[name];
  if (!resource) throw new Error(`no ${type}.${name} in: ${Object.keys(resourcesOf(json, type)).join(", ")}`);
  return resource;
}

/** The only resource of a type; fails loudly when there is none or more than one. */
export function onlyResource(json: Json, type: string): Json {
  const all = Object.values(resourcesOf(json, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** The resource of a type whose logical name (cdktf adds a hash to nested ones) starts with a prefix. */
export function resourceStartingWith(json: Json, type: string, prefix: string): Json {
  const entry = Object.entries(resourcesOf(json, type)).find(([name]) => name.startsWith(prefix));
  if (!entry) throw new Error(`no ${type} named ${prefix}* in: ${Object.keys(resourcesOf(json, type)).join(", ")}`);
  return entry[1];
}

/**
 * An instance's user data as Terraform holds it before gzipping: the Terraform local that its
 * user_data_base64 compresses, escaped as in the JSON. Fails loudly on any other form.
 */
export function userDataOf(json: Json, instance: Json): string {
  const match = /^\$\{base64gzip\(local\.([\w-]+)\)\}$/.exec(String(instance.user_data_base64));
  if (!match) throw new Error(`user_data_base64 is not base64gzip of a local: ${String(instance.user_data_base64)}`);
  const script = json.locals?.[match[1]];
  if (typeof script !== "string") throw new Error(`no local ${match[1]} holding the script`);
  return script;
}

/**
 * Synthesizes the whole app, as `cdktf synth` does, and returns one stack's JSON without cdktf's
 * "//" metadata. Use it for stacks that reference others: only an app synth turns those
 * references into remote state lookups.
 */
export function synthAppStack(app: App, stackName: string): Json {
  app.synth();
  const file = join(app.outdir, "stacks", stackName, "cdk.tf.json");
  return withoutMetadata(JSON.parse(readFileSync(file, "utf8"))) as Json;
}

function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => key !== "//")
      .map(([key, inner]) => [key, withoutMetadata(inner)]),
  );
}

/** One stack's JSON from a full platform synth with these config flags, e.g. ("kafka", "--kafka.nodes", "5"). */
export function platformStackJson(stackName: string, ...flags: string[]): Json {
  const app = testApp();
  buildPlatform(app, configFrom(...flags));
  return synthAppStack(app, stackName);
}

/**
 * Every instance of a synthesized stack gets exactly the script renderScript produced for it:
 * its user data, as Terraform will send it (escapes undone, references resolved), equals the
 * rendered script with the same references resolved. Returns how many instances were compared.
 */
export function expectUserDataAsRendered(stack: TerraformStack, json: Json): number {
  const instances = stack.node.findAll().filter((node): node is HardenedInstance => node instanceof HardenedInstance);
  for (const hardened of instances) {
    const userData = userDataOf(json, json.resource.aws_instance[hardened.instance.friendlyUniqueId] as Json);
    // What Terraform interpolates must be a reference to something it knows; bash's own ${...}
    // and any %{ must arrive escaped.
    const interpolated = [...userData.matchAll(/(?<!\$)\$\{([^}]*)\}/g)].map((match) => match[1]);
    for (const expression of interpolated) expect(expression).toMatch(/^(aws_[a-z0-9_]+|data\.[a-z0-9_]+|var)\.[\w.-]+$/);
    expect(userData).not.toMatch(/(?<!%)%\{/);
    expect(unescapeTerraformTemplate(userData)).toBe(resolve(stack, hardened.userDataScript) as string);
  }
  return instances.length;
}
