import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketLoggingA } from "@cdktf/provider-aws/lib/s3-bucket-logging";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { accessLogBucketPrefix, dataBucketPrefix, SPARK_INPUT_PREFIX } from "../config/names";
import { accountOf, PlatformKey, waitFor } from "../constructs/platformKey";
import { PlatformStack, type PlatformStackProps } from "./PlatformStack";

/** Where Spark jobs write results and streaming checkpoints: the one prefix Spark nodes may write. */
export const SPARK_OUTPUT_PREFIX = "spark-output/";
/** Days a replaced or deleted version under SPARK_OUTPUT_PREFIX is kept: checkpoints churn. */
export const SPARK_OUTPUT_NONCURRENT_DAYS = 1;

/**
 * The data bucket the pipeline reads (the original's CSVs) and the IAM policy documents that
 * instance roles attach to read or write it. There are no access keys: the original config
 * carried an S3 key and secret; instance roles replace them.
 */
export class StorageStack extends PlatformStack {
  readonly bucket: S3Bucket;
  /** IAM policy JSON: list the bucket, read objects under SPARK_INPUT_PREFIX and SPARK_OUTPUT_PREFIX only. */
  readonly readPolicyJson: string;
  /** IAM policy JSON: read, write and delete objects. */
  readonly readWritePolicyJson: string;
  /** IAM policy JSON: write and delete objects under SPARK_OUTPUT_PREFIX only. */
  readonly sparkOutputPolicyJson: string;
  /** The bucket's own key: every object written from now on is encrypted under it. */
  readonly dataKey: PlatformKey;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const storage = props.config.storage;

