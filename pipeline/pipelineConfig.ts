import { DEFAULT_CONFIG } from "../config/defaults";
import { SPARK_INPUT_PREFIX } from "../config/names";
import { cloudCheckpointFileManager } from "../config/sparkJars";

/** The names the pipeline's Python programs use; smart_money/columns.py holds the same. */
export const TOPIC = "th-topic";
export const INTRADAY_FILE = "intraday_subset_sort_quote.csv";
export const EOD_FILE = "eod_summary_withoutzeros.csv";
export const ANOMALIES_FILE = "injected_anomalies.csv";
/** Where the generated CSV files go in the data bucket: the one input prefix the Spark nodes may read. */
export const INPUT_PREFIX = SPARK_INPUT_PREFIX;
export const DEFAULT_Z_THRESHOLD = 3.0;

/**
 * The spark identity's key material on every Spark node (key and certificate in one PEM, and the
 * platform CA), written there before the pipeline runs; Kafka's PEM stores read them as they are.
 */
export const SPARK_KAFKA_KEYSTORE = "/etc/platform/tls/spark.pem";
export const SPARK_KAFKA_TRUSTSTORE = "/etc/platform/tls/ca.crt";
/** Spark's Kafka source names its consumer groups with this prefix unless told otherwise (groupIdPrefix). */
export const SPARK_GROUP_PREFIX = "spark-kafka-source";

/** The Kafka client settings of every Spark reader and writer: mutual TLS as principal spark, or none. */
export function kafkaClientOptions(security: string): Record<string, string> {
  if (security === "plaintext") return {};
  return {
    "kafka.security.protocol": "SSL",
    "kafka.ssl.keystore.type": "PEM",
    "kafka.ssl.keystore.location": SPARK_KAFKA_KEYSTORE,
    "kafka.ssl.truststore.type": "PEM",
    "kafka.ssl.truststore.location": SPARK_KAFKA_TRUSTSTORE,
  };
}

/** What the pipeline needs to know, all of it from the deployed stacks and the settings below. */
export interface PipelineConfig {
  readonly kafka_bootstrap_servers: string;
  /** Options every Spark Kafka source and sink takes (kafka.security.protocol and its stores). */
  readonly kafka_options: Readonly<Record<string, string>>;
  readonly kafka_node_ips: readonly string[];
  readonly topic: string;
  readonly partitions: number;
  readonly streaming_interval_seconds: number;
  /** Trades the producer sends; 0 sends the whole file. */
  readonly record_count: number;
  readonly producer_rate: number;
  readonly z_threshold: number;
  /** spark.cores.max of the streaming job, and of the producer and the check (each). */
  readonly job_cores: number;
  readonly tool_cores: number;
  readonly region: string;
  readonly bucket: string;
  readonly input_uri: string;
  readonly intraday_file: string;
  readonly eod_file: string;
  readonly anomalies_file: string;
  readonly flagged_uri: string;
  readonly checkpoint_uri: string;
  /** Records the job could not use, with the reason, as Parquet; and that query's checkpoint. */
  readonly rejects_uri: string;
  readonly rejects_checkpoint_uri: string;
  /** spark.sql.streaming.checkpointFileManagerClass for the job; "" keeps Spark's default. */
  readonly checkpoint_file_manager: string;
  readonly spark_master_url: string;
  readonly spark_master_ip: string;
  /** The master's instance, and the SSM parameter where it published its SSH host keys. */
  readonly spark_master_instance_id: string;
  readonly spark_master_host_keys_parameter: string;
}

/** The pipeline's own settings. */
export interface PipelineSettings {
  /** @default 12 */
  readonly partitions: number;
  /** Seconds between the job's micro-batches. @default 10 */
  readonly interval: number;
  /** @default 0 (the whole file) */
  readonly recordCount: number;
  /** Trades per second the producer sends. @default 500 */
  readonly rate: number;
  /** @default 3.0 */
  readonly zThreshold: number;
  /** Cores the streaming job keeps; standalone Spark would give it all. @default 4 */
  readonly jobCores: number;
  /** Cores the producer and the check each take beside the job. @default 2 */
  readonly toolCores: number;
}

export const DEFAULT_SETTINGS: PipelineSettings = { partitions: 12, interval: 10, recordCount: 0, rate: 500, zThreshold: DEFAULT_Z_THRESHOLD, jobCores: 4, toolCores: 2 };
/** Each second's batch is one Spark job writing to Kafka; past a few thousand records it no longer fits its second. */
export const MAX_RATE = 5000;

/** Outputs as `cdktf output --outputs-file` writes them: `{ stack: { output: value } }`. */
export type StackOutputs = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export class PipelineConfigError extends Error {}

/** The value of one output; `terraform output -json`'s `{ value }` wrapping is accepted too. */
function output(outputs: StackOutputs, stack: string, name: string): unknown {
  let found = outputs[stack]?.[name];
  if (found !== null && typeof found === "object" && !Array.isArray(found) && "value" in found) found = (found as { value: unknown }).value;
  if (found === undefined || found === null || found === "" || (Array.isArray(found) && found.length === 0)) {
    throw new PipelineConfigError(`output ${name} of stack ${stack} is missing: deploy the ${stack} stack, then CHECKPOINT_DISABLE=1 npx cdktf output storage spark kafka chef --outputs-file outputs.json`);
  }
  return found;
}

/** An output that stacks deployed before it existed do not have: undefined then. */
function optionalText(outputs: StackOutputs, stack: string, name: string): string | undefined {
  return outputs[stack]?.[name] === undefined ? undefined : text(outputs, stack, name);
}

