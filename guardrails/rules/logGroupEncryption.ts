import type { TerraformStack } from "cdktf";
import { resourcesOfType } from "../resourceConfig";
import type { Violation } from "../Violation";

export const LOG_GROUP_ENCRYPTION = "log-group-encryption";

/**
 * Every CloudWatch log group is encrypted under a customer-managed key: flow logs and service
 * logs name hosts, ports and users, and a key of the platform's own says who may read them.
 */
export function logGroupEncryption(stack: TerraformStack): Violation[] {
  return resourcesOfType(stack, "aws_cloudwatch_log_group")
    .filter(({ config }) => typeof config.kms_key_id !== "string" || config.kms_key_id === "")
    .map(({ resource }) => ({
      construct: resource,
      ruleId: LOG_GROUP_ENCRYPTION,
      message: "aws_cloudwatch_log_group must set kms_key_id (a customer-managed KMS key)",
    }));
}
