/**
 * A jar from Maven Central that a Spark release needs beside its own jars/: the S3A connector
 * and the AWS SDK it calls, and Spark's Kafka connector with the two libraries it brings.
 */
export interface MavenJar {
  readonly group: string;
  readonly artifact: string;
  readonly version: string;
  /** Hex sha512 of the jar; a download that does not match is not used. */
  readonly sha512: string;
  /**
   * Hex digests of the same jar from other public sources (sha1 or sha256, whatever they quote),
   * all checked beside the sha512: the node keeps the jar only if every source agrees.
   */
  readonly crossCheck?: readonly string[];
}

const SPARK_4_1_2 = "4.1.2";

/**
 * The jars each supported Spark release gets, by release. Spark 4.1.x bundles Hadoop 3.4.2
 * (hadoop-client-api/-runtime 3.4.2), so hadoop-aws must be 3.4.2, and hadoop-aws 3.4.2's POM
 * declares the AWS SDK v2 bundle 2.29.52; the Kafka connector for 4.1.2 declares kafka-clients
 * 3.9.1 and commons-pool2 2.12.1. Everything else the connectors load (lz4, snappy, zstd, slf4j)
 * is in the release's jars/ already.
 *
 * Sources of the digests:
 * - sha512 of all six: thekaveh/atlas services/spark/build/Dockerfile (commit 463e64d8);
 * - hadoop-aws and the SDK bundle: the sha1 values in the same Dockerfile's comments agree with a
 *   second, unrelated PySpark 4.1.3 job image's Dockerfile (HADOOP_AWS_SHA1, AWS_SDK_SHA1);
 * - kafka-clients 3.9.1: the sha256 in mingley/partitionline
 *   tests/conformance/java/pins.json (commit 7f355f14) and 80-brunanburh5283/wikistream-lakehouse
 *   docker/spark.Dockerfile (commit 57a1b0ba);
 * - commons-pool2 2.12.1: the same sha512 in jvm-repo-rebuild/reproducible-central
 *   content/org/apache/commons/commons-pool2/commons-pool2-2.12.1.buildinfo (commit b083e9c6);
 * - spark-sql-kafka-0-10 and spark-token-provider-kafka-0-10 4.1.2: no second public source yet.
 *
 * Not pinned: spark-hadoop-cloud_2.13 4.1.2, which holds the checkpoint manager Spark's
 * cloud-integration guide names for S3 (AbortableStreamBasedCheckpointFileManager). No public
 * source quoting its digest was found, and a pin needs at least one; until it has one the
 * streaming job keeps Spark's default manager (cloudCheckpointFileManager below says which).
 */
const JARS_BY_SPARK_RELEASE: Readonly<Record<string, readonly MavenJar[]>> = {
  [SPARK_4_1_2]: [
    {
      group: "org.apache.hadoop",
      artifact: "hadoop-aws",
      version: "3.4.2",
      sha512: "c64c5f39a58b2d6b1f33ff5c14f0575b57e29401cddc599899e8b4499bbe6c76225998f6a89dfb6711779057c0a638708d190d9cd6c9fc280d38045f9fbd9cbf",
      crossCheck: ["16f9de6da5c7862241d55a13d34843404d0cbb88"],
    },
    {
      group: "software.amazon.awssdk",
      artifact: "bundle",
      version: "2.29.52",
      sha512: "a909eb82364c6272cd4ff67aaff4123e4e5de9205d21c27d1f286e7748780a7b4c2b570c41d184f0600fabe482b1dc3f28d9c60ebbd4b8795666e45ecfb4802a",
      crossCheck: ["b63eb928c2ac13bde07746bcfe7fb38bbdb4b5c5"],
    },
    {
      group: "org.apache.spark",
      artifact: "spark-sql-kafka-0-10_2.13",
      version: SPARK_4_1_2,
      sha512: "57212eeb69ec417a2ab84dcf9de882fea95eb5554bd9adf10698fb5621fe0127283fd3bad4bb19897598673d06fa087de9fdf0f9614ec4004248e56e8a80ba94",
    },
    {
      group: "org.apache.spark",
      artifact: "spark-token-provider-kafka-0-10_2.13",
      version: SPARK_4_1_2,
      sha512: "68a83987ad79923effa7b0e1657a8eb987857714502fffc59326a2784312b15bf943fbc88b257215869f68853be79322687c443806f9f78e15a6cae2ceffbe5c",
    },
    {
      group: "org.apache.kafka",
      artifact: "kafka-clients",
      version: "3.9.1",
      sha512: "0b95bb53006888a5409f6fced2d0e03875a4ce19dcccb8b635ba3a67482475236cf8a33c40709641222dd7556fc0ebbff682a046929134383b1a064e78ab12eb",
      crossCheck: ["7568b998572d256f0b7bc0afdc1b7a2588b8b08415c62ce314c864a6851ae9d9"],
    },
    {
      group: "org.apache.commons",
      artifact: "commons-pool2",
      version: "2.12.1",
      sha512: "186dabefa07a38cc106e5aca3fcec6d2d8c79fc2787d448632c24a61cad3574c53809895f85181ba097012b60a86116eec22ae3ab4c6e47ac7dddac00a0b71a7",
    },
  ],
};

