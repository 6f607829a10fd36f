import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { App } from "cdktf";
import { buildPlatform } from "../stacks/buildPlatform";
import { NetworkStack } from "../stacks/NetworkStack";
import { configFrom, resourceNamed, resourcesOf, synthJson, testApp, type Json } from "./helpers";

describe("NetworkStack", () => {
  const json = synthJson(new NetworkStack(testApp(), "network", { config: configFrom() }));

  it("matches the committed snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  it("turns on DNS support and hostnames (the Chef server certificate names its private DNS)", () => {
    const vpc = resourceNamed(json, "aws_vpc", "vpc");
    expect(vpc).toMatchObject({ cidr_block: "10.0.0.0/16", enable_dns_support: true, enable_dns_hostnames: true });
  });

  it("spreads one public and one private subnet over each of three AZs by default, none assigning public IPs", () => {
    const subnets = Object.values(resourcesOf(json, "aws_subnet"));
    expect(subnets.map((s) => s.cidr_block).sort()).toEqual(["10.0.0.0/24", "10.0.1.0/24", "10.0.16.0/20", "10.0.2.0/24", "10.0.32.0/20", "10.0.48.0/20"]);
    expect(subnets.every((s) => s.map_public_ip_on_launch === false)).toBe(true);
    for (const index of [0, 1, 2]) {
      expect(resourceNamed(json, "aws_subnet", `private-subnet-${index}`).availability_zone).toBe(`\${element(data.aws_availability_zones.zones.names, ${index})}`);
    }
  });

  it("fails the plan once, naming network.azCount, when the region offers fewer AZs than the config asks for (element() would wrap around)", () => {
    const zones = json.data.aws_availability_zones.zones;
    expect(zones.lifecycle.postcondition).toEqual([
      {
        condition: "${length(self.names) >= 3}",
        error_message:
          "The config sets network.azCount to 3, but us-west-2 offers this account fewer availability zones without opt-in. Set network.azCount and the subnet lists to what the region offers.",
      },
    ]);
    // One check, on the list every subnet reads: no copy of it on each subnet.
    expect(JSON.stringify(json).match(/offers this account fewer availability zones/g)).toHaveLength(1);
    for (const subnet of Object.values(resourcesOf(json, "aws_subnet"))) expect(subnet.lifecycle.precondition).toBeUndefined();
    const twoZones = synthJson(
      new NetworkStack(testApp(), "network", {
        config: configFrom("--network.azCount", "2", "--network.publicSubnetCidrs", "10.0.0.0/24,10.0.1.0/24", "--network.privateSubnetCidrs", "10.0.16.0/20,10.0.32.0/20"),
      }),
    );
    expect(twoZones.data.aws_availability_zones.zones.lifecycle.postcondition[0].condition).toBe("${length(self.names) >= 2}");
  });

  it("keeps every subnet, and the nodes and Kafka volumes in it, in the AZ it was created in when the region's list of AZs changes", () => {
    // The list does not follow AZ health: an impaired AZ leaving it would shift every later subnet.
    expect(json.data.aws_availability_zones.zones.state).toBeUndefined();
    expect(json.data.aws_availability_zones.zones.filter).toEqual([{ name: "opt-in-status", values: ["opt-in-not-required"] }]);
    const subnets = Object.entries(resourcesOf(json, "aws_subnet"));
    expect(subnets).toHaveLength(6);
    for (const [, subnet] of subnets) expect(subnet.lifecycle.ignore_changes).toEqual(["availability_zone"]);
  });

  it("adds no interface endpoint by default", () => {
    expect(Object.keys(resourcesOf(json, "aws_vpc_endpoint"))).toEqual(["s3-endpoint"]);
  });

  it("reaches SSM through an interface endpoint in every private subnet when network.interfaceEndpoints is set, open to the VPC on 443 only", () => {
    const withEndpoints = synthJson(new NetworkStack(testApp(), "network", { config: configFrom("--network.interfaceEndpoints", "true") }));
    const endpoint = resourceNamed(withEndpoints, "aws_vpc_endpoint", "ssm-endpoint");
    expect(endpoint).toMatchObject({ service_name: "com.amazonaws.us-west-2.ssm", vpc_endpoint_type: "Interface", private_dns_enabled: true });
    expect(endpoint.subnet_ids).toEqual([0, 1, 2].map((index) => `\${aws_subnet.private-subnet-${index}.id}`));
    expect(endpoint.security_group_ids).toEqual(["${aws_security_group.ssm-endpoint-security-group.id}"]);
    const rules = Object.values(resourcesOf(withEndpoints, "aws_vpc_security_group_ingress_rule")).filter(
      (rule) => rule.security_group_id === "${aws_security_group.ssm-endpoint-security-group.id}",
    );
    expect(rules).toEqual([expect.objectContaining({ ip_protocol: "tcp", from_port: 443, to_port: 443, cidr_ipv4: "${aws_vpc.vpc.cidr_block}" })]);
  });

  it("uses one NAT gateway with one EIP by default, for every private route table", () => {
    expect(Object.keys(resourcesOf(json, "aws_nat_gateway"))).toEqual(["nat-gateway-0"]);
    expect(Object.keys(resourcesOf(json, "aws_eip"))).toEqual(["nat-eip-0"]);
    for (const index of [0, 1, 2]) {
      expect(resourceNamed(json, "aws_route", `private-default-route-${index}`)).toMatchObject({
        destination_cidr_block: "0.0.0.0/0",
        nat_gateway_id: "${aws_nat_gateway.nat-gateway-0.id}",
      });
    }
  });

  it("gives each AZ its own NAT gateway when natGateways is perAz", () => {
    const perAz = synthJson(new NetworkStack(testApp(), "network", { config: configFrom("--network.natGateways", "perAz") }));
    expect(Object.keys(resourcesOf(perAz, "aws_nat_gateway"))).toEqual(["nat-gateway-0", "nat-gateway-1", "nat-gateway-2"]);
    expect(resourceNamed(perAz, "aws_route", "private-default-route-1").nat_gateway_id).toBe("${aws_nat_gateway.nat-gateway-1.id}");
  });

  it("routes public subnets through the internet gateway", () => {
    expect(resourceNamed(json, "aws_route", "public-default-route")).toMatchObject({
      destination_cidr_block: "0.0.0.0/0",
      gateway_id: "${aws_internet_gateway.internet-gateway.id}",
    });
  });

  it("reaches S3 through a gateway endpoint on every route table", () => {
    const endpoint = resourceNamed(json, "aws_vpc_endpoint", "s3-endpoint");
    expect(endpoint).toMatchObject({ service_name: "com.amazonaws.us-west-2.s3", vpc_endpoint_type: "Gateway" });
    expect(endpoint.route_table_ids).toHaveLength(4);
  });

  it("leaves the default security group with no rules", () => {
    expect(resourceNamed(json, "aws_default_security_group", "default-security-group")).toMatchObject({ ingress: [], egress: [] });
  });

  it("sends all VPC flow logs to a log group with the configured retention", () => {
    expect(resourceNamed(json, "aws_flow_log", "flow-log")).toMatchObject({
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
    });
    expect(resourceNamed(json, "aws_cloudwatch_log_group", "flow-log-group").retention_in_days).toBe(365);
    expect(json.data.aws_iam_policy_document["flow-log-trust"].statement[0].condition).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: ["${data.aws_caller_identity.account.account_id}"] },
    ]);
  });

  it("tags every resource through the provider's default tags", () => {
    expect(json.provider.aws[0].default_tags[0].tags).toEqual({ Project: "insight", Environment: "dev", ManagedBy: "cdktf" });
  });

  it("keeps the flow logs for the configured days under the flow-log key, 365 by default", () => {
    const group = resourceNamed(json, "aws_cloudwatch_log_group", "flow-log-group");
    expect(group.kms_key_id).toMatch(/^\$\{aws_kms_key\.flow-log-key_[0-9A-F]{8}\.arn\}$/);
    const longer = synthJson(new NetworkStack(testApp(), "network", { config: configFrom("--network.flowLogRetentionDays", "731") }));
    expect(resourceNamed(longer, "aws_cloudwatch_log_group", "flow-log-group").retention_in_days).toBe(731);
  });

  it("creates the workstation's security group with internet egress on TCP 443 and 80 only, and no way in yet", () => {
    expect(resourceNamed(json, "aws_security_group", "workstation-security-group").name).toBe("insight-dev-workstation");
    expect(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).toEqual({});
    const egress = Object.values(resourcesOf(json, "aws_vpc_security_group_egress_rule"));
    expect(egress.map((rule) => [rule.security_group_id, rule.ip_protocol, rule.from_port, rule.to_port, rule.cidr_ipv4])).toEqual([
      ["${aws_security_group.workstation-security-group.id}", "tcp", 80, 80, "0.0.0.0/0"],
      ["${aws_security_group.workstation-security-group.id}", "tcp", 443, 443, "0.0.0.0/0"],
    ]);
  });

  it("outputs the VPC and subnet ids for later stacks", () => {
    expect(Object.keys(json.output).sort()).toEqual(["private_subnet_ids", "public_subnet_ids", "vpc_id"]);
  });

  it("keeps local state at a path relative to the stack's directory, so JSON synthesized in one checkout applies in another", () => {
    const outdir = mkdtempSync(join(tmpdir(), "synth-"));
    const app = new App({ outdir, stackTraces: false });
    buildPlatform(app, configFrom());
    app.synth();
    for (const stack of ["network", "storage", "chef", "spark", "kafka", "monitoring"]) {
      const text = readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8");
      expect(text).not.toContain(process.cwd());
      expect(text).not.toContain(outdir);
      const own = (JSON.parse(text) as Json).terraform.backend.local.path as string;
      // Terraform runs in cdktf.out/stacks/<stack>: the state lands in the project's root.
      expect(resolve(outdir, "stacks", stack, own)).toBe(resolve(outdir, "..", `terraform.${stack}.tfstate`));
    }
    // A stack reading another's outputs finds that stack's state from its own directory.
    const kafka = JSON.parse(readFileSync(join(outdir, "stacks", "kafka", "cdk.tf.json"), "utf8")) as Json;
    const chefState = kafka.data.terraform_remote_state["cross-stack-reference-input-chef"].config.path as string;
    expect(resolve(outdir, "stacks", "kafka", chefState)).toBe(resolve(outdir, "..", "terraform.chef.tfstate"));
  });

  it("keeps state in an S3 bucket with native locking when state.bucket is set", () => {
    const shared = synthJson(new NetworkStack(testApp(), "network", { config: configFrom("--state.bucket", "acme-tf-state") }));
    expect(shared.terraform.backend.local).toBeUndefined();
    expect(shared.terraform.backend.s3).toEqual({
      bucket: "acme-tf-state",
      key: "insight/dev/network.tfstate",
      region: "us-west-2",
      encrypt: true,
      use_lockfile: true,
    });
  });
});
