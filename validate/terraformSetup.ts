import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * A local provider mirror (Terraform's filesystem_mirror layout) to install providers from. Not
 * PLATFORM_*: that prefix is the platform config's, which refuses keys it does not know.
 */
export const PLUGIN_MIRROR_ENV = "TERRAFORM_PROVIDER_MIRROR";
/** Set to 1 to let validate pass without terraform or a provider, saying so; CI never sets it. */
export const SKIP_ENV = "VALIDATE_ALLOW_SKIP";

/** Where Terraform finds the AWS provider for validate. */
export type ProviderSource =
  | { readonly kind: "mirror"; readonly path: string; readonly versions: readonly string[] }
  | { readonly kind: "registry"; readonly cliConfig: "user" | "none" };

/**
 * A mirror named by TERRAFORM_PROVIDER_MIRROR wins; otherwise Terraform installs as the
 * user's own CLI config says (TF_CLI_CONFIG_FILE or ~/.terraformrc), and without one from the
 * registry. A TF_CLI_CONFIG_FILE naming a missing file is dropped: Terraform only warns about it.
 */
export function providerSource(env: Readonly<Record<string, string | undefined>>, exists: (path: string) => boolean = existsSync): ProviderSource {
  const mirror = env[PLUGIN_MIRROR_ENV];
  if (mirror) {
    if (!exists(mirror)) throw new Error(`${PLUGIN_MIRROR_ENV}=${mirror}: no such directory`);
    return { kind: "mirror", path: mirror, versions: mirroredVersions(mirror, "hashicorp", "aws") };
  }
  const userConfig = env.TF_CLI_CONFIG_FILE;
  return { kind: "registry", cliConfig: userConfig && exists(userConfig) ? "user" : "none" };
}

/**
 * Versions of registry.terraform.io/<namespace>/<type> in a mirror, newest first, in either of
 * Terraform's layouts: unpacked (`<version>/<os>_<arch>/`) or packed (`terraform-provider-<type>_<version>_<os>_<arch>.zip`).
 */
export function mirroredVersions(mirror: string, namespace: string, type: string, list: (dir: string) => string[] = safeList): string[] {
  const dir = join(mirror, "registry.terraform.io", namespace, type);
  const found = new Set<string>();
  for (const entry of list(dir)) {
    const packed = new RegExp(`^terraform-provider-${type}_(\\d+\\.\\d+\\.\\d+[^_]*)_[a-z0-9]+_[a-z0-9]+\\.zip$`).exec(entry);
    if (packed) found.add(packed[1]);
    else if (/^\d+\.\d+\.\d+/.test(entry)) found.add(entry);
  }
  return [...found].sort(compareVersions).reverse();
}

function safeList(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => v.split(/[.-]/).slice(0, 3).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i += 1) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** A CLI config that installs every provider from the mirror and nothing from the network. */
export function mirrorCliConfig(mirror: string): string {
  return ["provider_installation {", "  filesystem_mirror {", `    path = ${JSON.stringify(mirror)}`, "  }", "}", ""].join("\n");
}

/**
 * Written beside a stack's JSON when the mirror lacks the pinned version: an override file
 * (Terraform merges `*_override.tf.json` over the configuration) that pins what the mirror holds.
 */
export function providerVersionOverride(version: string): string {
  return `${JSON.stringify({ terraform: { required_providers: { aws: { source: "hashicorp/aws", version } } } }, null, 2)}\n`;
}

/**
 * Replaces whatever backend the stack has (local beside the project, or S3 needing credentials)
 * with local state inside the scratch copy: `terraform graph` needs an initialized backend, and
 * nothing validate does may touch real state.
 */
export const SCRATCH_BACKEND_OVERRIDE = `${JSON.stringify({ terraform: { backend: { local: { path: "terraform.tfstate" } } } }, null, 2)}\n`;

/** The AWS provider version a stack pins, from its synthesized required_providers. */
export function pinnedAwsVersion(stack: { terraform?: { required_providers?: Record<string, { version?: string }> } }): string {
  const version = stack.terraform?.required_providers?.aws?.version;
  if (!version) throw new Error("the stack pins no AWS provider version");
  return version;
}

/**
 * The AWS provider version validate runs with: the pinned one when the mirror has it, else the
 * mirror's newest (the caller then writes the override and says so), and none without a mirror.
 */
export function versionToUse(source: ProviderSource, pinned: string): { readonly version: string; readonly overridden: boolean } | undefined {
  if (source.kind !== "mirror") return undefined;
  if (source.versions.includes(pinned)) return { version: pinned, overridden: false };
  if (source.versions.length === 0) throw new Error(`the provider mirror at ${source.path} holds no hashicorp/aws provider`);
  return { version: source.versions[0], overridden: true };
}
