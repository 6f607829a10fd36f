/** Ubuntu LTS releases the platform knows how to find AMIs for. */
export type UbuntuRelease = "22.04" | "24.04";

/** `single`: one NAT gateway for all private subnets (cheaper); `perAz`: one per AZ (survives an AZ outage). */
export type NatGatewayMode = "single" | "perAz";

/**
 * How Kafka keeps its metadata. `zookeeper`: a ZooKeeper ensemble beside the brokers (the original
 * design; Kafka 3.9 is its last line). `kraft`: Kafka 4.x with its own controller quorum.
 */
export type KafkaMode = "zookeeper" | "kraft";
/** How Kafka's and ZooKeeper's connections are secured (docs/tls.md). */
export type KafkaSecurity = "tls" | "plaintext" | "migrating";

/** Chef Infra from Progress (needs an accepted licence) or Cinc, its free community build. */
export type ChefFlavor = "chef" | "cinc";

/**
 * How operators, and Terraform's deploy-time steps, reach the Chef workstation.
 * `public-ssh`: a public address that accepts SSH from admin_cidr. `instance-connect-endpoint`: no
 * public address and no inbound rule from outside the VPC; an EC2 Instance Connect Endpoint opens
 * a tunnel to it for the callers IAM allows.
 */
export type OperatorAccess = "public-ssh" | "instance-connect-endpoint";

export interface NetworkConfig {
  /** The VPC's IPv4 range. @default "10.0.0.0/16" */
  readonly vpcCidr: string;
  /**
   * How many availability zones the subnets span: the first N the region offers this account
   * without opt-in (plan fails, naming this field, if it offers fewer). Cluster nodes are spread
   * over them round-robin. @default 3
   */
  readonly azCount: number;
  /** One public subnet per AZ: only NAT gateways and the Chef workstation live here. */
  readonly publicSubnetCidrs: readonly string[];
  /** One private subnet per AZ: every cluster node lives here. */
  readonly privateSubnetCidrs: readonly string[];
  /** @default "single" */
  readonly natGateways: NatGatewayMode;
  /** CloudWatch retention of the VPC flow logs, in days (one of CloudWatch's allowed values). @default 365 */
  readonly flowLogRetentionDays: number;
  /**
   * Add an SSM interface endpoint in the private subnets, so instances reach SSM (the bootstrap
   * key at each SSH login, the Chef keys) without the NAT gateway. Billed per AZ and hour. @default false
   */
  readonly interfaceEndpoints: boolean;
}

export interface StorageConfig {
  /** Days a replaced or deleted object version is kept before it expires. @default 30 */
  readonly noncurrentVersionExpirationDays: number;
  /**
   * Existing bucket that receives the data bucket's S3 server access logs instead of the log
   * bucket the platform makes for them; empty makes that bucket. @default ""
   */
  readonly accessLogBucket: string;
  /** Days the platform's own log bucket keeps each access log object. @default 365 */
  readonly accessLogExpirationDays: number;
  /** Let `cdktf destroy` delete a bucket that still holds objects. @default false */
  readonly forceDestroy: boolean;
}

export interface StateConfig {
  /** S3 bucket for Terraform state shared by a team; empty keeps state in local files. @default "" */
  readonly bucket: string;
  /** Region of the state bucket; empty means the platform's region. @default "" */
  readonly region: string;
}