/**
 * The Hadoop each release bundles (its jars/hadoop-client-api-<version>.jar): hadoop-aws must be
 * the same version, and what S3A needs beyond it depends on that version (s3aNeeds).
 */
export const HADOOP_BY_SPARK_RELEASE: Readonly<Record<string, string>> = { [SPARK_4_1_2]: "3.4.2" };

/** The class Spark's cloud-integration guide names for checkpoints on S3, and the jar that holds it. */
export const CLOUD_CHECKPOINT_MANAGER = "org.apache.spark.internal.io.cloud.AbortableStreamBasedCheckpointFileManager";
const CLOUD_CHECKPOINT_JAR = "org.apache.spark:spark-hadoop-cloud_2.13";

const coordinate = (jar: MavenJar): string => `${jar.group}:${jar.artifact}`;

function atLeast(version: string, minimum: readonly number[]): boolean {
  const parts = version.split(".").map((part) => Number.parseInt(part, 10));
  for (let index = 0; index < minimum.length; index += 1) {
    const part = parts[index] ?? 0;
    if (part !== minimum[index]) return part > minimum[index];
  }
  return true;
}

/**
 * The jars (group:artifact) S3A of a Hadoop release needs at its defaults beside Hadoop's own:
 * hadoop-aws and the AWS SDK v2 bundle; from 3.4.3 on, S3A reads through the `analytics` input
 * stream by default (fs.s3a.input.stream.type), which is Amazon's analytics accelerator library.
 */
export function s3aNeeds(hadoopVersion: string): string[] {
  const needs = ["org.apache.hadoop:hadoop-aws", "software.amazon.awssdk:bundle"];
  if (atLeast(hadoopVersion, [3, 4, 3])) needs.push("software.amazon.s3.analyticsaccelerator:analyticsaccelerator-s3");
  return needs;
}

/** What a release's pins lack for its Hadoop's S3A: needed jars not pinned, or hadoop-aws at another version. */
export function missingS3aJars(hadoopVersion: string, jars: readonly MavenJar[]): string[] {
  const pinned = new Map(jars.map((jar) => [coordinate(jar), jar.version]));
  const missing = s3aNeeds(hadoopVersion).filter((needed) => !pinned.has(needed));
  const hadoopAws = pinned.get("org.apache.hadoop:hadoop-aws");
  if (hadoopAws !== undefined && hadoopAws !== hadoopVersion) missing.push(`org.apache.hadoop:hadoop-aws:${hadoopVersion} (pinned ${hadoopAws})`);
  return missing;
}

/** The checkpoint manager class for a release's streaming jobs, where its jar is pinned; else undefined (Spark's default). */
export function cloudCheckpointFileManager(sparkVersion: string): string | undefined {
  return (JARS_BY_SPARK_RELEASE[sparkVersion] ?? []).some((jar) => coordinate(jar) === CLOUD_CHECKPOINT_JAR) ? CLOUD_CHECKPOINT_MANAGER : undefined;
}

/** Spark releases whose connector jars are pinned here. */
export const SPARK_RELEASES_WITH_JARS: readonly string[] = Object.keys(JARS_BY_SPARK_RELEASE);

/** The jars pinned for a Spark release; validation refuses a release that has none. */
export function sparkJars(sparkVersion: string): readonly MavenJar[] {
  const jars = JARS_BY_SPARK_RELEASE[sparkVersion];
  if (!jars) throw new Error(`no connector jars are pinned for Spark ${sparkVersion}`);
  const hadoop = HADOOP_BY_SPARK_RELEASE[sparkVersion];
  if (!hadoop) throw new Error(`config/sparkJars.ts names no Hadoop version for Spark ${sparkVersion} (HADOOP_BY_SPARK_RELEASE)`);
  const missing = missingS3aJars(hadoop, jars);
  if (missing.length > 0) throw new Error(`Spark ${sparkVersion} bundles Hadoop ${hadoop}, whose S3A needs jars not pinned in config/sparkJars.ts: ${missing.join(", ")}`);
  return jars;
}

export function jarFile(jar: MavenJar): string {
  return `${jar.artifact}-${jar.version}.jar`;
}

/** Maven Central's layout, from its two public hosts. */
export function jarUrls(jar: MavenJar): string[] {
  const path = `${jar.group.replace(/\./g, "/")}/${jar.artifact}/${jar.version}/${jarFile(jar)}`;
  return [`https://repo1.maven.org/maven2/${path}`, `https://repo.maven.apache.org/maven2/${path}`];
}

/** The digests download_verified checks, space-separated: every one must match. */
export function jarChecksum(jar: MavenJar): string {
  return [jar.sha512, ...(jar.crossCheck ?? [])].join(" ");
}
