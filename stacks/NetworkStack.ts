import { Fn, TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { accountOf, logGroupKeyStatement, PlatformKey } from "../constructs/platformKey";
import { allowInternetEgress, securityGroup } from "../constructs/securityGroupRules";
import { PlatformStack, type PlatformStackProps } from "./PlatformStack";

/**
 * The VPC: public subnets hold only the NAT gateway(s) and the operator's entry point; every
 * cluster node lives in a private subnet and reaches the internet through NAT and S3 through a
 * gateway endpoint. The default security group is emptied so nothing can use it by accident.
 */
export class NetworkStack extends PlatformStack {
  readonly vpc: Vpc;
  /** One per AZ, in AZ order. */
  readonly publicSubnets: Subnet[];
  /** One per AZ, in AZ order. */
  readonly privateSubnets: Subnet[];
  /**
   * The operator's entry point (the Chef workstation). Cluster stacks allow SSH and their web
   * UIs from this group only; the chef stack adds SSH into it from the admin CIDR.
   */
  readonly workstationSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const net = props.config.network;

    // Every AZ of the region that needs no opt-in, whatever its health today: with a filter on
    // state, an impaired AZ would leave the list and shift every later subnet to another AZ.
    // Checked once, here, while the plan reads the list and before anything is created:
    // element() would wrap around, and put two subnets, and the cluster members meant to be
    // apart, in one AZ without a word.
    const zones = new DataAwsAvailabilityZones(this, "zones", {
      filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
      lifecycle: {
        postcondition: [
          {
            condition: `\${length(self.names) >= ${net.azCount}}`,
            errorMessage: `The config sets network.azCount to ${net.azCount}, but ${props.config.region} offers this account fewer availability zones without opt-in. Set network.azCount and the subnet lists to what the region offers.`,
          },
        ],
      },
    });

    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: net.vpcCidr,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: this.resourceName("vpc") },
    });

    new DefaultSecurityGroup(this, "default-security-group", {
      vpcId: this.vpc.id,
      ingress: [],
      egress: [],
      tags: { Name: this.resourceName("default-unused") },
    });

    const internetGateway = new InternetGateway(this, "internet-gateway", {
      vpcId: this.vpc.id,
      tags: { Name: this.resourceName("igw") },
    });

    const zoneName = (index: number): string => Fn.element(zones.names, index);
    // A subnet stays in the AZ it was created in, and so do the nodes and Kafka volumes in it
    // (the volumes take their AZ from the subnet's state), even if the list of AZs changes.
    const keepAz = { ignoreChanges: ["availability_zone"] };
    this.publicSubnets = net.publicSubnetCidrs.map(
      (cidr, index) =>
        new Subnet(this, `public-subnet-${index}`, {
          vpcId: this.vpc.id,
          cidrBlock: cidr,
          availabilityZone: zoneName(index),
          mapPublicIpOnLaunch: false,
          lifecycle: keepAz,
          tags: { Name: this.resourceName(`public-${index}`), Tier: "public" },
        }),
    );
    this.privateSubnets = net.privateSubnetCidrs.map(
      (cidr, index) =>
        new Subnet(this, `private-subnet-${index}`, {
          vpcId: this.vpc.id,
          cidrBlock: cidr,
          availabilityZone: zoneName(index),
          mapPublicIpOnLaunch: false,
          lifecycle: keepAz,
          tags: { Name: this.resourceName(`private-${index}`), Tier: "private" },
        }),
    );

    const publicRoutes = new RouteTable(this, "public-routes", {
      vpcId: this.vpc.id,
      tags: { Name: this.resourceName("public") },
    });
    new Route(this, "public-default-route", {
      routeTableId: publicRoutes.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: internetGateway.id,
    });
    this.publicSubnets.forEach(
      (subnet, index) =>
        new RouteTableAssociation(this, `public-subnet-${index}-routes`, { subnetId: subnet.id, routeTableId: publicRoutes.id }),
    );

    const natCount = net.natGateways === "perAz" ? this.publicSubnets.length : 1;
    const natGateways = Array.from({ length: natCount }, (_unused, index) => {
      const address = new Eip(this, `nat-eip-${index}`, {
        domain: "vpc",
        tags: { Name: this.resourceName(`nat-${index}`) },
      });
      return new NatGateway(this, `nat-gateway-${index}`, {
        allocationId: address.id,
        subnetId: this.publicSubnets[index].id,
        tags: { Name: this.resourceName(`nat-${index}`) },
        dependsOn: [internetGateway],
      });
    });

    const privateRouteTables = this.privateSubnets.map((subnet, index) => {
      const table = new RouteTable(this, `private-routes-${index}`, {
        vpcId: this.vpc.id,
        tags: { Name: this.resourceName(`private-${index}`) },
      });
      new Route(this, `private-default-route-${index}`, {
        routeTableId: table.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: natGateways[Math.min(index, natGateways.length - 1)].id,
      });
      new RouteTableAssociation(this, `private-subnet-${index}-routes`, { subnetId: subnet.id, routeTableId: table.id });
      return table;
    });

    // Nodes read the data bucket and Apache/Ubuntu mirrors: S3 traffic skips the NAT (and its per-GB charge).
    new VpcEndpoint(this, "s3-endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.config.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [publicRoutes.id, ...privateRouteTables.map((table) => table.id)],
      tags: { Name: this.resourceName("s3") },
    });

    if (net.interfaceEndpoints) this.addSsmEndpoint(props.config.region);

    this.addFlowLogs(props.config.network.flowLogRetentionDays, props.config.region);

    this.workstationSecurityGroup = securityGroup(this, "workstation-security-group", {
      name: this.resourceName("workstation"),
      vpcId: this.vpc.id,
      description: "Operator entry point: the only source of SSH and web UI access to cluster nodes",
    });
    allowInternetEgress(this, "workstation-egress", this.workstationSecurityGroup);

    new TerraformOutput(this, "vpc_id", { value: this.vpc.id, description: "The platform's VPC" });
    new TerraformOutput(this, "public_subnet_ids", { value: this.publicSubnets.map((subnet) => subnet.id), description: "Public subnets: the NAT gateways' and, with chef.operatorAccess public-ssh, the workstation's" });
    new TerraformOutput(this, "private_subnet_ids", { value: this.privateSubnets.map((subnet) => subnet.id), description: "Private subnets: the Chef server's, Kafka's and Spark's" });
  }

  /**
   * SSM reached from inside the VPC, one network interface per private subnet: the bootstrap key
   * at each SSH login and the Chef keys no longer need the NAT gateway. With private DNS, SSM's
   * own name resolves to the endpoint for every instance in the VPC, so nothing else changes.
   */
  private addSsmEndpoint(region: string): void {
    const endpointSecurityGroup = securityGroup(this, "ssm-endpoint-security-group", {
      name: this.resourceName("ssm-endpoint"),
      vpcId: this.vpc.id,
      description: "SSM interface endpoint: HTTPS from the VPC",
    });
    new VpcSecurityGroupIngressRule(this, "ssm-endpoint-https-from-vpc", {
      securityGroupId: endpointSecurityGroup.id,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: this.vpc.cidrBlock,
      description: "HTTPS to SSM from instances in the VPC",
    });
    new VpcEndpoint(this, "ssm-endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${region}.ssm`,
      vpcEndpointType: "Interface",
      subnetIds: this.privateSubnets.map((subnet) => subnet.id),
      securityGroupIds: [endpointSecurityGroup.id],
      privateDnsEnabled: true,
      tags: { Name: this.resourceName("ssm") },
    });
  }

  /** Every accepted and rejected flow goes to CloudWatch Logs, for audits and debugging security groups. */
  private addFlowLogs(retentionInDays: number, region: string): void {
    const account = accountOf(this);
    const logGroupName = `/vpc/${this.resourceName("flow-logs")}`;
    const key = new PlatformKey(this, "flow-log-key", {
      alias: this.resourceName("flow-logs"),
      description: `Encryption of the ${logGroupName} log group`,
      deletionWindowInDays: 7,
    });
    const keyPolicy = key.allow([
      logGroupKeyStatement("CloudWatchLogsUsesKeyForFlowLogGroup", region, [`arn:${account.partition}:logs:${region}:${account.accountId}:log-group:${logGroupName}`]),
    ]);
    const logGroup = new CloudwatchLogGroup(this, "flow-log-group", {
      name: logGroupName,
      retentionInDays,
      kmsKeyId: key.arn,
      // CloudWatch Logs refuses a key whose policy does not let it in yet.
      dependsOn: [keyPolicy],
    });
    const trust = new DataAwsIamPolicyDocument(this, "flow-log-trust", {
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }],
          // Only this account's flow logs may use the role (confused-deputy protection).
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [account.accountId] }],
        },
      ],
    });
    const role = new IamRole(this, "flow-log-role", {
      name: this.resourceName("flow-logs"),
      assumeRolePolicy: trust.json,
    });
    const write = new DataAwsIamPolicyDocument(this, "flow-log-write", {
      statement: [
        {
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
          resources: [logGroup.arn, `${logGroup.arn}:*`],
        },
      ],
    });
    new IamRolePolicy(this, "flow-log-role-policy", { role: role.id, name: "write-flow-logs", policy: write.json });
    new FlowLog(this, "flow-log", {
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
    });
  }
}
