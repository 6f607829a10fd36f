import { logGroupName, metricNamespace, type LogService } from "./names";

/**
 * What a node runs, as far as its monitoring is concerned. Kafka nodes differ by mode and role:
 * in ZooKeeper mode a broker may also be an ensemble member; in KRaft mode a node is a broker, a
 * dedicated controller, or both ("combined").
 */
export type NodeKind =
  | "kafka-zookeeper-broker"
  | "kafka-zookeeper-member"
  | "kafka-kraft-broker"
  | "kafka-kraft-controller"
  | "kafka-kraft-combined"
  | "spark-master"
  | "spark-worker"
  | "chef-server"
  | "chef-workstation";

export const NODE_KINDS: readonly NodeKind[] = [
  "kafka-zookeeper-broker",
  "kafka-zookeeper-member",
  "kafka-kraft-broker",
  "kafka-kraft-controller",
  "kafka-kraft-combined",
  "spark-master",
  "spark-worker",
  "chef-server",
  "chef-workstation",
];

/** A JVM whose beans the Prometheus JMX exporter (a java agent in that JVM) serves on loopback. */
export type ExporterJob = "kafka" | "zookeeper" | "spark-master";

/**
 * Loopback ports of the exporters. Above every port a platform service listens on (Spark's
 * 7077-7098, its UIs 8080/8081/4040, Kafka's 9092-9094, ZooKeeper's 2181/2182/2888/3888), and
 * one per JVM, since a ZooKeeper member runs beside a broker. Bound to 127.0.0.1: no security
 * group opens them, only the node's own agent reads them.
 */
export const EXPORTER_PORTS: Readonly<Record<ExporterJob, number>> = { kafka: 9404, zookeeper: 9405, "spark-master": 9406 };

/**
 * The Prometheus JMX exporter's java agent, from Maven Central (the project's GitHub release as
 * the fallback). The sha256 is the same in several unrelated public build files, Dockerfiles and
 * Makefiles that pin 1.6.0, from either URL.
 */
export const JMX_EXPORTER = {
  version: "1.6.0",
  sha256: "a95983fd96e865d2bcdf911cc500e7c82808c27ab9fd226bf96732b6c3d8c46e",
  urls: [
    "https://repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/1.6.0/jmx_prometheus_javaagent-1.6.0.jar",
    "https://github.com/prometheus/jmx_exporter/releases/download/1.6.0/jmx_prometheus_javaagent-1.6.0.jar",
  ],
  /** Where every node keeps it (the cookbooks use the same path). */
  path: "/opt/jmx-exporter/jmx_prometheus_javaagent-1.6.0.jar",
} as const;

/**
 * The CloudWatch agent's Ubuntu package, by CPU architecture. The sha256 pins come from public
 * build files of unrelated projects that pin this exact build (amd64: five, one of which also
 * records a valid detached signature; arm64: two). The node also checks AWS's signature with
 * AWS's key, whose fingerprint is pinned here as AWS's documentation prints it.
 */
export const CLOUDWATCH_AGENT = {
  version: "1.300072.0b1766",
  sha256: {
    amd64: "05baeadca96c4bb8e43906ed09cf0bebd0f321ff6d41987bdc46ce681de0978d",
    arm64: "f84cbb6b193f80440f713ec3a2b2b6ed45a16f10d8f0fe38c01cbff9155cb3f9",
  },
  baseUrl: "https://amazoncloudwatch-agent.s3.amazonaws.com",
  keyUrl: "https://amazoncloudwatch-agent.s3.amazonaws.com/assets/amazon-cloudwatch-agent.gpg",
  keyFingerprint: "937616F3450B7D806CBD9725D58167303B789C72",
} as const;

/** The package's URL for one architecture; its detached signature is the same URL plus `.sig`. */
export function cloudwatchAgentUrl(architecture: "amd64" | "arm64"): string {
  return `${CLOUDWATCH_AGENT.baseUrl}/ubuntu/${architecture}/${CLOUDWATCH_AGENT.version}/amazon-cloudwatch-agent.deb`;
}

/** The package pin a node reads from its `.../package` parameter (the partial's `cloudwatch_agent_pinned`). */
export interface AgentPackage {
  readonly version: string;
  readonly url: string;
  readonly sha256: string;
}

