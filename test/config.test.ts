import { ConfigError } from "../config/ConfigError";
import { DEFAULT_CONFIG, DEFAULT_KAFKA_PIN, DEFAULT_KRAFT_KAFKA_PIN } from "../config/defaults";
import { loadConfig, type ConfigSources } from "../config/loadConfig";
import { SPARK_RELEASES_WITH_JARS } from "../config/sparkJars";
import { configWarnings } from "../config/validateConfig";
import { architectureOf } from "../config/architecture";
import { contains, hasHostBits, networkAddressOf, overlaps, parseIpv4Cidr, type Ipv4Block } from "../config/cidr";

/** The problems loadConfig reports for these sources; [] when the config is valid. */
function problemsOf(sources: ConfigSources): readonly string[] {
  try {
    loadConfig(sources);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

const flags = (...argv: string[]): readonly string[] => problemsOf({ argv, env: {} });

describe("config sources", () => {
  it("gives the original topology, secured, when nothing is set", () => {
    const config = loadConfig({ argv: [], env: {} });
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config.region).toBe("us-west-2");
    expect(config.kafka.nodes).toBe(3);
    expect(config.spark.workers).toBe(3);
    expect(config.network.natGateways).toBe("single");
    expect(config.chef.serverUbuntuRelease).toBe("22.04");
  });

  it("is frozen: nothing downstream can change it", () => {
    const config = loadConfig({ argv: [], env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.kafka)).toBe(true);
    expect(Object.isFrozen(config.network.publicSubnetCidrs)).toBe(true);
  });

  it("lets later sources win: defaults < file < environment < flags", () => {
    const file = JSON.stringify({ kafka: { nodes: 5, numPartitions: 12 }, spark: { workers: 2 }, region: "eu-west-1" });
    const config = loadConfig({
      argv: ["--config", "platform.json", "--kafka.nodes", "7"],
      env: { PLATFORM_KAFKA__NODES: "9", PLATFORM_SPARK__WORKERS: "4" },
      readFile: () => file,
    });
    expect(config.kafka.nodes).toBe(7);
    expect(config.spark.workers).toBe(4);
    expect(config.kafka.numPartitions).toBe(12);
    expect(config.region).toBe("eu-west-1");
  });

  it("reads the config file named by PLATFORM_CONFIG when --config is absent", () => {
    const config = loadConfig({ argv: [], env: { PLATFORM_CONFIG: "from-env.json" }, readFile: (path) => (path === "from-env.json" ? '{"spark":{"workers":20}}' : "{}") });
    expect(config.spark.workers).toBe(20);
  });

  it("converts text from flags and environment to the default's type", () => {
    const config = loadConfig({
      argv: ["--network.publicSubnetCidrs", "10.0.0.0/24,10.0.1.0/24,10.0.2.0/24", "--network.privateSubnetCidrs", "10.0.16.0/20,10.0.32.0/20,10.0.48.0/20"],
      env: { PLATFORM_NETWORK__AZ_COUNT: "3", PLATFORM_STORAGE__FORCE_DESTROY: "true", PLATFORM_NETWORK__NAT_GATEWAYS: "perAz" },
    });
    expect(config.network.azCount).toBe(3);
    expect(config.network.publicSubnetCidrs).toEqual(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]);
    expect(config.storage.forceDestroy).toBe(true);
    expect(config.network.natGateways).toBe("perAz");
  });

  it("sizes the Chef server as Cinc's own harness does: t3.xlarge, since its Erlang stack wants 8 GB or more", () => {
    expect(loadConfig({ env: {} }).chef.serverInstanceType).toBe("t3.xlarge");
  });

  it("adds no SSM interface endpoints unless asked (file, environment or flag), and takes only true or false", () => {
    expect(loadConfig({ env: {} }).network.interfaceEndpoints).toBe(false);
    expect(loadConfig({ argv: ["--network.interfaceEndpoints", "true"], env: {} }).network.interfaceEndpoints).toBe(true);
    expect(loadConfig({ argv: ["--network.interfaceEndpoints"], env: {} }).network.interfaceEndpoints).toBe(true);
    expect(loadConfig({ env: { PLATFORM_NETWORK__INTERFACE_ENDPOINTS: "true" } }).network.interfaceEndpoints).toBe(true);
    expect(loadConfig({ argv: ["--config", "c.json"], env: {}, readFile: () => '{"network":{"interfaceEndpoints":true}}' }).network.interfaceEndpoints).toBe(true);
    expect(problemsOf({ argv: [], env: { PLATFORM_NETWORK__INTERFACE_ENDPOINTS: "yes" } })).toEqual([
      'network.interfaceEndpoints (from PLATFORM_NETWORK__INTERFACE_ENDPOINTS): "yes" must be true or false',
    ]);
  });
});

