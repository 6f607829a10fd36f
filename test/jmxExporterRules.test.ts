import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JVM_METRICS, KRAFT_METRICS, sparkMasterExporterRules, type NodeKind } from "../constructs/monitoring/agentConfig";
import { publishedByAgent } from "../rehearsal/agentSelection";
import { exportedSamples, parseExporterRules, parseProbeOutput, type BeanAttribute, type Sample } from "../rehearsal/jmxExporterRules";
import { itScripts } from "./tiers";

const ROOT = join(__dirname, "..");
const ZOOKEEPER_RULES = "cookbooks/zookeeper-cluster/files/default/jmx_exporter.yaml";
const KAFKA_RULES = "cookbooks/kafka-cluster/files/default/jmx_exporter.yaml";
const rulesFile = (path: string) => parseExporterRules(readFileSync(join(ROOT, path), "utf8"), path);
/**
 * JmxProbe's output (`java rehearsal/jmx/JmxProbe.java <pid> <the rules' includeObjectNames>`)
 * for members of an ensemble of three run from Debian 12's zookeeper package (3.8) with the
 * cookbook's quorum settings (reconfigEnabled, standaloneEnabled=false): the leader, a follower,
 * and the last member left running once the other two stopped (looking).
 */
const recorded = (member: "leader" | "follower" | "looking"): BeanAttribute[] =>
  parseProbeOutput(readFileSync(join(__dirname, "fixtures", "jmx", `zookeeper-${member}.tsv`), "utf8"));
const byName = (samples: readonly Sample[]): Record<string, number> => Object.fromEntries(samples.map((sample) => [sample.name, sample.value]));
/** An attribute of a bean, as JmxProbe reads it. */
const bean = (objectName: string, attribute: string, value: number): BeanAttribute => {
  const [domain, keyProperties] = objectName.split(/:(.*)/s);
  return { domain, keyProperties, attribute, type: "number", value: String(value) };
};

describe("zookeeper-cluster's exporter rules on a real member's beans", () => {
  const rules = rulesFile(ZOOKEEPER_RULES);
  const zookeeperMetrics = JVM_METRICS.zookeeper.map((metric) => metric.name).sort();

  it.each(["leader", "follower"] as const)("a %s yields every ZooKeeper metric the agent publishes, with the ensemble's size and 1 in quorum", (member) => {
    const samples = exportedSamples(rules, recorded(member));
    // Once each: a pattern also matches any longer attribute name it starts.
    expect(samples).toHaveLength(3);
    expect(byName(samples)).toEqual({ zookeeper_quorum_size: 3, zookeeper_in_quorum: 1, zookeeper_outstanding_requests: 0 });
    expect(publishedByAgent("kafka-zookeeper-member", "zookeeper", samples).map((sample) => sample.name).sort()).toEqual(zookeeperMetrics);
  });

  // The quorum alarm counts members in quorum: a member that lost its quorum must not count.
  it("a member out of quorum yields its quorum size and no in-quorum sample", () => {
    expect(byName(exportedSamples(rules, recorded("looking")))).toEqual({ zookeeper_quorum_size: 3 });
  });

  it("a rule whose pattern names an attribute the member lacks yields nothing for it", () => {
    const text = readFileSync(join(ROOT, ZOOKEEPER_RULES), "utf8").replace("><>QuorumSize", "><>QuorumSise");
    expect(text).toContain("QuorumSise");
    const broken = parseExporterRules(text, "broken.yaml");
    expect(byName(exportedSamples(broken, recorded("leader")))).not.toHaveProperty("zookeeper_quorum_size");
  });

  it("the rules' object name patterns are what the probe was given: the recorded beans are only those", () => {
    expect(rules.includeObjectNames).toEqual([
      "org.apache.ZooKeeperService:name0=ReplicatedServer_id*",
      "org.apache.ZooKeeperService:name0=ReplicatedServer_id*,name1=replica.*,name2=Leader",
      "org.apache.ZooKeeperService:name0=ReplicatedServer_id*,name1=replica.*,name2=Follower",
    ]);
    const keys = new Set(recorded("leader").map((attribute) => `${attribute.domain}:${attribute.keyProperties}`));
    expect([...keys].sort()).toEqual(["org.apache.ZooKeeperService:name0=ReplicatedServer_id3", "org.apache.ZooKeeperService:name0=ReplicatedServer_id3,name1=replica.3,name2=Leader"]);
  });
});

