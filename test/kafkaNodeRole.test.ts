import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kafkaNodeRole } from "../constructs/kafkaNodeRole";
import { configFrom } from "./helpers";

describe("kafkaNodeRole", () => {
  it("carries the config's Kafka settings to the cookbooks' attribute names", () => {
    const role = kafkaNodeRole(configFrom());
    expect(role.run_list).toEqual(["recipe[insight-kafka-cluster]"]);
    expect(role.override_attributes["kafka-cluster"]).toEqual({
      version: "3.9.2",
      sha512: "01186a5086b5ae753811ee71808a797baec1303d4e0d4b1c0acf42c489654a7b8988136f8469d0b66f0be439f8e3e9b816171ea0b0d7a36462b07aa2d3ef0023",
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

  it("passes the ZooKeeper release and its sha512", () => {
    expect(kafkaNodeRole(configFrom()).override_attributes["zookeeper-cluster"]).toEqual({
      version: "3.8.5",
      sha512: "ab9bf90649df19d8fd8378f2e8d9159bc8528d8e4c166a93d9fa4a9c98e39ee9de0279cc9dc58cd6d593141c0a45576d0df9db47d143d63951598a43efdc0a30",
    });
    const other = kafkaNodeRole(configFrom("--kafka.zookeeperVersion", "3.8.6", "--kafka.zookeeperSha512", "ab".repeat(64)));
    expect(other.override_attributes["zookeeper-cluster"]).toEqual({ version: "3.8.6", sha512: "ab".repeat(64) });
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

  it("pins the same releases as the cookbooks' own attribute defaults", () => {
    // A converge without the role (a cookbook used on its own) must install what the config names.
    const attribute = (cookbook: string, key: string): string | undefined => {
      const source = readFileSync(join(__dirname, "..", "cookbooks", cookbook, "attributes", "default.rb"), "utf8");
      return new RegExp(`^default\\['${cookbook}'\\]\\['${key}'\\] = '([^']*)'$`, "m").exec(source)?.[1];
    };
    const attributes = kafkaNodeRole(configFrom()).override_attributes as Record<string, Record<string, unknown>>;
    for (const cookbook of ["zookeeper-cluster", "kafka-cluster"]) {
      expect({ version: attribute(cookbook, "version"), sha512: attribute(cookbook, "sha512") }).toEqual({
        version: attributes[cookbook]?.version,
        sha512: attributes[cookbook]?.sha512,
      });
    }
  });
});
