import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProviderConstraint } from "@cdktf/cli-core/src/lib/dependencies/dependency-manager";
import { TerraformProviderLock } from "@cdktf/cli-core/src/lib/terraform-provider-lock";
import { App } from "cdktf";
import { buildPlatform } from "../stacks/buildPlatform";
import { LOCK_FILE_NAME, PROJECT_LOCK_FILE } from "../stacks/ProviderLock";
import { configFrom } from "./helpers";

const AWS = "registry.terraform.io/hashicorp/aws";

/** The platform synthesized once, as `cdktf synth` writes it. */
function synthesized(): { outdir: string; stacks: string[] } {
  const outdir = mkdtempSync(join(tmpdir(), "platform-lock-"));
  const app = new App({ outdir });
  buildPlatform(app, configFrom());
  app.synth();
  return { outdir, stacks: readdirSync(join(outdir, "stacks")).sort() };
}

/** The aws provider's block of a lock file: version, constraints and hashes, as Terraform writes them. */
function awsBlock(lock: string): { version?: string; constraints?: string; hashes: string[] } {
  const block = new RegExp(`^provider "${AWS.replace(/\./g, "\\.")}" \\{\\n([\\s\\S]*?)^\\}`, "m").exec(lock)?.[1] ?? "";
  return {
    version: /^\s+version\s+= "([^"]+)"$/m.exec(block)?.[1],
    constraints: /^\s+constraints\s+= "([^"]+)"$/m.exec(block)?.[1],
    hashes: [...block.matchAll(/"((?:h1|zh):[^"]+)"/g)].map((match) => match[1]),
  };
}

describe("the AWS provider's lock", () => {
  const { outdir, stacks } = synthesized();
  const project = readFileSync(PROJECT_LOCK_FILE, "utf8");

  it("is written into every stack's directory on synth, as the project keeps it", () => {
    expect(stacks).toEqual(["chef", "kafka", "monitoring", "network", "spark", "storage"]);
    for (const stack of stacks) {
      expect({ stack, lock: readFileSync(join(outdir, "stacks", stack, LOCK_FILE_NAME), "utf8") }).toEqual({ stack, lock: project });
    }
  });

  it("locks the version every stack pins, so cdktf runs a plain terraform init: no -upgrade, no lock of its own from the registry", async () => {
    for (const stack of stacks) {
      const json = JSON.parse(readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
      const required = json.terraform.required_providers.aws as { source: string; version: string };
      const pinned = new ProviderConstraint(required.source, required.version);
      // cdktf's own checks before init (cdktf-stack: checkNeedsLockfileUpdate, checkNeedsUpgrade).
      const lock = new TerraformProviderLock(join(outdir, "stacks", stack));
      expect({ stack, matches: await lock.hasMatchingProvider(pinned) }).toEqual({ stack, matches: true });
      const locked = (await lock.providers())[AWS];
      expect({ stack, upgrade: !locked.constraints?.matchesVersion(pinned.version ?? ">0") }).toEqual({ stack, upgrade: false });
      expect({ stack, version: locked.version }).toEqual({ stack, version: required.version });
    }
  });

  it("holds hashes for the package in both of Terraform's schemes, each well-formed and listed once", () => {
    const { version, constraints, hashes } = awsBlock(project);
    expect(constraints).toBe(version);
    // h1: hashes an unpacked package (what init checks on the user's platform), zh: a release zip.
    expect(hashes.some((hash) => hash.startsWith("h1:"))).toBe(true);
    expect(hashes.some((hash) => hash.startsWith("zh:"))).toBe(true);
    expect(new Set(hashes).size).toBe(hashes.length);
    for (const hash of hashes) expect(hash).toMatch(/^(h1:[A-Za-z0-9+/]{43}=|zh:[0-9a-f]{64})$/);
  });
});
