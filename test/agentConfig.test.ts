import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import {
  agentConfig,
  diskPathsOf,
  EXPORTER_PORTS,
  exporterJobs,
  JVM_METRICS,
  logsOf,
  KRAFT_METRICS,
  metricsOf,
  NODE_KINDS,
  type NodeKind,
  prometheusConfig,
  sparkMasterExporterRules,
} from "../constructs/monitoring/agentConfig";
import type { Json } from "./helpers";

const ROOT = join(__dirname, "..");
const SCHEMA_DIR = join(ROOT, "schemas", "amazon-cloudwatch-agent");
const options = { project: "demo", environment: "dev", kafkaDataPath: "/data/kafka" };

/**
 * The agent's schema says draft-04 and uses nothing that draft-07 reads differently (no boolean
 * exclusiveMinimum/Maximum, no `id`), so Ajv's default draft checks it as the agent does.
 */
function agentValidator(): (config: unknown) => string[] {
  const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, "schema.json"), "utf8")) as Json;
  delete schema.$schema;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  return (config) => (validate(config) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`));
}

describe("the CloudWatch agent's configuration", () => {
  const validate = agentValidator();

  it("is checked against the vendored schema named in its SOURCE.md", () => {
    const source = readFileSync(join(SCHEMA_DIR, "SOURCE.md"), "utf8");
    const digest = createHash("sha256").update(readFileSync(join(SCHEMA_DIR, "schema.json"))).digest("hex");
    expect(source).toContain(`sha256: \`${digest}\``);
    expect(source).toContain("translator/config/schema.json");
  });

  it.each(NODE_KINDS)("%s: valid against the agent's own schema", (kind) => {
    expect(validate(agentConfig(kind, options))).toEqual([]);
  });

  it("the schema check can fail: a misspelt key and a string interval are refused", () => {
    const config = agentConfig("spark-master", options) as Json;
    expect(validate({ ...config, logs: { ...config.logs, force_flush_interval: "15" } })).not.toEqual([]);
    expect(validate({ ...config, metrics: { ...config.metrics, metrics_colected: {} } })).not.toEqual([]);
  });

  it("collects every minute, into the platform's namespace, with the instance id on every metric", () => {
    for (const kind of NODE_KINDS) {
      const config = agentConfig(kind, options) as Json;
      expect(config.agent.metrics_collection_interval).toBe(60);
      expect(config.metrics.namespace).toBe("Platform/demo-dev");
      expect(config.metrics.append_dimensions).toEqual({ InstanceId: "${aws:InstanceId}" });
      expect(config.metrics.aggregation_dimensions).toEqual([["InstanceId", "path"]]);
      expect(config.metrics.metrics_collected.mem.measurement).toEqual(["mem_used_percent"]);
      expect(config.metrics.metrics_collected.disk.measurement).toEqual(["used_percent"]);
    }
  });

  it("watches the root volume everywhere and the data volume on every Kafka node", () => {
    for (const kind of NODE_KINDS) {
      expect(diskPathsOf(kind, options)).toEqual(kind.startsWith("kafka-") ? ["/", "/data/kafka"] : ["/"]);
      expect((agentConfig(kind, options) as Json).metrics.metrics_collected.disk.resources).toEqual(diskPathsOf(kind, options));
    }
    expect(diskPathsOf("kafka-kraft-broker", { ...options, kafkaDataPath: "/srv/kafka" })).toEqual(["/", "/srv/kafka"]);
  });

  const kafka = JVM_METRICS.kafka.map((metric) => metric.name);
  const zookeeper = JVM_METRICS.zookeeper.map((metric) => metric.name);
  const kraft = KRAFT_METRICS.map((metric) => metric.name);
  const host = ["mem_used_percent", "disk_used_percent"];
  const expectedMetrics: Record<NodeKind, string[]> = {
    "kafka-zookeeper-broker": [...host, ...kafka],
    "kafka-zookeeper-member": [...host, ...kafka, ...zookeeper],
    "kafka-kraft-broker": [...host, ...kafka, ...kraft],
    "kafka-kraft-controller": [...host, ...kafka, ...kraft],
    "kafka-kraft-combined": [...host, ...kafka, ...kraft],
    "spark-master": [...host, "spark_alive_workers", "spark_running_apps"],
    "spark-worker": host,
    "chef-server": host,
    "chef-workstation": host,
  };
  it.each(NODE_KINDS)("%s: sends the metrics its kind has", (kind) => {
    expect(metricsOf(kind).map((metric) => metric.name)).toEqual(expectedMetrics[kind]);
  });

  it("names the platform's metrics for Kafka and ZooKeeper", () => {
    expect(kafka).toEqual([
      "kafka_under_replicated_partitions",
      "kafka_under_min_isr_partitions",
      "kafka_offline_partitions",
      "kafka_active_controllers",
      "kafka_bytes_in_per_sec",
      "kafka_bytes_out_per_sec",
      "kafka_messages_in_per_sec",
      "kafka_requests_per_sec",
    ]);
    expect(zookeeper).toEqual(["zookeeper_in_quorum", "zookeeper_quorum_size", "zookeeper_outstanding_requests"]);
  });

  const provisioning = [
    ["/var/log/platform/**.log", "/platform/demo-dev/provisioning"],
    ["/var/log/cloud-init-output.log", "/platform/demo-dev/provisioning"],
  ];
  const kafkaLogs = [
    ["/var/log/kafka/server.log", "/platform/demo-dev/kafka"],
    ["/var/log/kafka/controller.log", "/platform/demo-dev/kafka"],
    ["/var/log/cinc/client.log", "/platform/demo-dev/chef-client"],
    ...provisioning,
  ];
  const expectedLogs: Record<NodeKind, string[][]> = {
    "kafka-zookeeper-broker": kafkaLogs,
    "kafka-zookeeper-member": [["/var/log/zookeeper/zookeeper.log", "/platform/demo-dev/zookeeper"], ...kafkaLogs],
    "kafka-kraft-broker": kafkaLogs,
    "kafka-kraft-controller": kafkaLogs,
    "kafka-kraft-combined": kafkaLogs,
    "spark-master": [["journal:spark-master.service", "/platform/demo-dev/spark-master"], ...provisioning],
    "spark-worker": [["journal:spark-worker.service", "/platform/demo-dev/spark-worker"], ...provisioning],
    "chef-server": [
      ["/var/log/cinc-project/opscode-erchef/current", "/platform/demo-dev/chef-server"],
      ["/var/log/cinc-project/nginx/error.log", "/platform/demo-dev/chef-server"],
      ...provisioning,
    ],
    "chef-workstation": provisioning,
  };
  it.each(NODE_KINDS)("%s: ships the logs its kind writes", (kind) => {
    expect(logsOf(kind, options).map((log) => [log.source, log.group])).toEqual(expectedLogs[kind]);
  });

  it("one stream per instance, a suffix where a node ships two files into one group", () => {
    const files = (agentConfig("kafka-zookeeper-member", options) as Json).logs.logs_collected.files.collect_list as Json[];
    const streams = files.map((file) => `${file.log_group_name} ${file.log_stream_name}`);
    expect(new Set(streams).size).toBe(streams.length);
    expect(files.find((file) => file.file_path === "/var/log/kafka/server.log")?.log_stream_name).toBe("{instance_id}");
    expect(files.find((file) => file.file_path === "/var/log/kafka/controller.log")?.log_stream_name).toBe("{instance_id}-controller");
    // Without it the agent tails only the newest file a glob matches.
    expect(files.find((file) => file.file_path === "/var/log/platform/**.log")?.publish_multi_logs).toBe(true);
  });

  it("publishes the JVM metrics with the platform's dimension sets, an empty set for the platform-wide ones", () => {
    const emf = (agentConfig("kafka-zookeeper-member", options) as Json).logs.metrics_collected.prometheus.emf_processor;
    expect(emf.metric_namespace).toBe("Platform/demo-dev");
    const dimensionsOf = (name: string): unknown =>
      (emf.metric_declaration as Json[]).find((declaration) => (declaration.metric_selectors as string[]).includes(`^${name}$`))?.dimensions;
    expect(dimensionsOf("kafka_under_replicated_partitions")).toEqual([["InstanceId"], []]);
    expect(dimensionsOf("kafka_offline_partitions")).toEqual([[]]);
    expect(dimensionsOf("kafka_active_controllers")).toEqual([[]]);
    expect(dimensionsOf("kafka_bytes_in_per_sec")).toEqual([["InstanceId"]]);
    expect(dimensionsOf("zookeeper_in_quorum")).toEqual([["InstanceId"], []]);
    expect(dimensionsOf("zookeeper_quorum_size")).toEqual([["InstanceId"]]);
    expect(dimensionsOf("kafka_metadata_lag")).toBeUndefined();
    const kraft = (agentConfig("kafka-kraft-combined", options) as Json).logs.metrics_collected.prometheus.emf_processor;
    expect(JSON.stringify(kraft.metric_declaration)).toContain("^kafka_metadata_lag$");
    expect(JSON.stringify(kraft.metric_declaration)).toContain("^kafka_raft_current_leader$");
    expect(dimensionsOf("kafka_raft_current_leader")).toBeUndefined();
    expect(kraft.metric_unit.kafka_raft_current_leader).toBe("None");
    expect(emf.metric_unit.kafka_bytes_in_per_sec).toBe("Bytes/Second");
  });

  it("scrapes each exporter on loopback only, keeping only the declared metrics", () => {
    for (const kind of NODE_KINDS) {
      const text = prometheusConfig(kind);
      if (exporterJobs(kind).length === 0) {
        expect(text).toBeUndefined();
        expect((agentConfig(kind, options) as Json).logs.metrics_collected).toBeUndefined();
        continue;
      }
      const scrape = JSON.parse(text as string) as Json;
      for (const job of scrape.scrape_configs as Json[]) {
        expect(job.static_configs[0].targets).toEqual([`127.0.0.1:${EXPORTER_PORTS[job.job_name as keyof typeof EXPORTER_PORTS]}`]);
        expect(job.static_configs[0].labels).toEqual({ InstanceId: "{instance_id}" });
        const keep = new RegExp(`^(?:${job.metric_relabel_configs[0].regex as string})$`);
        expect(keep.test("jvm_memory_used_bytes")).toBe(false);
        for (const metric of metricsOf(kind).filter((m) => m.name !== "mem_used_percent" && m.name !== "disk_used_percent")) {
          expect(keep.test(metric.name)).toBe(true);
        }
      }
    }
  });

  // The exporters' output names are the agent's metric selectors: a renamed rule would publish nothing.
  const ruleNames = (yaml: string): string[] => [...yaml.matchAll(/^\s+name:\s*"?([a-z_]+)"?\s*$/gm)].map((match) => match[1]);
  it("the cookbooks' and Spark's exporter rules yield exactly the metrics the agent selects", () => {
    const kafkaRules = readFileSync(join(ROOT, "cookbooks/kafka-cluster/files/default/jmx_exporter.yaml"), "utf8");
    const zookeeperRules = readFileSync(join(ROOT, "cookbooks/zookeeper-cluster/files/default/jmx_exporter.yaml"), "utf8");
    expect(new Set(ruleNames(kafkaRules))).toEqual(new Set([...kafka, ...kraft]));
    expect(new Set(ruleNames(zookeeperRules))).toEqual(new Set(zookeeper));
    expect(ruleNames(sparkMasterExporterRules())).toEqual(["spark_alive_workers", "spark_running_apps"]);
    for (const rules of [kafkaRules, zookeeperRules, sparkMasterExporterRules()]) {
      expect(rules).toMatch(/^lowercaseOutputName: true$/m);
      expect(rules).toMatch(/^includeObjectNames:$/m);
    }
  });
});
