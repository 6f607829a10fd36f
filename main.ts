// cdktf records a stack trace for every token it creates; with tsx's source maps on, mapping
// them costs about a third of synth. Config errors print no stack, so nothing is lost.
process.setSourceMapsEnabled(false);

import { join } from "node:path";
import { App } from "cdktf";
import { ConfigError } from "./config/ConfigError";
import { configUsage, wantsHelp } from "./config/configUsage";
import { configFileOf, loadConfig, PROJECT_CONFIG_FILE, type ConfigSources } from "./config/loadConfig";
import type { PlatformConfig } from "./config/PlatformConfig";
import { configWarnings } from "./config/validateConfig";
import { checkNodeSupport } from "./scripts/nodeSupport";
import { buildPlatform } from "./stacks/buildPlatform";
import { continuePastErrorAnnotations, finishAsCdktfCli, runByCdktfCli, stackDirectories } from "./synth/cdktfCliSteps";
import { readSynthRecord, resynthesisProblem, synthRecord, transientSettingsWarning, writeSynthRecord } from "./synth/synthRecord";
import { skipTokenStackTraces } from "./synth/tokenStackTraces";

skipTokenStackTraces();

// Run directly (`npm run synth`), the app does what the cdktf CLI does around it (synth/cdktfCliSteps.ts).
const byCli = runByCdktfCli(process.env);
if (!byCli) checkNodeSupport();
const outdir = process.env.CDKTF_OUTDIR ?? "cdktf.out";
const sources: ConfigSources = { argv: process.argv.slice(2), env: process.env, projectFile: join(__dirname, PROJECT_CONFIG_FILE) };

if (wantsHelp(process.argv.slice(2))) {
  process.stdout.write(configUsage());
  process.exit(0);
}

let config: PlatformConfig;
try {
  config = loadConfig(sources);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const problem of error.problems) console.error(`config error: ${problem}`);
  process.exit(1);
}
// Said on every synth, however it is run: a deliberate but unsafe choice stays visible.
for (const warning of configWarnings(config)) console.error(warning);
const record = synthRecord(config, { synthesizedBy: byCli ? "cdktf" : "app", argv: sources.argv!, env: process.env, configFile: configFileOf(sources) });
const refusal = byCli ? resynthesisProblem(readSynthRecord(outdir), record, outdir) : undefined;
if (refusal) {
  console.error(refusal);
  process.exit(1);
}

if (!byCli) continuePastErrorAnnotations();
const before = stackDirectories(outdir);
const app = new App();
buildPlatform(app, config);
app.synth();
writeSynthRecord(outdir, record);
if (!byCli) {
  const warning = transientSettingsWarning(record, outdir);
  if (warning) console.error(warning);
  process.exitCode = finishAsCdktfCli(outdir, before);
}
