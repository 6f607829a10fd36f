/**
 * Draws the platform from its synthesized Terraform and writes it as SVG.
 *
 *   npm run diagram                                  # the default config -> docs/architecture.svg
 *   npm run diagram -- --from cdktf.out --out my.svg # what a synth already wrote
 *   npm run diagram -- --config prod.json --out prod.svg
 */
process.setSourceMapsEnabled(false);

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import yargs from "yargs/yargs";
import { ConfigError } from "../config/ConfigError";
import { platformDot } from "./platformDiagram";
import { renderSvg } from "./renderSvg";
import { readSynthesized } from "./synthesizedPlatform";
import { synthesizeWorkingTree } from "./synthesizeWorkingTree";

export const DEFAULT_DIAGRAM = join(__dirname, "..", "docs", "architecture.svg");

async function main(): Promise<void> {
  const args = yargs(process.argv.slice(2))
    .option("out", { type: "string", default: DEFAULT_DIAGRAM, defaultDescription: "docs/architecture.svg", describe: "SVG file to write" })
    .option("from", { type: "string", describe: "a cdktf.out directory to draw instead of synthesizing" })
    .option("config", { type: "string", describe: "platform config file for the synth" })
    .option("dot", { type: "string", describe: "also write the Graphviz source here" })
    .strict()
    .version(false)
    .exitProcess(false)
    .parseSync();
  // yargs has printed the help: draw nothing.
  if (args.help) return;
  const platform = args.from ? readSynthesized(args.from) : synthesizeWorkingTree(args.config ? ["--config", args.config] : [], {});
  const dot = platformDot(platform);
  if (args.dot) writeFileSync(args.dot, dot);
  writeFileSync(args.out, await renderSvg(dot));
  console.log(`wrote ${args.out}`);
}

main().catch((error: unknown) => {
  const problems = error instanceof ConfigError ? error.problems.map((problem) => `config error: ${problem}`) : [`diagram: ${(error as Error).message}`];
  for (const problem of problems) console.error(problem);
  process.exitCode = 1;
});
