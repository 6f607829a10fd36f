import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { tryRun } from "./system";

/** What one boot of a rehearsal machine receives, as EC2 would hand it to cloud-init. */
export interface NoCloudSeed {
  /** A new id for every boot: cloud-init runs user data once per instance. */
  readonly instanceId: string;
  readonly hostname: string;
  /** User data, byte for byte as EC2 delivers it (base64-decoded user_data_base64). */
  readonly userData: Buffer;
  /** The key pair's public key, which cloud-init puts in the default user's authorized_keys. @default none */
  readonly publicKeys?: readonly string[];
}

/** Writes a NoCloud seed directory (meta-data and user-data files), mounted at /var/lib/cloud/seed/nocloud. */
export function writeNoCloudSeed(dir: string, seed: NoCloudSeed): string {
  mkdirSync(dir, { recursive: true });
  const keys = (seed.publicKeys ?? []).map((key) => `  - ${JSON.stringify(key.trim())}\n`).join("");
  writeFileSync(
    join(dir, "meta-data"),
    `instance-id: ${JSON.stringify(seed.instanceId)}\nlocal-hostname: ${JSON.stringify(seed.hostname)}\n${keys === "" ? "" : `public-keys:\n${keys}`}`,
  );
  writeFileSync(join(dir, "user-data"), seed.userData);
  return dir;
}

/** How a script was gzipped for the seed: by Terraform's own base64gzip, or (without terraform) by zlib. */
export interface GzippedUserData {
  readonly bytes: Buffer;
  readonly by: string;
}

/**
 * A script gzipped the way the stacks send it: `base64gzip()` of the user data local, evaluated by
 * the terraform binary on PATH, and base64-decoded as EC2 does. Without terraform, zlib's gzip
 * (cloud-init takes either; the bytes differ).
 */
export function gzipAsTerraform(script: string): GzippedUserData {
  // Every node boots the same script, and each replacement again: terraform runs once per script.
  let gzipped = gzippedScripts.get(script);
  if (gzipped === undefined) {
    gzipped = gzipWithTerraform(script);
    gzippedScripts.set(script, gzipped);
  }
  return gzipped;
}

const gzippedScripts = new Map<string, GzippedUserData>();

function gzipWithTerraform(script: string): GzippedUserData {
  const dir = mkdtempSync(join(tmpdir(), "platform-user-data-"));
  try {
    const file = join(dir, "user-data.sh");
    writeFileSync(file, script);
    const version = tryRun("terraform", ["version", "-json"], { timeoutSeconds: 60 });
    if (version.status !== 0) return { bytes: gzipSync(script), by: "zlib (no terraform on PATH)" };
    const evaluated = tryRun("terraform", [`-chdir=${dir}`, "console"], {
      input: `base64gzip(file(${JSON.stringify(file)}))\n`,
      env: { CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" },
      timeoutSeconds: 60,
    });
    if (evaluated.status !== 0) throw new Error(`terraform console could not gzip the user data: ${evaluated.output.trim()}`);
    const bytes = Buffer.from(JSON.parse(evaluated.stdout.trim()) as string, "base64");
    const release = (JSON.parse(version.stdout) as { terraform_version?: string }).terraform_version ?? "?";
    return { bytes, by: `Terraform ${release} base64gzip` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
