import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";

/**
 * The ARN of an SSM parameter (`name` starts with `/`) in this account and region, for IAM
 * policies scoped to exactly that parameter. The account and partition lookups are made once
 * per stack.
 */
export function ssmParameterArn(scope: Construct, region: string, name: string): string {
  const stack = TerraformStack.of(scope);
  const partition = (stack.node.tryFindChild("partition") as DataAwsPartition | undefined) ?? new DataAwsPartition(stack, "partition");
  const account = (stack.node.tryFindChild("account") as DataAwsCallerIdentity | undefined) ?? new DataAwsCallerIdentity(stack, "account");
  return `arn:${partition.partition}:ssm:${region}:${account.accountId}:parameter${name}`;
}
