// cdktf records a stack trace for every token it creates; with tsx's source maps on, mapping
// them costs about a third of synth. Config errors print no stack, so nothing is lost.
process.setSourceMapsEnabled(false);

import { App } from "cdktf";
import { ConfigError } from "./config/ConfigError";
import { configUsage, wantsHelp } from "./config/configUsage";
import { loadConfig } from "./config/loadConfig";
import type { PlatformConfig } from "./config/PlatformConfig";
import { buildPlatform } from "./stacks/buildPlatform";

if (wantsHelp(process.argv.slice(2))) {
  process.stdout.write(configUsage());
  process.exit(0);
}

let config: PlatformConfig;
try {
  config = loadConfig({ argv: process.argv.slice(2), env: process.env });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const problem of error.problems) console.error(`config error: ${problem}`);
  process.exit(1);
}

const app = new App();
buildPlatform(app, config);
app.synth();
