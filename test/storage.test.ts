import { StorageStack } from "../stacks/StorageStack";
import { configFrom, dataOf, resourceNamed, resourcesOf, synthJson, testApp, type Json } from "./helpers";

describe("StorageStack", () => {
  const json = synthJson(new StorageStack(testApp(), "storage", { config: configFrom() }));
  const bucketRef = "${aws_s3_bucket.data-bucket.id}";

  it("matches the committed snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  it("names the bucket after the deployment and never force-destroys data by default", () => {
    expect(resourceNamed(json, "aws_s3_bucket", "data-bucket")).toMatchObject({ bucket_prefix: "insight-dev-data-", force_destroy: false });
  });

  it("encrypts objects with the bucket's own KMS key and a bucket key", () => {
    expect(resourceNamed(json, "aws_s3_bucket_server_side_encryption_configuration", "data-bucket-encryption")).toMatchObject({
      bucket: bucketRef,
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: "${aws_kms_key.data-key_5D719C34.arn}" }, bucket_key_enabled: true }],
    });
  });

  it("blocks all four kinds of public access and enforces bucket-owner ownership", () => {
    expect(resourceNamed(json, "aws_s3_bucket_public_access_block", "data-bucket-public-access-block")).toMatchObject({
      bucket: bucketRef,
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(resourceNamed(json, "aws_s3_bucket_ownership_controls", "data-bucket-ownership").rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
  });

  it("keeps versions and expires noncurrent ones after the configured days", () => {
    expect(resourceNamed(json, "aws_s3_bucket_versioning", "data-bucket-versioning").versioning_configuration).toEqual({ status: "Enabled" });
    const rule = resourceNamed(json, "aws_s3_bucket_lifecycle_configuration", "data-bucket-lifecycle").rule[0];
    expect(rule).toMatchObject({ status: "Enabled", noncurrent_version_expiration: [{ noncurrent_days: 30 }] });
  });

  it("removes delete markers once no version stands behind them, and abandoned multipart uploads after a week", () => {
    const rules = resourceNamed(json, "aws_s3_bucket_lifecycle_configuration", "data-bucket-lifecycle").rule;
    const wholeBucket = rules.find((rule: Json) => rule.id === "expire-noncurrent-versions");
    expect(wholeBucket.filter).toEqual([{}]);
    // The flag alone: S3 (and provider 6) refuse it beside days or a date in the same block.
    expect(wholeBucket.expiration).toEqual([{ expired_object_delete_marker: true }]);
    expect(wholeBucket.abort_incomplete_multipart_upload).toEqual([{ days_after_initiation: 7 }]);
  });

  it("expires old versions of Spark's output and checkpoints after a day, under the prefix the pipeline writes to", () => {
    const rules = resourceNamed(json, "aws_s3_bucket_lifecycle_configuration", "data-bucket-lifecycle").rule;
    expect(rules.find((rule: Json) => rule.id === "expire-noncurrent-spark-output")).toEqual({
      id: "expire-noncurrent-spark-output",
      status: "Enabled",
      filter: [{ prefix: "spark-output/" }],
      noncurrent_version_expiration: [{ noncurrent_days: 1 }],
    });
    // Every rule has a filter: provider 6 requires one.
    for (const rule of rules) expect(rule.filter).toBeDefined();
    expect(json.output.spark_output_uri.value).toMatch(/\/spark-output\/$/);
  });

  it("denies every request that is not over TLS", () => {
    const statement = dataOf(json, "aws_iam_policy_document")["data-bucket-tls-only"].statement[0];
    expect(statement).toMatchObject({
      effect: "Deny",
      actions: ["s3:*"],
      condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
    });
    expect(resourceNamed(json, "aws_s3_bucket_policy", "data-bucket-policy").policy).toBe("${data.aws_iam_policy_document.data-bucket-tls-only.json}");
  });

  it("offers a read policy that cannot write and a read-write policy that cannot touch other buckets", () => {
    const documents = dataOf(json, "aws_iam_policy_document");
    const readActions = documents["data-bucket-read"].statement.flatMap((s: { actions: string[] }) => s.actions);
    expect(readActions.some((action: string) => /Put|Delete/.test(action))).toBe(false);
    const resources = documents["data-bucket-read-write"].statement.flatMap((s: { resources: string[] }) => s.resources);
    // Besides the bucket, only the bucket's own key, whose policy serves it only through S3 for this bucket.
    expect(resources).toEqual(["${aws_s3_bucket.data-bucket.arn}", "${aws_s3_bucket.data-bucket.arn}/*", "${aws_kms_key.data-key_5D719C34.arn}"]);
  });

  it("lets Spark jobs write under spark-output/ only, and says where that is", () => {
    const statements = dataOf(json, "aws_iam_policy_document")["data-bucket-spark-output"].statement;
    const write = statements.find((statement: Json) => statement.sid === "WriteSparkOutput");
    expect(write.resources).toEqual(["${aws_s3_bucket.data-bucket.arn}/spark-output/*"]);
    expect(write.actions).toContain("s3:PutObject");
    // Reading comes from the read policy; nothing here reaches the rest of the bucket.
    for (const statement of statements.filter((candidate: Json) => candidate.actions.every((action: string) => action.startsWith("s3:")))) {
      for (const resource of statement.resources) expect(["${aws_s3_bucket.data-bucket.arn}", "${aws_s3_bucket.data-bucket.arn}/spark-output/*"]).toContain(resource);
      if (statement.resources.includes("${aws_s3_bucket.data-bucket.arn}")) expect(statement.actions).toEqual(["s3:ListBucketMultipartUploads"]);
    }
    expect(json.output.spark_output_uri.value).toBe("s3://${aws_s3_bucket.data-bucket.bucket}/spark-output/");
    expect(json.output.data_bucket_region.value).toBe("us-west-2");
  });

  it("writes the data bucket's access logs to a log bucket of its own by default", () => {
    expect(resourceNamed(json, "aws_s3_bucket_logging", "data-bucket-logging")).toEqual({
      bucket: "${aws_s3_bucket.data-bucket.id}",
      target_bucket: "${aws_s3_bucket.access-log-bucket.bucket}",
      target_prefix: "insight-dev-data/",
    });
    expect(resourceNamed(json, "aws_s3_bucket", "access-log-bucket")).toMatchObject({ bucket_prefix: "insight-dev-logs-", force_destroy: false });
  });

  it("protects the log bucket: versioned, SSE-S3 (all S3 log delivery takes), never public, no ACLs", () => {
    const bucket = "${aws_s3_bucket.access-log-bucket.id}";
    expect(resourceNamed(json, "aws_s3_bucket_versioning", "access-log-bucket-versioning")).toEqual({ bucket, versioning_configuration: { status: "Enabled" } });
    expect(resourceNamed(json, "aws_s3_bucket_server_side_encryption_configuration", "access-log-bucket-encryption").rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
    ]);
    expect(resourceNamed(json, "aws_s3_bucket_public_access_block", "access-log-bucket-public-access-block")).toEqual({
      bucket,
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(resourceNamed(json, "aws_s3_bucket_ownership_controls", "access-log-bucket-ownership").rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
  });

  it("lets only S3's logging service write logs, for this account's data bucket only", () => {
    const statement = json.data.aws_iam_policy_document["access-log-bucket-policy-document"].statement[0];
    expect(statement).toMatchObject({
      actions: ["s3:PutObject"],
      principals: [{ type: "Service", identifiers: ["logging.s3.amazonaws.com"] }],
      resources: ["${aws_s3_bucket.access-log-bucket.arn}/insight-dev-data/*"],
    });
    expect(statement.condition).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: ["${data.aws_caller_identity.account.account_id}"] },
      { test: "ArnLike", variable: "aws:SourceArn", values: ["${aws_s3_bucket.data-bucket.arn}"] },
    ]);
  });

  it("expires access logs after storage.accessLogExpirationDays, 365 by default", () => {
    const expiry = (stack: Json): unknown => resourceNamed(stack, "aws_s3_bucket_lifecycle_configuration", "access-log-bucket-lifecycle").rule[0].expiration;
    expect(expiry(json)).toEqual([{ days: 365 }]);
    const shorter = synthJson(new StorageStack(testApp(), "storage", { config: configFrom("--storage.accessLogExpirationDays", "90") }));
    expect(expiry(shorter)).toEqual([{ days: 90 }]);
  });

  it("creates the log bucket before the data bucket, so a destroy removes the data bucket first", () => {
    expect(resourceNamed(json, "aws_s3_bucket", "data-bucket").depends_on).toContain("aws_s3_bucket.access-log-bucket");
  });

  it("logs to a configured bucket instead, and then makes no log bucket", () => {
    const logged = synthJson(new StorageStack(testApp(), "storage", { config: configFrom("--storage.accessLogBucket", "acme-access-logs") }));
    expect(resourceNamed(logged, "aws_s3_bucket_logging", "data-bucket-logging")).toMatchObject({
      target_bucket: "acme-access-logs",
      target_prefix: "insight-dev-data/",
    });
    expect(Object.keys(resourcesOf(logged, "aws_s3_bucket"))).toEqual(["data-bucket"]);
  });

  it("holds no access keys: nothing in the stack is an IAM user or access key", () => {
    expect(resourcesOf(json, "aws_iam_access_key")).toEqual({});
    expect(resourcesOf(json, "aws_iam_user")).toEqual({});
  });
});