describe("kafka-cluster's exporter rules on the beans Kafka registers", () => {
  const rules = rulesFile(KAFKA_RULES);
  // Kafka's documented monitoring beans: Yammer gauges expose Value, meters OneMinuteRate; the
  // KRaft broker's metadata metrics are Kafka metrics, one attribute per metric.
  const brokerBeans = [
    bean("kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions", "Value", 2),
    bean("kafka.server:type=ReplicaManager,name=UnderMinIsrPartitionCount", "Value", 1),
    bean("kafka.controller:type=KafkaController,name=OfflinePartitionsCount", "Value", 0),
    bean("kafka.controller:type=KafkaController,name=ActiveControllerCount", "Value", 1),
    bean("kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec", "OneMinuteRate", 2048),
    bean("kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec", "Count", 999999),
    bean("kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec,topic=trades", "OneMinuteRate", 1024),
    bean("kafka.server:type=BrokerTopicMetrics,name=BytesOutPerSec", "OneMinuteRate", 4096),
    bean("kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec", "OneMinuteRate", 30),
    bean("kafka.server:type=BrokerTopicMetrics,name=TotalProduceRequestsPerSec", "OneMinuteRate", 5),
    bean("kafka.server:type=BrokerTopicMetrics,name=TotalFetchRequestsPerSec", "OneMinuteRate", 7),
  ];
  const kraftBeans = [
    bean("kafka.server:type=broker-metadata-metrics", "last-applied-record-lag-ms", 120),
    bean("kafka.controller:type=KafkaController,name=LastAppliedRecordLagMs", "Value", 80),
    // Every KRaft node follows the metadata log through its raft client.
    bean("kafka.server:type=raft-metrics", "current-leader", 3),
    bean("kafka.server:type=raft-metrics", "current-epoch", 7),
  ];

  it("yields each metric once, from the broker-wide beans only (a topic's bean is not counted again), requests labelled by kind", () => {
    const samples = exportedSamples(rules, brokerBeans);
    expect(samples).toEqual([
      { name: "kafka_under_replicated_partitions", labels: {}, value: 2 },
      { name: "kafka_under_min_isr_partitions", labels: {}, value: 1 },
      { name: "kafka_offline_partitions", labels: {}, value: 0 },
      { name: "kafka_active_controllers", labels: {}, value: 1 },
      { name: "kafka_bytes_in_per_sec", labels: {}, value: 2048 },
      { name: "kafka_bytes_out_per_sec", labels: {}, value: 4096 },
      { name: "kafka_messages_in_per_sec", labels: {}, value: 30 },
      { name: "kafka_requests_per_sec", labels: { request: "Produce" }, value: 5 },
      { name: "kafka_requests_per_sec", labels: { request: "Fetch" }, value: 7 },
    ]);
  });

  it.each<[NodeKind, boolean]>([
    ["kafka-zookeeper-broker", false],
    ["kafka-zookeeper-member", false],
    ["kafka-kraft-broker", true],
    ["kafka-kraft-controller", true],
    ["kafka-kraft-combined", true],
  ])("a %s node's agent publishes every Kafka metric it declares from them", (kind, kraft) => {
    const samples = exportedSamples(rules, [...brokerBeans, ...kraftBeans]);
    const published = publishedByAgent(kind, "kafka", samples).map((sample) => sample.name);
    // Twice each by their labels: requests (produce, fetch) and, in KRaft, the lag (broker, controller).
    const twice = ["kafka_requests_per_sec", ...(kraft ? ["kafka_metadata_lag"] : [])];
    const expected = [...JVM_METRICS.kafka.map((metric) => metric.name), ...(kraft ? KRAFT_METRICS.map((metric) => metric.name) : []), ...twice];
    expect(published.sort()).toEqual(expected.sort());
  });

  it("reads only the beans its includeObjectNames name: without the raft-metrics line, no quorum leader", () => {
    const text = readFileSync(join(ROOT, KAFKA_RULES), "utf8").replace('  - "kafka.server:type=raft-metrics"\n', "");
    expect(text).not.toContain('"kafka.server:type=raft-metrics"');
    const names = exportedSamples(parseExporterRules(text, "without-raft.yaml"), kraftBeans).map((sample) => sample.name);
    expect(names).toEqual(["kafka_metadata_lag", "kafka_metadata_lag"]);
  });

  it("labels the metadata lag by the role that reports it, and reads the quorum leader's id", () => {
    expect(exportedSamples(rules, kraftBeans)).toEqual([
      { name: "kafka_metadata_lag", labels: { role: "broker" }, value: 120 },
      { name: "kafka_metadata_lag", labels: { role: "controller" }, value: 80 },
      { name: "kafka_raft_current_leader", labels: {}, value: 3 },
    ]);
  });
});

describe("the Spark master's exporter rules on the gauges its JmxSink registers", () => {
  // Dropwizard's JmxReporter names each gauge metrics:name=<source>.<gauge>,type=gauges.
  const beans = [
    bean("metrics:name=master.aliveWorkers,type=gauges", "Value", 3),
    bean("metrics:name=master.apps,type=gauges", "Value", 1),
    bean("metrics:name=master.workers,type=gauges", "Value", 4),
    bean("metrics:name=master.waitingApps,type=gauges", "Value", 0),
  ];

  it("yields the alive workers and the applications, and nothing else the master registers", () => {
    const rules = parseExporterRules(sparkMasterExporterRules(), "sparkMasterExporterRules()");
    const samples = exportedSamples(rules, beans);
    expect(samples).toEqual([
      { name: "spark_alive_workers", labels: {}, value: 3 },
      { name: "spark_running_apps", labels: {}, value: 1 },
    ]);
    expect(publishedByAgent("spark-master", "spark-master", samples)).toEqual(samples);
  });
});

