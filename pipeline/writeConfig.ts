/**
 * Writes the example pipeline's config from the deployed stacks' outputs.
 *
 *   CHECKPOINT_DISABLE=1 npx cdktf output storage spark kafka chef --outputs-file outputs.json
 *   npm run pipeline:config -- --outputs outputs.json [--partitions 12] [--interval 10] [--rate 500] [--record-count 0] [--z-threshold 3]
 *
 * Writes pipeline/build/smart_money_config.json (what the Spark programs read),
 * smart_money_config.py (the original's config class, filled in) and smart-money.sh (the
 * commands the workstation runs, with this platform's addresses).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import yargs from "yargs/yargs";
import { HOST_KEY_WAIT_ATTEMPTS } from "../constructs/hostKeys";
import { SPARK_JOBS_KEY_FILE, SPARK_JOBS_USER } from "../constructs/sparkJobsIdentity";
import { renderScript } from "../constructs/renderScript";
import { configModule, DEFAULT_SETTINGS, pipelineConfig, PipelineConfigError, type PipelineConfig, type StackOutputs } from "./pipelineConfig";

/** The workstation's script for this config. */
export function pipelineScript(config: PipelineConfig): string {
  return renderScript("pipeline/smart-money", {
    scriptName: "smart-money",
    masterIp: config.spark_master_ip,
    masterUrl: config.spark_master_url,
    hostKeys: { region: config.region, parameter: config.spark_master_host_keys_parameter, file: "", waitAttempts: HOST_KEY_WAIT_ATTEMPTS },
    masterInstanceId: config.spark_master_instance_id,
    kafkaNodeIp: config.kafka_node_ips[0],
    bootstrapServers: config.kafka_bootstrap_servers,
    kafkaTls: Object.keys(config.kafka_options).length > 0,
    jobsUser: SPARK_JOBS_USER,
    jobsKeyFile: SPARK_JOBS_KEY_FILE,
    topic: config.topic,
    partitions: config.partitions,
    jobCores: config.job_cores,
    toolCores: config.tool_cores,
  });
}

function main(): number {
  const args = yargs(process.argv.slice(2))
    .option("outputs", { type: "string", demandOption: true, describe: "the file cdktf output --outputs-file wrote" })
    .option("out", { type: "string", default: join(__dirname, "build"), defaultDescription: "pipeline/build", describe: "directory to write to" })
    .option("partitions", { type: "number", default: DEFAULT_SETTINGS.partitions })
    .option("interval", { type: "number", default: DEFAULT_SETTINGS.interval, describe: "seconds between the job's micro-batches" })
    .option("record-count", { type: "number", default: DEFAULT_SETTINGS.recordCount, describe: "trades the producer sends; 0 sends the whole file" })
    .option("rate", { type: "number", default: DEFAULT_SETTINGS.rate, describe: "trades per second the producer sends" })
    .option("z-threshold", { type: "number", default: DEFAULT_SETTINGS.zThreshold, describe: "standard deviations above the mean that make a trade unusual" })
    .option("job-cores", { type: "number", default: DEFAULT_SETTINGS.jobCores, describe: "cores the streaming job keeps" })
    .option("tool-cores", { type: "number", default: DEFAULT_SETTINGS.toolCores, describe: "cores the producer and the check each take" })
    .strict()
    .version(false)
    .exitProcess(false)
    .parseSync();
  // yargs has printed the help: write nothing.
  if (args.help) return 0;
  let outputs: StackOutputs;
  try {
    outputs = JSON.parse(readFileSync(args.outputs, "utf8")) as StackOutputs;
  } catch (error) {
    throw new PipelineConfigError(`--outputs ${args.outputs}: ${(error as Error).message}`);
  }
  const config = pipelineConfig(outputs, {
    partitions: args.partitions,
    interval: args.interval,
    recordCount: args["record-count"],
    rate: args.rate,
    zThreshold: args["z-threshold"],
    jobCores: args["job-cores"],
    toolCores: args["tool-cores"],
  });
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, "smart_money_config.json"), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(join(args.out, "smart_money_config.py"), configModule(config));
  writeFileSync(join(args.out, "smart-money.sh"), pipelineScript(config), { mode: 0o755 });
  console.log(`wrote smart_money_config.json, smart_money_config.py and smart-money.sh to ${relative(process.cwd(), args.out) || "."}: topic ${config.topic}, bucket ${config.bucket}, brokers ${config.kafka_bootstrap_servers}`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (error) {
    console.error(`pipeline config: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