describe("config errors name the field, the value and the rule", () => {
  it("rejects an unknown key from a flag and suggests the known one", () => {
    expect(flags("--kafka.node", "5")).toEqual(["kafka.node (from --kafka.node): unknown key (did you mean kafka.nodes?)"]);
    // A key that differs only in case is suggested too (and the search for it ends).
    expect(flags("--kafka.Nodes", "5")).toEqual(["kafka.Nodes (from --kafka.Nodes): unknown key (did you mean kafka.nodes?)"]);
  });

  it("rejects an unknown key from the environment", () => {
    expect(problemsOf({ argv: [], env: { PLATFORM_SPARK__WORKER: "2" } })).toEqual([
      "spark.worker (from PLATFORM_SPARK__WORKER): unknown key (did you mean spark.workers?)",
    ]);
  });

  it("rejects an unknown key in the config file", () => {
    expect(problemsOf({ argv: ["--config", "c.json"], env: {}, readFile: () => '{"regoin":"us-east-1"}' })).toEqual([
      "regoin (in c.json): unknown key (did you mean region?)",
    ]);
  });

  it("rejects a config file that is not JSON", () => {
    expect(problemsOf({ argv: ["--config", "c.json"], env: {}, readFile: () => "kafka: 3" })[0]).toMatch(/^config file c\.json: is not valid JSON \(/);
  });

  it("rejects a config file that cannot be read", () => {
    expect(problemsOf({ argv: ["--config", "/nonexistent/c.json"], env: {} })).toEqual(["config file /nonexistent/c.json: cannot be read (ENOENT)"]);
  });

  it("rejects a value of the wrong type", () => {
    expect(flags("--kafka.nodes", "three")).toEqual(['kafka.nodes (from --kafka.nodes): "three" must be an integer']);
    expect(problemsOf({ argv: ["--config", "c.json"], env: {}, readFile: () => '{"storage":{"forceDestroy":"yes"}}' })).toEqual([
      'storage.forceDestroy (in c.json): "yes" must be true or false',
    ]);
  });

  it("rejects a value where a section belongs", () => {
    expect(problemsOf({ argv: ["--config", "c.json"], env: {}, readFile: () => '{"kafka":3}' })).toEqual(["kafka (in c.json): 3 must be an object"]);
    expect(problemsOf({ argv: ["--config", "c.json"], env: {}, readFile: () => '{"kafka":null}' })).toEqual(["kafka (in c.json): null must be an object"]);
  });

  it("rejects a positional argument", () => {
    expect(flags("synth")).toEqual(["synth: unexpected argument (settings are flags like --kafka.nodes 5)"]);
  });

  it("rejects malformed CIDR syntax", () => {
    expect(flags("--network.vpcCidr", "10.0.0/16")).toEqual(['network.vpcCidr: "10.0.0/16" is not IPv4 CIDR notation like 10.0.0.0/16']);
  });

  it("rejects a CIDR with host bits set and says what was meant", () => {
    expect(flags("--network.vpcCidr", "10.0.0.1/16")).toEqual(['network.vpcCidr: "10.0.0.1/16" has host bits set (did you mean 10.0.0.0/16?)']);
  });

  it("rejects a prefix length AWS does not accept", () => {
    expect(flags("--network.vpcCidr", "10.0.0.0/8")).toEqual(['network.vpcCidr: "10.0.0.0/8" must have a prefix length between /16 and /28 (AWS\'s limits)']);
  });

  it("rejects a subnet outside the VPC", () => {
    expect(flags("--network.privateSubnetCidrs", "10.0.16.0/20,10.0.32.0/20,10.1.0.0/20")).toEqual([
      'network.privateSubnetCidrs[2]: "10.1.0.0/20" is outside network.vpcCidr 10.0.0.0/16',
    ]);
  });

  it("rejects overlapping subnets", () => {
    expect(flags("--network.privateSubnetCidrs", "10.0.0.0/20,10.0.32.0/20,10.0.48.0/20")).toEqual([
      'network.privateSubnetCidrs[0]: "10.0.0.0/20" overlaps network.publicSubnetCidrs[0] 10.0.0.0/24',
    ]);
  });

  it("rejects subnet lists that do not match the AZ count", () => {
    expect(flags("--network.publicSubnetCidrs", "10.0.0.0/24")).toEqual([
      'network.publicSubnetCidrs: ["10.0.0.0/24"] has 1 entries but network.azCount is 3 (one subnet per AZ)',
    ]);
  });

  it("rejects fewer than two AZs", () => {
    expect(flags("--network.azCount", "1", "--network.publicSubnetCidrs", "10.0.0.0/24", "--network.privateSubnetCidrs", "10.0.16.0/20")).toEqual([
      "network.azCount: 1 must be at least 2 (subnets must span two availability zones)",
    ]);
  });

  it("rejects an unknown NAT gateway mode", () => {
    expect(flags("--network.natGateways", "many")).toEqual(['network.natGateways: "many" must be one of "single", "perAz"']);
  });

  it("rejects a flow log retention CloudWatch does not offer", () => {
    expect(flags("--network.flowLogRetentionDays", "10")).toEqual([
      "network.flowLogRetentionDays: 10 must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ]);
  });

  it("keeps flow logs 365 days by default, and takes any retention CloudWatch offers", () => {
    expect(DEFAULT_CONFIG.network.flowLogRetentionDays).toBe(365);
    expect(flags("--network.flowLogRetentionDays", "3653")).toEqual([]);
  });

  it("keeps service logs 90 days by default, and refuses a retention CloudWatch Logs does not offer", () => {
    expect(DEFAULT_CONFIG.monitoring.logRetentionDays).toBe(365);
    expect(flags("--monitoring.logRetentionDays", "731")).toEqual([]);
    expect(flags("--monitoring.logRetentionDays", "0")).toEqual([
      "monitoring.logRetentionDays: 0 must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ]);
  });

  it("subscribes no address by default, takes one from a flag or PLATFORM_MONITORING__ALARM_EMAIL, and refuses what is not an address", () => {
    expect(DEFAULT_CONFIG.monitoring.alarmEmail).toBe("");
    expect(flags("--monitoring.alarmEmail", "ops+kafka@example.co.uk")).toEqual([]);
    expect(loadConfig({ env: { PLATFORM_MONITORING__ALARM_EMAIL: "oncall@example.com" } }).monitoring.alarmEmail).toBe("oncall@example.com");
    for (const bad of ["ops", "ops@", "@example.com", "ops@example", "ops@@example.com", "ops @example.com", "ops@example.com,dev@example.com"]) {
      expect(flags("--monitoring.alarmEmail", bad)).toEqual([`monitoring.alarmEmail: ${JSON.stringify(bad)} is not an email address like ops@example.com (or empty for no subscription)`]);
    }
  });

  it("expires access logs after 365 days by default, and refuses fewer than 1", () => {
    expect(DEFAULT_CONFIG.storage.accessLogExpirationDays).toBe(365);
    expect(flags("--storage.accessLogExpirationDays", "0")).toEqual(["storage.accessLogExpirationDays: 0 must be at least 1"]);
    expect(flags("--storage.accessLogExpirationDays", "1")).toEqual([]);
  });

  it("refuses an instance type EC2 will not start EBS-optimized, which every instance states", () => {
    expect(flags("--spark.workerInstanceType", "t2.large")).toEqual([
      'spark.workerInstanceType: "t2.large" does not support EBS optimization, which every instance states; choose t3 or a current generation',
    ]);
    expect(flags("--chef.workstationInstanceType", "t1.micro")).toHaveLength(1);
    expect(flags("--chef.workstationInstanceType", "t3.micro")).toEqual([]);
  });

  it("rejects counts below 1", () => {
    expect(flags("--spark.workers", "0")).toEqual(["spark.workers: 0 must be at least 1"]);
    expect(flags("--kafka.numPartitions", "0")).toEqual(["kafka.numPartitions: 0 must be at least 1"]);
    expect(flags("--kafka.dataVolumeGiB", "0")).toEqual(["kafka.dataVolumeGiB: 0 must be at least 1"]);
    expect(flags("--storage.noncurrentVersionExpirationDays", "0")).toEqual(["storage.noncurrentVersionExpirationDays: 0 must be at least 1"]);
  });

  it("rejects a ZooKeeper heap below 128 MB", () => {
    expect(flags("--kafka.zookeeperHeapMb", "64")).toEqual(["kafka.zookeeperHeapMb: 64 must be at least 128"]);
  });

  it("rejects zero Kafka nodes", () => {
    expect(flags("--kafka.nodes", "0", "--kafka.replicationFactor", "1", "--kafka.minInsyncReplicas", "1")).toEqual([
      "kafka.nodes: 0 must be at least 1",
      "kafka.replicationFactor: 1 exceeds kafka.nodes 0 (a partition cannot have more replicas than brokers)",
    ]);
  });

  it("takes any broker count: the ensemble is sized on its own", () => {
    for (const nodes of ["4", "8", "31"]) expect(flags("--kafka.nodes", nodes)).toEqual([]);
    expect(flags("--kafka.nodes", "2", "--kafka.replicationFactor", "2", "--kafka.minInsyncReplicas", "1")).toEqual([]);
  });

  it("rejects an even ZooKeeper ensemble", () => {
    expect(flags("--kafka.nodes", "8", "--kafka.zookeeperNodes", "4")).toEqual([
      "kafka.zookeeperNodes: 4 must be odd: an even ZooKeeper ensemble tolerates no more failures than the odd one below it",
    ]);
  });

  it("rejects an ensemble larger than the node count, or than any write should wait on", () => {
    expect(flags("--kafka.zookeeperNodes", "5")).toEqual(["kafka.zookeeperNodes: 5 exceeds kafka.nodes 3 (the ensemble runs on the first brokers)"]);
    expect(flags("--kafka.nodes", "31", "--kafka.zookeeperNodes", "9")).toEqual([
      "kafka.zookeeperNodes: 9 must be at most 7: every write waits for a majority of the ZooKeeper ensemble (3 or 5 is the usual size)",
    ]);
    expect(flags("--kafka.zookeeperNodes", "0")).toEqual(["kafka.zookeeperNodes: 0 must be at least 1"]);
    expect(flags("--kafka.nodes", "31", "--kafka.zookeeperNodes", "7")).toEqual([]);
  });

  it("sizes the quorums from the node count unless set: 3 voters, or 1 below 3 nodes", () => {
    const sized = (...argv: string[]) => loadConfig({ argv, env: {} }).kafka;
    expect(sized("--kafka.nodes", "31")).toMatchObject({ zookeeperNodes: 3, controllerNodes: 3 });
    expect(sized("--kafka.nodes", "2", "--kafka.replicationFactor", "2", "--kafka.minInsyncReplicas", "1")).toMatchObject({ zookeeperNodes: 1, controllerNodes: 1 });
    expect(sized("--kafka.nodes", "1", "--kafka.replicationFactor", "1", "--kafka.minInsyncReplicas", "1")).toMatchObject({ zookeeperNodes: 1, controllerNodes: 1 });
    expect(sized("--kafka.nodes", "31", "--kafka.zookeeperNodes", "5")).toMatchObject({ zookeeperNodes: 5 });
    // Dedicated controllers do not depend on the brokers.
    const single = ["--kafka.nodes", "1", "--kafka.replicationFactor", "1", "--kafka.minInsyncReplicas", "1"];
    expect(sized(...single, "--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true")).toMatchObject({ controllerNodes: 3 });
    // Set in a file, a size is the user's even when it equals the default: checked, not resized.
    const file = '{"kafka":{"nodes":1,"zookeeperNodes":3,"replicationFactor":1,"minInsyncReplicas":1}}';
    expect(problemsOf({ argv: ["--config", "c.json"], env: {}, readFile: () => file })).toEqual([
      "kafka.zookeeperNodes: 3 exceeds kafka.nodes 1 (the ensemble runs on the first brokers)",
    ]);
  });

  describe("KRaft mode", () => {
    const kraft = (...argv: string[]) => flags("--kafka.mode", "kraft", ...argv);

    it("takes the pinned Kafka 4 release unless a version or digest is set", () => {
      const config = loadConfig({ argv: ["--kafka.mode", "kraft"], env: {} });
      expect(config.kafka).toMatchObject({ mode: "kraft", version: DEFAULT_KRAFT_KAFKA_PIN.version, sha512: DEFAULT_KRAFT_KAFKA_PIN.sha512 });
      expect(DEFAULT_KRAFT_KAFKA_PIN.version).toMatch(/^4\./);
      expect(loadConfig({ argv: [], env: {} }).kafka).toMatchObject({ mode: "zookeeper", version: DEFAULT_KAFKA_PIN.version });
    });

    it("refuses a 3.x release, and a 4.x release left with another release's digest", () => {
      expect(kraft("--kafka.version", "3.9.1")).toEqual([`kafka.version: "3.9.1" is not a Kafka 4.x release like ${DEFAULT_KRAFT_KAFKA_PIN.version} (kafka.mode is kraft)`]);
      expect(kraft("--kafka.version", "4.2.0")).toEqual([
        `kafka.sha512: "${DEFAULT_KAFKA_PIN.sha512}" is the sha512 of Kafka 3.9.1; set the one of 4.2.0 (the .sha512 file beside Apache's tarball holds it)`,
      ]);
      expect(flags("--kafka.version", "3.9.2", "--kafka.sha512", DEFAULT_KRAFT_KAFKA_PIN.sha512)).toEqual([
        `kafka.sha512: "${DEFAULT_KRAFT_KAFKA_PIN.sha512}" is the sha512 of Kafka ${DEFAULT_KRAFT_KAFKA_PIN.version}; set the one of 3.9.2 (the .sha512 file beside Apache's tarball holds it)`,
      ]);
      expect(kraft("--kafka.version", "4.2.0", "--kafka.sha512", "ab".repeat(64))).toEqual([]);
    });

    it("keeps a release the user chose: a digest set alone does not bring the Kafka 4 default version", () => {
      expect(kraft("--kafka.sha512", "ab".repeat(64))).toEqual(['kafka.version: "3.9.1" is not a Kafka 4.x release like 4.3.1 (kafka.mode is kraft)']);
    });

    it("takes only whole 4.x release numbers, with parts of several digits", () => {
      const digest = ["--kafka.sha512", "ab".repeat(64)];
      for (const version of ["4.10.0", "4.3.10"]) expect(kraft("--kafka.version", version, ...digest)).toEqual([]);
      for (const version of ["14.3.1", "4.3.1-rc1", "v4.3.1"]) {
        expect(kraft("--kafka.version", version, ...digest)).toEqual([`kafka.version: "${version}" is not a Kafka 4.x release like 4.3.1 (kafka.mode is kraft)`]);
      }
    });

    it("limits the broker count for node ids only where dedicated controllers take ids from 1001", () => {
      expect(flags("--kafka.nodes", "1000")).toEqual([]);
      expect(kraft("--kafka.nodes", "1000")).toEqual([]);
      expect(flags("--kafka.dedicatedControllers", "true", "--kafka.nodes", "1000")).toEqual([]);
    });

    it("refuses a mode it does not know", () => {
      expect(flags("--kafka.mode", "kraf")).toEqual(['kafka.mode: "kraf" must be one of "zookeeper", "kraft"']);
    });

    it("secures Kafka with TLS unless told otherwise, and refuses a security setting it does not know", () => {
      expect(DEFAULT_CONFIG.kafka.security).toBe("tls");
      expect(loadConfig({ argv: [], env: {} }).kafka.security).toBe("tls");
      expect(flags("--kafka.security", "ssl")).toEqual(['kafka.security: "ssl" must be one of "tls", "plaintext", "migrating"']);
      expect(flags("--kafka.security", "plaintext")).toEqual([]);
    });

    it("warns loudly, in one line, at every synth that keeps a plaintext listener", () => {
      expect(configWarnings(loadConfig({ argv: [], env: {} }))).toEqual([]);
      const [plaintext] = configWarnings(loadConfig({ argv: ["--kafka.security", "plaintext"], env: {} }));
      expect(plaintext).toMatch(/^WARNING: kafka\.security is "plaintext": .*no encryption and no authentication.*lab only/);
      expect(plaintext).not.toContain("\n");
      expect(configWarnings(loadConfig({ argv: ["--kafka.security", "migrating"], env: {} }))).toEqual([expect.stringMatching(/^WARNING: kafka\.security is "migrating": the plaintext listener 9092 stays open/)]);
    });

    it("sizes the controller quorum like an ensemble: odd, at most 7, and within the brokers unless dedicated", () => {
      expect(kraft("--kafka.nodes", "8", "--kafka.controllerNodes", "4")).toEqual([
        "kafka.controllerNodes: 4 must be odd: an even controller quorum tolerates no more failures than the odd one below it",
      ]);
      expect(kraft("--kafka.controllerNodes", "5")).toEqual([
        "kafka.controllerNodes: 5 exceeds kafka.nodes 3 (the controllers are the first brokers unless kafka.dedicatedControllers is true)",
      ]);
      expect(kraft("--kafka.controllerNodes", "5", "--kafka.dedicatedControllers", "true")).toEqual([]);
      expect(kraft("--kafka.nodes", "31", "--kafka.controllerNodes", "9")).toEqual([
        "kafka.controllerNodes: 9 must be at most 7: every write waits for a majority of the controller quorum (3 or 5 is the usual size)",
      ]);
      // The ensemble's size means nothing in KRaft mode, and is not held against the brokers.
      expect(kraft("--kafka.nodes", "3", "--kafka.zookeeperNodes", "5")).toEqual([]);
      expect(kraft("--kafka.controllerInstanceType", "large")).toEqual(['kafka.controllerInstanceType: "large" is not an EC2 instance type like m7i.large']);
    });

    it("keeps dedicated controllers' node ids clear of the brokers'", () => {
      expect(kraft("--kafka.dedicatedControllers", "true", "--kafka.nodes", "1000")).toEqual([
        "kafka.nodes: 1000 must be below 1000 with dedicated controllers, whose node ids start at 1001",
      ]);
      expect(kraft("--kafka.dedicatedControllers", "true", "--kafka.nodes", "999")).toEqual([]);
    });
  });

  it("rejects a replication factor above the broker count", () => {
    expect(flags("--kafka.replicationFactor", "5")).toEqual([
      "kafka.replicationFactor: 5 exceeds kafka.nodes 3 (a partition cannot have more replicas than brokers)",
    ]);
  });

  it("rejects min.insync.replicas equal to the replication factor", () => {
    expect(flags("--kafka.minInsyncReplicas", "3")).toEqual([
      "kafka.minInsyncReplicas: 3 must be below kafka.replicationFactor 3 (otherwise one broker down stops every acks=all write)",
    ]);
  });

  it("accepts a single node with replication 1, and rejects min.insync.replicas above 1 there", () => {
    expect(flags("--kafka.nodes", "1", "--kafka.replicationFactor", "1", "--kafka.minInsyncReplicas", "1")).toEqual([]);
    expect(flags("--kafka.nodes", "1", "--kafka.replicationFactor", "1", "--kafka.minInsyncReplicas", "2")).toEqual([
      "kafka.minInsyncReplicas: 2 must be 1 when kafka.replicationFactor is 1",
    ]);
  });

  it("rejects a malformed region", () => {
    expect(flags("--region", "us-west2")).toEqual(['region: "us-west2" is not an AWS region name like us-west-2']);
    expect(flags("--state.region", "Oregon")).toEqual(['state.region: "Oregon" is not an AWS region name like us-west-2']);
  });

  it("rejects a malformed instance type", () => {
    expect(flags("--kafka.instanceType", "m7i-large")).toEqual(['kafka.instanceType: "m7i-large" is not an EC2 instance type like m7i.large']);
    expect(flags("--spark.workerInstanceType", "M7I.XLARGE")).toEqual(['spark.workerInstanceType: "M7I.XLARGE" is not an EC2 instance type like m7i.large']);
  });

  it("rejects an Ubuntu release the platform cannot find images for", () => {
    expect(flags("--spark.ubuntuRelease", "20.04")).toEqual(['spark.ubuntuRelease: "20.04" must be one of "22.04", "24.04"']);
  });

  it("rejects a Chef server on an Ubuntu release Chef Infra Server does not support", () => {
    expect(flags("--chef.serverUbuntuRelease", "24.04")).toEqual([
      'chef.serverUbuntuRelease: "24.04" is not supported by Chef Infra Server, which ships packages for Ubuntu 22.04',
    ]);
  });

  it("refuses Graviton types for the Chef server and workstation, whose packages are amd64 only", () => {
    expect(flags("--chef.serverInstanceType", "m7g.large", "--chef.workstationInstanceType", "t4g.small")).toEqual([
      'chef.serverInstanceType: "m7g.large" is a Graviton (arm64) type; the cinc server and workstation packages are built for amd64 only (choose an x86 type like t3.large)',
      'chef.workstationInstanceType: "t4g.small" is a Graviton (arm64) type; the cinc server and workstation packages are built for amd64 only (choose an x86 type like t3.large)',
    ]);
    // Cluster nodes install the client, which has arm64 builds.
    expect(flags("--kafka.instanceType", "m7g.large")).toEqual([]);
  });

  it("rejects an unknown Chef flavor", () => {
    expect(flags("--chef.flavor", "puppet")).toEqual(['chef.flavor: "puppet" must be one of "chef", "cinc"']);
  });

  it("requires the operator to accept Chef's licence explicitly to use Chef rather than Cinc", () => {
    expect(flags("--chef.flavor", "chef", "--chef.workstationPackageChecksum", "")).toEqual([
      'chef.acceptLicense: false must be true to use flavor "chef": accepting Chef\'s licence is your explicit choice (or use flavor "cinc")',
    ]);
    expect(flags("--chef.flavor", "chef", "--chef.acceptLicense", "true", "--chef.workstationPackageChecksum", "")).toEqual([]);
  });

  it("refuses the pinned workstation checksum, when set, for a package it was not published for", () => {
    expect(flags("--chef.workstationUbuntuRelease", "22.04", "--chef.workstationPackageChecksum", DEFAULT_CONFIG.chef.workstationPackageChecksum)).toEqual([
      'chef.workstationPackageChecksum: "433ec206251b439db3335859ae772c0aef620fef4d422b514f238e1a28cb7771" is the checksum of cinc-workstation 24.12.1073 for Ubuntu 24.04; set the one of the package you chose, or "" to use the publisher\'s metadata',
    ]);
  });

  it("refuses an unpinned Chef package when the operator asks for pins only, naming the field, the value and the rule", () => {
    const rule =
      "is empty while chef.allowUnpinnedPackages is false: pin the package's sha256 or sha512 from a source other than its download host (or set chef.allowUnpinnedPackages to true to trust the sha512 that host lists)";
    const strict = ["--chef.allowUnpinnedPackages", "false"];
    // The default server package has no pin: strict mode needs one.
    expect(flags(...strict)).toEqual([`chef.serverPackageChecksum: "" ${rule}`]);
    expect(flags(...strict, "--chef.serverPackageChecksum", "a".repeat(64))).toEqual([]);
    // Another workstation release loses the default pin, and is refused too.
    expect(flags(...strict, "--chef.serverPackageChecksum", "a".repeat(128), "--chef.workstationVersion", "25.1.1")).toEqual([`chef.workstationPackageChecksum: "" ${rule}`]);
    expect(DEFAULT_CONFIG.chef.allowUnpinnedPackages).toBe(true);
    expect(flags()).toEqual([]);
  });

  it("rejects a package checksum that is not a sha256 or sha512", () => {
    expect(flags("--chef.serverPackageChecksum", "abc")).toEqual([
      'chef.serverPackageChecksum: "abc" is not a sha256 or sha512 hex digest (or empty to use the publisher\'s metadata)',
    ]);
  });

  it("rejects a malformed Chef release, organization or admin user", () => {
    expect(flags("--chef.serverVersion", "15.10")).toEqual(['chef.serverVersion: "15.10" is not a release number like 15.10.125']);
    // Compared number by number, not as text: 15.9.200 is older than 15.10.53, 16.0.0 newer.
    expect(flags("--chef.serverVersion", "15.9.200")).toEqual([expect.stringMatching(/^chef\.serverVersion: "15\.9\.200" must be 15\.10\.53 or later: /)]);
    expect(flags("--chef.serverVersion", "14.99.999")).toHaveLength(1);
    expect(flags("--chef.serverVersion", "16.0.0")).toEqual([]);
    expect(flags("--chef.serverVersion", "15.10.100")).toEqual([]);
    expect(flags("--chef.organization", "Insight Org")).toEqual([
      'chef.organization: "Insight Org" must be lowercase letters, digits, _ or -, starting with a letter',
    ]);
    expect(flags("--chef.adminUser", "9admin")).toEqual(['chef.adminUser: "9admin" must be lowercase letters, digits, _ or -, starting with a letter']);
  });

  it("rejects names that cannot be part of resource names", () => {
    expect(flags("--project", "Insight_Data")).toEqual(['project: "Insight_Data" must be 1-20 lowercase letters, digits or hyphens, starting with a letter']);
    expect(flags("--environment", "")).toEqual(['environment: "" must be 1-20 lowercase letters, digits or hyphens, starting with a letter']);
  });

  it("rejects a project and environment whose data bucket prefix S3 would refuse (37 characters at most)", () => {
    expect(flags("--project", "a".repeat(20), "--environment", "b".repeat(20))).toEqual([
      `environment: "${"b".repeat(20)}" with project "${"a".repeat(20)}" makes the data bucket prefix "${"a".repeat(20)}-${"b".repeat(20)}-data-" 47 characters; S3 accepts at most 37 (keep project and environment to 30 characters together)`,
    ]);
    // 30 characters together is exactly 37 with "-", "-data-".
    expect(flags("--project", "a".repeat(15), "--environment", "b".repeat(15))).toEqual([]);
    expect(flags("--project", "a".repeat(16), "--environment", "b".repeat(15))).toHaveLength(1);
  });

  it("rejects an invalid bucket name for state or access logs", () => {
    expect(flags("--state.bucket", "My_Bucket")).toEqual(['state.bucket: "My_Bucket" is not a valid S3 bucket name']);
    expect(flags("--storage.accessLogBucket", "x")).toEqual(['storage.accessLogBucket: "x" is not a valid S3 bucket name']);
  });

  it("rejects a Kafka release without ZooKeeper mode, a malformed checksum and a relative data path", () => {
    expect(flags("--kafka.version", "4.1.0")).toEqual(['kafka.version: "4.1.0" is not a Kafka 3.x release like 3.9.1 (ZooKeeper mode ended with 3.9; Kafka 4 needs kafka.mode "kraft")']);
    expect(flags("--kafka.sha512", "ABC")).toEqual(['kafka.sha512: "ABC" is not a sha512 hex digest (128 lowercase hex characters)']);
    expect(flags("--kafka.dataPath", "data/kafka")).toEqual(['kafka.dataPath: "data/kafka" is not an absolute path']);
    expect(flags("--kafka.heapMb", "128")).toEqual(["kafka.heapMb: 128 must be at least 256"]);
  });

  it("rejects broker and ZooKeeper heaps that take more than half the broker instance's memory, and lets them fit", () => {
    expect(flags("--kafka.instanceType", "t3.medium")).toEqual([
      "kafka.heapMb: 2048 is too large for kafka.instanceType t3.medium (4096 MiB): 2048 MiB plus kafka.zookeeperHeapMb 512 MiB must fit in half its memory, 2048 MiB; the rest is Kafka's page cache",
    ]);
    expect(flags("--kafka.instanceType", "t3.medium", "--kafka.heapMb", "1536")).toEqual([]);
    expect(flags("--kafka.instanceType", "c7i.large")).toEqual([expect.stringContaining("kafka.heapMb: 2048 is too large for kafka.instanceType c7i.large (4096 MiB)")]);
    expect(flags("--kafka.heapMb", "16384", "--kafka.instanceType", "r7i.xlarge")).toEqual([expect.stringContaining("(32768 MiB)")]);
    expect(flags("--kafka.heapMb", "12288", "--kafka.instanceType", "m7g.8xlarge")).toEqual([]);
    // KRaft: no ZooKeeper member on the node.
    expect(flags("--kafka.mode", "kraft", "--kafka.instanceType", "t3.medium")).toEqual([]);
    // A family without one size rule is not guessed at.
    expect(flags("--kafka.heapMb", "65536", "--kafka.instanceType", "i4i.large")).toEqual([]);
  });

  it("rejects a heap that dedicated controllers, which run with it too, cannot hold in half their memory", () => {
    const dedicated = ["--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true"];
    expect(flags(...dedicated, "--kafka.controllerInstanceType", "t3.medium", "--kafka.instanceType", "m7i.xlarge", "--kafka.heapMb", "4096")).toEqual([
      "kafka.heapMb: 4096 is too large for kafka.controllerInstanceType t3.medium (4096 MiB): the dedicated controllers run with the same heap, which must fit in half its memory, 2048 MiB",
    ]);
    expect(flags(...dedicated, "--kafka.controllerInstanceType", "t3.large", "--kafka.instanceType", "m7i.xlarge", "--kafka.heapMb", "4096")).toEqual([]);
    // Without dedicated controllers the controller type is not used.
    expect(flags("--kafka.mode", "kraft", "--kafka.controllerInstanceType", "t3.medium", "--kafka.instanceType", "m7i.xlarge", "--kafka.heapMb", "4096")).toEqual([]);
  });

  it("rejects a ZooKeeper release outside 3.8 and a checksum that is not a sha512", () => {
    expect(flags("--kafka.zookeeperVersion", "3.9.3")).toEqual([
      'kafka.zookeeperVersion: "3.9.3" is not a ZooKeeper 3.8.x release like 3.8.4 (Kafka 3.9 ships the 3.8 client)',
    ]);
    expect(flags("--kafka.zookeeperSha512", "ab".repeat(32))).toEqual([
      `kafka.zookeeperSha512: "${"ab".repeat(32)}" is not a sha512 hex digest (128 lowercase hex characters)`,
    ]);
  });

  it("refuses a pinned sha512 beside a release it does not belong to", () => {
    const hint = "(the .sha512 file beside Apache's tarball holds it)";
    expect(flags("--kafka.version", "3.9.2")).toEqual([
      `kafka.sha512: "${DEFAULT_CONFIG.kafka.sha512}" is the sha512 of Kafka 3.9.1; set the one of 3.9.2 ${hint}`,
    ]);
    expect(flags("--kafka.zookeeperVersion", "3.8.6")).toEqual([
      `kafka.zookeeperSha512: "${DEFAULT_CONFIG.kafka.zookeeperSha512}" is the sha512 of ZooKeeper 3.8.4; set the one of 3.8.6 ${hint}`,
    ]);
    const noJars = 'spark.version: "4.1.3" has no pinned S3 and Kafka connector jars; releases with them: 4.1.2 (config/sparkJars.ts)';
    expect(flags("--spark.version", "4.1.3")).toEqual([noJars, `spark.sha512: "${DEFAULT_CONFIG.spark.sha512}" is the sha512 of Spark 4.1.2; set the one of 4.1.3 ${hint}`]);
    expect(flags("--kafka.version", "3.9.2", "--kafka.sha512", "ab".repeat(64))).toEqual([]);
    expect(flags("--kafka.zookeeperVersion", "3.8.6", "--kafka.zookeeperSha512", "cd".repeat(64))).toEqual([]);
    expect(flags("--spark.version", "4.1.3", "--spark.sha512", "ef".repeat(64))).toEqual([noJars]);
  });

  it("takes only a Spark release whose connector jars are pinned: hadoop-aws must match the Hadoop inside the release", () => {
    expect(SPARK_RELEASES_WITH_JARS).toEqual([DEFAULT_CONFIG.spark.version]);
    expect(flags("--spark.version", "4.1.0", "--spark.sha512", "ef".repeat(64))).toEqual([
      'spark.version: "4.1.0" has no pinned S3 and Kafka connector jars; releases with them: 4.1.2 (config/sparkJars.ts)',
    ]);
    // The key that used to choose hadoop-aws alone is gone; a config that still sets it hears so.
    expect(flags("--spark.hadoopAwsVersion", "3.4.2")).toEqual(["spark.hadoopAwsVersion (from --spark.hadoopAwsVersion): unknown key"]);
  });

  describe("each pattern holds over the whole value (named survivors of a mutation run)", () => {
    it("rejects a region with anything after it", () => {
      expect(flags("--region", "us-west-2junk")).toEqual(['region: "us-west-2junk" is not an AWS region name like us-west-2']);
      expect(flags("--state.region", "xus-west-2")).toEqual(['state.region: "xus-west-2" is not an AWS region name like us-west-2']);
    });

    it("rejects a data path with a space, which would break its fstab line", () => {
      expect(flags("--kafka.dataPath", "/data/kafka logs")).toEqual(['kafka.dataPath: "/data/kafka logs" is not an absolute path']);
    });

    it("rejects a Spark mirror over plain http, and one with a trailing slash", () => {
      expect(flags("--spark.mirrorUrl", "http://dlcdn.apache.org/spark")).toEqual([
        'spark.mirrorUrl: "http://dlcdn.apache.org/spark" is not an https:// URL without a trailing slash',
      ]);
      expect(flags("--spark.mirrorUrl", "https://dlcdn.apache.org/spark/")).toHaveLength(1);
    });

    it("takes a project name of 20 characters and refuses 21", () => {
      expect(flags("--project", "p".repeat(20), "--environment", "e")).toEqual([]);
      expect(flags("--project", "p".repeat(21), "--environment", "e")).toEqual([
        `project: "${"p".repeat(21)}" must be 1-20 lowercase letters, digits or hyphens, starting with a letter`,
      ]);
    });

    it("refuses a bucket name with an underscore", () => {
      expect(flags("--state.bucket", "acme_terraform_state")).toEqual(['state.bucket: "acme_terraform_state" is not a valid S3 bucket name']);
    });

    it("takes only security group ids of 8 to 17 hex digits", () => {
      expect(flags("--kafka.clientSecurityGroupIds", "sg-0123456789abcdef0,sg-01234567")).toEqual([]);
      expect(flags("--kafka.clientSecurityGroupIds", "sg-app")).toEqual([
        'kafka.clientSecurityGroupIds[0]: "sg-app" is not a security group id like sg-0123456789abcdef0',
      ]);
      expect(flags("--kafka.clientSecurityGroupIds", "sg-0123456789abcdef01")).toHaveLength(1);
    });

    it("reports a malformed subnet CIDR as a config error, not a crash", () => {
      expect(flags("--network.publicSubnetCidrs", "10.0.0/24,10.0.1.0/24,10.0.2.0/24")).toEqual([
        'network.publicSubnetCidrs[0]: "10.0.0/24" is not IPv4 CIDR notation like 10.0.0.0/16',
      ]);
    });

    it("takes /16 and /28 blocks and refuses /15 and /29", () => {
      const subnets = ["--network.azCount", "2", "--network.publicSubnetCidrs", "10.0.0.0/28,10.0.0.16/28", "--network.privateSubnetCidrs", "10.0.0.32/28,10.0.0.48/28"];
      expect(flags("--network.vpcCidr", "10.0.0.0/16", ...subnets)).toEqual([]);
      expect(flags("--network.vpcCidr", "10.0.0.0/15", ...subnets)[0]).toBe('network.vpcCidr: "10.0.0.0/15" must have a prefix length between /16 and /28 (AWS\'s limits)');
      expect(flags("--network.vpcCidr", "10.0.0.0/16", "--network.azCount", "2", "--network.publicSubnetCidrs", "10.0.0.0/29,10.0.0.16/28", "--network.privateSubnetCidrs", "10.0.0.32/28,10.0.0.48/28")).toEqual([
        'network.publicSubnetCidrs[0]: "10.0.0.0/29" must have a prefix length between /16 and /28 (AWS\'s limits)',
      ]);
    });

    it("takes release numbers with parts of several digits, and nothing around them", () => {
      const hex = "ab".repeat(64);
      // Several digits in every part; and a pinned digest of the right shape beside it.
      expect(flags("--chef.serverVersion", "15.10.125", "--chef.clientVersion", "18.10.12", "--chef.workstationVersion", "24.12.1073", "--chef.workstationPackageChecksum", "")).toEqual([]);
      expect(flags("--kafka.version", "3.10.11", "--kafka.sha512", hex)).toEqual([]);
      expect(flags("--kafka.zookeeperVersion", "3.8.10", "--kafka.zookeeperSha512", hex)).toEqual([]);
      expect(flags("--spark.version", "4.10.12", "--spark.sha512", hex)).toEqual([
        'spark.version: "4.10.12" has no pinned S3 and Kafka connector jars; releases with them: 4.1.2 (config/sparkJars.ts)',
      ]);
      for (const [flag, value, rule] of [
        ["chef.serverVersion", "15.10.125x", "is not a release number like 15.10.125"],
        ["chef.serverVersion", "v15.10.125", "is not a release number like 15.10.125"],
        ["chef.clientVersion", "18.6.2-1", "is not a release number like 18.6.2"],
        ["chef.clientVersion", "x18.6.2", "is not a release number like 18.6.2"],
        ["chef.workstationVersion", "24.12.1073.1", "is not a release number like 24.12.1073"],
        ["chef.workstationVersion", "=24.12.1073", "is not a release number like 24.12.1073"],
        ["kafka.version", "3.9.1-rc1", 'is not a Kafka 3.x release like 3.9.1 (ZooKeeper mode ended with 3.9; Kafka 4 needs kafka.mode "kraft")'],
        ["kafka.version", "13.9.1", 'is not a Kafka 3.x release like 3.9.1 (ZooKeeper mode ended with 3.9; Kafka 4 needs kafka.mode "kraft")'],
        ["kafka.zookeeperVersion", "3.8.4.1", "is not a ZooKeeper 3.8.x release like 3.8.4 (Kafka 3.9 ships the 3.8 client)"],
        ["kafka.zookeeperVersion", "13.8.4", "is not a ZooKeeper 3.8.x release like 3.8.4 (Kafka 3.9 ships the 3.8 client)"],
        ["spark.version", "4.1.2-preview", "is not a Spark 4.x release like 4.1.2"],
        ["spark.version", "14.1.2", "is not a Spark 4.x release like 4.1.2"],
      ]) {
        expect(flags(`--${flag}`, value)).toContain(`${flag}: ${JSON.stringify(value)} ${rule}`);
      }
    });

    it("takes a sha256 or a sha512 for the Chef packages, lowercase hex and nothing else", () => {
      expect(flags("--chef.serverPackageChecksum", "ab".repeat(64))).toEqual([]);
      expect(flags("--chef.serverPackageChecksum", "ab".repeat(32))).toEqual([]);
      for (const value of ["AB".repeat(64), "ab".repeat(63), "x" + "ab".repeat(32)]) {
        expect(flags("--chef.serverPackageChecksum", value)).toEqual([
          `chef.serverPackageChecksum: ${JSON.stringify(value)} is not a sha256 or sha512 hex digest (or empty to use the publisher's metadata)`,
        ]);
      }
    });

    it("takes a sha512 only as exactly 128 hex digits", () => {
      for (const value of [`x${"ab".repeat(64)}`, `${"ab".repeat(64)}x`]) {
        expect(flags("--kafka.sha512", value)).toEqual([`kafka.sha512: ${JSON.stringify(value)} is not a sha512 hex digest (128 lowercase hex characters)`]);
      }
    });

    it("takes Chef names that start with a letter and hold nothing else", () => {
      expect(flags("--chef.organization", "insight_data-2", "--chef.adminUser", "ops-admin")).toEqual([]);
      expect(flags("--chef.organization", "insight!")).toHaveLength(1);
      expect(flags("--chef.adminUser", "admin user")).toHaveLength(1);
    });

    it("reads GovCloud and ISO names as regions (refused for their partition, not their spelling), and instance types only as family.size", () => {
      for (const region of ["us-gov-west-1", "us-iso-east-1", "us-isob-east-1"]) {
        expect(flags("--region", region)).toEqual([expect.stringMatching(new RegExp(`^region: "${region}" is in the AWS .* partition;`))]);
      }
      for (const value of ["_m7i.large", "m7i.large!", "m7i"]) {
        expect(flags("--kafka.instanceType", value)).toEqual([`kafka.instanceType: ${JSON.stringify(value)} is not an EC2 instance type like m7i.large`]);
      }
    });

    it("takes valid bucket names of every length S3 allows", () => {
      for (const name of ["abc", "acme-terraform-state", "a.b-c.d", "a".repeat(63)]) {
        expect(flags("--state.bucket", name)).toEqual([]);
      }
      for (const name of ["ab", "a".repeat(64), ".acme", "acme-", "Acme"]) {
        expect(flags("--state.bucket", name)).toEqual([`state.bucket: ${JSON.stringify(name)} is not a valid S3 bucket name`]);
      }
    });

    it("takes a mirror URL with or without a path, and nothing before https://", () => {
      expect(flags("--spark.mirrorUrl", "https://mirror.example")).toEqual([]);
      expect(flags("--spark.mirrorUrl", "https://mirror.example/apache/spark")).toEqual([]);
      expect(flags("--spark.mirrorUrl", "xhttps://mirror.example/spark")).toHaveLength(1);
    });

    it("refuses a security group id with anything before it", () => {
      expect(flags("--kafka.clientSecurityGroupIds", "xsg-01234567")).toEqual([
        'kafka.clientSecurityGroupIds[0]: "xsg-01234567" is not a security group id like sg-0123456789abcdef0',
      ]);
    });

    it("names the field in each rule's message", () => {
      expect(flags("--chef.serverInstanceType", "large")).toEqual(['chef.serverInstanceType: "large" is not an EC2 instance type like m7i.large']);
      expect(flags("--chef.workstationInstanceType", "large")).toEqual(['chef.workstationInstanceType: "large" is not an EC2 instance type like m7i.large']);
      expect(flags("--spark.masterInstanceType", "large")).toEqual(['spark.masterInstanceType: "large" is not an EC2 instance type like m7i.large']);
      expect(flags("--chef.workstationUbuntuRelease", "20.04", "--chef.workstationPackageChecksum", "")).toEqual([
        'chef.workstationUbuntuRelease: "20.04" must be one of "22.04", "24.04"',
      ]);
      expect(flags("--kafka.ubuntuRelease", "20.04")).toEqual(['kafka.ubuntuRelease: "20.04" must be one of "22.04", "24.04"']);
      expect(flags("--kafka.replicationFactor", "0", "--kafka.minInsyncReplicas", "0")).toEqual([
        "kafka.replicationFactor: 0 must be at least 1",
        "kafka.minInsyncReplicas: 0 must be at least 1",
      ]);
    });

    it("refuses the pinned workstation checksum beside another version, release or flavor", () => {
      const pinned = DEFAULT_CONFIG.chef.workstationPackageChecksum;
      const rule = `is the checksum of cinc-workstation 24.12.1073 for Ubuntu 24.04; set the one of the package you chose, or "" to use the publisher's metadata`;
      const pin = ["--chef.workstationPackageChecksum", pinned];
      expect(flags(...pin, "--chef.workstationVersion", "25.1.1")).toEqual([`chef.workstationPackageChecksum: "${pinned}" ${rule}`]);
      expect(flags(...pin, "--chef.workstationUbuntuRelease", "22.04")).toEqual([`chef.workstationPackageChecksum: "${pinned}" ${rule}`]);
      expect(flags(...pin, "--chef.flavor", "chef", "--chef.acceptLicense", "true")).toEqual([`chef.workstationPackageChecksum: "${pinned}" ${rule}`]);
      expect(flags("--chef.workstationVersion", "25.1.1", "--chef.workstationPackageChecksum", "")).toEqual([]);
    });
  });

  describe("how sources are read (named survivors of a mutation run)", () => {
    it("lets the last of a repeated flag win, as command lines do", () => {
      expect(loadConfig({ argv: ["--kafka.nodes", "3", "--kafka.nodes", "5"], env: {} }).kafka.nodes).toBe(5);
    });

    it("takes only true or false for a boolean, never yes", () => {
      expect(flags("--storage.forceDestroy", "yes")).toEqual(['storage.forceDestroy (from --storage.forceDestroy): "yes" must be true or false']);
      expect(loadConfig({ argv: ["--storage.forceDestroy", "true"], env: {} }).storage.forceDestroy).toBe(true);
    });

    it("reads only defaults when given no sources at all, and ignores environment variables that are not the platform's", () => {
      expect(loadConfig({ env: {} })).toEqual(DEFAULT_CONFIG);
      expect(loadConfig({ env: { PATH: "/usr/bin", HOME: "/root", PLATFORM_CONFIG_X: undefined } }).kafka.nodes).toBe(3);
    });

    it("lets the last --config win, as for every other flag", () => {
      const readFile = (path: string): string => (path === "b.json" ? '{"kafka":{"nodes":5}}' : '{"kafka":{"nodes":7}}');
      expect(loadConfig({ argv: ["--config", "a.json", "--config", "b.json"], env: {}, readFile }).kafka.nodes).toBe(5);
    });

    it("takes a config file's values as JSON types: a number in quotes is not a number there", () => {
      expect(problemsOf({ argv: ["--config", "c.json"], env: {}, readFile: () => '{"kafka":{"nodes":"5"}}' })).toEqual([
        'kafka.nodes (in c.json): "5" must be an integer',
      ]);
      expect(problemsOf({ argv: ["--config", "c.json"], env: {}, readFile: () => '{"project":5,"network":{"publicSubnetCidrs":[1,2]}}' })).toEqual([
        "project (in c.json): 5 must be a string",
        "network.publicSubnetCidrs (in c.json): [1,2] must be a list of strings",
      ]);
    });

    it("reports type problems alone: rules are checked only on a config whose every value has its type", () => {
      expect(flags("--kafka.nodes", "x", "--kafka.heapMb", "1")).toEqual(['kafka.nodes (from --kafka.nodes): "x" must be an integer']);
    });

    it("names the environment variable a bad value came from, capitals and nesting included", () => {
      expect(problemsOf({ argv: [], env: { PLATFORM_NETWORK__AZ_COUNT: "x" } })).toEqual(['network.azCount (from PLATFORM_NETWORK__AZ_COUNT): "x" must be an integer']);
      expect(problemsOf({ argv: [], env: { PLATFORM_KAFKA__NODES__EXTRA: "1" } })).toEqual(['kafka.nodes (from PLATFORM_KAFKA__NODES): {"extra":"1"} must be an integer']);
    });

    it("reads lists from text, trimmed, with empty items dropped", () => {
      const config = loadConfig({ argv: ["--kafka.clientSecurityGroupIds", " sg-01234567 , ,sg-89abcdef,"], env: {} });
      expect(config.kafka.clientSecurityGroupIds).toEqual(["sg-01234567", "sg-89abcdef"]);
    });

    it("reads numbers with spaces around them, and a flag with no value as true", () => {
      expect(loadConfig({ argv: ["--kafka.nodes", " 5 "], env: {} }).kafka.nodes).toBe(5);
      expect(loadConfig({ argv: ["--storage.forceDestroy"], env: {} }).storage.forceDestroy).toBe(true);
    });

    it("suggests the first of equally close keys, in the defaults' order", () => {
      expect(flags("--spark.xxxxxxInstanceType", "m7i.large")).toEqual([
        "spark.xxxxxxInstanceType (from --spark.xxxxxxInstanceType): unknown key (did you mean spark.masterInstanceType?)",
      ]);
    });

    it("refuses a config file that holds a JSON array", () => {
      expect(problemsOf({ argv: ["--config", "c.json"], env: {}, readFile: () => "[1, 2]" })).toEqual(["config file c.json: must hold a JSON object"]);
    });
  });

  it("keeps every problem on one line, for every rule and whatever a file name, key or value held", () => {
    const cases: ConfigSources[] = [
      { argv: ["--config", "/nonexistent/bad\nname.json"], env: {} },
      { argv: ["--config", "c\n.json"], env: {}, readFile: () => "{ not json" },
      { argv: ["--config", "c\n.json"], env: {}, readFile: () => "[1, 2]" },
      { argv: ["--config", "c.json"], env: {}, readFile: () => '{"kafka":{"no\\nde":5}}' },
      { argv: ["--config", "c.json"], env: {}, readFile: () => '{"project":"a\\nb","kafka":{"dataPath":"/data\\nkafka"}}' },
      { argv: ["positional\nargument"], env: {} },
      {
        argv: [
          "--project", "a".repeat(20), "--environment", "b".repeat(20), "--region", "us-west-2junk",
          "--network.vpcCidr", "10.0.0.0/8", "--network.azCount", "1", "--network.natGateways", "many",
          "--network.flowLogRetentionDays", "2", "--storage.noncurrentVersionExpirationDays", "0",
          "--storage.accessLogBucket", "Bad_Bucket", "--state.bucket", "x", "--state.region", "eu",
          "--chef.flavor", "chef", "--chef.serverVersion", "15", "--chef.serverInstanceType", "m7g.large",
          "--chef.serverUbuntuRelease", "24.04", "--chef.organization", "Org", "--chef.serverPackageChecksum", "abc",
          "--kafka.nodes", "2", "--kafka.version", "4.0.0", "--kafka.sha512", "xyz", "--kafka.zookeeperVersion", "3.9.0",
          "--kafka.heapMb", "1", "--kafka.zookeeperHeapMb", "1", "--kafka.dataPath", "relative", "--kafka.replicationFactor", "5",
          "--kafka.minInsyncReplicas", "9", "--kafka.numPartitions", "0", "--kafka.clientSecurityGroupIds", "sg-x",
          "--kafka.instanceType", "large", "--spark.version", "3.5.0", "--spark.mirrorUrl", "http://mirror/", "--spark.workers", "0",
          "--spark.ubuntuRelease", "20.04",
        ],
        env: {},
      },
    ];
    const problems = cases.flatMap((sources) => problemsOf(sources));
    expect(problems.length).toBeGreaterThan(30);
    for (const problem of problems) expect(problem).not.toMatch(/[\r\n]/);
    expect(problems).toContain("config file /nonexistent/bad\\nname.json: cannot be read (ENOENT)");
    expect(problems).toContain("kafka.no\\nde (in c.json): unknown key (did you mean kafka.nodes?)");
  });

  it("reports every problem at once, one line each", () => {
    expect(flags("--kafka.zookeeperNodes", "4", "--spark.workers", "0")).toHaveLength(2);
  });
});

describe("the config's building blocks (named survivors of a second mutation run)", () => {
  it("parses IPv4 CIDR blocks only when every octet and the prefix are in range", () => {
    expect(parseIpv4Cidr("10.100.255.255/32")).toEqual({ first: 174391295, last: 174391295, prefix: 32 });
    expect(parseIpv4Cidr("255.255.255.0/24")).toEqual({ first: 4294967040, last: 4294967295, prefix: 24 });
    for (const text of ["256.0.0.0/16", "10.0.0.256/16", "10.0.0.0/33", " 10.0.0.0/16", "10.0.0.0/16 ", "10.0.0/16"]) expect(parseIpv4Cidr(text)).toBeUndefined();
  });

  it("sees host bits only in a valid block, and gives the network address of one", () => {
    expect(hasHostBits("10.0.0.1/24")).toBe(true);
    expect(hasHostBits("10.0.0.0/24")).toBe(false);
    expect(hasHostBits("10.0.0/24")).toBe(false);
    expect(networkAddressOf("10.0.0.1/24")).toBe("10.0.0.0/24");
    expect(() => networkAddressOf("10.0.0/24")).toThrow("not a CIDR: 10.0.0/24");
  });

  it("counts a block as inside another up to its last address, and blocks as overlapping when they share one", () => {
    const block = (text: string): Ipv4Block => parseIpv4Cidr(text) as Ipv4Block;
    expect(contains(block("10.0.0.0/16"), block("10.0.0.0/16"))).toBe(true);
    expect(contains(block("10.0.0.0/16"), block("10.0.255.0/24"))).toBe(true);
    expect(contains(block("10.0.0.0/16"), block("10.0.0.0/15"))).toBe(false);
    expect(contains(block("10.0.1.0/24"), block("10.0.0.0/24"))).toBe(false);
    expect(overlaps(block("10.0.0.0/24"), block("10.0.0.255/32"))).toBe(true);
    expect(overlaps(block("10.0.0.255/32"), block("10.0.0.0/24"))).toBe(true);
    expect(overlaps(block("10.0.0.0/24"), block("10.0.1.0/24"))).toBe(false);
    expect(overlaps(block("10.0.1.0/24"), block("10.0.0.0/24"))).toBe(false);
  });

  it("tells Graviton families by the g after the generation, whatever the family's letters", () => {
    expect(architectureOf("im4gn.large")).toBe("arm64");
    expect(architectureOf("m10g.large")).toBe("arm64");
    expect(architectureOf("u-6tb1.metal")).toBe("amd64");
    expect(architectureOf("g6.xlarge")).toBe("amd64");
  });

  it("is an Error named ConfigError whose message is its problems, one per line", () => {
    const error = new ConfigError(["kafka.nodes: 4 must be odd", "spark.workers: 0 must be at least 1"]);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ConfigError");
    expect(error.message).toBe("kafka.nodes: 4 must be odd\nspark.workers: 0 must be at least 1");
  });

  it("defaults to what is safe: no forced bucket deletion, no licence accepted on anyone's behalf", () => {
    const config = loadConfig({ env: {} });
    expect(config.storage.forceDestroy).toBe(false);
    expect(config.chef.acceptLicense).toBe(false);
    expect(config.chef.flavor).toBe("cinc");
  });
});

describe("the documented switches work as written", () => {
  it("takes kafka.nodes 1 and 2 alone: replication and min.insync.replicas follow the broker count", () => {
    expect(flags("--kafka.nodes", "1")).toEqual([]);
    expect(flags("--kafka.nodes", "2")).toEqual([]);
    const sized = (...argv: string[]) => loadConfig({ argv, env: {} }).kafka;
    expect(sized("--kafka.nodes", "1")).toMatchObject({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(sized("--kafka.nodes", "2")).toMatchObject({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(sized("--kafka.nodes", "5")).toMatchObject({ replicationFactor: 3, minInsyncReplicas: 2 });
    // Set by the operator, a value is checked, not resized.
    expect(flags("--kafka.nodes", "2", "--kafka.replicationFactor", "3")).toEqual([
      "kafka.replicationFactor: 3 exceeds kafka.nodes 2 (a partition cannot have more replicas than brokers)",
    ]);
  });

  it("takes chef.flavor chef (with the licence) and chef.workstationUbuntuRelease 22.04 alone: the workstation package is then verified by its publisher's metadata", () => {
    expect(flags("--chef.flavor", "chef", "--chef.acceptLicense", "true")).toEqual([]);
    expect(flags("--chef.workstationUbuntuRelease", "22.04")).toEqual([]);
    expect(loadConfig({ argv: ["--chef.workstationUbuntuRelease", "22.04"], env: {} }).chef.workstationPackageChecksum).toBe("");
    expect(loadConfig({ argv: [], env: {} }).chef.workstationPackageChecksum).toBe(DEFAULT_CONFIG.chef.workstationPackageChecksum);
  });

  it("refuses GovCloud, China and isolated regions with one line: Canonical's image owner differs there", () => {
    for (const [region, partition] of [
      ["us-gov-west-1", "AWS GovCloud (US)"],
      ["cn-north-1", "AWS China"],
      ["us-iso-east-1", "AWS isolated (ISO)"],
    ]) {
      expect(flags("--region", region)).toEqual([
        `region: "${region}" is in the ${partition} partition; the platform finds Ubuntu images by Canonical's owner id for the commercial partition only, so choose a commercial region like us-west-2`,
      ]);
    }
    expect(flags("--region", "eu-central-1")).toEqual([]);
  });
});