export function agentPackage(architecture: "amd64" | "arm64"): AgentPackage {
  return { version: CLOUDWATCH_AGENT.version, url: cloudwatchAgentUrl(architecture), sha256: CLOUDWATCH_AGENT.sha256[architecture] };
}

/** Where the node writes the Prometheus scrape configuration the agent reads. */
export const PROMETHEUS_CONFIG_PATH = "/opt/aws/amazon-cloudwatch-agent/etc/platform-prometheus.yaml";
/** Replaced on the node by its own instance id: the scrape configuration labels every sample with it. */
export const INSTANCE_ID_PLACEHOLDER = "{instance_id}";

export interface AgentConfigOptions {
  readonly project: string;
  readonly environment: string;
  /** Kafka's data volume mount point. @default "/data/kafka" */
  readonly kafkaDataPath?: string;
  /** The Chef server's log directory: `/var/log/cinc-project` (Cinc) or `/var/log/opscode` (Chef). @default "/var/log/cinc-project" */
  readonly chefServerLogDir?: string;
  /** The Chef client's flavor on Kafka nodes: its log is `/var/log/<flavor>/client.log`. @default "cinc" */
  readonly chefFlavor?: string;
}

/** One metric the platform reads, as CloudWatch names it, and the dimension sets it carries. */
export interface MetricSpec {
  readonly name: string;
  /** `[["InstanceId"]]`, and `[]` among them for the platform-wide series. */
  readonly dimensions: readonly (readonly string[])[];
  readonly unit: string;
}

const PER_NODE = [["InstanceId"]] as const;
const PER_NODE_AND_PLATFORM = [["InstanceId"], []] as const;
const PLATFORM = [[]] as const;

/** The JVM metrics each exporter job yields, by the names the alarms and the dashboard read. */
export const JVM_METRICS: Readonly<Record<ExporterJob, readonly MetricSpec[]>> = {
  kafka: [
    { name: "kafka_under_replicated_partitions", dimensions: PER_NODE_AND_PLATFORM, unit: "Count" },
    { name: "kafka_under_min_isr_partitions", dimensions: PER_NODE_AND_PLATFORM, unit: "Count" },
    { name: "kafka_offline_partitions", dimensions: PLATFORM, unit: "Count" },
    { name: "kafka_active_controllers", dimensions: PLATFORM, unit: "Count" },
    { name: "kafka_bytes_in_per_sec", dimensions: PER_NODE, unit: "Bytes/Second" },
    { name: "kafka_bytes_out_per_sec", dimensions: PER_NODE, unit: "Bytes/Second" },
    { name: "kafka_messages_in_per_sec", dimensions: PER_NODE, unit: "Count/Second" },
    { name: "kafka_requests_per_sec", dimensions: PER_NODE, unit: "Count/Second" },
  ],
  zookeeper: [
    { name: "zookeeper_in_quorum", dimensions: PER_NODE_AND_PLATFORM, unit: "Count" },
    { name: "zookeeper_quorum_size", dimensions: PER_NODE, unit: "Count" },
    { name: "zookeeper_outstanding_requests", dimensions: PER_NODE, unit: "Count" },
  ],
  "spark-master": [
    { name: "spark_alive_workers", dimensions: PER_NODE, unit: "Count" },
    { name: "spark_running_apps", dimensions: PER_NODE, unit: "Count" },
  ],
};

/** KRaft only: how far behind this node applies the metadata log (broker or controller view), in ms. */
export const METADATA_LAG: MetricSpec = { name: "kafka_metadata_lag", dimensions: PER_NODE, unit: "Milliseconds" };
/**
 * KRaft only: the node id of the metadata quorum's leader (the active controller) as this node
 * sees it, -1 while it knows none. Every node, broker or controller, follows the metadata log.
 */
export const RAFT_CURRENT_LEADER: MetricSpec = { name: "kafka_raft_current_leader", dimensions: PER_NODE, unit: "None" };
/** The metrics a KRaft node's Kafka job adds to JVM_METRICS.kafka. */
export const KRAFT_METRICS: readonly MetricSpec[] = [METADATA_LAG, RAFT_CURRENT_LEADER];