export interface ChefConfig {
  /** @default "cinc" (free; choosing "chef" requires acceptLicense) */
  readonly flavor: ChefFlavor;
  /** The operator's explicit acceptance of Chef's licence; required with flavor "chef". @default false */
  readonly acceptLicense: boolean;
  /** Chef Infra Server (or Cinc Server) release. @default "15.10.125" */
  readonly serverVersion: string;
  /**
   * sha256 or sha512 hex of the server .deb; empty verifies against the sha512 its publisher
   * lists in the package's .metadata.json. @default ""
   */
  readonly serverPackageChecksum: string;
  /** Chef Workstation (or Cinc Workstation) release. @default "24.12.1073" */
  readonly workstationVersion: string;
  /**
   * sha256 or sha512 hex of the workstation .deb; empty verifies against its publisher's metadata.
   * @default the pinned sha256 of cinc-workstation 24.12.1073 for 24.04; "" for any other package
   */
  readonly workstationPackageChecksum: string;
  /**
   * Let a package checksum be empty: the package is then verified only against the sha512 its
   * download host lists, which whoever controls that host can change with the package. false
   * makes synth refuse an empty checksum, so every package that runs as root is pinned.
   * @default true (no source besides its download host publishes the default server package's digest)
   */
  readonly allowUnpinnedPackages: boolean;
  /** Chef Infra Client (Cinc Client) release installed on cluster nodes before knife bootstrap. @default "18.6.2" */
  readonly clientVersion: string;
  /** Organization the cluster nodes register in (the original's). @default "insight" */
  readonly organization: string;
  /** The Chef admin user knife acts as. @default "admin" */
  readonly adminUser: string;
  /** @default "t3.xlarge" (16 GiB: the server's Erlang stack wants 8 GiB or more, as in Cinc's own harness) */
  readonly serverInstanceType: string;
  /** @default "t3.small" */
  readonly workstationInstanceType: string;
  /** Chef Infra Server packages exist for Ubuntu 22.04, not 24.04. @default "22.04" */
  readonly serverUbuntuRelease: UbuntuRelease;
  /** @default "24.04" */
  readonly workstationUbuntuRelease: UbuntuRelease;
  /**
   * How operators and the deploy's steps reach the workstation (docs/deploy.md#operator-access).
   * Changing it replaces the workstation. @default "public-ssh"
   */
  readonly operatorAccess: OperatorAccess;
  /**
   * With `instance-connect-endpoint`: the local port the tunnel listens on, which the deploy's
   * steps connect to as 127.0.0.1. @default 2222
   */
  readonly tunnelPort: number;
}

