import type { PlatformConfig } from "./PlatformConfig";

/**
 * A release and the sha512 of its tarball in hex, as the Apache release's .sha512 file gives it.
 * The digest fits only this release; validation refuses it beside another version.
 */
export interface ReleasePin {
  readonly version: string;
  readonly sha512: string;
}

/** Kafka 3.9.2, the last 3.9 release and so the last with ZooKeeper mode. */
export const DEFAULT_KAFKA_PIN: ReleasePin = {
  version: "3.9.2",
  sha512: "01186a5086b5ae753811ee71808a797baec1303d4e0d4b1c0acf42c489654a7b8988136f8469d0b66f0be439f8e3e9b816171ea0b0d7a36462b07aa2d3ef0023",
};

/** ZooKeeper 3.8.5's binary tarball (apache-zookeeper-3.8.5-bin.tar.gz). */
export const DEFAULT_ZOOKEEPER_PIN: ReleasePin = {
  version: "3.8.5",
  sha512: "ab9bf90649df19d8fd8378f2e8d9159bc8528d8e4c166a93d9fa4a9c98e39ee9de0279cc9dc58cd6d593141c0a45576d0df9db47d143d63951598a43efdc0a30",
};

/** Spark 4.1.0 built for Hadoop 3 (spark-4.1.0-bin-hadoop3.tgz). */
export const DEFAULT_SPARK_PIN: ReleasePin = {
  version: "4.1.0",
  sha512: "fff7f929d98779b096a2d2395b1b9db1ce277660f3852dd45e1457c373013f2669074315252181a3cea291d8f3a726c70f7f9b247e723edbf8080f40888edde1",
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
 * subnets in two AZs behind one NAT gateway.
 *
 * Every key a user may set appears here: the loader treats any other key as a typo.
 */
export const DEFAULT_CONFIG: PlatformConfig = {
  project: "insight",
  environment: "dev",
  region: "us-west-2",
  network: {
    vpcCidr: "10.0.0.0/16",
    azCount: 2,
    publicSubnetCidrs: ["10.0.0.0/24", "10.0.1.0/24"],
    privateSubnetCidrs: ["10.0.16.0/20", "10.0.32.0/20"],
    natGateways: "single",
    flowLogRetentionDays: 30,
  },
  storage: {
    noncurrentVersionExpirationDays: 30,
    accessLogBucket: "",
    forceDestroy: false,
  },
  state: {
    bucket: "",
    region: "",
  },
  chef: {
    flavor: "cinc",
    acceptLicense: false,
    serverVersion: "15.10.91",
    serverPackageChecksum: "",
    workstationVersion: DEFAULT_WORKSTATION_PIN.version,
    workstationPackageChecksum: DEFAULT_WORKSTATION_PIN.sha256,
    clientVersion: "18.6.2",
    organization: "insight",
    adminUser: "admin",
    serverInstanceType: "t3.large",
    workstationInstanceType: "t3.small",
    serverUbuntuRelease: "22.04",
    workstationUbuntuRelease: DEFAULT_WORKSTATION_PIN.ubuntuRelease,
  },
  kafka: {
    version: DEFAULT_KAFKA_PIN.version,
    sha512: DEFAULT_KAFKA_PIN.sha512,
    zookeeperVersion: DEFAULT_ZOOKEEPER_PIN.version,
    zookeeperSha512: DEFAULT_ZOOKEEPER_PIN.sha512,
    heapMb: 2048,
    dataPath: "/data/kafka",
    nodes: 3,
    instanceType: "m7i.large",
    ubuntuRelease: "24.04",
    dataVolumeGiB: 100,
    replicationFactor: 3,
    minInsyncReplicas: 2,
    numPartitions: 40,
    clientSecurityGroupIds: [],
  },
  spark: {
    version: DEFAULT_SPARK_PIN.version,
    sha512: DEFAULT_SPARK_PIN.sha512,
    mirrorUrl: "https://dlcdn.apache.org/spark",
    hadoopAwsVersion: "3.4.2",
    workers: 3,
    masterInstanceType: "m7i.large",
    workerInstanceType: "m7i.xlarge",
    ubuntuRelease: "24.04",
  },
};