/** A log the agent ships: a file (glob), or a systemd unit's journal. */
export type LogSource =
  | { readonly file: string; readonly service: LogService; readonly suffix?: string; readonly eachFile?: boolean }
  | { readonly unit: string; readonly service: LogService };

interface KindSpec {
  readonly jobs: readonly ExporterJob[];
  readonly kraft: boolean;
  readonly diskPaths: (options: Required<AgentConfigOptions>) => string[];
  readonly logs: (options: Required<AgentConfigOptions>) => LogSource[];
  /** The group the Prometheus metrics' embedded-format log events go to. */
  readonly metricsLogService?: LogService;
}

/** Our scripts' logs and cloud-init's, on every node. */
const PROVISIONING_LOGS: LogSource[] = [
  { file: "/var/log/platform/**.log", service: "provisioning", eachFile: true },
  { file: "/var/log/cloud-init-output.log", service: "provisioning", suffix: "cloud-init-output" },
];
const KAFKA_LOGS = (options: Required<AgentConfigOptions>): LogSource[] => [
  { file: "/var/log/kafka/server.log", service: "kafka" },
  { file: "/var/log/kafka/controller.log", service: "kafka", suffix: "controller" },
  { file: chefClientLog(options.chefFlavor), service: "chef-client" },
  ...PROVISIONING_LOGS,
];
const ZOOKEEPER_LOGS: LogSource[] = [{ file: "/var/log/zookeeper/zookeeper.log", service: "zookeeper" }];
const ROOT = (): string[] => ["/"];
const KAFKA_DISKS = (options: Required<AgentConfigOptions>): string[] => ["/", options.kafkaDataPath];

const KINDS: Readonly<Record<NodeKind, KindSpec>> = {
  "kafka-zookeeper-broker": { jobs: ["kafka"], kraft: false, diskPaths: KAFKA_DISKS, logs: KAFKA_LOGS, metricsLogService: "kafka" },
  "kafka-zookeeper-member": {
    jobs: ["kafka", "zookeeper"],
    kraft: false,
    diskPaths: KAFKA_DISKS,
    logs: (options) => [...ZOOKEEPER_LOGS, ...KAFKA_LOGS(options)],
    metricsLogService: "kafka",
  },
  "kafka-kraft-broker": { jobs: ["kafka"], kraft: true, diskPaths: KAFKA_DISKS, logs: KAFKA_LOGS, metricsLogService: "kafka" },
  "kafka-kraft-controller": { jobs: ["kafka"], kraft: true, diskPaths: KAFKA_DISKS, logs: KAFKA_LOGS, metricsLogService: "kafka" },
  "kafka-kraft-combined": { jobs: ["kafka"], kraft: true, diskPaths: KAFKA_DISKS, logs: KAFKA_LOGS, metricsLogService: "kafka" },
  "spark-master": {
    jobs: ["spark-master"],
    kraft: false,
    diskPaths: ROOT,
    logs: () => [{ unit: "spark-master.service", service: "spark-master" }, ...PROVISIONING_LOGS],
    metricsLogService: "spark-master",
  },
  "spark-worker": {
    jobs: [],
    kraft: false,
    diskPaths: ROOT,
    logs: () => [{ unit: "spark-worker.service", service: "spark-worker" }, ...PROVISIONING_LOGS],
  },
  "chef-server": {
    jobs: [],
    kraft: false,
    diskPaths: ROOT,
    logs: (options) => [
      { file: `${options.chefServerLogDir}/opscode-erchef/current`, service: "chef-server" },
      { file: `${options.chefServerLogDir}/nginx/error.log`, service: "chef-server", suffix: "nginx-error" },
      ...PROVISIONING_LOGS,
    ],
  },
  "chef-workstation": { jobs: [], kraft: false, diskPaths: ROOT, logs: () => PROVISIONING_LOGS },
};

/** Where a Kafka node's Chef client logs each run (the node's client.d names it). */
export function chefClientLog(flavor: string): string {
  return `/var/log/${flavor}/client.log`;
}

function withDefaults(options: AgentConfigOptions): Required<AgentConfigOptions> {
  return {
    kafkaDataPath: "/data/kafka",
    chefServerLogDir: "/var/log/cinc-project",
    chefFlavor: "cinc",
    ...options,
  };
}

