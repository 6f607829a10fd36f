import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TerraformStack } from "cdktf";
import { addCustomSynthesis } from "cdktf/lib/synthesize/synthesizer";
import { Construct } from "constructs";

/** Terraform's name for a directory's dependency lock file. */
export const LOCK_FILE_NAME = ".terraform.lock.hcl";

/**
 * The project's provider lock: the AWS provider version every stack pins, with the hashes of
 * its package for every platform HashiCorp builds. Updated with the provider (docs/deploy.md).
 */
export const PROJECT_LOCK_FILE = join(__dirname, "..", LOCK_FILE_NAME);

let projectLock: string | undefined;

/**
 * Writes the project's lock file into the stack's directory on every synth, beside its JSON.
 * `terraform init` then installs exactly the locked version and refuses a package whose hash the
 * lock does not list; and cdktf, finding a lock that matches the pin, runs a plain init instead
 * of writing a lock of its own from whatever the registry serves (`terraform providers lock`).
 */
export class ProviderLock extends Construct {
  constructor(stack: TerraformStack) {
    super(stack, "provider-lock");
    addCustomSynthesis(this, {
      onSynthesize: (session) => {
        projectLock ??= readFileSync(PROJECT_LOCK_FILE, "utf8");
        writeFileSync(join(session.outdir, session.manifest.forStack(stack).workingDirectory, LOCK_FILE_NAME), projectLock);
      },
    });
  }
}
