import type { TerraformStack } from "cdktf";
import { resourcesOfType } from "../resourceConfig";
import type { Violation } from "../Violation";

export const IMDSV2_REQUIRED = "imdsv2-required";
export const ENCRYPTED_VOLUMES = "encrypted-volumes";
export const EBS_OPTIMIZED = "ebs-optimized";

/** Every instance requires IMDSv2 tokens (no IMDSv1 credential theft via SSRF). */
export function imdsv2Required(stack: TerraformStack): Violation[] {
  return resourcesOfType(stack, "aws_instance")
    .filter(({ config }) => block(config.metadata_options).http_tokens !== "required")
    .map(({ resource }) => ({
      construct: resource,
      ruleId: IMDSV2_REQUIRED,
      message: "aws_instance must set metadata_options.http_tokens = \"required\" (IMDSv2 only)",
    }));
}

/** Every instance root volume and every EBS volume is encrypted. */
export function encryptedVolumes(stack: TerraformStack): Violation[] {
  const roots = resourcesOfType(stack, "aws_instance")
    .filter(({ config }) => block(config.root_block_device).encrypted !== true)
    .map(({ resource }) => ({
      construct: resource,
      ruleId: ENCRYPTED_VOLUMES,
      message: "aws_instance must set root_block_device.encrypted = true",
    }));
  const volumes = resourcesOfType(stack, "aws_ebs_volume")
    .filter(({ config }) => config.encrypted !== true)
    .map(({ resource }) => ({
      construct: resource,
      ruleId: ENCRYPTED_VOLUMES,
      message: "aws_ebs_volume must set encrypted = true",
    }));
  return [...roots, ...volumes];
}

/**
 * Every instance states ebs_optimized = true: EBS traffic gets its own bandwidth instead of
 * sharing the network's, and a type that cannot give it fails at launch rather than running slow.
 */
export function ebsOptimized(stack: TerraformStack): Violation[] {
  return resourcesOfType(stack, "aws_instance")
    .filter(({ config }) => config.ebs_optimized !== true)
    .map(({ resource }) => ({
      construct: resource,
      ruleId: EBS_OPTIMIZED,
      message: "aws_instance must set ebs_optimized = true",
    }));
}

/** A nested block renders as an object (or a one-element list); missing means empty. */
function block(value: unknown): Record<string, unknown> {
  const single = Array.isArray(value) ? value[0] : value;
  return typeof single === "object" && single !== null ? (single as Record<string, unknown>) : {};
}