    this.bucket = new S3Bucket(this, "data-bucket", {
      bucketPrefix: dataBucketPrefix(props.config.project, props.config.environment),
      forceDestroy: storage.forceDestroy,
    });
    const bucketId = this.bucket.id;

    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "data-bucket-public-access-block", {
      bucket: bucketId,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "data-bucket-ownership", {
      bucket: bucketId,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    // A key of its own rather than the secrets' keys: it serves the bucket's many readers and
    // writers through IAM, while a secrets key names its few roles itself. Kept 30 days after a
    // destroy: an object outlives the key only as ciphertext.
    this.dataKey = new PlatformKey(this, "data-key", {
      alias: this.resourceName("data"),
      description: `Default encryption of the ${this.resourceName("data")} bucket`,
      deletionWindowInDays: 30,
    });
    // Terraform destroys in the reverse order of creation: the bucket, created after its key, is
    // destroyed before it, so a destroy that stops at a bucket still holding objects (or old
    // versions) leaves their key usable.
    waitFor(this.bucket, this.dataKey.key);
    const region = props.config.region;
    const dataKeyPolicy = this.dataKey.allow([
      {
        // Roles and users use it as IAM lets them, and only through S3 for this bucket (with a
        // bucket key, S3 asks KMS with the bucket's ARN as context; without, the object's).
        sid: "AccountUsesKeyThroughS3ForThisBucket",
        principals: [{ type: "AWS", identifiers: [this.dataKey.accountRoot] }],
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        condition: [
          { test: "StringEquals", variable: "kms:ViaService", values: [`s3.${region}.amazonaws.com`] },
          { test: "StringLike", variable: "kms:EncryptionContext:aws:s3:arn", values: [this.bucket.arn, `${this.bucket.arn}/*`] },
        ],
      },
    ]);
    new S3BucketServerSideEncryptionConfigurationA(this, "data-bucket-encryption", {
      bucket: bucketId,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.dataKey.arn }, bucketKeyEnabled: true }],
      // A writer's first object must find the key's policy in place.
      dependsOn: [dataKeyPolicy],
    });
    const versioning = new S3BucketVersioningA(this, "data-bucket-versioning", {
      bucket: bucketId,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketLifecycleConfiguration(this, "data-bucket-lifecycle", {
      bucket: bucketId,
      rule: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: [{}],
          noncurrentVersionExpiration: [{ noncurrentDays: storage.noncurrentVersionExpirationDays }],
          // A delete leaves a marker; once the versions behind it have expired, the marker goes too,
          // instead of piling up (every streaming checkpoint leaves some). S3 takes this flag alone
          // in its expiration block, never beside days or a date.
          expiration: [{ expiredObjectDeleteMarker: true }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
        {
          // Spark rewrites and deletes its checkpoint files at every micro-batch: their old
          // versions are worth nothing after a day.
          id: "expire-noncurrent-spark-output",
          status: "Enabled",
          filter: [{ prefix: SPARK_OUTPUT_PREFIX }],
          noncurrentVersionExpiration: [{ noncurrentDays: SPARK_OUTPUT_NONCURRENT_DAYS }],
        },
      ],
      // Lifecycle rules on noncurrent versions need versioning in place first.
      dependsOn: [versioning],
    });

    // Writers send no encryption header, and the bucket's default encrypts under its key. S3 would
    // honour a header naming another key, AES256, or aws:kms without a key (which means aws/s3),
    // so each is refused; nothing here requires a header, so every writer may leave it out.
    const objects = `${this.bucket.arn}/*`;
    const denyPut = (sid: string, condition: Array<{ test: string; variable: string; values: string[] }>) => ({
      sid,
      effect: "Deny",
      actions: ["s3:PutObject"],
      principals: [{ type: "*", identifiers: ["*"] }],
      resources: [objects],
      condition,
    });
    const sse = "s3:x-amz-server-side-encryption";
    const sseKey = "s3:x-amz-server-side-encryption-aws-kms-key-id";
    const tlsOnly = new DataAwsIamPolicyDocument(this, "data-bucket-tls-only", {
      statement: [
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          actions: ["s3:*"],
          principals: [{ type: "*", identifiers: ["*"] }],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
        denyPut("DenyEncryptionOtherThanKms", [
          { test: "Null", variable: sse, values: ["false"] },
          { test: "StringNotEquals", variable: sse, values: ["aws:kms"] },
        ]),
        denyPut("DenyKmsWithoutTheDataKey", [
          { test: "StringEquals", variable: sse, values: ["aws:kms"] },
          { test: "Null", variable: sseKey, values: ["true"] },
        ]),
        denyPut("DenyAnotherKmsKey", [
          { test: "Null", variable: sseKey, values: ["false"] },
          { test: "StringNotEquals", variable: sseKey, values: [this.dataKey.arn] },
        ]),
      ],
    });
    new S3BucketPolicy(this, "data-bucket-policy", {
      bucket: bucketId,
      policy: tlsOnly.json,
      // A bucket policy put before the public access block exists can race with it.
      dependsOn: [publicAccessBlock],
    });

    const logBucket = storage.accessLogBucket !== "" ? storage.accessLogBucket : this.addAccessLogBucket(props).bucket;
    new S3BucketLoggingA(this, "data-bucket-logging", {
      bucket: bucketId,
      targetBucket: logBucket,
      targetPrefix: `${this.resourceName("data")}/`,
    });

    // Jobs read their input and what they wrote (results, streaming checkpoints); chef-repo/ and
    // anything else stays out of reach. No s3:GetObjectVersion: S3A reads current objects (its
    // change detection compares ETags), so old versions of overwritten or deleted objects stay out
    // of reach too. Listing stays bucket-wide: S3 answers a HEAD of a missing key with 404 only to
    // a caller that may list the bucket, and 403 breaks S3A's probes of checkpoint files that do
    // not exist yet; a listing shows key names, never content.
    this.readPolicyJson = new DataAwsIamPolicyDocument(this, "data-bucket-read", {
      statement: [
        { sid: "ListDataBucket", actions: ["s3:ListBucket", "s3:GetBucketLocation"], resources: [this.bucket.arn] },
        {
          sid: "ReadSparkPrefixes",
          actions: ["s3:GetObject"],
          resources: [SPARK_INPUT_PREFIX, SPARK_OUTPUT_PREFIX].map((prefix) => `${this.bucket.arn}/${prefix}*`),
        },
        { sid: "DecryptDataObjects", actions: ["kms:Decrypt"], resources: [this.dataKey.arn] },
      ],
    }).json;
    this.readWritePolicyJson = new DataAwsIamPolicyDocument(this, "data-bucket-read-write", {
      statement: [
        { sid: "ListDataBucket", actions: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], resources: [this.bucket.arn] },
        {
          sid: "ReadWriteDataObjects",
          actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
          resources: [`${this.bucket.arn}/*`],
        },
        { sid: "EncryptDecryptDataObjects", actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [this.dataKey.arn] },
      ],
    }).json;

    this.sparkOutputPolicyJson = new DataAwsIamPolicyDocument(this, "data-bucket-spark-output", {
      statement: [
        { sid: "ListMultipartUploads", actions: ["s3:ListBucketMultipartUploads"], resources: [this.bucket.arn] },
        {
          sid: "WriteSparkOutput",
          actions: ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
          resources: [`${this.bucket.arn}/${SPARK_OUTPUT_PREFIX}*`],
        },
        // A multipart upload (S3A writes large files so) decrypts the parts it put to complete.
        { sid: "EncryptSparkOutput", actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [this.dataKey.arn] },
      ],
    }).json;

    new TerraformOutput(this, "data_bucket_name", { value: this.bucket.bucket, description: "The data bucket: encrypted, versioned, never public" });
    new TerraformOutput(this, "data_bucket_region", { value: props.config.region, description: "The data bucket's region, for S3 clients outside the platform" });
    new TerraformOutput(this, "spark_output_uri", {
      value: `s3://${this.bucket.bucket}/${SPARK_OUTPUT_PREFIX}`,
      description: "Where Spark jobs may write (results, streaming checkpoints); the rest of the bucket is read-only to them",
    });
  }

  /**
   * The data bucket's own log bucket: every request to the data bucket, for audits, kept
   * storage.accessLogExpirationDays. S3 delivers server access logs as the logging service,
   * which a bucket policy lets write here only for this account's data bucket; the bucket owner
   * owns each log object (no ACLs). S3 encrypts what it delivers only under SSE-S3: a default
   * SSE-KMS key on a log target is not supported (S3 User Guide, "Enabling Amazon S3 server
   * access logging"). Created before the data bucket, so a destroy removes the data bucket first
   * and logs its last requests to a bucket that still exists.
   */
  private addAccessLogBucket(props: PlatformStackProps): S3Bucket {
    const storage = props.config.storage;
    const account = accountOf(this);
    const logBucket = new S3Bucket(this, "access-log-bucket", {
      bucketPrefix: accessLogBucketPrefix(props.config.project, props.config.environment),
      forceDestroy: storage.forceDestroy,
    });
    waitFor(this.bucket, logBucket);
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "access-log-bucket-public-access-block", {
      bucket: logBucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "access-log-bucket-ownership", {
      bucket: logBucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "access-log-bucket-encryption", {
      bucket: logBucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    const versioning = new S3BucketVersioningA(this, "access-log-bucket-versioning", {
      bucket: logBucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketLifecycleConfiguration(this, "access-log-bucket-lifecycle", {
      bucket: logBucket.id,
      rule: [
        {
          id: "expire-access-logs",
          status: "Enabled",
          filter: [{}],
          expiration: [{ days: storage.accessLogExpirationDays }],
          // Log objects are never overwritten; an expired one leaves a version that goes a day later.
          noncurrentVersionExpiration: [{ noncurrentDays: 1 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
      dependsOn: [versioning],
    });
    const policy = new DataAwsIamPolicyDocument(this, "access-log-bucket-policy-document", {
      statement: [
        {
          sid: "S3ServerAccessLogsFromTheDataBucket",
          actions: ["s3:PutObject"],
          principals: [{ type: "Service", identifiers: ["logging.s3.amazonaws.com"] }],
          resources: [`${logBucket.arn}/${this.resourceName("data")}/*`],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [account.accountId] },
            { test: "ArnLike", variable: "aws:SourceArn", values: [this.bucket.arn] },
          ],
        },
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          actions: ["s3:*"],
          principals: [{ type: "*", identifiers: ["*"] }],
          resources: [logBucket.arn, `${logBucket.arn}/*`],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ],
    });
    new S3BucketPolicy(this, "access-log-bucket-policy", {
      bucket: logBucket.id,
      policy: policy.json,
      dependsOn: [publicAccessBlock],
    });
    return logBucket;
  }
}
