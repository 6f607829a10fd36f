import { TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { allowAllEgress, allowTcp, securityGroup } from "../constructs/securityGroupRules";
import { resourceNamed, synthJson, testApp, type Json } from "./helpers";

/** A stack with two groups and the rules the stacks use between them, synthesized. */
function rulesJson(): Json {
  const stack = new TerraformStack(testApp(), "rules");
  new AwsProvider(stack, "aws", { region: "us-west-2" });
  const brokers = securityGroup(stack, "brokers", { name: "insight-dev-kafka", vpcId: "vpc-1", description: "Kafka brokers" });
  const clients = securityGroup(stack, "clients", { name: "insight-dev-spark", vpcId: "vpc-1", description: "Spark nodes" });
  allowTcp(stack, "one-port", brokers, { port: 9092, from: clients, description: "Kafka from Spark" });
  allowTcp(stack, "a-range", brokers, { port: 7077, toPort: 7098, from: brokers, description: "members among themselves" });
  allowTcp(stack, "by-id", brokers, { port: 9092, from: "sg-0123456789abcdef0", description: "another client group" });
  allowAllEgress(stack, "egress", brokers);
  return synthJson(stack);
}

describe("security group rules", () => {
  const rule = (json: Json, name: string): Json => resourceNamed(json, "aws_vpc_security_group_ingress_rule", name);

  it("makes groups with no inline rules, named and tagged, that revoke their rules before deletion", () => {
    const group = resourceNamed(rulesJson(), "aws_security_group", "brokers");
    expect(group).toEqual({
      name: "insight-dev-kafka",
      vpc_id: "vpc-1",
      description: "Kafka brokers",
      revoke_rules_on_delete: true,
      tags: { Name: "insight-dev-kafka" },
    });
  });

  it("opens one TCP port to another group: from and to are that port", () => {
    expect(rule(rulesJson(), "one-port")).toEqual({
      security_group_id: "${aws_security_group.brokers.id}",
      ip_protocol: "tcp",
      from_port: 9092,
      to_port: 9092,
      referenced_security_group_id: "${aws_security_group.clients.id}",
      description: "Kafka from Spark",
    });
  });

  it("opens a range to the group's own members, and takes a group by its id", () => {
    const json = rulesJson();
    expect(rule(json, "a-range")).toMatchObject({ from_port: 7077, to_port: 7098, referenced_security_group_id: "${aws_security_group.brokers.id}" });
    expect(rule(json, "by-id")).toMatchObject({ from_port: 9092, to_port: 9092, referenced_security_group_id: "sg-0123456789abcdef0" });
  });

  it("never opens a rule to a CIDR: ingress always names a group", () => {
    const json = rulesJson();
    for (const name of ["one-port", "a-range", "by-id"]) {
      expect(rule(json, name).cidr_ipv4).toBeUndefined();
      expect(rule(json, name).cidr_ipv6).toBeUndefined();
    }
  });

  it("lets the group out to anywhere over every protocol, saying why", () => {
    expect(resourceNamed(rulesJson(), "aws_vpc_security_group_egress_rule", "egress")).toEqual({
      security_group_id: "${aws_security_group.brokers.id}",
      ip_protocol: "-1",
      cidr_ipv4: "0.0.0.0/0",
      description: "all outbound (NAT for private subnets)",
    });
  });
});
