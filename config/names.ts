/** S3 bucket_prefix: Terraform appends a 26-character suffix and bucket names stop at 63. */
export const MAX_BUCKET_PREFIX = 37;

/** The data bucket's bucket_prefix: `<project>-<environment>-data-`. */
export function dataBucketPrefix(project: string, environment: string): string {
  return `${project}-${environment}-data-`;
}