/** The exporter jobs whose metrics a node of this kind yields. */
export function exporterJobs(kind: NodeKind): readonly ExporterJob[] {
  return KINDS[kind].jobs;
}

/** Every metric a node of this kind sends, by CloudWatch name. */
export function metricsOf(kind: NodeKind): MetricSpec[] {
  const host: MetricSpec[] = [
    { name: "mem_used_percent", dimensions: PER_NODE, unit: "Percent" },
    { name: "disk_used_percent", dimensions: [["InstanceId", "path"]], unit: "Percent" },
  ];
  return [...host, ...jvmMetricsOf(kind)];
}

/** Every log this kind ships: the file (or journal unit) and its group. */
export function logsOf(kind: NodeKind, options: AgentConfigOptions): Array<{ source: string; group: string }> {
  const all = withDefaults(options);
  return KINDS[kind].logs(all).map((log) => ({
    source: "file" in log ? log.file : `journal:${log.unit}`,
    group: logGroupName(all.project, all.environment, log.service),
  }));
}

/**
 * The log groups a node of this kind may write: its logs' and its metrics' embedded-format
 * events. Every Kafka node gets those of every Kafka kind: its role changes while it runs (a
 * broker becomes a ZooKeeper member, a KRaft voter), and a node added later then holds exactly
 * what its siblings hold.
 */
export function logServicesOf(kind: NodeKind, options: AgentConfigOptions): LogService[] {
  const kinds = kind.startsWith("kafka-") ? NODE_KINDS.filter((each) => each.startsWith("kafka-")) : [kind];
  const services = new Set<LogService>();
  for (const each of kinds) {
    const spec = KINDS[each];
    for (const log of spec.logs(withDefaults(options))) services.add(log.service);
    if (spec.metricsLogService) services.add(spec.metricsLogService);
  }
  return [...services];
}

/** The disk paths whose used percent a node of this kind reports. */
export function diskPathsOf(kind: NodeKind, options: AgentConfigOptions): string[] {
  return KINDS[kind].diskPaths(withDefaults(options));
}

/**
 * The CloudWatch agent's configuration (its JSON schema: amazon-cloudwatch-agent's
 * translator/config/schema.json) for one node kind: memory and disk from the agent's own
 * plugins, the JVMs' metrics scraped from the exporters (and published from embedded-format log
 * events, so only the declared metrics and dimension sets become CloudWatch metrics), and the
 * kind's logs into the platform's groups, one stream per instance.
 */
export function agentConfig(kind: NodeKind, options: AgentConfigOptions): Record<string, unknown> {
  const all = withDefaults(options);
  const spec = KINDS[kind];
  const namespace = metricNamespace(all.project, all.environment);
  const group = (service: LogService): string => logGroupName(all.project, all.environment, service);
  const sources = spec.logs(all);
  const files = sources.flatMap((log) =>
    "file" in log
      ? [
          {
            file_path: log.file,
            log_group_name: group(log.service),
            // With publish_multi_logs the agent appends each file's name to the stream name.
            log_stream_name: log.suffix ? `{instance_id}-${log.suffix}` : "{instance_id}",
            ...(log.eachFile ? { publish_multi_logs: true } : {}),
          },
        ]
      : [],
  );
  const journal = sources.flatMap((log) =>
    "unit" in log ? [{ units: [log.unit], log_group_name: group(log.service), log_stream_name: "{instance_id}" }] : [],
  );
  const metricsCollected: Record<string, unknown> = {};
  if (spec.jobs.length > 0 && spec.metricsLogService) {
    metricsCollected.prometheus = {
      log_group_name: group(spec.metricsLogService),
      prometheus_config_path: PROMETHEUS_CONFIG_PATH,
      emf_processor: {
        metric_declaration_dedup: true,
        metric_namespace: namespace,
        metric_unit: Object.fromEntries(jvmMetricsOf(kind).map((metric) => [metric.name, metric.unit])),
        metric_declaration: metricDeclarations(kind),
      },
    };
  }
  return {
    agent: { metrics_collection_interval: 60, omit_hostname: true },
    metrics: {
      namespace,
      append_dimensions: { InstanceId: "${aws:InstanceId}" },
      // The disk plugin also tags fstype (and device, dropped below); this rollup is the series
      // with exactly {InstanceId, path} that the alarms read.
      aggregation_dimensions: [["InstanceId", "path"]],
      metrics_collected: {
        mem: { measurement: ["mem_used_percent"], metrics_collection_interval: 60 },
        disk: { measurement: ["used_percent"], resources: spec.diskPaths(all), drop_device: true, metrics_collection_interval: 60 },
      },
    },
    logs: {
      logs_collected: {
        files: { collect_list: files },
        ...(journal.length > 0 ? { journald: { collect_list: journal } } : {}),
      },
      ...(Object.keys(metricsCollected).length > 0 ? { metrics_collected: metricsCollected } : {}),
      force_flush_interval: 15,
    },
  };
}

