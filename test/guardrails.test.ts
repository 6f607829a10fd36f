import { Aspects, TerraformStack, Testing } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { resourceConfig, withRenderCache } from "../guardrails/resourceConfig";
import { Guardrails } from "../guardrails/Guardrails";
import { awsApiLimits } from "../guardrails/rules/awsApiLimits";
import { declareKafkaSecurity } from "../guardrails/rules/kafkaTls";
import { declarePublicIngress } from "../guardrails/rules/noPublicIngress";
import { noOpenEgress } from "../guardrails/rules/noOpenEgress";
import { logGroupEncryption } from "../guardrails/rules/logGroupEncryption";
import { ebsOptimized } from "../guardrails/rules/instanceHardening";
import { buildPlatform } from "../stacks/buildPlatform";
import { PlatformStack } from "../stacks/PlatformStack";
import { configFrom, testApp } from "./helpers";

function platformStack(): PlatformStack {
  return new PlatformStack(testApp(), "guarded", { config: configFrom() });
}

/** Runs a full synth (as `cdktf synth` does) and returns its error, or undefined if it passed. */
function synthError(stack: TerraformStack): string | undefined {
  try {
    Testing.fullSynth(stack);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const hardenedInstanceProps = {
  ami: "ami-12345678",
  instanceType: "t3.micro",
  metadataOptions: { httpTokens: "required" },
  rootBlockDevice: { encrypted: true },
  ebsOptimized: true,
};

describe("guardrails fail synth naming the construct path and the rule id", () => {
  it("pass a stack that breaks no rule", () => {
    const stack = platformStack();
    new Instance(stack, "ok", hardenedInstanceProps);
    expect(synthError(stack)).toBeUndefined();
  });

  it("no-public-ingress: refuses SSH from 0.0.0.0/0 in an inline security group rule", () => {
    const stack = platformStack();
    new SecurityGroup(stack, "open-ssh", { ingress: [{ fromPort: 22, toPort: 22, protocol: "tcp", cidrBlocks: ["0.0.0.0/0"] }] });
    expect(synthError(stack)).toContain("[guarded/open-ssh] [no-public-ingress] ingress from anywhere on port 22 is not a declared public port");
  });

  it("no-public-ingress: refuses ::/0 in a vpc_security_group_ingress_rule", () => {
    const stack = platformStack();
    new VpcSecurityGroupIngressRule(stack, "open-v6", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 9092, toPort: 9092, cidrIpv6: "::/0" });
    expect(synthError(stack)).toContain("[guarded/open-v6] [no-public-ingress] ingress from anywhere on port 9092");
  });

  it("no-public-ingress: refuses all ports from anywhere in a security_group_rule", () => {
    const stack = platformStack();
    new SecurityGroupRule(stack, "open-all", { type: "ingress", securityGroupId: "sg-1", protocol: "-1", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] });
    expect(synthError(stack)).toContain("[guarded/open-all] [no-public-ingress] ingress from anywhere on port 0-65535");
  });

  it("no-public-ingress: allows a port declared public on that very rule, and only that port", () => {
    const stack = platformStack();
    const https = new VpcSecurityGroupIngressRule(stack, "https", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" });
    declarePublicIngress(https, 443, "public web endpoint");
    expect(synthError(stack)).toBeUndefined();

    const other = platformStack();
    const ssh = new VpcSecurityGroupIngressRule(other, "ssh", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" });
    declarePublicIngress(ssh, 443, "wrong port");
    expect(synthError(other)).toContain("[guarded/ssh] [no-public-ingress]");
  });

  it("imdsv2-required: refuses an instance that allows IMDSv1", () => {
    const stack = platformStack();
    new Instance(stack, "imdsv1", { ...hardenedInstanceProps, metadataOptions: { httpTokens: "optional" } });
    expect(synthError(stack)).toContain('[guarded/imdsv1] [imdsv2-required] aws_instance must set metadata_options.http_tokens = "required" (IMDSv2 only)');
  });

  it("encrypted-volumes: refuses an instance with an unencrypted root volume", () => {
    const stack = platformStack();
    new Instance(stack, "plain-root", { ...hardenedInstanceProps, rootBlockDevice: { volumeSize: 20 } });
    expect(synthError(stack)).toContain("[guarded/plain-root] [encrypted-volumes] aws_instance must set root_block_device.encrypted = true");
  });

  it("encrypted-volumes: refuses an unencrypted EBS volume", () => {
    const stack = platformStack();
    new EbsVolume(stack, "plain-data", { availabilityZone: "us-west-2a", size: 10 });
    expect(synthError(stack)).toContain("[guarded/plain-data] [encrypted-volumes] aws_ebs_volume must set encrypted = true");
  });

  it("bucket-encryption and bucket-public-access-block: refuse a bare bucket", () => {
    const stack = platformStack();
    new S3Bucket(stack, "bare");
    const error = synthError(stack);
    expect(error).toContain("[guarded/bare] [bucket-encryption] aws_s3_bucket has no server-side encryption configuration");
    expect(error).toContain("[guarded/bare] [bucket-public-access-block] aws_s3_bucket has no public access block with all four settings true");
  });

  it("bucket-public-access-block: refuses a block with one setting off", () => {
    const stack = platformStack();
    const bucket = new S3Bucket(stack, "half");
    new S3BucketServerSideEncryptionConfigurationA(stack, "half-sse", { bucket: bucket.id, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
    new S3BucketPublicAccessBlock(stack, "half-pab", { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: false });
    const error = synthError(stack);
    expect(error).toContain("[guarded/half] [bucket-public-access-block]");
    expect(error).not.toContain("[bucket-encryption]");
  });

  it("required-tags: refuses a taggable resource when neither it nor the provider carries the tags", () => {
    const stack = new TerraformStack(testApp(), "untagged");
    new AwsProvider(stack, "aws", { region: "us-west-2" });
    Aspects.of(stack).add(new Guardrails());
    new SecurityGroup(stack, "sg", { tags: { Project: "insight" } });
    expect(synthError(stack)).toContain("[untagged/sg] [required-tags] aws_security_group lacks tags Environment, ManagedBy");
  });
});

describe("egress, log groups and instances: what the platform keeps to", () => {
  it("no-open-egress: refuses all protocols to 0.0.0.0/0 in a vpc_security_group_egress_rule, in one line", () => {
    const stack = platformStack();
    new VpcSecurityGroupEgressRule(stack, "all-out", { securityGroupId: "sg-1", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "all outbound" });
    const error = synthError(stack) ?? "";
    expect(error).toContain("[guarded/all-out] [no-open-egress] egress to 0.0.0.0/0 on all protocols: allow only the ports the group's nodes use");
    expect(error.split("\n").filter((line) => line.includes("[no-open-egress]"))).toHaveLength(1);
  });

  it("no-open-egress: refuses ::/0 and the protocol spelled all, inline, in a security_group_rule and in the default group", () => {
    const stack = platformStack();
    new VpcSecurityGroupEgressRule(stack, "all-out6", { securityGroupId: "sg-1", ipProtocol: "all", cidrIpv6: "::/0" });
    new SecurityGroupRule(stack, "classic-out", { type: "egress", securityGroupId: "sg-1", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/1", "128.0.0.0/1"] });
    new SecurityGroup(stack, "inline-out", { egress: [{ fromPort: 0, toPort: 0, protocol: "-1", cidrBlocks: ["0.0.0.0/0"] }] });
    new DefaultSecurityGroup(stack, "default-out", { vpcId: "vpc-1", egress: [{ fromPort: 0, toPort: 0, protocol: "-1", ipv6CidrBlocks: ["::/0"] }] });
    const error = synthError(stack) ?? "";
    for (const path of ["all-out6", "classic-out", "inline-out", "default-out"]) expect(error).toContain(`[guarded/${path}] [no-open-egress]`);
  });

  it("no-open-egress: passes TCP ports to anywhere, all protocols to a group or a private range", () => {
    const stack = platformStack();
    new VpcSecurityGroupEgressRule(stack, "https-out", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" });
    new VpcSecurityGroupEgressRule(stack, "to-group", { securityGroupId: "sg-1", ipProtocol: "-1", referencedSecurityGroupId: "sg-2" });
    new VpcSecurityGroupEgressRule(stack, "to-vpc", { securityGroupId: "sg-1", ipProtocol: "-1", cidrIpv4: "10.0.0.0/8" });
    expect(synthError(stack)).toBeUndefined();
  });

  it("log-group-encryption: refuses a CloudWatch log group without kms_key_id, in one line", () => {
    const stack = platformStack();
    new CloudwatchLogGroup(stack, "plain-logs", { name: "/vpc/plain", retentionInDays: 365 });
    new CloudwatchLogGroup(stack, "sealed-logs", { name: "/vpc/sealed", retentionInDays: 365, kmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/1" });
    const error = synthError(stack) ?? "";
    expect(error).toContain("[guarded/plain-logs] [log-group-encryption] aws_cloudwatch_log_group must set kms_key_id (a customer-managed KMS key)");
    expect(error).not.toContain("[guarded/sealed-logs]");
  });

  it("ebs-optimized: refuses an instance that does not state ebs_optimized = true", () => {
    const stack = platformStack();
    new Instance(stack, "unstated", { ...hardenedInstanceProps, ebsOptimized: undefined });
    new Instance(stack, "off", { ...hardenedInstanceProps, ebsOptimized: false });
    const error = synthError(stack) ?? "";
    expect(error).toContain("[guarded/unstated] [ebs-optimized] aws_instance must set ebs_optimized = true");
    expect(error).toContain("[guarded/off] [ebs-optimized] aws_instance must set ebs_optimized = true");
  });

  it.each(["network", "chef", "kafka", "spark"] as const)("the %s stack's security groups let nothing out on all protocols", (name) => {
    const app = testApp();
    const platform = buildPlatform(app, configFrom());
    expect(noOpenEgress(platform[name])).toEqual([]);
    expect(ebsOptimized(platform[name])).toEqual([]);
    expect(logGroupEncryption(platform[name])).toEqual([]);
  });
});

describe("guardrails catch each form a violation can take (named survivors of a mutation run)", () => {
  it("no-public-ingress: refuses the VPC's default security group open to anywhere", () => {
    const stack = platformStack();
    new DefaultSecurityGroup(stack, "default-open", { vpcId: "vpc-1", ingress: [{ fromPort: 0, toPort: 0, protocol: "-1", cidrBlocks: ["0.0.0.0/0"] }] });
    expect(synthError(stack)).toContain("[guarded/default-open] [no-public-ingress]");
  });

  it("no-public-ingress: refuses ::/0 in an inline rule's ipv6_cidr_blocks", () => {
    const stack = platformStack();
    new SecurityGroup(stack, "open-v6-inline", { ingress: [{ fromPort: 443, toPort: 443, protocol: "tcp", ipv6CidrBlocks: ["::/0"] }] });
    expect(synthError(stack)).toContain("[guarded/open-v6-inline] [no-public-ingress] ingress from anywhere on port 443");
  });

  it("no-public-ingress: a declared public port does not excuse a range that contains it", () => {
    const stack = platformStack();
    const range = new VpcSecurityGroupIngressRule(stack, "range", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 1, toPort: 65535, cidrIpv4: "0.0.0.0/0" });
    declarePublicIngress(range, 1, "only port 1 was meant");
    expect(synthError(stack)).toContain("[guarded/range] [no-public-ingress] ingress from anywhere on port 1-65535");
  });

  it("no-public-ingress: refuses halves of the internet, in one rule or spread over a group's rules, for IPv4 and IPv6", () => {
    const oneRule = platformStack();
    new SecurityGroup(oneRule, "halves", { ingress: [{ fromPort: 22, toPort: 22, protocol: "tcp", cidrBlocks: ["0.0.0.0/1", "128.0.0.0/1"] }] });
    expect(synthError(oneRule)).toContain("[guarded/halves] [no-public-ingress] ingress from anywhere on port 22 is not a declared public port");
    const twoRules = platformStack();
    new VpcSecurityGroupIngressRule(twoRules, "low-half", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv6: "::/1" });
    new VpcSecurityGroupIngressRule(twoRules, "high-half", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 9092, toPort: 9092, cidrIpv6: "8000::/1" });
    const error = synthError(twoRules);
    expect(error).toContain("[guarded/low-half] [no-public-ingress] ingress from ::/1, which with the group's other ranges reach the whole internet, on port 22");
    expect(error).toContain("[guarded/high-half] [no-public-ingress] ingress from 8000::/1, which with the group's other ranges reach the whole internet, on port 9092");
  });

  it("no-public-ingress: judges each group by its own ranges: halves in two groups pass", () => {
    const stack = platformStack();
    new VpcSecurityGroupIngressRule(stack, "low-half", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/1" });
    new VpcSecurityGroupIngressRule(stack, "high-half", { securityGroupId: "sg-2", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "128.0.0.0/1" });
    expect(synthError(stack)).toBeUndefined();
  });

  it("no-public-ingress: lets egress to anywhere and ingress from a group or a private range pass", () => {
    const stack = platformStack();
    new SecurityGroupRule(stack, "egress-rule", { type: "egress", securityGroupId: "sg-1", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] });
    new VpcSecurityGroupIngressRule(stack, "from-group", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, referencedSecurityGroupId: "sg-2" });
    new VpcSecurityGroupIngressRule(stack, "from-vpc", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "10.0.0.0/8" });
    expect(synthError(stack)).toBeUndefined();
  });

  it("no-public-ingress: counts only the platform's own declaration, not other metadata that names the port", () => {
    const openHttps = (declare: (rule: VpcSecurityGroupIngressRule) => void): string | undefined => {
      const stack = platformStack();
      const rule = new VpcSecurityGroupIngressRule(stack, "open-https", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" });
      declare(rule);
      return synthError(stack);
    };
    expect(openHttps((rule) => rule.node.addMetadata("someone-else", { port: 443 }))).toContain(
      "[guarded/open-https] [no-public-ingress] ingress from anywhere on port 443 is not a declared public port",
    );
    expect(openHttps((rule) => declarePublicIngress(rule, 443, "a public web endpoint"))).toBeUndefined();
  });

  it("no-public-ingress: names every port when a rule opens all of them", () => {
    const allProtocols = platformStack();
    new VpcSecurityGroupIngressRule(allProtocols, "all-traffic", { securityGroupId: "sg-1", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });
    expect(synthError(allProtocols)).toContain("[guarded/all-traffic] [no-public-ingress] ingress from anywhere on port all is not a declared public port");
    const inline = platformStack();
    new SecurityGroupRule(inline, "all-ports", { type: "ingress", securityGroupId: "sg-1", protocol: "-1", fromPort: -1, toPort: -1, cidrBlocks: ["0.0.0.0/0"] });
    expect(synthError(inline)).toContain("[guarded/all-ports] [no-public-ingress] ingress from anywhere on port all is not a declared public port");
  });

  it("imdsv2-required: refuses an instance with no metadata_options at all (IMDSv1 is the default)", () => {
    const stack = platformStack();
    new Instance(stack, "no-metadata", { ami: "ami-12345678", instanceType: "t3.micro", rootBlockDevice: { encrypted: true } });
    expect(synthError(stack)).toContain("[guarded/no-metadata] [imdsv2-required]");
  });

  it("required-tags: checks instances too", () => {
    const stack = new TerraformStack(testApp(), "untagged");
    new AwsProvider(stack, "aws", { region: "us-west-2" });
    Aspects.of(stack).add(new Guardrails());
    new Instance(stack, "bare-instance", hardenedInstanceProps);
    expect(synthError(stack)).toContain("[untagged/bare-instance] [required-tags] aws_instance lacks tags Project, Environment, ManagedBy");
  });

  it("bucket protection: accepts encryption and a public access block that name the bucket by its .bucket", () => {
    const stack = platformStack();
    const bucket = new S3Bucket(stack, "named");
    new S3BucketServerSideEncryptionConfigurationA(stack, "named-sse", { bucket: bucket.bucket, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] });
    new S3BucketPublicAccessBlock(stack, "named-pab", { bucket: bucket.bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(synthError(stack)).toBeUndefined();
  });
});

describe("aws-api-limits: what the AWS APIs refuse at apply fails synth instead", () => {
  const rule = "[aws-api-limits]";

  it("passes every stack of the default platform", () => {
    const app = testApp();
    const platform = buildPlatform(app, configFrom());
    for (const stack of Object.values(platform)) expect(awsApiLimits(stack)).toEqual([]);
  });

  it("refuses an apostrophe in a security group rule description (EC2's character set)", () => {
    const stack = platformStack();
    new VpcSecurityGroupIngressRule(stack, "quoted", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, referencedSecurityGroupId: "sg-2", description: "SSH from the operator's network" });
    expect(synthError(stack)).toContain(`[guarded/quoted] ${rule} aws_vpc_security_group_ingress_rule description "SSH from the operator's network" has characters AWS refuses: EC2 accepts only`);
  });

  it("refuses a refused character in a security group's own and inline rule descriptions, and in its name", () => {
    const stack = platformStack();
    new SecurityGroup(stack, "group", { name: "caf\u00e9", description: "tabs\tare refused", egress: [{ fromPort: 0, toPort: 0, protocol: "-1", cidrBlocks: ["10.0.0.0/8"], description: "100%" }] });
    const error = synthError(stack);
    expect(error).toContain('aws_security_group description "tabs\\tare refused" has characters AWS refuses');
    expect(error).toContain('aws_security_group egress rule description "100%" has characters AWS refuses');
    expect(error).toContain('aws_security_group name "caf\u00e9" has characters AWS refuses');
  });

  it("refuses a security group name over 255 characters or starting with sg-", () => {
    const stack = platformStack();
    new SecurityGroup(stack, "long", { name: "a".repeat(256) });
    new SecurityGroup(stack, "prefixed", { name: "sg-web" });
    const error = synthError(stack);
    expect(error).toContain("[guarded/long] [aws-api-limits] aws_security_group name");
    expect(error).toContain("is 256 characters; AWS accepts at most 255");
    expect(error).toContain('[guarded/prefixed] [aws-api-limits] aws_security_group name "sg-web" starts with sg-');
  });

  it("refuses an IAM role name over 64 characters, and accepts 64", () => {
    const stack = platformStack();
    new IamRole(stack, "role-65", { name: "r".repeat(65), assumeRolePolicy: "{}" });
    new IamRole(stack, "role-64", { name: "r".repeat(64), assumeRolePolicy: "{}" });
    const error = synthError(stack) ?? "";
    expect(error).toContain("[guarded/role-65] [aws-api-limits] aws_iam_role name");
    expect(error).toContain("is 65 characters; AWS accepts at most 64");
    expect(error).not.toContain("[guarded/role-64]");
  });

  it("refuses an IAM role name with a character IAM does not take", () => {
    const stack = platformStack();
    new IamRole(stack, "spaced", { name: "kafka node", assumeRolePolicy: "{}" });
    expect(synthError(stack)).toContain('[guarded/spaced] [aws-api-limits] aws_iam_role name "kafka node" has characters AWS refuses');
  });

  it("refuses an instance profile name over 128 characters", () => {
    const stack = platformStack();
    new IamInstanceProfile(stack, "profile", { name: "p".repeat(129) });
    expect(synthError(stack)).toContain("[guarded/profile] [aws-api-limits] aws_iam_instance_profile name");
  });

  it("refuses a bucket_prefix over 37 characters", () => {
    const stack = platformStack();
    new S3Bucket(stack, "prefixed-bucket", { bucketPrefix: "b".repeat(38) });
    expect(synthError(stack)).toContain("[guarded/prefixed-bucket] [aws-api-limits] aws_s3_bucket bucket_prefix");
  });

  it("refuses a tag key over 128 characters, a value over 256 and the reserved aws: prefix", () => {
    const stack = platformStack();
    new SecurityGroup(stack, "tagged", { tags: { ["k".repeat(129)]: "v", Long: "v".repeat(257), "aws:owner": "me" } });
    const error = synthError(stack);
    expect(error).toContain("is 129 characters; AWS accepts at most 128");
    expect(error).toContain('tag "Long" value');
    expect(error).toContain("is 257 characters; AWS accepts at most 256");
    expect(error).toContain('tag key "aws:owner" starts with aws:');
  });

  it("checks the root volume's tags too", () => {
    const stack = platformStack();
    new Instance(stack, "root-tags", { ...hardenedInstanceProps, rootBlockDevice: { encrypted: true, tags: { Name: "n".repeat(257) } } });
    expect(synthError(stack)).toContain("[guarded/root-tags] [aws-api-limits] root_block_device tag \"Name\" value");
  });

  it("refuses SSM parameter names SSM rejects, in a parameter and in the IAM policy that lets an instance write one", () => {
    const stack = platformStack();
    new SsmParameter(stack, "reserved", { name: "/aws/key", type: "String", value: "v" });
    new SsmParameter(stack, "spaced-name", { name: "/insight/dev/my key", type: "String", value: "v" });
    new SsmParameter(stack, "deep", { name: `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join("/")}`, type: "String", value: "v" });
    new SsmParameter(stack, "long-name", { name: `/${"n".repeat(1000)}`, type: "String", value: "v" });
    new DataAwsIamPolicyDocument(stack, "writes-bad-name", {
      statement: [{ actions: ["ssm:PutParameter"], resources: ["arn:aws:ssm:us-west-2:123456789012:parameter/insight/dev/key's"] }],
    });
    const error = synthError(stack);
    expect(error).toContain('[guarded/reserved] [aws-api-limits] SSM parameter name "/aws/key" starts with aws or ssm');
    expect(error).toContain('[guarded/spaced-name] [aws-api-limits] SSM parameter name "/insight/dev/my key" has characters SSM refuses');
    expect(error).toContain("[guarded/deep] [aws-api-limits] SSM parameter name");
    expect(error).toContain("is deeper than SSM's 15 levels");
    expect(error).toContain("[guarded/long-name] [aws-api-limits] SSM parameter name");
    expect(error).toContain("characters; SSM accepts at most 962 after the ARN prefix");
    expect(error).toContain('[guarded/writes-bad-name] [aws-api-limits] SSM parameter name "/insight/dev/key\'s" has characters SSM refuses');
  });

  it("checks the known parts of a name that holds a Terraform reference", () => {
    const stack = platformStack();
    new DataAwsIamPolicyDocument(stack, "by-instance", {
      statement: [{ actions: ["ssm:PutParameter"], resources: ["arn:aws:ssm:us-west-2:123456789012:parameter/insight/dev/chef/${aws_instance.server.id}/admin-key"] }],
    });
    expect(synthError(stack)).toBeUndefined();
  });

  it("takes a policy on a whole level of the hierarchy (a trailing /*), and no * elsewhere", () => {
    const level = platformStack();
    new DataAwsIamPolicyDocument(level, "reads-level", {
      statement: [{ actions: ["ssm:GetParameter"], resources: ["arn:aws:ssm:us-west-2:123456789012:parameter/insight/dev/host-keys/*"] }],
    });
    expect(synthError(level)).toBeUndefined();
    const inside = platformStack();
    new DataAwsIamPolicyDocument(inside, "reads-pattern", {
      statement: [{ actions: ["ssm:GetParameter"], resources: ["arn:aws:ssm:us-west-2:123456789012:parameter/insight/*/host-keys"] }],
    });
    expect(synthError(inside)).toContain('SSM parameter name "/insight/*/host-keys" has characters SSM refuses');
  });
});

describe("guardrails run in every stack of the platform", () => {
  it.each(["network", "storage", "chef", "spark", "kafka", "monitoring"] as const)("a security group open to the world fails the synth of the %s stack", (name) => {
    const app = testApp();
    const platform = buildPlatform(app, configFrom());
    new SecurityGroup(platform[name], "open-ssh", { ingress: [{ fromPort: 22, toPort: 22, protocol: "tcp", cidrBlocks: ["0.0.0.0/0"] }] });
    expect(() => app.synth()).toThrow(`[${name}/open-ssh] [no-public-ingress] ingress from anywhere on port 22 is not a declared public port`);
  });
});

describe("guardrails catch the remaining forms (named survivors of a second mutation run)", () => {
  const messages = (stack: TerraformStack): string[] => awsApiLimits(stack).map((violation) => violation.message);
  const ssmNames = (...names: string[]): string[] => {
    const stack = platformStack();
    names.forEach((name, index) => new SsmParameter(stack, `p${index}`, { name, type: "String", value: "v" }));
    return messages(stack);
  };

  it("aws-api-limits: checks every kind of security group rule and the default group's inline rules", () => {
    const stack = platformStack();
    new VpcSecurityGroupEgressRule(stack, "egress", { securityGroupId: "sg-1", ipProtocol: "-1", cidrIpv4: "10.0.0.0/8", description: "the operator's egress" });
    new SecurityGroupRule(stack, "classic", { type: "ingress", securityGroupId: "sg-1", protocol: "tcp", fromPort: 22, toPort: 22, sourceSecurityGroupId: "sg-2", description: "the operator's SSH" });
    new SecurityGroup(stack, "out", { egress: [{ fromPort: 0, toPort: 0, protocol: "-1", cidrBlocks: ["10.0.0.0/8"], description: "it's out" }] });
    new DefaultSecurityGroup(stack, "default", { vpcId: "vpc-1", ingress: [{ fromPort: 22, toPort: 22, protocol: "tcp", cidrBlocks: ["10.0.0.0/8"], description: "it's in" }] });
    const found = messages(stack);
    expect(found).toContainEqual(expect.stringMatching(/^aws_vpc_security_group_egress_rule description "the operator's egress" has characters AWS refuses/));
    expect(found).toContainEqual(expect.stringMatching(/^aws_security_group_rule description "the operator's SSH" has characters AWS refuses/));
    expect(found).toContainEqual(expect.stringMatching(/^aws_security_group egress rule description "it's out" has characters AWS refuses/));
    expect(found).toContainEqual(expect.stringMatching(/^aws_default_security_group ingress rule description "it's in" has characters AWS refuses/));
  });

  it("aws-api-limits: leaves 26 characters of a name_prefix to Terraform's suffix, and checks policy and bucket names", () => {
    const stack = platformStack();
    new IamRole(stack, "prefix-ok", { namePrefix: "p".repeat(38), assumeRolePolicy: "{}" });
    new IamRole(stack, "prefix-long", { namePrefix: "q".repeat(39), assumeRolePolicy: "{}" });
    new IamRolePolicy(stack, "policy", { role: "r", name: "n".repeat(129), policy: "{}" });
    new S3Bucket(stack, "bucket", { bucket: "b".repeat(64) });
    expect(messages(stack)).toEqual([
      `aws_iam_role name_prefix "${"q".repeat(39)}" is 39 characters; AWS accepts at most 38`,
      `aws_iam_role_policy name "${"n".repeat(129)}" is 129 characters; AWS accepts at most 128`,
      `aws_s3_bucket bucket "${"b".repeat(64)}" is 64 characters; AWS accepts at most 63`,
    ]);
  });

  it("aws-api-limits: checks the provider's default tags, and judges a name with a reference by its known parts only", () => {
    const stack = new TerraformStack(testApp(), "tagged");
    new AwsProvider(stack, "aws", { region: "us-west-2", defaultTags: [{ tags: { "aws:owner": "me" } }] });
    const role = new IamRole(stack, "role", { name: "platform-role", assumeRolePolicy: "{}" });
    new IamRole(stack, "follower", { name: `${role.name}-follower`, assumeRolePolicy: "{}" });
    new SecurityGroup(stack, "long-with-reference", { name: `${role.name}${"a".repeat(250)}` });
    expect(messages(stack)).toEqual(['default tag key "aws:owner" starts with aws:, which AWS reserves']);
  });

  it("aws-api-limits: SSM names: the length limit exactly, reserved prefixes only at the start, depth and the leading slash", () => {
    const longest = 1011 - "arn:aws:ssm:ap-southeast-4:123456789012:parameter".length;
    expect(ssmNames(`/${"a".repeat(longest - 1)}`, "/data/aws/ssm", "plain-name", `/${Array.from({ length: 15 }, (_v, i) => `l${i}`).join("/")}`, "/a//b/")).toEqual([]);
    expect(ssmNames(`/${"a".repeat(longest)}`)).toEqual([
      `SSM parameter name "/${"a".repeat(longest)}" is ${longest + 1} characters; SSM accepts at most ${longest} after the ARN prefix`,
    ]);
    expect(ssmNames("/aws/x", "ssm-x")).toEqual([
      'SSM parameter name "/aws/x" starts with aws or ssm, which SSM reserves',
      'SSM parameter name "ssm-x" starts with aws or ssm, which SSM reserves',
    ]);
    const sixteen = `/${Array.from({ length: 16 }, (_v, i) => `l${i}`).join("/")}`;
    expect(ssmNames(sixteen)).toEqual([`SSM parameter name ${JSON.stringify(sixteen)} is deeper than SSM's 15 levels`]);
    expect(ssmNames("data/x")).toEqual(['SSM parameter name "data/x" is a hierarchy that does not start with /']);
  });

  it("encrypted-volumes: passes an encrypted data volume and names an unencrypted one", () => {
    const stack = platformStack();
    new EbsVolume(stack, "sealed", { availabilityZone: "us-west-2a", size: 10, encrypted: true });
    new EbsVolume(stack, "open", { availabilityZone: "us-west-2a", size: 10 });
    const error = synthError(stack) ?? "";
    expect(error).toContain("[guarded/open] [encrypted-volumes] aws_ebs_volume must set encrypted = true");
    expect(error).not.toContain("[guarded/sealed]");
  });

  it("every rule still reports when the stack also holds resources with nothing optional set", () => {
    const stack = platformStack();
    new SecurityGroup(stack, "bare-group", {});
    new Instance(stack, "bare", { ami: "ami-12345678", instanceType: "t3.micro" });
    new EbsVolume(stack, "open", { availabilityZone: "us-west-2a", size: 10 });
    new VpcSecurityGroupIngressRule(stack, "open-ssh", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" });
    const error = synthError(stack) ?? "";
    for (const expected of ["[guarded/bare] [imdsv2-required]", "[guarded/bare] [encrypted-volumes]", "[guarded/open] [encrypted-volumes]", "[guarded/open-ssh] [no-public-ingress]"]) {
      expect(error).toContain(expected);
    }
  });
});

describe("the guardrails' render cache", () => {
  it("lives only while the guardrails check a stack: a resource changed later is read afresh", () => {
    const stack = platformStack();
    const group = new SecurityGroup(stack, "group", { description: "before" });
    expect(withRenderCache(() => resourceConfig(group).description)).toBe("before");
    group.description = "after";
    expect(resourceConfig(group).description).toBe("after");
  });
});

describe("kafka-tls: a plaintext Kafka listener needs kafka.security's opt-in", () => {
  const role = (attributes: Record<string, unknown>) => JSON.stringify([{ name: "kafka-node", default_attributes: {}, override_attributes: attributes }]);
  const rolesObject = (stack: TerraformStack, content: string): S3Object =>
    new S3Object(stack, "roles-object", { bucket: "data", key: "chef-repo/roles.json", content, contentType: "application/json" });

  it("refuses a role whose attributes choose plaintext while kafka.security is tls", () => {
    const stack = platformStack();
    declareKafkaSecurity(rolesObject(stack, role({ "insight-kafka-cluster": { mode: "zookeeper", security: "plaintext" } })), "tls");
    expect(synthError(stack)).toContain(
      '[guarded/roles-object] [kafka-tls] role kafka-node gives Kafka a plaintext listener (insight-kafka-cluster.security "plaintext") while kafka.security is "tls"',
    );
  });

  it("refuses a PLAINTEXT listener, protocol map or TLS switched off in the role, even with no declaration (tls is the default)", () => {
    const stack = platformStack();
    rolesObject(
      stack,
      role({ "kafka-cluster": { tls: { enabled: false }, config: { properties: { listeners: "TLS://:9094,PLAINTEXT://:9092", "listener.security.protocol.map": "TLS:SSL,EXTERNAL:PLAINTEXT" } } } }),
    );
    const error = synthError(stack) ?? "";
    expect(error).toContain("kafka-cluster.tls.enabled false; listeners=TLS://:9094,PLAINTEXT://:9092; listener.security.protocol.map=TLS:SSL,EXTERNAL:PLAINTEXT");
    expect(error.split("\n").filter((line) => line.includes("[kafka-tls]"))).toHaveLength(1);
  });

  it("lets plaintext pass when kafka.security chose it, and a TLS role always", () => {
    const lab = platformStack();
    declareKafkaSecurity(rolesObject(lab, role({ "insight-kafka-cluster": { security: "plaintext" } })), "plaintext");
    expect(synthError(lab)).toBeUndefined();
    const tls = platformStack();
    declareKafkaSecurity(rolesObject(tls, role({ "insight-kafka-cluster": { security: "tls" }, "kafka-cluster": { config: { properties: { listeners: "TLS://:9094" } } } })), "tls");
    expect(synthError(tls)).toBeUndefined();
  });

  it.each(["tls", "plaintext", "migrating"])("passes the chef stack the platform builds with kafka.security %s", (security) => {
    const app = testApp();
    buildPlatform(app, configFrom("--kafka.security", security));
    expect(() => app.synth()).not.toThrow();
  });
});

describe("alarm-actions: an alarm notifies someone", () => {
  const metric = { alarmName: "insight-dev-test", namespace: "Platform/insight-dev", metricName: "kafka_offline_partitions", statistic: "Maximum", period: 60, evaluationPeriods: 5, threshold: 0, comparisonOperator: "GreaterThanThreshold" };

  it("refuses a metric alarm with no alarm_actions, in one line naming the construct and the rule", () => {
    const stack = platformStack();
    new CloudwatchMetricAlarm(stack, "silent", metric);
    const error = synthError(stack) ?? "";
    expect(error).toContain("[guarded/silent] [alarm-actions] aws_cloudwatch_metric_alarm must set alarm_actions (the platform's alarm topic) with actions enabled");
    expect(error.split("\n").filter((line) => line.includes("[alarm-actions]"))).toHaveLength(1);
  });

  it("refuses an empty alarm_actions list and actions switched off", () => {
    const empty = platformStack();
    new CloudwatchMetricAlarm(empty, "empty", { ...metric, alarmActions: [] });
    expect(synthError(empty)).toContain("[guarded/empty] [alarm-actions]");
    const disabled = platformStack();
    new CloudwatchMetricAlarm(disabled, "disabled", { ...metric, alarmActions: ["arn:aws:sns:us-west-2:111122223333:insight-dev-alarms"], actionsEnabled: false });
    expect(synthError(disabled)).toContain("[guarded/disabled] [alarm-actions]");
  });

  it("passes an alarm that notifies a topic, and every alarm of the platform", () => {
    const stack = platformStack();
    new CloudwatchMetricAlarm(stack, "noisy", { ...metric, alarmActions: ["arn:aws:sns:us-west-2:111122223333:insight-dev-alarms"] });
    expect(synthError(stack)).toBeUndefined();
    const app = testApp();
    const platform = buildPlatform(app, configFrom());
    expect(() => app.synth()).not.toThrow();
    expect(platform.monitoring.alarms.size).toBeGreaterThan(0);
  });
});
