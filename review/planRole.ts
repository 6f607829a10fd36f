/**
 * Writes the IAM policies of the CI role that runs `terraform plan`, derived from what the stacks
 * synthesize with the config they are deployed with (shared state included):
 *
 *   PLATFORM_STATE__BUCKET=acme-terraform-state npx tsx review/planRole.ts --account 111122223333 > plan-role-policy.json
 *   npx tsx review/planRole.ts --trust --account 111122223333 --repository acme/platform > plan-role-trust.json
 */
process.setSourceMapsEnabled(false);

import yargs from "yargs/yargs";
import { ConfigError } from "../config/ConfigError";
import { planRolePolicy, planRoleTrustPolicy } from "./planRolePolicy";
import { readSynthesized } from "./synthesizedPlatform";
import { synthesizeWorkingTree } from "./synthesizeWorkingTree";

function main(): void {
  const args = yargs(process.argv.slice(2))
    .option("account", { type: "string", demandOption: true, describe: "the AWS account id (12 digits)" })
    .option("trust", { type: "boolean", default: false, describe: "write the trust policy instead of the permissions" })
    .option("repository", { type: "string", describe: "<owner>/<repo> on GitHub (with --trust)" })
    .option("config", { type: "string", describe: "platform config file for the synth" })
    .option("from", { type: "string", describe: "a cdktf.out directory to read instead of synthesizing" })
    .strict()
    .version(false)
    .exitProcess(false)
    .parseSync();
  if (args.help) return;
  if (!/^\d{12}$/.test(args.account)) throw new Error(`--account ${args.account}: not a 12-digit AWS account id`);
  if (args.trust) {
    if (!args.repository) throw new Error("--trust needs --repository <owner>/<repo>");
    console.log(JSON.stringify(planRoleTrustPolicy({ account: args.account, repository: args.repository }), null, 2));
    return;
  }
  const platform = args.from ? readSynthesized(args.from) : synthesizeWorkingTree(args.config ? ["--config", args.config] : [], process.env);
  console.log(JSON.stringify(planRolePolicy(platform, { account: args.account }), null, 2));
}

try {
  main();
} catch (error: unknown) {
  const problems = error instanceof ConfigError ? error.problems.map((problem) => `config error: ${problem}`) : [`plan role: ${(error as Error).message}`];
  for (const problem of problems) console.error(problem);
  process.exitCode = 1;
}