function jvmMetricsOf(kind: NodeKind): MetricSpec[] {
  return KINDS[kind].jobs.flatMap((job) => jobMetricsOf(kind, job));
}

/** What one exporter job yields on a node of this kind: a KRaft node's Kafka job adds KRAFT_METRICS. */
function jobMetricsOf(kind: NodeKind, job: ExporterJob): MetricSpec[] {
  return [...JVM_METRICS[job], ...(job === "kafka" && KINDS[kind].kraft ? KRAFT_METRICS : [])];
}

/** One declaration per job and dimension layout: only these metrics and sets reach CloudWatch. */
function metricDeclarations(kind: NodeKind): Array<Record<string, unknown>> {
  const spec = KINDS[kind];
  return spec.jobs.flatMap((job) => {
    const metrics = jobMetricsOf(kind, job);
    const layouts = new Map<string, MetricSpec[]>();
    for (const metric of metrics) {
      const key = JSON.stringify(metric.dimensions);
      layouts.set(key, [...(layouts.get(key) ?? []), metric]);
    }
    return [...layouts.values()].map((group) => ({
      source_labels: ["job"],
      label_matcher: `^${job}$`,
      dimensions: group[0].dimensions.map((set) => [...set]),
      metric_selectors: group.map((metric) => `^${metric.name}$`),
    }));
  });
}

/**
 * The Prometheus scrape configuration for a node kind (JSON, which Prometheus's YAML parser
 * reads): each exporter on loopback, once a minute, every sample labelled with the node's
 * instance id (the placeholder the node replaces), and only the platform's metrics (names.ts) kept, so the
 * embedded-format log events carry nothing else. Undefined for kinds without a JVM exporter.
 */
export function prometheusConfig(kind: NodeKind): string | undefined {
  const spec = KINDS[kind];
  if (spec.jobs.length === 0) return undefined;
  const names = jvmMetricsOf(kind).map((metric) => metric.name);
  return JSON.stringify({
    global: { scrape_interval: "1m", scrape_timeout: "10s" },
    scrape_configs: spec.jobs.map((job) => ({
      job_name: job,
      static_configs: [{ targets: [`127.0.0.1:${EXPORTER_PORTS[job]}`], labels: { InstanceId: INSTANCE_ID_PLACEHOLDER } }],
      metric_relabel_configs: [{ source_labels: ["__name__"], regex: names.join("|"), action: "keep" }],
    })),
  });
}

/**
 * The JMX exporter's rules for the Spark master (its metrics system's JMX sink registers the
 * master source's gauges under the `metrics` domain): only the two gauges the platform reads,
 * renamed to the platform's names. Kafka's and ZooKeeper's rules ship with their cookbooks.
 */
export function sparkMasterExporterRules(): string {
  return [
    "# The Spark master's gauges the platform reads, and nothing else.",
    "lowercaseOutputName: true",
    "includeObjectNames:",
    '  - "metrics:name=master.aliveWorkers,*"',
    '  - "metrics:name=master.apps,*"',
    "rules:",
    '  - pattern: "metrics<name=master\\\\.aliveWorkers, type=\\\\w+><>Value"',
    "    name: spark_alive_workers",
    "    type: GAUGE",
    '  - pattern: "metrics<name=master\\\\.apps, type=\\\\w+><>Value"',
    "    name: spark_running_apps",
    "    type: GAUGE",
    "",
  ].join("\n");
}
