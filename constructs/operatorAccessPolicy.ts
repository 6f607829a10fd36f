import type { Construct } from "constructs";
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";

/** The longest a tunnel's TCP connection may last: EC2 Instance Connect Endpoint's own maximum. */
export const MAX_TUNNEL_SECONDS = 3600;

export interface OperatorAccessPolicyProps {
  /** The managed policy's name, unique in the account. */
  readonly name: string;
  /** The instance's ARN: the one a pushed 60-second key may be sent to. */
  readonly instanceArn: string;
  /** The instance's private IPv4 address: the only address a tunnel may open to. */
  readonly privateIp: string;
  /** The one OS user a pushed key may log in as. */
  readonly osUser: string;
  /** The endpoint tunnels open through; none: the instance is reached at its public address. @default none */
  readonly endpointArn?: string;
}

/**
 * A managed policy to attach to the operators' roles, for SSH to one instance and nothing else:
 * push a key that EC2 Instance Connect accepts for 60 seconds for its one OS user, and, through an
 * endpoint, open a tunnel to its port 22 for an hour at most per connection. The AWS CLI finds the
 * instance (and the endpoint in its VPC) with Describe calls, which take no resource.
 */
export function operatorAccessPolicy(scope: Construct, id: string, props: OperatorAccessPolicyProps): IamPolicy {
  const statements: DataAwsIamPolicyDocumentStatement[] = [
    {
      sid: "PushAShortLivedKey",
      actions: ["ec2-instance-connect:SendSSHPublicKey"],
      resources: [props.instanceArn],
      condition: [{ test: "StringEquals", variable: "ec2:osuser", values: [props.osUser] }],
    },
  ];
  if (props.endpointArn !== undefined) {
    statements.push({
      sid: "OpenTunnelToItsSsh",
      actions: ["ec2-instance-connect:OpenTunnel"],
      resources: [props.endpointArn],
      condition: [
        { test: "NumericEquals", variable: "ec2-instance-connect:remotePort", values: ["22"] },
        { test: "IpAddress", variable: "ec2-instance-connect:privateIpAddress", values: [`${props.privateIp}/32`] },
        { test: "NumericLessThanEquals", variable: "ec2-instance-connect:maxTunnelDuration", values: [String(MAX_TUNNEL_SECONDS)] },
      ],
    });
  }
  statements.push({
    sid: "FindTheInstance",
    actions: ["ec2:DescribeInstances", ...(props.endpointArn !== undefined ? ["ec2:DescribeInstanceConnectEndpoints"] : [])],
    resources: ["*"],
  });
  const document = new DataAwsIamPolicyDocument(scope, `${id}-document`, { statement: statements });
  return new IamPolicy(scope, id, {
    name: props.name,
    // The same in both modes: a changed description replaces the policy, which fails while roles
    // have it attached; a changed document is a new version of the same policy.
    description: "Operators: SSH to one instance with keys EC2 Instance Connect pushes, and through its endpoint where it has one",
    policy: document.json,
  });
}
