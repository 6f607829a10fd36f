import type { Json, SynthesizedPlatform } from "./synthesizedPlatform";
import { dataBucketPrefix } from "../config/names";

/**
 * What the AWS provider (6.x) calls to read each resource and data source type the platform
 * synthesizes, as IAM actions: a refresh reads every managed resource, a plan reads every data
 * source. A type the stacks synthesize but this table lacks fails the render, so a new
 * resource type cannot slip into the CI role as a blanket grant. Types that make no AWS call
 * (policy documents, the partition, the caller identity, which STS answers for any caller) map
 * to nothing.
 */
export const READ_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  // Data sources.
  "data.aws_ami": ["ec2:DescribeImages"],
  "data.aws_availability_zones": ["ec2:DescribeAvailabilityZones"],
  "data.aws_caller_identity": [],
  "data.aws_iam_policy_document": [],
  "data.aws_instances": ["ec2:DescribeInstances"],
  "data.aws_partition": [],
  // Another stack's outputs, read from its state object: the state statement covers it.
  "data.terraform_remote_state": [],
  // Network.
  "aws_vpc": ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeRouteTables", "ec2:DescribeNetworkAcls", "ec2:DescribeSecurityGroups"],
  "aws_subnet": ["ec2:DescribeSubnets"],
  "aws_internet_gateway": ["ec2:DescribeInternetGateways"],
  "aws_eip": ["ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"],
  "aws_nat_gateway": ["ec2:DescribeNatGateways"],
  "aws_route": ["ec2:DescribeRouteTables"],
  "aws_route_table": ["ec2:DescribeRouteTables"],
  "aws_route_table_association": ["ec2:DescribeRouteTables"],
  "aws_vpc_endpoint": ["ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"],
  "aws_security_group": ["ec2:DescribeSecurityGroups"],
  "aws_default_security_group": ["ec2:DescribeSecurityGroups"],
  "aws_vpc_security_group_ingress_rule": ["ec2:DescribeSecurityGroupRules"],
  "aws_vpc_security_group_egress_rule": ["ec2:DescribeSecurityGroupRules"],
  "aws_ec2_instance_connect_endpoint": ["ec2:DescribeInstanceConnectEndpoints"],
  "aws_flow_log": ["ec2:DescribeFlowLogs"],
  "aws_cloudwatch_log_group": ["logs:DescribeLogGroups", "logs:ListTagsForResource"],
  // Instances and their disks. The instance read asks for each attribute separately
  // (DescribeInstanceAttribute: user data, termination and stop protection, shutdown behaviour),
  // the root volume's details, burstable types' credit setting, and the type's architecture.
  "aws_instance": [
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeInstanceCreditSpecifications",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVolumes",
  ],
  "aws_ebs_volume": ["ec2:DescribeVolumes"],
  "aws_volume_attachment": ["ec2:DescribeVolumes"],
  // IAM.
  "aws_iam_role": ["iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"],
  "aws_iam_role_policy": ["iam:GetRolePolicy"],
  // The policy, then its default version's document.
  "aws_iam_policy": ["iam:GetPolicy", "iam:GetPolicyVersion"],
  "aws_iam_role_policy_attachment": ["iam:ListAttachedRolePolicies"],
  "aws_iam_instance_profile": ["iam:GetInstanceProfile"],
  // KMS.
  "aws_kms_key": ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
  "aws_kms_alias": ["kms:ListAliases", "kms:DescribeKey"],
  // The provider reads a key policy through the same lookup as the key (findKeyInfo).
  "aws_kms_key_policy": ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
  // SSM: GetParameter is made with decryption, which for a String parameter never reaches KMS.
  "aws_ssm_parameter": ["ssm:GetParameter", "ssm:DescribeParameters", "ssm:ListTagsForResource"],
  // S3. The bucket read checks that it exists (HeadBucket, authorized as s3:ListBucket) and reads
  // each bucket-level configuration the resource once managed itself; an object's read is a
  // HeadObject (authorized as s3:GetObject) and its tags.
  "aws_s3_bucket": [
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetBucketPolicy",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketWebsite",
    "s3:GetBucketVersioning",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketLogging",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketTagging",
  ],
  "aws_s3_bucket_lifecycle_configuration": ["s3:GetLifecycleConfiguration"],
  "aws_s3_bucket_logging": ["s3:GetBucketLogging"],
  "aws_s3_bucket_ownership_controls": ["s3:GetBucketOwnershipControls"],
  "aws_s3_bucket_policy": ["s3:GetBucketPolicy"],
  "aws_s3_bucket_public_access_block": ["s3:GetBucketPublicAccessBlock"],
  "aws_s3_bucket_server_side_encryption_configuration": ["s3:GetEncryptionConfiguration"],
  "aws_s3_bucket_versioning": ["s3:GetBucketVersioning"],
  "aws_s3_object": ["s3:GetObject", "s3:GetObjectTagging"],
  // Monitoring. An alarm is read by name (DescribeAlarms) and its tags by ARN; a dashboard by
  // name; a topic's attributes and tags by ARN, a subscription's attributes by its ARN.
  "aws_cloudwatch_metric_alarm": ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
  "aws_cloudwatch_dashboard": ["cloudwatch:GetDashboard"],
  "aws_sns_topic": ["sns:GetTopicAttributes", "sns:ListTagsForResource"],
  "aws_sns_topic_subscription": ["sns:GetSubscriptionAttributes"],
  // Steps run by Terraform itself: no AWS call.
  "terraform_data": [],
};

