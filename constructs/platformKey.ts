import { dependable as dependencyOf, TerraformStack, type ITerraformDependable, type TerraformResource } from "cdktf";
import { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsKeyPolicy } from "@cdktf/provider-aws/lib/kms-key-policy";

/**
 * What the account may do with a platform key through IAM: manage it, never use it. The account
 * root stays a principal (without it no one could change the policy again: the key would be
 * unmanageable), but with no cryptographic action, so an IAM policy that allows kms:Decrypt on
 * every key (a CI role's, an operator's) decrypts nothing under this one. Only the key policy's
 * other statements name who may encrypt or decrypt.
 */
export const KEY_ADMINISTRATION_ACTIONS = [
  "kms:CancelKeyDeletion",
  "kms:CreateAlias",
  "kms:DeleteAlias",
  "kms:Describe*",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:Get*",
  "kms:List*",
  "kms:PutKeyPolicy",
  "kms:RevokeGrant",
  "kms:RotateKeyOnDemand",
  "kms:ScheduleKeyDeletion",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
] as const;

/** The Sid of the statement above in every platform key's policy. */
export const KEY_ADMINISTRATION_SID = "AccountAdministersKeyThroughIam";

/** The stack's partition and account lookups, made once per stack (ssmParameterArn shares them). */
export function accountOf(scope: Construct): { partition: string; accountId: string; root: string } {
  const stack = TerraformStack.of(scope);
  const partition = (stack.node.tryFindChild("partition") as DataAwsPartition | undefined) ?? new DataAwsPartition(stack, "partition");
  const account = (stack.node.tryFindChild("account") as DataAwsCallerIdentity | undefined) ?? new DataAwsCallerIdentity(stack, "account");
  return { partition: partition.partition, accountId: account.accountId, root: `arn:${partition.partition}:iam::${account.accountId}:root` };
}

export interface PlatformKeyProps {
  /** The alias without `alias/`: `<project>-<environment>-<purpose>`. */
  readonly alias: string;
  readonly description: string;
  /**
   * Days between a destroy and the key's deletion, in which CancelKeyDeletion brings back
   * everything encrypted under it (7 to 30).
   */
  readonly deletionWindowInDays: number;
}

/**
 * A customer-managed symmetric key with yearly rotation and an alias. Its policy is a resource of
 * its own, set once with `allow`: a statement may name a resource that has to exist after the
 * key (the Chef server's instance id is in the parameter it encrypts), which an inline policy
 * would turn into a cycle.
 */
export class PlatformKey extends Construct {
  readonly key: KmsKey;
  readonly alias: KmsAlias;
  /** The key's policy, once `allow` has set it: what must be in place before the key is used. */
  policy?: KmsKeyPolicy;
  /** The policy document, for tests and the review. */
  document?: DataAwsIamPolicyDocument;

  constructor(scope: Construct, id: string, props: PlatformKeyProps) {
    super(scope, id);
    if (!Number.isInteger(props.deletionWindowInDays) || props.deletionWindowInDays < 7 || props.deletionWindowInDays > 30) {
      throw new Error(`${props.alias}: deletionWindowInDays ${props.deletionWindowInDays} is outside KMS's 7 to 30 days`);
    }
    this.key = new KmsKey(this, "key", {
      description: props.description,
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowInDays,
    });
    this.alias = new KmsAlias(this, "alias", { name: `alias/${props.alias}`, targetKeyId: this.key.keyId });
  }

  get arn(): string {
    return this.key.arn;
  }

  /** The account's root principal: a statement naming it defers to IAM for who in the account. */
  get accountRoot(): string {
    return accountOf(this).root;
  }

  /** Sets the key policy: the account's administration statement, then these. */
  allow(statements: DataAwsIamPolicyDocumentStatement[], dependsOn: ITerraformDependable[] = []): KmsKeyPolicy {
    if (this.policy) throw new Error(`${this.node.path}: the key policy is already set`);
    const { root } = accountOf(this);
    this.document = new DataAwsIamPolicyDocument(this, "policy-document", {
      statement: [
        { sid: KEY_ADMINISTRATION_SID, principals: [{ type: "AWS", identifiers: [root] }], actions: [...KEY_ADMINISTRATION_ACTIONS], resources: ["*"] },
        ...statements.map((statement) => ({ resources: ["*"], ...statement })),
      ],
    });
    this.policy = new KmsKeyPolicy(this, "policy", { keyId: this.key.keyId, policy: this.document.json, ...(dependsOn.length > 0 ? { dependsOn } : {}) });
    return this.policy;
  }
}

/**
 * Makes `resource` wait for `dependable` when it was built before it (an instance whose role a
 * key policy names): Terraform orders by depends_on, whatever the order of construction.
 */
export function waitFor(resource: TerraformResource, dependable: ITerraformDependable): void {
  resource.dependsOn = [...(resource.dependsOn ?? []), dependencyOf(dependable)];
}

/**
 * The key-policy statement that lets `roleArns` use a key for exactly one SSM parameter, through
 * SSM only: SSM puts the parameter's ARN in every request's encryption context.
 */
export function ssmParameterKeyStatement(sid: string, region: string, parameterArn: string, roleArns: string[], actions: string[]): DataAwsIamPolicyDocumentStatement {
  return {
    sid,
    principals: [{ type: "AWS", identifiers: roleArns }],
    actions,
    condition: [
      { test: "StringEquals", variable: "kms:ViaService", values: [`ssm.${region}.amazonaws.com`] },
      { test: "StringEquals", variable: "kms:EncryptionContext:PARAMETER_ARN", values: [parameterArn] },
    ],
  };
}

/** What a role that writes a SecureString needs (GenerateDataKey for the advanced tier), reading it back included. */
export const SSM_WRITER_ACTIONS = ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"];
/** What a role that only reads a SecureString needs. */
export const SSM_READER_ACTIONS = ["kms:Decrypt"];

/**
 * The key-policy statement that lets CloudWatch Logs, as the logs service of `region`, encrypt and
 * decrypt the events of exactly these log groups: it puts the group's ARN in the encryption
 * context of every request, so the key serves no other group. Readers of the logs need no
 * permission on the key.
 */
export function logGroupKeyStatement(sid: string, region: string, logGroupArns: string[]): DataAwsIamPolicyDocumentStatement {
  return {
    sid,
    principals: [{ type: "Service", identifiers: [`logs.${region}.amazonaws.com`] }],
    actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
    condition: [{ test: "ArnEquals", variable: "kms:EncryptionContext:aws:logs:arn", values: logGroupArns }],
  };
}
