import type { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";

export interface TcpIngress {
  /** One port, or the first of a range. */
  readonly port: number;
  /** Last port of a range. @default port */
  readonly toPort?: number;
  /** The security group allowed in, or its id (members of `group` itself when it is the same group). */
  readonly from: SecurityGroup | string;
  /** Says why the port is open; shows in the AWS console. */
  readonly description: string;
}

/**
 * A security group with no inline rules: each rule is its own resource, so adding one never
 * rewrites the others, and other stacks can add rules that reference it.
 */
export function securityGroup(scope: Construct, id: string, props: { name: string; vpcId: string; description: string }): SecurityGroup {
  return new SecurityGroup(scope, id, {
    name: props.name,
    vpcId: props.vpcId,
    description: props.description,
    revokeRulesOnDelete: true,
    tags: { Name: props.name },
  });
}

/**
 * Lets members of `rule.from` reach `group` on TCP `port` (through `toPort`). When `from` is a
 * group the platform owns, its members get the matching egress rule too, to `group` only: every
 * group lets out only what some ingress rule lets in, besides the internet egress of
 * `allowInternetEgress`. A group named by its id belongs to the user, who keeps its egress.
 * The returned ingress rule waits for that egress rule, so whatever waits for the one waits for
 * both sides of the connection.
 */
export function allowTcp(scope: Construct, id: string, group: SecurityGroup, rule: TcpIngress): VpcSecurityGroupIngressRule {
  const ports = { ipProtocol: "tcp", fromPort: rule.port, toPort: rule.toPort ?? rule.port };
  const egress =
    typeof rule.from === "string"
      ? undefined
      : new VpcSecurityGroupEgressRule(scope, `${id}-egress`, {
          securityGroupId: rule.from.id,
          ...ports,
          referencedSecurityGroupId: group.id,
          description: `${rule.description} (outbound side)`,
        });
  return new VpcSecurityGroupIngressRule(scope, id, {
    securityGroupId: group.id,
    ...ports,
    referencedSecurityGroupId: typeof rule.from === "string" ? rule.from : rule.from.id,
    description: rule.description,
    dependsOn: egress === undefined ? undefined : [egress],
  });
}

/**
 * What a node reaches on the internet, through the NAT gateway (or the S3 gateway endpoint):
 * HTTPS for the AWS APIs (SSM, S3, EC2, KMS), Apache's and Maven's downloads, Chef's or Cinc's
 * packages, and HTTP for Ubuntu's apt mirrors, which EC2's images reach over http. No install
 * script uses another port (no git, hkp keyserver or NTP to the internet). The Amazon DNS
 * server, the Time Sync Service (169.254.169.123) and instance metadata are link-local and
 * security groups do not filter traffic to them (Amazon VPC User Guide, "Security group
 * rules"), so DNS and time need no rule here.
 */
export function allowInternetEgress(scope: Construct, id: string, group: SecurityGroup): VpcSecurityGroupEgressRule[] {
  const out = (suffix: string, port: number, description: string): VpcSecurityGroupEgressRule =>
    new VpcSecurityGroupEgressRule(scope, `${id}-${suffix}`, {
      securityGroupId: group.id,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      cidrIpv4: "0.0.0.0/0",
      description,
    });
  return [
    out("https", 443, "HTTPS out: AWS APIs, Apache and Maven downloads, Chef packages"),
    out("http", 80, "HTTP out: Ubuntu apt mirrors"),
  ];
}
