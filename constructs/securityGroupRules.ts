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

/** Lets members of `rule.from` reach `group` on TCP `port` (through `toPort`). */
export function allowTcp(scope: Construct, id: string, group: SecurityGroup, rule: TcpIngress): VpcSecurityGroupIngressRule {
  return new VpcSecurityGroupIngressRule(scope, id, {
    securityGroupId: group.id,
    ipProtocol: "tcp",
    fromPort: rule.port,
    toPort: rule.toPort ?? rule.port,
    referencedSecurityGroupId: typeof rule.from === "string" ? rule.from : rule.from.id,
    description: rule.description,
  });
}

/** Outbound to anywhere: packages, Apache downloads and AWS APIs go out through the NAT gateway. */
export function allowAllEgress(scope: Construct, id: string, group: SecurityGroup): VpcSecurityGroupEgressRule {
  return new VpcSecurityGroupEgressRule(scope, id, {
    securityGroupId: group.id,
    ipProtocol: "-1",
    cidrIpv4: "0.0.0.0/0",
    description: "all outbound (NAT for private subnets)",
  });
}
