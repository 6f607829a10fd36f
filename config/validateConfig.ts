import { instanceMemoryMiB } from "./instanceMemory";
import { architectureOf } from "./architecture";
import { contains, hasHostBits, networkAddressOf, overlaps, parseIpv4Cidr, type Ipv4Block } from "./cidr";
import { dataBucketPrefix, MAX_BUCKET_PREFIX } from "./names";
import { DEFAULT_KAFKA_PIN, DEFAULT_KRAFT_KAFKA_PIN, DEFAULT_SPARK_PIN, DEFAULT_WORKSTATION_PIN, DEFAULT_ZOOKEEPER_PIN, type ReleasePin } from "./defaults";
import type { PlatformConfig } from "./PlatformConfig";
import { SPARK_RELEASES_WITH_JARS } from "./sparkJars";

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
const UBUNTU_RELEASES = ["22.04", "24.04"];
const NAME = /^[a-z][a-z0-9-]{0,19}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
/**
 * Regions outside the commercial partition: Canonical publishes their Ubuntu images under other
 * owner ids, which the platform does not map, so an AMI lookup there finds nothing.
 */
const OTHER_PARTITIONS: ReadonlyArray<{ readonly name: string; readonly test: RegExp }> = [
  { name: "AWS GovCloud (US)", test: /^us-gov-/ },
  { name: "AWS China", test: /^cn-/ },
  { name: "AWS isolated (ISO)", test: /-iso[a-z]?-/ },
];
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
/** Families EC2 refuses to start with ebs_optimized = true (EC2 answers "Unsupported"). */
const NOT_EBS_OPTIMIZABLE = /^t[12]\./;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SHA512_HEX = /^[0-9a-f]{128}$/;
const SHA512_RULE = "is not a sha512 hex digest (128 lowercase hex characters)";
/** Voters beyond this slow every write (each waits for a majority) for no availability anyone needs. */
const MAX_QUORUM = 7;
/**
 * The first server release whose user-create hands a name and flags to knife as they are: the
 * setup pipes the admin password to knife's prompt and names the user by flags, which the
 * knife-opc wrapper of earlier releases does not take.
 */
const MIN_CHEF_SERVER_VERSION = "15.10.53"; // also in the rule's text below, which the reference page shows
/** Dedicated KRaft controllers take node ids from here up, clear of the brokers' 1..kafka.nodes. */
export const CONTROLLER_NODE_ID_BASE = 1000;
/**
 * An address SNS can mail: one local part, one @, a domain of dot-separated labels. SNS checks
 * nothing itself until the confirmation mail bounces.
 */
