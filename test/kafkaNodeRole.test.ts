import { kafkaNodeRole } from "../constructs/kafkaNodeRole";
import { configFrom } from "./helpers";

describe("kafkaNodeRole", () => {
  it("carries the config's Kafka settings to the cookbooks' attribute names", () => {
    const role = kafkaNodeRole(configFrom());
    expect(role.run_list).toEqual(["recipe[insight-kafka-cluster]"]);
    expect(role.override_attributes["kafka-cluster"]).toEqual({
      version: "3.9.1",
      sha512: expect.stringMatching(/^[0-9a-f]{128}$/),
      heap_mb: 2048,
      data_dir: "/data/kafka",
      config: {
        properties: {
          "num.partitions": 40,
          "default.replication.factor": 3,
          "min.insync.replicas": 2,
          "offsets.topic.replication.factor": 3,
          "transaction.state.log.replication.factor": 3,
          "transaction.state.log.min.isr": 2,
        },
      },
    });
  });

  it("passes the ZooKeeper release and its checksum", () => {
    expect(kafkaNodeRole(configFrom()).override_attributes["zookeeper-cluster"]).toEqual({
      version: "3.8.4",
      checksum: "284cb4675adb64794c63d95bf202d265cebddc0cda86ac86fb0ede8049de9187",
    });
    const other = kafkaNodeRole(configFrom("--kafka.zookeeperVersion", "3.8.5", "--kafka.zookeeperChecksum", "ab".repeat(64)));
    expect(other.override_attributes["zookeeper-cluster"]).toEqual({ version: "3.8.5", checksum: "ab".repeat(64) });
  });

  it("replicates internal topics once on a single-node cluster", () => {
    const role = kafkaNodeRole(configFrom("--kafka.nodes", "1", "--kafka.replicationFactor", "1", "--kafka.minInsyncReplicas", "1"));
    const properties = (role.override_attributes["kafka-cluster"] as { config: { properties: Record<string, number> } }).config.properties;
    expect(properties["offsets.topic.replication.factor"]).toBe(1);
    expect(properties["transaction.state.log.min.isr"]).toBe(1);
  });

  it("is plain JSON knife can read", () => {
    const role = kafkaNodeRole(configFrom());
    expect(JSON.parse(JSON.stringify(role))).toEqual(role);
    expect(role.json_class).toBe("Chef::Role");
  });
});
