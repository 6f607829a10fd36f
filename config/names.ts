/**
 * Where the Spark nodes' input lives in the data bucket: the example pipeline's CSV files. The
 * Spark roles may read this prefix and their own output prefix, nothing else of the bucket.
 */
export const SPARK_INPUT_PREFIX = "smart-money/input/";

/** S3 bucket_prefix: Terraform appends a 26-character suffix and bucket names stop at 63. */
export const MAX_BUCKET_PREFIX = 37;

/** The data bucket's access log bucket's bucket_prefix: `<project>-<environment>-logs-`, as long as the data bucket's. */
export function accessLogBucketPrefix(project: string, environment: string): string {
  return `${project}-${environment}-logs-`;
}

/** The data bucket's bucket_prefix: `<project>-<environment>-data-`. */
export function dataBucketPrefix(project: string, environment: string): string {
  return `${project}-${environment}-data-`;
}
