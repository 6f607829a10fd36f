import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { Construct } from "constructs";
import type { PlatformConfig } from "../config/PlatformConfig";
import { ssmParameterArn } from "./ssmParameterArn";

/**
 * How many times (retry's backoff, about 15 minutes) a reader waits for a node to publish its host
 * keys: a node does so at first boot, once its packages are in.
 */
export const HOST_KEY_WAIT_ATTEMPTS = 20;

/**
 * Where Kafka and Spark nodes publish their SSH host keys: one String parameter per node name,
 * holding the publishing instance's id on its first line and one `<type> <base64>` line per host
 * key after it. Only the node's own role may write its parameter; the workstation reads them all
 * and trusts a node's key only as the instance Terraform created published it.
 */
export function hostKeysPath(config: Pick<PlatformConfig, "project" | "environment">): string {
  return `/${config.project}/${config.environment}/host-keys`;
}

export function hostKeysParameter(config: Pick<PlatformConfig, "project" | "environment">, nodeName: string): string {
  return `${hostKeysPath(config)}/${nodeName}`;
}

/** A node's inline policy: put its own host-keys parameter, and nothing else. */
export function publishHostKeysPolicyJson(scope: Construct, id: string, region: string, parameter: string): string {
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: [{ sid: "PublishOwnHostKeys", actions: ["ssm:PutParameter"], resources: [ssmParameterArn(scope, region, parameter)] }],
  }).json;
}