/** What the S3 backend reads for a plan that does not lock: the state objects, and a listing of their prefix. */
export const STATE_READ_ACTIONS: readonly string[] = ["s3:ListBucket", "s3:GetObject"];

/** Where the CI role's trust points: the workflow file and the GitHub environment its plan job runs in. */
export const PLAN_WORKFLOW = ".github/workflows/platform-review.yml";
export const PLAN_ENVIRONMENT = "platform-plan";

type Statement = Record<string, unknown>;

export interface PlanRolePolicyOptions {
  /** The AWS account the platform runs in (12 digits). */
  readonly account: string;
}

interface Deployment {
  readonly project: string;
  readonly environment: string;
  readonly region: string;
  readonly stateBucket: string;
  readonly stateKeys: readonly string[];
  /** Resource and data source types, data sources as `data.<type>`. */
  readonly types: readonly string[];
}

/** The project, region and shared state every stack names, and every type they synthesize. */
function deployment(platform: SynthesizedPlatform): Deployment {
  const stacks = Object.entries(platform);
  if (stacks.length === 0) throw new Error("no synthesized stacks to derive the plan role from");
  const first = stacks[0][1];
  const provider = (first.provider?.aws as Json[] | undefined)?.[0];
  const tags = provider?.default_tags?.[0]?.tags as Record<string, string> | undefined;
  if (!provider || !tags?.Project || !tags.Environment) throw new Error("the stacks carry no AWS provider with the platform's Project and Environment tags");
  const stateKeys: string[] = [];
  let stateBucket = "";
  const types = new Set<string>();
  for (const [name, stack] of stacks) {
    const s3 = stack.terraform?.backend?.s3 as Json | undefined;
    if (!s3) throw new Error(`stack ${name} keeps its state locally: the plan role reads shared state (set state.bucket, PLATFORM_STATE__BUCKET)`);
    if (stateBucket !== "" && s3.bucket !== stateBucket) throw new Error(`stack ${name} keeps its state in ${String(s3.bucket)}, the others in ${stateBucket}`);
    stateBucket = String(s3.bucket);
    stateKeys.push(String(s3.key));
    for (const type of Object.keys((stack.resource as Json | undefined) ?? {})) types.add(type);
    for (const type of Object.keys((stack.data as Json | undefined) ?? {})) types.add(`data.${type}`);
  }
  return { project: tags.Project, environment: tags.Environment, region: String(provider.region), stateBucket, stateKeys: stateKeys.sort(), types: [...types].sort() };
}

/** Every value of `attribute` on the resources of `type` across the stacks, in order. */
function resourceValues(platform: SynthesizedPlatform, type: string, attribute: string): string[] {
  const values = Object.values(platform).flatMap((stack) => Object.values(((stack.resource as Json | undefined)?.[type] as Json | undefined) ?? {}).map((resource) => (resource as Json)[attribute] as unknown));
  return [...new Set(values.filter((value): value is string => typeof value === "string"))].sort();
}

/** Every SSM parameter the stacks manage: its name and type. */
function managedParameters(platform: SynthesizedPlatform): { name: string; type: string }[] {
  return Object.values(platform).flatMap((stack) =>
    Object.values(((stack.resource as Json | undefined)?.aws_ssm_parameter as Json | undefined) ?? {}).map((parameter) => ({ name: String((parameter as Json).name), type: String((parameter as Json).type) })),
  );
}

/**
 * The permissions policy of the CI role that runs `terraform plan` on the platform's stacks:
 * the read actions of the types they synthesize (READ_ACTIONS), each scoped to the platform's
 * own resources where IAM can scope the action, the state objects, and denies of what a plan
 * never needs and a pull request hunting for secrets would want.
 */
