import type { TerraformStack } from "cdktf";
import { resourcesOfType } from "../resourceConfig";
import type { Violation } from "../Violation";

export const BUCKET_ENCRYPTION = "bucket-encryption";
export const BUCKET_PUBLIC_ACCESS_BLOCK = "bucket-public-access-block";
const PUBLIC_ACCESS_SETTINGS = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];

/**
 * Every bucket has a server-side encryption configuration and a public access block with all
 * four settings on, both in the same stack and pointing at the bucket.
 */
export function bucketProtection(stack: TerraformStack): Violation[] {
  const encrypted = new Set(resourcesOfType(stack, "aws_s3_bucket_server_side_encryption_configuration").map(({ config }) => config.bucket));
  const blocked = new Set(
    resourcesOfType(stack, "aws_s3_bucket_public_access_block")
      .filter(({ config }) => PUBLIC_ACCESS_SETTINGS.every((setting) => config[setting] === true))
      .map(({ config }) => config.bucket),
  );
  const violations: Violation[] = [];
  for (const { resource } of resourcesOfType(stack, "aws_s3_bucket")) {
    const references = [`\${${resource.terraformResourceType}.${resource.friendlyUniqueId}.id}`, `\${${resource.terraformResourceType}.${resource.friendlyUniqueId}.bucket}`];
    if (!references.some((ref) => encrypted.has(ref))) {
      violations.push({ construct: resource, ruleId: BUCKET_ENCRYPTION, message: "aws_s3_bucket has no server-side encryption configuration" });
    }
    if (!references.some((ref) => blocked.has(ref))) {
      violations.push({
        construct: resource,
        ruleId: BUCKET_PUBLIC_ACCESS_BLOCK,
        message: "aws_s3_bucket has no public access block with all four settings true",
      });
    }
  }
  return violations;
}
