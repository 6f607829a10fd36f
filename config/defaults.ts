import type { PlatformConfig } from "./PlatformConfig";

/** ZooKeeper 3.8.4's tarball, as packagers (Spack among them) pin it. */
export const DEFAULT_ZOOKEEPER_PIN = {
  version: "3.8.4",
  sha256: "284cb4675adb64794c63d95bf202d265cebddc0cda86ac86fb0ede8049de9187",
} as const;

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
    version: "3.9.1",
    sha512: "1ea204ba73411737a275429ca976d440f007ff0957b90b19be41dc5a4bae52617267769be9f0b5791714d0b3c4c760605bd426faea39edd90763585523fa2cfe",
    zookeeperVersion: DEFAULT_ZOOKEEPER_PIN.version,
    zookeeperChecksum: DEFAULT_ZOOKEEPER_PIN.sha256,
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
    version: "4.1.0",
    sha512: "fff7f929d98779b096a2d2395b1b9db1ce277660f3852dd45e1457c373013f2669074315252181a3cea291d8f3a726c70f7f9b247e723edbf8080f40888edde1",
    mirrorUrl: "https://dlcdn.apache.org/spark",
    hadoopAwsVersion: "3.4.2",
    workers: 3,
    masterInstanceType: "m7i.large",
    workerInstanceType: "m7i.xlarge",
    ubuntuRelease: "24.04",
  },
};
