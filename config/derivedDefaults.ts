import { DEFAULT_CONFIG, DEFAULT_KRAFT_KAFKA_PIN, DEFAULT_WORKSTATION_PIN } from "./defaults";
import type { ChefConfig, KafkaConfig, PlatformConfig } from "./PlatformConfig";

/** A quorum a cluster this small can hold: 3 voters, or 1 when there are fewer than 3 to hold them. */
function quorumFor(members: number): number {
  return members >= 3 ? 3 : 1;
}

/** Replicas a cluster of this many brokers can hold: 3, or every broker when there are fewer. */
function replicationFor(brokers: number): number {
  return Math.max(1, Math.min(3, brokers));
}

/**
 * Defaults that depend on another setting, applied to what no layer set: Kafka's release follows
 * kafka.mode; the quorum sizes, the replication factor and min.insync.replicas follow
 * kafka.nodes; the workstation checksum is pinned only for the package it was published for. `isSet("kafka.version")` tells whether a
 * config file, environment variable or flag gave that key.
 */
export function applyDerivedDefaults(config: PlatformConfig, isSet: (path: string) => boolean): PlatformConfig {
  const kafka = config.kafka;
  const derived: { -readonly [K in keyof KafkaConfig]?: KafkaConfig[K] } = {};
  if (kafka.mode === "kraft" && !isSet("kafka.version") && !isSet("kafka.sha512")) {
    derived.version = DEFAULT_KRAFT_KAFKA_PIN.version;
    derived.sha512 = DEFAULT_KRAFT_KAFKA_PIN.sha512;
  }
  if (!isSet("kafka.zookeeperNodes")) derived.zookeeperNodes = quorumFor(kafka.nodes);
  if (!isSet("kafka.controllerNodes")) {
    derived.controllerNodes = kafka.dedicatedControllers ? DEFAULT_CONFIG.kafka.controllerNodes : quorumFor(kafka.nodes);
  }
  if (!isSet("kafka.replicationFactor")) derived.replicationFactor = replicationFor(kafka.nodes);
  if (!isSet("kafka.minInsyncReplicas")) {
    // One below the replication factor, so one broker down never stops acks=all writes; 2 at most.
    const replicas = derived.replicationFactor ?? kafka.replicationFactor;
    derived.minInsyncReplicas = Math.max(1, Math.min(DEFAULT_CONFIG.kafka.minInsyncReplicas, replicas - 1));
  }
  const chef = config.chef;
  const chefDerived: { -readonly [K in keyof ChefConfig]?: ChefConfig[K] } = {};
  const pinnedPackage =
    chef.flavor === DEFAULT_WORKSTATION_PIN.flavor && chef.workstationVersion === DEFAULT_WORKSTATION_PIN.version && chef.workstationUbuntuRelease === DEFAULT_WORKSTATION_PIN.ubuntuRelease;
  // Another flavor, release or Ubuntu release is another package: verify it against its
  // publisher's metadata, as the server package is, unless the operator pins it.
  if (!isSet("chef.workstationPackageChecksum") && !pinnedPackage) chefDerived.workstationPackageChecksum = "";
  return { ...config, chef: { ...chef, ...chefDerived }, kafka: { ...kafka, ...derived } };
}
