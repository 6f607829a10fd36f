import type { PlatformConfig } from "./PlatformConfig";

/**
 * A release and the sha512 of its tarball in hex, as the Apache release's .sha512 file gives it.
 * The digest fits only this release; validation refuses it beside another version. A default pin
 * is one that two independent public sources agree on; the comment above each names them.
 */
export interface ReleasePin {
  readonly version: string;
  readonly sha512: string;
}

/**
 * Kafka 3.9.1 (kafka_2.13-3.9.1.tgz). Sources: strimzi/strimzi-kafka-operator kafka-versions.yaml
 * (commit 868e12c4, "Added support for Apache Kafka 3.9.1") and huyz0/oqueue
 * scripts/harness/admin_client_harness.py (commit 8464f747). 3.9.2, the last 3.9 release, has only
 * one public source for its digest so far.
 */
export const DEFAULT_KAFKA_PIN: ReleasePin = {
  version: "3.9.1",
  sha512: "1ea204ba73411737a275429ca976d440f007ff0957b90b19be41dc5a4bae52617267769be9f0b5791714d0b3c4c760605bd426faea39edd90763585523fa2cfe",
};

/**
 * KRaft mode's release, Kafka 4.3.1 (kafka_2.13-4.3.1.tgz), the newest 4.x. Sources:
 * strimzi/strimzi-kafka-operator kafka-versions.yaml (commit 17a68725, "Add support for Kafka
 * 4.3.1") and sllt/sparrow-runtime scripts/kafka-broker.sh (commit 3268f76a).
 */
export const DEFAULT_KRAFT_KAFKA_PIN: ReleasePin = {
  version: "4.3.1",
  sha512: "c7d7b2318cb51aa0c61d3246a51c349210073c5c9b754947ef965a439f2f939e8600f204e134a75ac31faf3829c9370960ef7c6a9886c8a1dbf0339a21f4c54c",
};

/**
 * ZooKeeper 3.8.4's binary tarball (apache-zookeeper-3.8.4-bin.tar.gz). Sources: microsoft/vcpkg
 * ports/zookeeper/portfile.cmake (commit 00308b4a, "[zookeeper] Update to 3.8.4") and
 * debezium/container-images zookeeper/3.4/Dockerfile (commit 07fabf05). 3.8.5's digest has one
 * independent source so far.
 */
export const DEFAULT_ZOOKEEPER_PIN: ReleasePin = {
  version: "3.8.4",
  sha512: "4d85d6f7644d5f36d9c4d65e78bd662ab35ebe1380d762c24c12b98af029027eee453437c9245dbdf2b9beb77cd6b690b69e26f91cf9d11b0a183a979c73fa43",
};

/**
 * Spark 4.1.2 built for Hadoop 3 (spark-4.1.2-bin-hadoop3.tgz). Sources: the Scoop manifests
 * mvrpl/windows-apps bucket/spark.json (commit c7abd2b7) and ous50/scoop-cn bucket/spark.json
 * (commit 2c083e56). Its connector jars are pinned in sparkJars.ts.
 */
export const DEFAULT_SPARK_PIN: ReleasePin = {
  version: "4.1.2",
  sha512: "490510e13e97da9493302bb33a802574bc417fcc107441419d1a0f87f2b372000db6e26f831a2bf92bc4b18bdf2c9023b1b6f2d021afdc7d6c19c8a11c03e685",
};

/** The workstation package the default checksum was published for; it fits no other package. */
export const DEFAULT_WORKSTATION_PIN = {
  flavor: "cinc",
  version: "24.12.1073",
  ubuntuRelease: "24.04",
  sha256: "433ec206251b439db3335859ae772c0aef620fef4d422b514f238e1a28cb7771",
} as const;

/**
 * The original project's topology made secure and current: us-west-2, Kafka on 3 nodes,
 * Spark with 1 master and 3 workers, a Chef server and workstation, cluster nodes in private
 * subnets in three AZs behind one NAT gateway.
 *
 * Every key a user may set appears here: the loader treats any other key as a typo.
 */