export function planRolePolicy(platform: SynthesizedPlatform, options: PlanRolePolicyOptions): Json {
  const d = deployment(platform);
  const unknown = d.types.filter((type) => READ_ACTIONS[type] === undefined);
  if (unknown.length > 0) throw new Error(`the plan role has no read actions for ${unknown.join(", ")}: add what the AWS provider calls to read it to READ_ACTIONS (review/planRolePolicy.ts)`);
  const actions = new Set(d.types.flatMap((type) => READ_ACTIONS[type]));
  const prefix = `${d.project}-${d.environment}-`;
  const named = (type: string, attribute: string) => resourceValues(platform, type, attribute);
  for (const name of [...named("aws_iam_role", "name"), ...named("aws_iam_policy", "name"), ...named("aws_iam_instance_profile", "name"), ...named("aws_s3_bucket", "bucket_prefix"), ...named("aws_cloudwatch_metric_alarm", "alarm_name")]) {
    if (!name.startsWith(prefix)) throw new Error(`${name} does not start with ${prefix}: the plan role scopes IAM and S3 reads to that prefix`);
  }
  const arn = (service: string, resource: string, region = d.region) => `arn:aws:${service}:${region}:${options.account}:${resource}`;
  const dataBuckets = named("aws_s3_bucket", "bucket_prefix").map((bucketPrefix) => `arn:aws:s3:::${bucketPrefix}*`);
  // Objects live in the data bucket only; the access log bucket holds none Terraform manages.
  const objects = named("aws_s3_object", "key").map((key) => `arn:aws:s3:::${dataBucketPrefix(d.project, d.environment)}*/${key}`);
  // The monitoring parameters (the agent's configuration, package pin and scrape configuration of
  // every node, all Strings) are one prefix: listed one by one, twice, they would outgrow the
  // 10,240 characters IAM allows a role's inline policies on the default platform already.
  const monitoringPrefix = `/${d.project}/${d.environment}/monitoring/`;
  const managed = managedParameters(platform);
  const parameterNames = [...new Set(managed.map((parameter) => parameter.name))].sort();
  const secretUnderMonitoring = managed.find((parameter) => parameter.name.startsWith(monitoringPrefix) && parameter.type !== "String");
  if (secretUnderMonitoring) throw new Error(`${secretUnderMonitoring.name} is a ${secretUnderMonitoring.type} under ${monitoringPrefix}: the plan role reads that prefix whole, so only String parameters may live there`);
  const parameters = [
    ...parameterNames.filter((name) => !name.startsWith(monitoringPrefix)).map((name) => arn("ssm", `parameter${name}`)),
    ...(parameterNames.some((name) => name.startsWith(monitoringPrefix)) ? [arn("ssm", `parameter${monitoringPrefix}*`)] : []),
  ];
  const logGroups = named("aws_cloudwatch_log_group", "name").map((name) => arn("logs", `log-group:${name}`));
  const topics = named("aws_sns_topic", "name").map((name) => arn("sns", name));
  // Dashboards are global: their ARNs name no region.
  const dashboards = named("aws_cloudwatch_dashboard", "dashboard_name").map((name) => arn("cloudwatch", `dashboard/${name}`, ""));
  const stateObjects = d.stateKeys.map((key) => `arn:aws:s3:::${d.stateBucket}/${key}`);

  // Each action goes to the first group that claims it; what no group scopes is on "*" (EC2's
  // Describe calls and SSM's DescribeParameters take no resource).
  const groups: { sid: string; resources: string[]; claims: (action: string) => boolean }[] = [
    { sid: "ReadPlatformRoles", resources: [`arn:aws:iam::${options.account}:role/${prefix}*`], claims: (a) => /^iam:(GetRole|ListRolePolicies|GetRolePolicy|ListAttachedRolePolicies)$/.test(a) },
    { sid: "ReadPlatformPolicies", resources: [`arn:aws:iam::${options.account}:policy/${prefix}*`], claims: (a) => a === "iam:GetPolicy" || a === "iam:GetPolicyVersion" },
    { sid: "ReadPlatformInstanceProfiles", resources: [`arn:aws:iam::${options.account}:instance-profile/${prefix}*`], claims: (a) => a === "iam:GetInstanceProfile" },
    { sid: "ReadPlatformBuckets", resources: dataBuckets, claims: (a) => a.startsWith("s3:") && a !== "s3:GetObject" && a !== "s3:GetObjectTagging" },
    { sid: "ReadPlatformObjects", resources: objects, claims: (a) => a === "s3:GetObject" || a === "s3:GetObjectTagging" },
    { sid: "ReadPlatformParameters", resources: parameters, claims: (a) => a === "ssm:GetParameter" || a === "ssm:ListTagsForResource" },
    { sid: "ReadPlatformLogGroups", resources: logGroups.flatMap((group) => [group, `${group}:*`]), claims: (a) => a === "logs:ListTagsForResource" },
    { sid: "ListLogGroups", resources: [arn("logs", "log-group:*")], claims: (a) => a === "logs:DescribeLogGroups" },
    // A subscription's ARN is its topic's with an id appended.
    { sid: "ReadPlatformTopics", resources: topics.flatMap((topic) => [topic, `${topic}:*`]), claims: (a) => a.startsWith("sns:") },
    { sid: "ReadPlatformAlarmTags", resources: [arn("cloudwatch", `alarm:${prefix}*`)], claims: (a) => a === "cloudwatch:ListTagsForResource" },
    { sid: "ReadPlatformDashboards", resources: dashboards, claims: (a) => a === "cloudwatch:GetDashboard" },
    { sid: "ReadPlatformKeys", resources: [arn("kms", "key/*"), arn("kms", "alias/*")], claims: (a) => a.startsWith("kms:") && a !== "kms:ListAliases" },
  ];
  const grouped = new Map<string, string[]>();
  const unscoped: string[] = [];
  for (const action of [...actions].sort()) {
    const group = groups.find((candidate) => candidate.claims(action));
    if (group) grouped.set(group.sid, [...(grouped.get(group.sid) ?? []), action]);
    else unscoped.push(action);
  }
  const statements: Statement[] = [];
  if (unscoped.length > 0) statements.push({ Sid: "DescribeWithoutResourceScope", Effect: "Allow", Action: unscoped, Resource: "*" });
  for (const group of groups) {
    const groupActions = grouped.get(group.sid);
    if (groupActions && group.resources.length > 0) statements.push({ Sid: group.sid, Effect: "Allow", Action: groupActions, Resource: group.resources });
  }
  const statePrefix = `${d.project}/${d.environment}/`;
  statements.push(
    // The backend lists workspaces (under env:/) and the stack's own prefix; it never needs the rest.
    { Sid: "ListState", Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${d.stateBucket}`, Condition: { StringLike: { "s3:prefix": ["env:/*", `${statePrefix}*`] } } },
    // The stacks' own state, each also read by the stacks that use its outputs. No lockfile: the
    // job plans with -lock=false, so the role can neither take nor break a lock.
    { Sid: "ReadState", Effect: "Allow", Action: "s3:GetObject", Resource: stateObjects },
    // Everything a plan never needs. Denies hold whatever else is attached to the role later.
    // SecureString values and any KMS-encrypted object stay ciphertext: no key decrypts for it
    // (the backend writes state with S3-managed keys, which needs no kms:Decrypt).
    { Sid: "NoDecryption", Effect: "Deny", Action: ["kms:Decrypt", "kms:ReEncryptFrom"], Resource: "*" },
    // No parameter but the ones the stacks manage, and no reading by path: GetParametersByPath is
    // authorized against the path asked for, not against each parameter it returns.
    { Sid: "NoOtherParameters", Effect: "Deny", Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"], ...(parameters.length > 0 ? { NotResource: parameters } : { Resource: "*" }) },
    { Sid: "NoParametersByPath", Effect: "Deny", Action: "ssm:GetParametersByPath", Resource: "*" },
    // No object but the state and the ones the stacks manage, and no older version of any.
    { Sid: "NoOtherObjects", Effect: "Deny", Action: "s3:GetObject", NotResource: [...stateObjects, ...objects] },
    { Sid: "NoObjectVersions", Effect: "Deny", Action: ["s3:GetObjectVersion", "s3:GetObjectVersionAttributes", "s3:GetObjectVersionTagging"], Resource: "*" },
    // What instances print at boot and Windows passwords.
    { Sid: "NoConsole", Effect: "Deny", Action: ["ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot", "ec2:GetPasswordData"], Resource: "*" },
  );
  return { Version: "2012-10-17", Statement: statements };
}

export interface PlanRoleTrustOptions {
  readonly account: string;
  /** `<owner>/<repo>` on GitHub. */
  readonly repository: string;
}

/**
 * The CI role's trust policy: GitHub's OIDC tokens for this repository's plan environment, from
 * the review workflow's pull request runs only (job_workflow_ref; AWS STS checks GitHub's claims
 * beyond `sub` since 2026-01).
 */
export function planRoleTrustPolicy(options: PlanRoleTrustOptions): Json {
  if (!/^[\w.-]+\/[\w.-]+$/.test(options.repository)) throw new Error(`--repository ${options.repository}: not <owner>/<repo>`);
  const provider = "token.actions.githubusercontent.com";
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${options.account}:oidc-provider/${provider}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${provider}:aud`]: "sts.amazonaws.com",
            [`${provider}:sub`]: `repo:${options.repository}:environment:${PLAN_ENVIRONMENT}`,
          },
          StringLike: { [`${provider}:job_workflow_ref`]: `${options.repository}/${PLAN_WORKFLOW}@refs/pull/*/merge` },
        },
      },
    ],
  };
}
