import { Aspects, TerraformStack, Testing } from "cdktf";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Guardrails } from "../guardrails/Guardrails";
import { declarePublicIngress } from "../guardrails/rules/noPublicIngress";
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
