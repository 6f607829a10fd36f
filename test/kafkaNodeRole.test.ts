import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kafkaNodeRole } from "../constructs/kafkaNodeRole";
import { EXPORTER_PORTS, JMX_EXPORTER } from "../constructs/monitoring/agentConfig";
import { configFrom } from "./helpers";

describe("kafkaNodeRole", () => {
  it("carries the config's Kafka settings to the cookbooks' attribute names", () => {
    const role = kafkaNodeRole(configFrom());
    expect(role.run_list).toEqual(["recipe[insight-kafka-cluster]"]);
    expect(role.override_attributes["kafka-cluster"]).toEqual({
      version: "3.9.1",
      sha512: "1ea204ba73411737a275429ca976d440f007ff0957b90b19be41dc5a4bae52617267769be9f0b5791714d0b3c4c760605bd426faea39edd90763585523fa2cfe",
      heap_mb: 2048,
      data_dir: "/data/kafka",
      jmx_exporter: { version: "1.6.0", sha256: JMX_EXPORTER.sha256, urls: JMX_EXPORTER.urls, port: 9404 },
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

  it("passes the ZooKeeper release, its sha512 and the members' heap", () => {
    expect(kafkaNodeRole(configFrom()).override_attributes["zookeeper-cluster"]).toEqual({
      version: "3.8.4",
      sha512: "4d85d6f7644d5f36d9c4d65e78bd662ab35ebe1380d762c24c12b98af029027eee453437c9245dbdf2b9beb77cd6b690b69e26f91cf9d11b0a183a979c73fa43",
      heap_mb: 512,
      jmx_exporter: { version: "1.6.0", sha256: JMX_EXPORTER.sha256, urls: JMX_EXPORTER.urls, port: 9405 },
    });
    const other = kafkaNodeRole(configFrom("--kafka.zookeeperVersion", "3.8.6", "--kafka.zookeeperSha512", "ab".repeat(64), "--kafka.zookeeperHeapMb", "1024"));
    expect(other.override_attributes["zookeeper-cluster"]).toMatchObject({ version: "3.8.6", sha512: "ab".repeat(64), heap_mb: 1024 });
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

  it("pins the JMX exporter the agent scrapes, in both cookbooks, on the port the agent reads, as their own defaults do", () => {
    const attributes = kafkaNodeRole(configFrom()).override_attributes as Record<string, Record<string, Record<string, unknown>>>;
    for (const [cookbook, job] of [["zookeeper-cluster", "zookeeper"], ["kafka-cluster", "kafka"]] as const) {
      expect(attributes[cookbook].jmx_exporter).toEqual({ version: JMX_EXPORTER.version, sha256: JMX_EXPORTER.sha256, urls: JMX_EXPORTER.urls, port: EXPORTER_PORTS[job] });
      const source = readFileSync(join(__dirname, "..", "cookbooks", cookbook, "attributes", "default.rb"), "utf8");
      const pinned = (key: string): string | undefined => new RegExp(`^default\\['${cookbook}'\\]\\['jmx_exporter'\\]\\['${key}'\\] = '?([^'\\n]*)'?$`, "m").exec(source)?.[1];
      expect({ version: pinned("version"), sha256: pinned("sha256"), port: Number(pinned("port")) }).toEqual({ version: JMX_EXPORTER.version, sha256: JMX_EXPORTER.sha256, port: EXPORTER_PORTS[job] });
    }
    // KRaft runs no ZooKeeper, and so no exporter for it.
    expect(kafkaNodeRole(configFrom("--kafka.mode", "kraft")).override_attributes["zookeeper-cluster"]).toBeUndefined();
  });
});