function text(outputs: StackOutputs, stack: string, name: string): string {
  const value = output(outputs, stack, name);
  if (typeof value !== "string") throw new PipelineConfigError(`output ${name} of stack ${stack} is ${JSON.stringify(value)}, not text`);
  return value;
}

/** The pipeline config from the stacks' outputs; one line naming the output or setting when one is wrong. */
export function pipelineConfig(outputs: StackOutputs, settings: PipelineSettings = DEFAULT_SETTINGS): PipelineConfig {
  for (const [flag, value, minimum] of [
    ["--partitions", settings.partitions, 1],
    ["--interval", settings.interval, 1],
    ["--record-count", settings.recordCount, 0],
    ["--rate", settings.rate, 1],
    ["--job-cores", settings.jobCores, 1],
    ["--tool-cores", settings.toolCores, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < minimum) throw new PipelineConfigError(`${flag} ${value} must be a whole number of at least ${minimum}`);
  }
  if (!(settings.zThreshold > 0)) throw new PipelineConfigError(`--z-threshold ${settings.zThreshold} must be above 0`);
  if (settings.rate > MAX_RATE) throw new PipelineConfigError(`--rate ${settings.rate} must be at most ${MAX_RATE}: each second's batch is one Spark job that must finish within the second`);
  const bucket = text(outputs, "storage", "data_bucket_name");
  const outputUri = text(outputs, "storage", "spark_output_uri");
  if (!outputUri.startsWith(`s3://${bucket}/`)) throw new PipelineConfigError(`output spark_output_uri ${outputUri} is not in bucket ${bucket}`);
  const masterUrl = text(outputs, "spark", "spark_master_url");
  const master = /^spark:\/\/([0-9.]+):\d+$/.exec(masterUrl);
  if (!master) throw new PipelineConfigError(`output spark_master_url ${masterUrl} is not spark://<ip>:<port>`);
  const masterInstanceId = text(outputs, "spark", "spark_master_instance_id");
  if (!/^i-[0-9a-f]{8,17}$/.test(masterInstanceId)) throw new PipelineConfigError(`output spark_master_instance_id ${masterInstanceId} is not an EC2 instance id (i-<hex>)`);
  const nodeIps = output(outputs, "kafka", "kafka_node_ips");
  if (!Array.isArray(nodeIps) || !nodeIps.every((ip) => typeof ip === "string" && /^[0-9.]+$/.test(ip))) {
    throw new PipelineConfigError(`output kafka_node_ips of stack kafka is ${JSON.stringify(nodeIps)}, not a list of IPs`);
  }
  const results = `${outputUri.replace(/^s3:/, "s3a:")}smart-money/`;
  return {
    kafka_bootstrap_servers: text(outputs, "kafka", "kafka_bootstrap_servers"),
    // Stacks deployed before kafka.security existed have no such output and run plaintext.
    kafka_options: kafkaClientOptions(optionalText(outputs, "kafka", "kafka_security") ?? "plaintext"),
    kafka_node_ips: nodeIps as string[],
    topic: TOPIC,
    partitions: settings.partitions,
    streaming_interval_seconds: settings.interval,
    record_count: settings.recordCount,
    producer_rate: settings.rate,
    z_threshold: settings.zThreshold,
    job_cores: settings.jobCores,
    tool_cores: settings.toolCores,
    region: text(outputs, "storage", "data_bucket_region"),
    bucket,
    input_uri: `s3a://${bucket}/${INPUT_PREFIX}`,
    intraday_file: INTRADAY_FILE,
    eod_file: EOD_FILE,
    anomalies_file: ANOMALIES_FILE,
    flagged_uri: `${results}flagged/`,
    checkpoint_uri: `${results}checkpoints/flagged/`,
    rejects_uri: `${results}rejects/`,
    rejects_checkpoint_uri: `${results}checkpoints/rejects/`,
    checkpoint_file_manager: cloudCheckpointFileManager(DEFAULT_CONFIG.spark.version) ?? "",
    spark_master_url: masterUrl,
    spark_master_ip: master[1],
    spark_master_instance_id: masterInstanceId,
    spark_master_host_keys_parameter: text(outputs, "spark", "spark_master_host_keys_parameter"),
  };
}

/** A Python string, number or list literal (JSON's are Python's, for these values). */
function pythonLiteral(value: string | number): string {
  return JSON.stringify(value);
}

/** The config class the original project expected, filled in. */
export function configModule(config: PipelineConfig): string {
  const fields: Array<[string, string | number]> = [
    ["KAFKA_BOOTSTRAP_SERVERS", config.kafka_bootstrap_servers],
    ["TOPIC", config.topic],
    ["STREAMING_INTERVAL", config.streaming_interval_seconds],
    ["S3_REGION", config.region],
    ["S3_BUCKET", config.bucket],
    ["RECORD_COUNT", config.record_count],
    ["INTRADAY_FILE", config.intraday_file],
    ["EOD_FILE", config.eod_file],
  ];
  return [
    '"""Smart Money Tracker settings, generated from the deployed stacks\' outputs by',
    "npm run pipeline:config. No access keys: nodes read and write S3 with their instance roles.",
    "The original's Cassandra settings are gone: flagged trades go to S3 as Parquet.",
    '"""',
    "",
    "",
    "class Config:",
    ...fields.map(([name, value]) => `    ${name} = ${pythonLiteral(value)}`),
    "",
  ].join("\n");
}
