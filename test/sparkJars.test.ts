import { DEFAULT_CONFIG } from "../config/defaults";
import {
  cloudCheckpointFileManager,
  HADOOP_BY_SPARK_RELEASE,
  jarChecksum,
  jarFile,
  jarUrls,
  missingS3aJars,
  s3aNeeds,
  SPARK_RELEASES_WITH_JARS,
  sparkJars,
  type MavenJar,
} from "../config/sparkJars";

describe("the connector jars pinned per Spark release", () => {
  // Read in each test, so a mutation run credits every test that reaches the pins.
  const jars = (): readonly MavenJar[] => sparkJars(DEFAULT_CONFIG.spark.version);

  it("pins, for the default Spark, S3A with the SDK it declares and the Kafka connector with what it needs", () => {
    expect(jars().map((jar) => `${jar.group}:${jar.artifact}:${jar.version}`)).toEqual([
      "org.apache.hadoop:hadoop-aws:3.4.2",
      "software.amazon.awssdk:bundle:2.29.52",
      "org.apache.spark:spark-sql-kafka-0-10_2.13:4.1.2",
      "org.apache.spark:spark-token-provider-kafka-0-10_2.13:4.1.2",
      "org.apache.kafka:kafka-clients:3.9.1",
      "org.apache.commons:commons-pool2:2.12.1",
    ]);
    expect(SPARK_RELEASES_WITH_JARS).toEqual(["4.1.2"]);
  });

  it("gives Spark's own connector jars the Spark release they sit in", () => {
    for (const jar of jars().filter((candidate) => candidate.group === "org.apache.spark")) expect(jar.version).toBe(DEFAULT_CONFIG.spark.version);
  });

  it("pins every jar by a sha512, and checks a second source's digest where one exists", () => {
    for (const jar of jars()) expect(jar.sha512).toMatch(/^[0-9a-f]{128}$/);
    const crossChecked = Object.fromEntries(jars().map((jar) => [jar.artifact, jar.crossCheck ?? []]));
    expect(crossChecked["hadoop-aws"]).toEqual([expect.stringMatching(/^[0-9a-f]{40}$/)]);
    expect(crossChecked.bundle).toEqual([expect.stringMatching(/^[0-9a-f]{40}$/)]);
    expect(crossChecked["kafka-clients"]).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    expect(new Set(jars().map((jar) => jar.sha512)).size).toBe(jars().length);
  });

  it("hands the node every digest of a jar, sha512 first, space-separated", () => {
    const [hadoopAws, , , , , commonsPool] = jars();
    expect(jarChecksum(hadoopAws)).toBe(`${hadoopAws.sha512} ${hadoopAws.crossCheck?.[0]}`);
    expect(jarChecksum(commonsPool)).toBe(commonsPool.sha512);
  });

  it("downloads from Maven Central's layout, on its two public hosts", () => {
    const [hadoopAws] = jars();
    expect(jarFile(hadoopAws)).toBe("hadoop-aws-3.4.2.jar");
    expect(jarUrls(hadoopAws)).toEqual([
      "https://repo1.maven.org/maven2/org/apache/hadoop/hadoop-aws/3.4.2/hadoop-aws-3.4.2.jar",
      "https://repo.maven.apache.org/maven2/org/apache/hadoop/hadoop-aws/3.4.2/hadoop-aws-3.4.2.jar",
    ]);
  });

  it("has none for a release it does not pin", () => {
    expect(() => sparkJars("4.1.0")).toThrow("no connector jars are pinned for Spark 4.1.0");
  });

  it("pins, for every release, everything its Hadoop's S3A needs, and hadoop-aws at that Hadoop's version", () => {
    for (const release of SPARK_RELEASES_WITH_JARS) {
      expect(HADOOP_BY_SPARK_RELEASE[release]).toMatch(/^\d+\.\d+\.\d+$/);
      expect({ release, missing: missingS3aJars(HADOOP_BY_SPARK_RELEASE[release], sparkJars(release)) }).toEqual({ release, missing: [] });
    }
  });

  it("fails loudly for a release whose Hadoop reads S3 through the analytics stream without its jar", () => {
    expect(s3aNeeds("3.4.2")).toEqual(["org.apache.hadoop:hadoop-aws", "software.amazon.awssdk:bundle"]);
    expect(s3aNeeds("3.4.3")).toContain("software.amazon.s3.analyticsaccelerator:analyticsaccelerator-s3");
    expect(s3aNeeds("3.5.0")).toContain("software.amazon.s3.analyticsaccelerator:analyticsaccelerator-s3");
    // Today's pins, as if the next release brought Hadoop 3.4.3: the gap is named.
    expect(missingS3aJars("3.4.3", jars())).toEqual([
      "software.amazon.s3.analyticsaccelerator:analyticsaccelerator-s3",
      "org.apache.hadoop:hadoop-aws:3.4.3 (pinned 3.4.2)",
    ]);
  });

  it("names the S3 checkpoint manager only for a release that pins spark-hadoop-cloud (none yet: no published digest)", () => {
    expect(jars().some((jar) => jar.artifact.startsWith("spark-hadoop-cloud"))).toBe(false);
    expect(cloudCheckpointFileManager(DEFAULT_CONFIG.spark.version)).toBeUndefined();
  });
});