const EMAIL_ADDRESS = /^[A-Za-z0-9.!#$%&'*+\/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(\/[A-Za-z0-9._~\/-]*)?[^\/]$/;

/**
 * Checks the semantic rules of a config whose keys and types the loader already checked.
 * Returns one line per problem: `field: value rule`.
 */
export function validateConfig(config: PlatformConfig): string[] {
  const problems: string[] = [];
  const fail = (field: string, value: unknown, rule: string): void => {
    problems.push(`${field}: ${JSON.stringify(value)} ${rule}`);
  };
  const atLeast = (field: string, value: number, minimum: number, why = ""): void => {
    if (value < minimum) fail(field, value, `must be at least ${minimum}${why}`);
  };
  const pattern = (field: string, value: string, regex: RegExp, rule: string): boolean => {
    const valid = regex.test(value);
    if (!valid) fail(field, value, rule);
    return valid;
  };
  const oneOf = (field: string, value: unknown, allowed: readonly unknown[]): void => {
    if (!allowed.includes(value)) fail(field, value, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  };
  const instanceType = (field: string, value: string): void => {
    if (pattern(field, value, INSTANCE_TYPE, "is not an EC2 instance type like m7i.large") && NOT_EBS_OPTIMIZABLE.test(value)) {
      fail(field, value, "does not support EBS optimization, which every instance states; choose t3 or a current generation");
    }
  };
  // A changed version with the default digest left in place would only fail on the node, at converge.
  const pinnedRelease = (field: string, product: string, version: string, versionValid: boolean, sha512: string, ...pins: ReleasePin[]): void => {
    pattern(field, sha512, SHA512_HEX, SHA512_RULE);
    const pin = pins.find((candidate) => candidate.sha512 === sha512);
    if (versionValid && pin && version !== pin.version) {
      fail(field, sha512, `is the sha512 of ${product} ${pin.version}; set the one of ${version} (the .sha512 file beside Apache's tarball holds it)`);
    }
  };

  pattern("project", config.project, NAME, "must be 1-20 lowercase letters, digits or hyphens, starting with a letter");
  pattern("environment", config.environment, NAME, "must be 1-20 lowercase letters, digits or hyphens, starting with a letter");
  const bucketPrefix = dataBucketPrefix(config.project, config.environment);
  if (bucketPrefix.length > MAX_BUCKET_PREFIX) {
    fail(
      "environment",
      config.environment,
      `with project ${JSON.stringify(config.project)} makes the data bucket prefix ${JSON.stringify(bucketPrefix)} ${bucketPrefix.length} characters; S3 accepts at most ${MAX_BUCKET_PREFIX} (keep project and environment to ${MAX_BUCKET_PREFIX - dataBucketPrefix("", "").length} characters together)`,
    );
  }
  if (pattern("region", config.region, REGION, "is not an AWS region name like us-west-2")) {
    const partition = OTHER_PARTITIONS.find((candidate) => candidate.test.test(config.region));
    if (partition) {
      fail("region", config.region, `is in the ${partition.name} partition; the platform finds Ubuntu images by Canonical's owner id for the commercial partition only, so choose a commercial region like us-west-2`);
    }
  }

  // Network: syntax first, then containment and overlap of what parsed.
  const net = config.network;
  const vpc = checkCidr("network.vpcCidr", net.vpcCidr, fail);
  atLeast("network.azCount", net.azCount, 2, " (subnets must span two availability zones)");
  const subnets: Array<{ field: string; cidr: string; block: Ipv4Block }> = [];
  for (const [name, list] of [
    ["publicSubnetCidrs", net.publicSubnetCidrs],
    ["privateSubnetCidrs", net.privateSubnetCidrs],
  ] as const) {
    if (list.length !== net.azCount) {
      fail(`network.${name}`, list, `has ${list.length} entries but network.azCount is ${net.azCount} (one subnet per AZ)`);
    }
    list.forEach((cidr, index) => {
      const field = `network.${name}[${index}]`;
      const block = checkCidr(field, cidr, fail);
      if (!block) return;
      if (vpc && !contains(vpc, block)) fail(field, cidr, `is outside network.vpcCidr ${net.vpcCidr}`);
      const clash = subnets.find((other) => overlaps(other.block, block));
      if (clash) fail(field, cidr, `overlaps ${clash.field} ${clash.cidr}`);
      subnets.push({ field, cidr, block });
    });
  }
  oneOf("network.natGateways", net.natGateways, ["single", "perAz"]);
  oneOf("network.flowLogRetentionDays", net.flowLogRetentionDays, LOG_RETENTION_DAYS);

  atLeast("storage.noncurrentVersionExpirationDays", config.storage.noncurrentVersionExpirationDays, 1);
  atLeast("storage.accessLogExpirationDays", config.storage.accessLogExpirationDays, 1);
  if (config.storage.accessLogBucket !== "") {
    pattern("storage.accessLogBucket", config.storage.accessLogBucket, BUCKET_NAME, "is not a valid S3 bucket name");
  }
  if (config.state.bucket !== "") {
    pattern("state.bucket", config.state.bucket, BUCKET_NAME, "is not a valid S3 bucket name");
  }
  if (config.state.region !== "") {
    pattern("state.region", config.state.region, REGION, "is not an AWS region name like us-west-2");
  }

  const chef = config.chef;
  oneOf("chef.flavor", chef.flavor, ["chef", "cinc"]);
  if (chef.flavor === "chef" && !chef.acceptLicense) {
    fail("chef.acceptLicense", chef.acceptLicense, 'must be true to use flavor "chef": accepting Chef\'s licence is your explicit choice (or use flavor "cinc")');
  }
  if (pattern("chef.serverVersion", chef.serverVersion, /^\d+\.\d+\.\d+$/, "is not a release number like 15.10.125") && olderRelease(chef.serverVersion, MIN_CHEF_SERVER_VERSION)) {
    fail("chef.serverVersion", chef.serverVersion, "must be 15.10.53 or later: the setup creates the admin user with flags (its password on stdin), which older servers' user-create does not take");
  }
  pattern("chef.clientVersion", chef.clientVersion, /^\d+\.\d+\.\d+$/, "is not a release number like 18.6.2");
  pattern("chef.workstationVersion", chef.workstationVersion, /^\d+\.\d+\.\d+$/, "is not a release number like 24.12.1073");
  for (const field of ["serverPackageChecksum", "workstationPackageChecksum"] as const) {
    pattern(`chef.${field}`, chef[field], /^([0-9a-f]{64}|[0-9a-f]{128})?$/, "is not a sha256 or sha512 hex digest (or empty to use the publisher's metadata)");
  }
  if (!chef.allowUnpinnedPackages) {
    for (const field of ["serverPackageChecksum", "workstationPackageChecksum"] as const) {
      if (chef[field] === "") {
        fail(
          `chef.${field}`,
          chef[field],
          "is empty while chef.allowUnpinnedPackages is false: pin the package's sha256 or sha512 from a source other than its download host (or set chef.allowUnpinnedPackages to true to trust the sha512 that host lists)",
        );
      }
    }
  }
  const pinnedFor = DEFAULT_WORKSTATION_PIN;
  if (
    ["chef", "cinc"].includes(chef.flavor) &&
    chef.workstationPackageChecksum === pinnedFor.sha256 &&
    (chef.flavor !== pinnedFor.flavor || chef.workstationVersion !== pinnedFor.version || chef.workstationUbuntuRelease !== pinnedFor.ubuntuRelease)
  ) {
    fail(
      "chef.workstationPackageChecksum",
      chef.workstationPackageChecksum,
      `is the checksum of cinc-workstation ${pinnedFor.version} for Ubuntu ${pinnedFor.ubuntuRelease}; set the one of the package you chose, or "" to use the publisher's metadata`,
    );
  }
  pattern("chef.organization", chef.organization, /^[a-z][a-z0-9_-]{0,63}$/, "must be lowercase letters, digits, _ or -, starting with a letter");
  pattern("chef.adminUser", chef.adminUser, /^[a-z][a-z0-9_-]{0,63}$/, "must be lowercase letters, digits, _ or -, starting with a letter");
  instanceType("chef.serverInstanceType", chef.serverInstanceType);
  instanceType("chef.workstationInstanceType", chef.workstationInstanceType);
  // No public source lists arm64 builds of the server or workstation packages; a Graviton type
  // would boot an arm64 image on which dpkg refuses them.
  for (const field of ["serverInstanceType", "workstationInstanceType"] as const) {
    if (architectureOf(chef[field]) === "arm64") {
      fail(`chef.${field}`, chef[field], `is a Graviton (arm64) type; the ${chef.flavor} server and workstation packages are built for amd64 only (choose an x86 type like t3.large)`);
    }
  }
  oneOf("chef.workstationUbuntuRelease", chef.workstationUbuntuRelease, UBUNTU_RELEASES);
  if (chef.serverUbuntuRelease !== "22.04") {
    fail("chef.serverUbuntuRelease", chef.serverUbuntuRelease, "is not supported by Chef Infra Server, which ships packages for Ubuntu 22.04");
  }
  oneOf("chef.operatorAccess", chef.operatorAccess, ["public-ssh", "instance-connect-endpoint"]);
  // A local listener: an unprivileged port needs no root on the operator's laptop.
  if (!Number.isInteger(chef.tunnelPort) || chef.tunnelPort < 1024 || chef.tunnelPort > 65535) {
    fail("chef.tunnelPort", chef.tunnelPort, "must be a whole number from 1024 to 65535 (a local port that needs no root)");
  }

  const kafka = config.kafka;
  oneOf("kafka.mode", kafka.mode, ["zookeeper", "kraft"]);
  oneOf("kafka.security", kafka.security, ["tls", "plaintext", "migrating"]);
  const kraft = kafka.mode === "kraft";
  atLeast("kafka.nodes", kafka.nodes, 1);
  // A quorum of voters: an even count tolerates no more failures than the odd one below it.
  const quorum = (field: string, value: number, what: string, members: number | undefined, membersRule: string): void => {
    if (value < 1) fail(field, value, "must be at least 1");
    else if (value % 2 === 0) fail(field, value, `must be odd: an even ${what} tolerates no more failures than the odd one below it`);
    else if (value > MAX_QUORUM) fail(field, value, `must be at most ${MAX_QUORUM}: every write waits for a majority of the ${what} (3 or 5 is the usual size)`);
    else if (members !== undefined && kafka.nodes >= 1 && value > members) fail(field, value, `exceeds kafka.nodes ${members} (${membersRule})`);
  };
  quorum("kafka.zookeeperNodes", kafka.zookeeperNodes, "ZooKeeper ensemble", kraft ? undefined : kafka.nodes, "the ensemble runs on the first brokers");
  quorum("kafka.controllerNodes", kafka.controllerNodes, "controller quorum", kraft && !kafka.dedicatedControllers ? kafka.nodes : undefined, "the controllers are the first brokers unless kafka.dedicatedControllers is true");
  instanceType("kafka.controllerInstanceType", kafka.controllerInstanceType);
  if (kraft && kafka.dedicatedControllers && kafka.nodes >= CONTROLLER_NODE_ID_BASE) {
    fail("kafka.nodes", kafka.nodes, `must be below ${CONTROLLER_NODE_ID_BASE} with dedicated controllers, whose node ids start at ${CONTROLLER_NODE_ID_BASE + 1}`);
  }
  const kafkaRelease = kraft
    ? pattern("kafka.version", kafka.version, /^4\.\d+\.\d+$/, `is not a Kafka 4.x release like ${DEFAULT_KRAFT_KAFKA_PIN.version} (kafka.mode is kraft)`)
    : pattern("kafka.version", kafka.version, /^3\.\d+\.\d+$/, 'is not a Kafka 3.x release like 3.9.1 (ZooKeeper mode ended with 3.9; Kafka 4 needs kafka.mode "kraft")');
  pinnedRelease("kafka.sha512", "Kafka", kafka.version, kafkaRelease, kafka.sha512, DEFAULT_KAFKA_PIN, DEFAULT_KRAFT_KAFKA_PIN);
  const zookeeperRelease = pattern("kafka.zookeeperVersion", kafka.zookeeperVersion, /^3\.8\.\d+$/, "is not a ZooKeeper 3.8.x release like 3.8.4 (Kafka 3.9 ships the 3.8 client)");
  pinnedRelease("kafka.zookeeperSha512", "ZooKeeper", kafka.zookeeperVersion, zookeeperRelease, kafka.zookeeperSha512, DEFAULT_ZOOKEEPER_PIN);
  atLeast("kafka.heapMb", kafka.heapMb, 256);
  atLeast("kafka.zookeeperHeapMb", kafka.zookeeperHeapMb, 128);
  pattern("kafka.dataPath", kafka.dataPath, /^\/[A-Za-z0-9._\/-]+$/, "is not an absolute path");
  instanceType("kafka.instanceType", kafka.instanceType);
  // Kafka serves reads from the page cache: the heaps (a broker's, and the ZooKeeper member's on
  // the first nodes) get at most half of the node's memory, the rest is the cache and the OS.
  const nodeMemory = instanceMemoryMiB(kafka.instanceType);
  const zookeeperHeap = kraft ? 0 : kafka.zookeeperHeapMb;
  if (nodeMemory !== undefined && kafka.heapMb + zookeeperHeap > nodeMemory / 2) {
    const heaps = kraft ? `${kafka.heapMb} MiB` : `${kafka.heapMb} MiB plus kafka.zookeeperHeapMb ${zookeeperHeap} MiB`;
    fail("kafka.heapMb", kafka.heapMb, `is too large for kafka.instanceType ${kafka.instanceType} (${nodeMemory} MiB): ${heaps} must fit in half its memory, ${nodeMemory / 2} MiB; the rest is Kafka's page cache`);
  }
  // Dedicated controllers run Kafka with the brokers' heap (one role for every Kafka node).
  const controllerMemory = kraft && kafka.dedicatedControllers ? instanceMemoryMiB(kafka.controllerInstanceType) : undefined;
  if (controllerMemory !== undefined && kafka.heapMb > controllerMemory / 2) {
    fail("kafka.heapMb", kafka.heapMb, `is too large for kafka.controllerInstanceType ${kafka.controllerInstanceType} (${controllerMemory} MiB): the dedicated controllers run with the same heap, which must fit in half its memory, ${controllerMemory / 2} MiB`);
  }
  oneOf("kafka.ubuntuRelease", kafka.ubuntuRelease, UBUNTU_RELEASES);
  atLeast("kafka.dataVolumeGiB", kafka.dataVolumeGiB, 1);
  atLeast("kafka.replicationFactor", kafka.replicationFactor, 1);
  if (kafka.replicationFactor > kafka.nodes) {
    fail("kafka.replicationFactor", kafka.replicationFactor, `exceeds kafka.nodes ${kafka.nodes} (a partition cannot have more replicas than brokers)`);
  }
  atLeast("kafka.minInsyncReplicas", kafka.minInsyncReplicas, 1);
  if (kafka.replicationFactor > 1 && kafka.minInsyncReplicas >= kafka.replicationFactor) {
    fail("kafka.minInsyncReplicas", kafka.minInsyncReplicas, `must be below kafka.replicationFactor ${kafka.replicationFactor} (otherwise one broker down stops every acks=all write)`);
  }
  if (kafka.replicationFactor === 1 && kafka.minInsyncReplicas > 1) {
    fail("kafka.minInsyncReplicas", kafka.minInsyncReplicas, "must be 1 when kafka.replicationFactor is 1");
  }
  atLeast("kafka.numPartitions", kafka.numPartitions, 1);
  kafka.clientSecurityGroupIds.forEach((id, index) =>
    pattern(`kafka.clientSecurityGroupIds[${index}]`, id, /^sg-[0-9a-f]{8,17}$/, "is not a security group id like sg-0123456789abcdef0"),
  );

  const spark = config.spark;
  const sparkRelease = pattern("spark.version", spark.version, /^4\.\d+\.\d+$/, "is not a Spark 4.x release like 4.1.2");
  if (sparkRelease && !SPARK_RELEASES_WITH_JARS.includes(spark.version)) {
    fail("spark.version", spark.version, `has no pinned S3 and Kafka connector jars; releases with them: ${SPARK_RELEASES_WITH_JARS.join(", ")} (config/sparkJars.ts)`);
  }
  pinnedRelease("spark.sha512", "Spark", spark.version, sparkRelease, spark.sha512, DEFAULT_SPARK_PIN);
  pattern("spark.mirrorUrl", spark.mirrorUrl, HTTPS_URL, "is not an https:// URL without a trailing slash");
  atLeast("spark.workers", spark.workers, 1);
  instanceType("spark.masterInstanceType", spark.masterInstanceType);
  instanceType("spark.workerInstanceType", spark.workerInstanceType);
  oneOf("spark.ubuntuRelease", spark.ubuntuRelease, UBUNTU_RELEASES);

  const monitoring = config.monitoring;
  if (monitoring.alarmEmail !== "") {
    pattern("monitoring.alarmEmail", monitoring.alarmEmail, EMAIL_ADDRESS, "is not an email address like ops@example.com (or empty for no subscription)");
  }
  oneOf("monitoring.logRetentionDays", monitoring.logRetentionDays, LOG_RETENTION_DAYS);

  return problems;
}

/** AWS accepts VPC and subnet blocks from /16 to /28, written as their network address. */
function checkCidr(
  field: string,
  cidr: string,
  fail: (field: string, value: unknown, rule: string) => void,
): Ipv4Block | undefined {
  const block = parseIpv4Cidr(cidr);
  if (!block) {
    fail(field, cidr, "is not IPv4 CIDR notation like 10.0.0.0/16");
    return undefined;
  }
  if (hasHostBits(cidr)) {
    fail(field, cidr, `has host bits set (did you mean ${networkAddressOf(cidr)}?)`);
    return undefined;
  }
  if (block.prefix < 16 || block.prefix > 28) {
    fail(field, cidr, "must have a prefix length between /16 and /28 (AWS's limits)");
    return undefined;
  }
  return block;
}

/** True when release a.b.c comes before x.y.z, compared number by number. */
function olderRelease(version: string, than: string): boolean {
  const [a, b] = [version, than].map((text) => text.split(".").map(Number));
  const index = a.findIndex((part, i) => part !== b[i]);
  return index !== -1 && a[index] < b[index];
}

/**
 * What synth says loudly but lets pass: a Kafka any host in reach can read, write and delete,
 * chosen on purpose for a lab or for the middle of a migration.
 */
export function configWarnings(config: PlatformConfig): string[] {
  const security = config.kafka.security;
  if (security === "plaintext") {
    return ['WARNING: kafka.security is "plaintext": Kafka and ZooKeeper run with no encryption and no authentication; anything that reaches port 9092 can read, write and delete every topic. Use it for a lab only (docs/tls.md).'];
  }
  if (security === "migrating") {
    return ['WARNING: kafka.security is "migrating": the plaintext listener 9092 stays open beside TLS and no authorizer runs yet; finish with "tls" (docs/tls.md, "Moving a running plaintext cluster to TLS").'];
  }
  return [];
}
