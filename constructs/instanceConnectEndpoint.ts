import { Construct } from "constructs";
import { Ec2InstanceConnectEndpoint } from "@cdktf/provider-aws/lib/ec2-instance-connect-endpoint";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { allowTcp, securityGroup } from "./securityGroupRules";

export interface InstanceConnectEndpointProps {
  /** Names the endpoint and its security group. */
  readonly name: string;
  /** The VPC of the endpoint's security group: the workstation's. */
  readonly vpcId: string;
  /** Where the endpoint's network interface lives: the workstation's subnet, so tunnels stay in its AZ. */
  readonly subnetId: string;
  /** The one group the endpoint may reach, on port 22 only. */
  readonly workstationSecurityGroup: SecurityGroup;
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

  constructor(scope: Construct, id: string, props: InstanceConnectEndpointProps) {
    super(scope, id);
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
}
