import { TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { allowInternetEgress, allowTcp, securityGroup } from "../constructs/securityGroupRules";
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
  allowInternetEgress(stack, "egress", brokers);
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
      depends_on: ["aws_vpc_security_group_egress_rule.one-port-egress"],
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

  const egress = (json: Json, name: string): Json => resourceNamed(json, "aws_vpc_security_group_egress_rule", name);

  it("lets the group out to the internet on TCP 443 and 80 only, saying why", () => {
    const json = rulesJson();
    expect(egress(json, "egress-https")).toEqual({
      security_group_id: "${aws_security_group.brokers.id}",
      ip_protocol: "tcp",
      from_port: 443,
      to_port: 443,
      cidr_ipv4: "0.0.0.0/0",
      description: "HTTPS out: AWS APIs, Apache and Maven downloads, Chef packages",
    });
    expect(egress(json, "egress-http")).toEqual({
      security_group_id: "${aws_security_group.brokers.id}",
      ip_protocol: "tcp",
      from_port: 80,
      to_port: 80,
      cidr_ipv4: "0.0.0.0/0",
      description: "HTTP out: Ubuntu apt mirrors",
    });
    const toInternet = Object.values(json.resource.aws_vpc_security_group_egress_rule as Record<string, Json>).filter((rule) => rule.cidr_ipv4 !== undefined);
    expect(toInternet.map((rule) => rule.from_port).sort()).toEqual([443, 80]);
  });

  it("gives the source group the matching egress to the target group, same ports, when the platform owns the source", () => {
    const json = rulesJson();
    expect(egress(json, "one-port-egress")).toEqual({
      security_group_id: "${aws_security_group.clients.id}",
      ip_protocol: "tcp",
      from_port: 9092,
      to_port: 9092,
      referenced_security_group_id: "${aws_security_group.brokers.id}",
      description: "Kafka from Spark (outbound side)",
    });
    expect(egress(json, "a-range-egress")).toMatchObject({
      security_group_id: "${aws_security_group.brokers.id}",
      from_port: 7077,
      to_port: 7098,
      referenced_security_group_id: "${aws_security_group.brokers.id}",
    });
  });

  it("leaves the egress of a group named by its id to its owner, and makes each ingress rule wait for its egress", () => {
    const json = rulesJson();
    const egressRules = json.resource.aws_vpc_security_group_egress_rule as Record<string, Json>;
    expect(Object.keys(egressRules).filter((name) => name.startsWith("by-id"))).toEqual([]);
    expect(rule(json, "by-id").depends_on).toBeUndefined();
    expect(rule(json, "one-port").depends_on).toEqual(["aws_vpc_security_group_egress_rule.one-port-egress"]);
  });
});
