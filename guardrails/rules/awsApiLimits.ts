import { TerraformDataSource, TerraformResource, type TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { resolve } from "cdktf/lib/_tokens";
import { constructsOf, resourceConfig, resourcesOfType } from "../resourceConfig";
import type { Violation } from "../Violation";

export const AWS_API_LIMITS = "aws-api-limits";

/** EC2's character set for security group names and descriptions and for rule descriptions. */
const EC2_DESCRIPTION = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/;
const EC2_DESCRIPTION_RULE = "EC2 accepts only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*";
/** IAM names: letters, digits and +=,.@_- */
const IAM_NAME = /^[\w+=,.@-]+$/;
/** SSM parameter names: letters, digits, _.- and / between hierarchy levels. */
const SSM_NAME = /^[a-zA-Z0-9_.\-/]+$/;
/**
 * SSM counts 1011 characters for a name including the ARN before it; the longest commercial
 * prefix (`arn:aws:ssm:ap-southeast-4:123456789012:parameter`) leaves this many for the name.
 */
const SSM_NAME_MAX = 1011 - "arn:aws:ssm:ap-southeast-4:123456789012:parameter".length;
const SSM_MAX_DEPTH = 15;

/** A value Terraform only knows at apply time: `${...}` stands in for text of unknown length. */
const TOKEN = /\$\{[^}]*\}/g;
const hasToken = (value: string): boolean => value.includes("${");

/**
 * What the AWS APIs refuse at apply time, checked at synth: EC2's character set for security
 * group names and descriptions, and the length limits of IAM role, instance profile and policy
 * names, security group names, S3 bucket prefixes, tags and SSM parameter names. A value that
 * holds a Terraform reference is checked only where its known parts decide.
 */