export const DEFAULT_CONFIG: PlatformConfig = {
  project: "insight",
  environment: "dev",
  region: "us-west-2",
  network: {
    vpcCidr: "10.0.0.0/16",
    // Three AZs: a 3-member ZooKeeper ensemble and 3 Kafka replicas then lose one member each to
    // an AZ outage and keep their quorum; spread over two AZs, one AZ holds two of each.
    azCount: 3,
    publicSubnetCidrs: ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"],
    privateSubnetCidrs: ["10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"],
    natGateways: "single",
    flowLogRetentionDays: 365,
    // Off: nodes keep the last bootstrap key they read, and an endpoint costs per AZ and hour.
    interfaceEndpoints: false,
  },
  storage: {
    noncurrentVersionExpirationDays: 30,
    accessLogBucket: "",
    accessLogExpirationDays: 365,
    forceDestroy: false,
  },
  state: {
    bucket: "",
    region: "",
  },
  chef: {
    flavor: "cinc",
    acceptLicense: false,
    // The release Cinc's own Terraform integration harness (cinc-project/cinc-cli,
    // integration/terraform/variables.tf) installs on Ubuntu 22.04.
    serverVersion: "15.10.125",
    serverPackageChecksum: "",
    workstationVersion: DEFAULT_WORKSTATION_PIN.version,
    workstationPackageChecksum: DEFAULT_WORKSTATION_PIN.sha256,
    // The server package's digest is published beside it on its download host (its
    // .metadata.json), and no second source was found to pin it by: a pin from that host alone
    // would be the package vouching for itself. Set false, with both checksums pinned, to make
    // synth refuse anything unpinned.
    allowUnpinnedPackages: true,
    clientVersion: "18.6.2",
    organization: "insight",
    adminUser: "admin",
    // What Cinc's own integration harness runs the server on: its Erlang stack wants 8 GiB or more
    // of memory, and four vCPUs keep reconfigure quick.
    serverInstanceType: "t3.xlarge",
    workstationInstanceType: "t3.small",
    serverUbuntuRelease: "22.04",
    workstationUbuntuRelease: DEFAULT_WORKSTATION_PIN.ubuntuRelease,
    operatorAccess: "public-ssh",
    tunnelPort: 2222,
  },
  kafka: {
    mode: "zookeeper",
    // In KRaft mode, version and sha512 left at these defaults become DEFAULT_KRAFT_KAFKA_PIN's.
    version: DEFAULT_KAFKA_PIN.version,
    sha512: DEFAULT_KAFKA_PIN.sha512,
    security: "tls",
    zookeeperVersion: DEFAULT_ZOOKEEPER_PIN.version,
    zookeeperSha512: DEFAULT_ZOOKEEPER_PIN.sha512,
    heapMb: 2048,
    zookeeperHeapMb: 512,
    dataPath: "/data/kafka",
    nodes: 3,
    // Both become 1 when kafka.nodes is below 3, unless set (derivedDefaults.ts).
    zookeeperNodes: 3,
    controllerNodes: 3,
    dedicatedControllers: false,
    controllerInstanceType: "m7i.large",
    instanceType: "m7i.large",
    ubuntuRelease: "24.04",
    dataVolumeGiB: 100,
    replicationFactor: 3,
    minInsyncReplicas: 2,
    numPartitions: 40,
    clientSecurityGroupIds: [],
    deletionProtection: true,
  },
  spark: {
    version: DEFAULT_SPARK_PIN.version,
    sha512: DEFAULT_SPARK_PIN.sha512,
    mirrorUrl: "https://dlcdn.apache.org/spark",
    workers: 3,
    masterInstanceType: "m7i.large",
    workerInstanceType: "m7i.xlarge",
    ubuntuRelease: "24.04",
  },
  monitoring: {
    alarmEmail: "",
    // A year of every service's logs, as the flow logs keep theirs: an incident found late (a
    // leaked credential, a slow data loss) is still traceable, and a year is what the stricter
    // scanners' rule for log groups asks. Storage is charged per GB-month, well below the ingest.
    logRetentionDays: 365,
  },
};
