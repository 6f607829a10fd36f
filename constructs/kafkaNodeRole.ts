import type { PlatformConfig } from "../config/PlatformConfig";
import { EXPORTER_PORTS, JMX_EXPORTER } from "./monitoring/agentConfig";

/** The Chef role every Kafka node runs, as `knife role from file` reads it. */
export interface ChefRole {
  readonly name: string;
  readonly description: string;
  readonly json_class: "Chef::Role";
  readonly chef_type: "role";
  readonly default_attributes: Record<string, unknown>;
  readonly override_attributes: Record<string, unknown>;
  readonly run_list: readonly string[];
}

export const KAFKA_NODE_ROLE = "kafka-node";

/**
 * The one place where values the TypeScript config owns (mode, Kafka version and checksum,
 * partitions, replication, heap, data path) reach the cookbooks: a role written at synth and
 * uploaded by the workstation, never edits to attribute files.
 */
export function kafkaNodeRole(config: PlatformConfig): ChefRole {
  const kafka = config.kafka;
  const kraft = kafka.mode === "kraft";
  // The exporter the agent's configuration scrapes (agentConfig.ts), whatever the cookbooks'
  // own defaults say: one pin for the platform, on the port the agent reads.
  const exporter = (job: "kafka" | "zookeeper") => ({ version: JMX_EXPORTER.version, sha256: JMX_EXPORTER.sha256, urls: JMX_EXPORTER.urls, port: EXPORTER_PORTS[job] });
  return {
    name: KAFKA_NODE_ROLE,
    description: `${kraft ? "Kafka (KRaft)" : "ZooKeeper + Kafka"} node of ${config.project}-${config.environment}; generated from the platform config`,
    json_class: "Chef::Role",
    chef_type: "role",
    default_attributes: {},
    override_attributes: {
      // The cookbooks read it to build each listener (docs/tls.md); a plaintext listener with no
      // kafka.security opt-in fails synth (guardrails/rules/kafkaTls.ts).
      "insight-kafka-cluster": { mode: kafka.mode, security: kafka.security },
      // KRaft runs no ZooKeeper.
      ...(kraft
        ? {}
        : {
            "zookeeper-cluster": {
              version: kafka.zookeeperVersion,
              sha512: kafka.zookeeperSha512,
              heap_mb: kafka.zookeeperHeapMb,
              jmx_exporter: exporter("zookeeper"),
            },
          }),
      "kafka-cluster": {
        version: kafka.version,
        sha512: kafka.sha512,
        heap_mb: kafka.heapMb,
        data_dir: kafka.dataPath,
        jmx_exporter: exporter("kafka"),
        config: {
          properties: {
            "num.partitions": kafka.numPartitions,
            "default.replication.factor": kafka.replicationFactor,
            "min.insync.replicas": kafka.minInsyncReplicas,
            "offsets.topic.replication.factor": kafka.replicationFactor,
            "transaction.state.log.replication.factor": kafka.replicationFactor,
            "transaction.state.log.min.isr": kafka.minInsyncReplicas,
            // Kafka 4's share groups keep their state in an internal topic of their own, by
            // default with 3 replicas: a smaller cluster could never create it.
            ...(kraft
              ? {
                  "share.coordinator.state.topic.replication.factor": kafka.replicationFactor,
                  "share.coordinator.state.topic.min.isr": kafka.minInsyncReplicas,
                }
              : {}),
          },
        },
      },
    },
    run_list: ["recipe[insight-kafka-cluster]"],
  };
}
