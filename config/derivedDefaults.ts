import { DEFAULT_CONFIG, DEFAULT_KRAFT_KAFKA_PIN } from "./defaults";
import type { KafkaConfig, PlatformConfig } from "./PlatformConfig";

/** A quorum a cluster this small can hold: 3 voters, or 1 when there are fewer than 3 to hold them. */
function quorumFor(members: number): number {
  return members >= 3 ? 3 : 1;
}

/**
 * Defaults that depend on another setting, applied to what no layer set: Kafka's release follows
 * kafka.mode, and the quorum sizes follow kafka.nodes. `isSet("kafka.version")` tells whether a
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
  return { ...config, kafka: { ...kafka, ...derived } };
}
