/**
 * Plan review without credentials: what a change does to the platform, read from the
 * synthesized Terraform of a base commit and of the working tree.
 *
 *   npm run review -- --base origin/main
 *   npm run review -- --base HEAD~5 --markdown review.md --json review.json --fail-on security
 *   npm run review -- --base origin/main --config config/prod.json --kafka.nodes 5
 *
 * Each side is synthesized with its own copy of the config file (the base's as committed there);
 * any other flag is a config setting (`--kafka.nodes 5`) given to both. Prints Markdown (or JSON
 * with --format json). Exits 2 when --fail-on names a kind of finding that appears, 1 when the
 * review itself cannot run.
 */
process.setSourceMapsEnabled(false);

import { writeFileSync } from "node:fs";
import yargs from "yargs/yargs";
import { ConfigError } from "../config/ConfigError";
import { renderJson, renderMarkdown } from "./renderReview";
import { FAIL_KINDS, failingFindings, runReview } from "./runReview";

function main(): number {
  const argv = process.argv.slice(2);
  const parser = yargs(argv)
    .option("base", { type: "string", demandOption: true, describe: "git ref to compare the working tree with" })
    .option("format", { choices: ["markdown", "json"] as const, default: "markdown" as const, describe: "what to print" })
    .option("markdown", { type: "string", describe: "also write the Markdown to this file" })
    .option("json", { type: "string", describe: "also write the JSON to this file" })
    .option("fail-on", { type: "string", default: "", describe: `exit 2 when findings of these kinds appear: ${FAIL_KINDS.join(", ")}` })
    .option("head", { type: "string", describe: "git ref to review instead of the working tree" })
    .option("config", { type: "string", describe: "platform config file (default PLATFORM_CONFIG); each side reads its own copy of it" })
    // Any other flag is a config setting for both sides; the app's loader refuses one it does not know.
    .parserConfiguration({ "unknown-options-as-args": true, "parse-numbers": false, "parse-positional-numbers": false })
    .exitProcess(false);
  if (argv.includes("--help")) {
    parser.showHelp("log");
    return 0;
  }
  const args = parser.parseSync();
  const failOn = args["fail-on"].split(",").map((kind) => kind.trim()).filter((kind) => kind !== "");
  failingFindings([], failOn);
  const started = Date.now();
  const review = runReview({ repo: process.cwd(), base: args.base, head: args.head, configFile: args.config, appArgs: args._.map(String) });
  const markdown = renderMarkdown(review);
  const json = renderJson(review);
  if (args.markdown) writeFileSync(args.markdown, markdown);
  if (args.json) writeFileSync(args.json, json);
  process.stdout.write(args.format === "json" ? json : markdown);
  console.error(`reviewed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const failing = failingFindings(review.findings, failOn);
  if (failing.length === 0) return 0;
  console.error(`--fail-on ${failOn.join(",")}: ${failing.length} finding(s); the first: ${failing[0].stack} ${failing[0].path}: ${failing[0].message}`);
  return 2;
}

try {
  process.exitCode = main();
} catch (error) {
  const problems = error instanceof ConfigError ? error.problems.map((problem) => `config error: ${problem}`) : [`review: ${(error as Error).message}`];
  for (const problem of problems) console.error(problem);
  process.exitCode = 1;
}