describe("the exporter model", () => {
  it("refuses a COUNTER (served as <name>_total) and Java-only pattern syntax, rather than model them wrong", () => {
    expect(() => parseExporterRules("includeObjectNames: ['a:b=c']\nrules:\n  - pattern: x\n    name: y\n    type: COUNTER\n", "f.yaml")).toThrow("f.yaml: rules[0]: type COUNTER is not modelled");
    expect(() => parseExporterRules("includeObjectNames: ['a:b=c']\nrules:\n  - pattern: '\\Qa.b\\E'\n    name: y\n", "f.yaml")).toThrow("f.yaml: rules[0]: pattern \\Qa.b\\E is not one this model reads as Java does");
  });

  it("refuses a rules file with a key it does not apply, naming it", () => {
    expect(() => parseExporterRules("includeObjectNames: ['a:b=c']\nrules:\n  - pattern: x\n    name: y\n    valueFactor: 0.001\n", "f.yaml")).toThrow(
      "f.yaml: rules[0]: valueFactor is a key this model of the exporter does not apply",
    );
    expect(() => parseExporterRules("whitelistObjectNames: ['a:b=c']\nrules:\n  - pattern: x\n    name: y\n", "f.yaml")).toThrow("f.yaml: whitelistObjectNames is a key");
    expect(() => parseExporterRules("rules:\n  - pattern: x\n    name: y\n", "f.yaml")).toThrow("f.yaml: includeObjectNames must list object name patterns");
  });

  it("matches key properties in their registered order, a quoted value kept whole, and makes names safe (a reserved _total suffix stripped, as Prometheus's client does)", () => {
    const rules = parseExporterRules('includeObjectNames: ["d:*"]\nrules:\n  - pattern: "d<b=\\"x,y\\", a=1><>(\\\\w+)-rate"\n    name: d_$1.total\n', "f.yaml");
    const attribute: BeanAttribute = { domain: "d", keyProperties: 'b="x,y",a=1', attribute: "in-rate", type: "number", value: "3" };
    expect(exportedSamples(rules, [attribute])).toEqual([{ name: "d_in", labels: {}, value: 3 }]);
    expect(exportedSamples(rules, [{ ...attribute, keyProperties: 'a=1,b="x,y"' }])).toEqual([]);
  });

  // The probe itself, against a live JVM: attach, start its local JMX connector, read the beans.
  itScripts("JmxProbe reads a running JVM's beans as the model expects them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jmx-probe-"));
    try {
      writeFileSync(join(dir, "Idle.java"), 'public class Idle { public static void main(String[] a) throws Exception { System.out.println("ready"); Thread.sleep(120000); } }\n');
      const target = spawn("java", ["-XX:+UseSerialGC", join(dir, "Idle.java")], { stdio: ["ignore", "pipe", "inherit"] });
      try {
        await new Promise<void>((resolve, reject) => {
          target.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
          target.on("exit", (code) => reject(new Error(`the target JVM exited ${code}`)));
        });
        const output = execFileSync("java", [join(ROOT, "rehearsal", "jmx", "JmxProbe.java"), String(target.pid), "java.lang:type=Runtime", "java.lang:type=MemoryPool,*"], { encoding: "utf8" });
        const rules = parseExporterRules(
          [
            'includeObjectNames: ["java.lang:type=Runtime", "java.lang:type=MemoryPool,*"]',
            "rules:",
            '  - pattern: "java.lang<type=Runtime><>Uptime"',
            "    name: jvm_uptime_ms",
            // The JVM registers its memory pools' names first: the order the exporter matches.
            // The exporter appends ": <value>" and lets a pattern end anywhere: without ": " this
            // would match UsageThresholdSupported too.
            '  - pattern: "java.lang<name=Tenured Gen, type=MemoryPool><>Usage: "',
            "    name: never_a_number",
            '  - pattern: "java.lang<name=Tenured Gen, type=MemoryPool><>Valid"',
            "    name: tenured_valid",
          ].join("\n"),
          "jvm.yaml",
        );
        const samples = byName(exportedSamples(rules, parseProbeOutput(output)));
        expect(samples.jvm_uptime_ms).toBeGreaterThan(0);
        // A composite attribute (Usage) is not printed; a boolean is 1.
        expect(samples).not.toHaveProperty("never_a_number");
        expect(samples.tenured_valid).toBe(1);
      } finally {
        target.kill();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
