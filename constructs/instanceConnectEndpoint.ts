import { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { Ec2InstanceConnectEndpoint } from "@cdktf/provider-aws/lib/ec2-instance-connect-endpoint";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { allowTcp, securityGroup } from "./securityGroupRules";

/** The longest a tunnel's TCP connection may last: EC2 Instance Connect Endpoint's own maximum. */
export const MAX_TUNNEL_SECONDS = 3600;

export interface InstanceConnectEndpointProps {
  /** Names the endpoint, its security group and the operators' policy. */
  readonly name: string;
  readonly vpcId: string;
  /** Where the endpoint's network interface lives: the workstation's subnet, so tunnels stay in its AZ. */
  readonly subnetId: string;
  /** The one group the endpoint may reach, on port 22 only. */
  readonly workstationSecurityGroup: SecurityGroup;
}

export interface TunnelTarget {
  /** The instance's ARN: the one a pushed 60-second key may be sent to. */
  readonly instanceArn: string;
  /** The instance's private IPv4 address: the only address a tunnel may open to. */
  readonly privateIp: string;
  /** The one OS user a pushed key may log in as. */
  readonly osUser: string;
}

/**
 * An EC2 Instance Connect Endpoint: operators reach the workstation, which has no public address,
 * through a tunnel that IAM authorizes per call and CloudTrail records, with no inbound rule from
 * outside the VPC. The endpoint needs no inbound rule of its own; its group may only open SSH to
 * the workstation's group, which then accepts SSH from the endpoint alone.
 */
export class InstanceConnectEndpoint extends Construct {
  readonly endpoint: Ec2InstanceConnectEndpoint;
  readonly securityGroup: SecurityGroup;
  private readonly name: string;

  constructor(scope: Construct, id: string, props: InstanceConnectEndpointProps) {
    super(scope, id);
    this.name = props.name;
    this.securityGroup = securityGroup(this, "security-group", {
      name: props.name,
      vpcId: props.vpcId,
      description: "EC2 Instance Connect Endpoint: SSH to the workstation only",
    });
    allowTcp(this, "workstation-ssh-from-endpoint", props.workstationSecurityGroup, {
      port: 22,
      from: this.securityGroup,
      description: "SSH through the EC2 Instance Connect Endpoint only",
    });
    this.endpoint = new Ec2InstanceConnectEndpoint(this, "endpoint", {
      subnetId: props.subnetId,
      securityGroupIds: [this.securityGroup.id],
      // The instance then sees the endpoint's address, which its group names, not the operator's.
      preserveClientIp: false,
      tags: { Name: props.name },
    });
  }

  /**
   * A managed policy to attach to the operators' roles: open a tunnel through this endpoint to
   * port 22 of the target only, for at most an hour per connection, and push a key that works for
   * 60 seconds for its one OS user (`aws ec2-instance-connect ssh`). The Describe calls let the
   * CLI find the instance and the endpoint; they take no resource.
   */
  operatorPolicy(id: string, target: TunnelTarget): IamPolicy {
    const document = new DataAwsIamPolicyDocument(this, `${id}-document`, {
      statement: [
        {
          sid: "OpenTunnelToTheWorkstationSsh",
          actions: ["ec2-instance-connect:OpenTunnel"],
          resources: [this.endpoint.arn],
          condition: [
            { test: "NumericEquals", variable: "ec2-instance-connect:remotePort", values: ["22"] },
            { test: "IpAddress", variable: "ec2-instance-connect:privateIpAddress", values: [`${target.privateIp}/32`] },
            { test: "NumericLessThanEquals", variable: "ec2-instance-connect:maxTunnelDuration", values: [String(MAX_TUNNEL_SECONDS)] },
          ],
        },
        {
          sid: "PushAShortLivedKey",
          actions: ["ec2-instance-connect:SendSSHPublicKey"],
          resources: [target.instanceArn],
          condition: [{ test: "StringEquals", variable: "ec2:osuser", values: [target.osUser] }],
        },
        { sid: "FindTheInstanceAndEndpoint", actions: ["ec2:DescribeInstances", "ec2:DescribeInstanceConnectEndpoints"], resources: ["*"] },
      ],
    });
    return new IamPolicy(this, id, {
      name: `${this.name}-operators`,
      description: "Operators: SSH to the Chef workstation through its EC2 Instance Connect Endpoint",
      policy: document.json,
    });
  }
}
