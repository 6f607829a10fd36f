import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { loadConfig, PROJECT_CONFIG_FILE } from "../config/loadConfig";
import { buildPlatform } from "../stacks/buildPlatform";
import { readSynthesized, type SynthesizedPlatform } from "./synthesizedPlatform";

/**
 * Synthesizes this checkout's platform in this process, exactly as main.ts does, with the same
 * config sources: no second Node process, no second load of cdktf and the AWS provider.
 */
export function synthesizeWorkingTree(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): SynthesizedPlatform {
  // The project config file, as main.ts reads it: the review shows what a deploy would deploy.
  const config = loadConfig({ argv, env, projectFile: join(__dirname, "..", PROJECT_CONFIG_FILE) });
  const outdir = mkdtempSync(join(tmpdir(), "platform-review-"));
  try {
    const app = new App({ outdir });
    buildPlatform(app, config);
    app.synth();
    return readSynthesized(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