export interface KafkaConfig {
  /**
   * `zookeeper` or `kraft`. Chosen when the cluster is created: an existing cluster does not move
   * from one to the other by changing this. @default "zookeeper"
   */
  readonly mode: KafkaMode;
  /**
   * Kafka release: 3.x in ZooKeeper mode (3.9 is its last line), 4.x in KRaft mode.
   * @default "3.9.1" in ZooKeeper mode, the pinned 4.x release in KRaft mode
   */
  readonly version: string;
  /** Hex sha512 of kafka_2.13-<version>.tgz; the node keeps the download only if it matches. */
  readonly sha512: string;
  /**
   * `tls`: clients, brokers, KRaft controllers and ZooKeeper connect over mutual TLS (Kafka on
   * 9094, ZooKeeper on 2182) and an authorizer admits only the principals ACLs name. `plaintext`:
   * no encryption and no authentication, for a lab only (synth warns). `migrating`: the middle
   * stage of moving a running plaintext cluster to TLS, both listeners open (docs/tls.md).
   * @default "tls"
   */
  readonly security: KafkaSecurity;
  /** ZooKeeper release the ensemble runs (ZooKeeper mode); Kafka 3.9 ships a 3.8 client. @default "3.8.4" */
  readonly zookeeperVersion: string;
  /** Hex sha512 of apache-zookeeper-<version>-bin.tar.gz; the node keeps the download only if it matches. */
  readonly zookeeperSha512: string;
  /** JVM heap in MiB of every Kafka node, dedicated controllers included; with the ZooKeeper heap, at most half the node's memory. @default 2048 */
  readonly heapMb: number;
  /** ZooKeeper member JVM heap in MiB; a change restarts the members one at a time. @default 512 */
  readonly zookeeperHeapMb: number;
  /** Mount point of the broker's data volume; log.dirs. Fixed once the brokers run: their Chef run refuses a new path. @default "/data/kafka" */
  readonly dataPath: string;
  /** Kafka brokers, one per instance. @default 3 */
  readonly nodes: number;
  /**
   * ZooKeeper mode: voters in the ensemble, which runs on the first N brokers (spread over the
   * AZs); the other brokers are only its clients. Odd, at most 7 and at most kafka.nodes.
   * @default 3, or 1 when kafka.nodes is below 3
   */
  readonly zookeeperNodes: number;
  /**
   * KRaft mode: controllers in the metadata quorum: the first N brokers, or instances of their
   * own with kafka.dedicatedControllers. Odd and at most 7.
   * @default 3, or 1 when kafka.nodes is below 3 and the controllers are brokers too
   */
  readonly controllerNodes: number;
  /** KRaft mode: run the controllers on instances of their own rather than on the first brokers. @default false */
  readonly dedicatedControllers: boolean;
  /** KRaft mode with dedicated controllers: their instance type. @default "m7i.large" */
  readonly controllerInstanceType: string;
  /** @default "m7i.large" */
  readonly instanceType: string;
  /** @default "24.04" */
  readonly ubuntuRelease: UbuntuRelease;
  /** Size of each broker's separate encrypted gp3 data volume (log.dirs). @default 100 */
  readonly dataVolumeGiB: number;
  /** default.replication.factor and the internal topics' replication. @default 3, or kafka.nodes when it is below 3 */
  readonly replicationFactor: number;
  /** min.insync.replicas. @default 2, or 1 when the replication factor is below 3 */
  readonly minInsyncReplicas: number;
  /** num.partitions, the original workload's value. @default 40 */
  readonly numPartitions: number;
  /** Security groups of other Kafka clients allowed to reach the brokers (9094 with TLS, 9092 with plaintext; Spark's always is). @default [] */
  readonly clientSecurityGroupIds: readonly string[];
  /**
   * Refuse to destroy a broker that still holds partition replicas (or, in KRaft mode, is still
   * registered). Terraform reads it from the state at destroy: deploy `false` before a teardown.
   * @default true
   */
  readonly deletionProtection: boolean;
}

export interface SparkConfig {
  /**
   * Spark release (the supported 4.1 line); it must be one
   * whose S3 and Kafka connector jars are pinned (config/sparkJars.ts). @default "4.1.2"
   */
  readonly version: string;
  /** Hex sha512 of spark-<version>-bin-hadoop3.tgz; a download that does not match is not used. */
  readonly sha512: string;
  /** Apache mirror tried before archive.apache.org. @default "https://dlcdn.apache.org/spark" */
  readonly mirrorUrl: string;
  /** Standalone workers beside the one master. @default 3 */
  readonly workers: number;
  /** @default "m7i.large" */
  readonly masterInstanceType: string;
  /** @default "m7i.xlarge" */
  readonly workerInstanceType: string;
  /** @default "24.04" */
  readonly ubuntuRelease: UbuntuRelease;
}

export interface MonitoringConfig {
  /**
   * Where the alarms send mail: an email subscription to the platform's alarm topic, which AWS
   * activates only once the address confirms it. Empty subscribes no one (the topic and alarms
   * stay). @default ""
   */
  readonly alarmEmail: string;
  /**
   * Days CloudWatch Logs keeps the services' and provisioning scripts' log events (one of
   * CloudWatch Logs' retention values). @default 90
   */
  readonly logRetentionDays: number;
}

/** The whole platform's configuration: validated once, frozen, then only read. */
export interface PlatformConfig {
  /** Name used in resource names and the Project tag. @default "insight" */
  readonly project: string;
  /** Environment name used in resource names and the Environment tag. @default "dev" */
  readonly environment: string;
  /** @default "us-west-2" */
  readonly region: string;
  readonly network: NetworkConfig;
  readonly storage: StorageConfig;
  readonly state: StateConfig;
  readonly chef: ChefConfig;
  readonly kafka: KafkaConfig;
  readonly spark: SparkConfig;
  readonly monitoring: MonitoringConfig;
}