export function awsApiLimits(stack: TerraformStack): Violation[] {
  const violations: Violation[] = [];
  const report = (construct: IConstruct, message: string): void => {
    violations.push({ construct, ruleId: AWS_API_LIMITS, message });
  };
  const checkText = (construct: IConstruct, what: string, value: unknown, max: number, pattern?: RegExp, patternRule?: string): void => {
    if (typeof value !== "string") return;
    if (!hasToken(value) && value.length > max) report(construct, `${what} ${JSON.stringify(value)} is ${value.length} characters; AWS accepts at most ${max}`);
    const known = value.replace(TOKEN, "");
    if (pattern && patternRule && !pattern.test(known)) report(construct, `${what} ${JSON.stringify(value)} has characters AWS refuses: ${patternRule}`);
  };
  const ec2Text = (construct: IConstruct, what: string, value: unknown): void => checkText(construct, what, value, 255, EC2_DESCRIPTION, EC2_DESCRIPTION_RULE);

  for (const type of ["aws_security_group", "aws_default_security_group"]) {
    for (const { resource, config } of resourcesOfType(stack, type)) {
      ec2Text(resource, `${type} description`, config.description);
      ec2Text(resource, `${type} name`, config.name);
      if (typeof config.name === "string" && config.name.startsWith("sg-")) report(resource, `${type} name ${JSON.stringify(config.name)} starts with sg-, which EC2 refuses`);
      for (const direction of ["ingress", "egress"]) {
        for (const rule of asList(config[direction])) ec2Text(resource, `${type} ${direction} rule description`, rule.description);
      }
    }
  }
  for (const type of ["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule"]) {
    for (const { resource, config } of resourcesOfType(stack, type)) ec2Text(resource, `${type} description`, config.description);
  }

  const iamName = (type: string, max: number): void => {
    for (const { resource, config } of resourcesOfType(stack, type)) {
      checkText(resource, `${type} name`, config.name, max, IAM_NAME, "IAM names take letters, digits and +=,.@_-");
      // Terraform appends a 26-character unique suffix to a prefix.
      checkText(resource, `${type} name_prefix`, config.name_prefix, max - 26, IAM_NAME, "IAM names take letters, digits and +=,.@_-");
    }
  };
  iamName("aws_iam_role", 64);
  iamName("aws_iam_instance_profile", 128);
  iamName("aws_iam_role_policy", 128);

  for (const { resource, config } of resourcesOfType(stack, "aws_s3_bucket")) {
    checkText(resource, "aws_s3_bucket bucket_prefix", config.bucket_prefix, 37);
    checkText(resource, "aws_s3_bucket bucket", config.bucket, 63);
  }

  const checkTags = (construct: IConstruct, what: string, tags: unknown): void => {
    if (typeof tags !== "object" || tags === null) return;
    for (const [key, value] of Object.entries(tags as Record<string, unknown>)) {
      checkText(construct, `${what} key`, key, 128);
      if (key.toLowerCase().startsWith("aws:")) report(construct, `${what} key ${JSON.stringify(key)} starts with aws:, which AWS reserves`);
      checkText(construct, `${what} ${JSON.stringify(key)} value`, value, 256);
    }
  };
  for (const provider of constructsOf(stack).filter((node): node is AwsProvider => node instanceof AwsProvider)) {
    const defaults = resolve(stack, provider.defaultTags) as Array<{ tags?: Record<string, string> }> | undefined;
    for (const entry of defaults ?? []) checkTags(provider, "default tag", entry.tags);
  }
  for (const resource of constructsOf(stack).filter((node): node is TerraformResource => node instanceof TerraformResource && "tagsInput" in node)) {
    const config = resourceConfig(resource);
    checkTags(resource, "tag", config.tags);
    for (const root of asList(config.root_block_device)) checkTags(resource, "root_block_device tag", root.tags);
  }

  const ssmName = (construct: IConstruct, name: unknown): void => {
    if (typeof name !== "string") return;
    const what = `SSM parameter name ${JSON.stringify(name)}`;
    const known = name.replace(TOKEN, "x");
    // A name without a leading slash gets one in its ARN (`parameter/name`), and that counts too.
    const lengthMax = name.startsWith("/") ? SSM_NAME_MAX : SSM_NAME_MAX - 1;
    if (!hasToken(name) && name.length > lengthMax) report(construct, `${what} is ${name.length} characters; SSM accepts at most ${lengthMax} after the ARN prefix`);
    if (!SSM_NAME.test(known)) report(construct, `${what} has characters SSM refuses: only a-z, A-Z, 0-9, _.- and / between levels`);
    if (/^\/?(aws|ssm)/i.test(known)) report(construct, `${what} starts with aws or ssm, which SSM reserves`);
    if (known.split("/").filter((level) => level !== "").length > SSM_MAX_DEPTH) report(construct, `${what} is deeper than SSM's ${SSM_MAX_DEPTH} levels`);
    if (known.includes("/") && !known.startsWith("/")) report(construct, `${what} is a hierarchy that does not start with /`);
  };
  for (const { resource, config } of resourcesOfType(stack, "aws_ssm_parameter")) ssmName(resource, config.name);
  // The platform's instances create their parameters themselves; their names appear in the IAM
  // policies that let them, which is where a name the API refuses can be caught at synth.
  for (const { resource, config } of dataSourcesOfType(stack, "aws_iam_policy_document")) {
    for (const statement of asList(config.statement)) {
      for (const arn of Array.isArray(statement.resources) ? statement.resources : []) {
        const match = typeof arn === "string" ? /^arn:[^:]*:ssm:[^:]*:[^:]*:parameter(\/.*)$/.exec(arn) : null;
        // A trailing /* grants a whole level of the hierarchy (the names under it are checked where they are made).
        if (match) ssmName(resource, match[1].replace(/\/\*$/, ""));
      }
    }
  }
  return violations;
}

function dataSourcesOfType(stack: TerraformStack, type: string): Array<{ resource: TerraformDataSource; config: Record<string, unknown> }> {
  return constructsOf(stack)
    .filter((node): node is TerraformDataSource => node instanceof TerraformDataSource && node.terraformResourceType === type)
    .map((resource) => {
      const rendered = resolve(resource, resource.toTerraform()) as { data: Record<string, Record<string, Record<string, unknown>>> };
      return { resource, config: Object.values(rendered.data[type])[0] };
    });
}

function asList(value: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(value)) return value as Array<Record<string, unknown>>;
  return typeof value === "object" && value !== null ? [value as Record<string, unknown>] : [];
}
