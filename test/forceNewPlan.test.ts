import { changed, forceNewCases, forceNewConfig, forceNewState, judgeCases, plannedActions } from "../validate/forceNewPlan";

describe("validate's force-new plan", () => {
  const platform = {
    network: {
      resource: {
        aws_subnet: { private: { vpc_id: "${aws_vpc.vpc.id}", cidr_block: "10.0.1.0/24", tags: { Name: "private" }, lifecycle: { ignore_changes: ["tags"] } } },
        null_resource: { old: { triggers: { a: "b" } } },
      },
    },
  };

  it("changes each argument the platform sets on a copy, expecting what the review's table says, beside an unchanged control", () => {
    const { cases } = forceNewCases([platform]);
    const byPath = Object.fromEntries(cases.map((entry) => [entry.path, entry]));
    expect(Object.keys(byPath).sort()).toEqual(["(unchanged)", "cidr_block", "ipv6_native", "tags", "vpc_id"]);
    expect(byPath["(unchanged)"].expected).toBe("kept");
    expect(byPath.cidr_block).toMatchObject({ expected: "replace", after: { cidr_block: "10.1.1.0/24" } });
    expect(byPath.vpc_id).toMatchObject({ expected: "replace", before: { vpc_id: "vpc-0123456789abcdef0" }, after: { vpc_id: "vpc-0123456789abcdef1" } });
    expect(byPath.tags).toMatchObject({ expected: "update", after: { tags: { Name: "private", ChangedBy: "review-check" } } });
    // The plan asks the provider, not the lifecycle: ignore_changes is the stack's, not the schema's.
    expect(byPath.tags.after.lifecycle).toBeUndefined();
  });

  it("writes state Terraform reads without a refresh: provider defaults filled, blocks as lists, tags_all as tags", () => {
    const { cases } = forceNewCases([platform]);
    const [control] = forceNewState(cases).resources;
    expect(control).toMatchObject({ mode: "managed", type: "aws_subnet", provider: 'provider["registry.terraform.io/hashicorp/aws"]' });
    expect(control.instances[0]).toMatchObject({ schema_version: 1, attributes: { ipv6_native: false, tags_all: { Name: "private" }, cidr_block: "10.0.1.0/24" } });
    const provider = forceNewConfig(cases, "5.100.0").provider.aws;
    expect(provider.endpoints[0].ec2).toBe("http://127.0.0.1:1");
    expect(provider).toMatchObject({ skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true });
  });

  it("keeps an alarm's dimensions a map in state, as the provider's schema reads it, and an SNS topic's fifo default", () => {
    const alarms = { monitoring: { resource: { aws_cloudwatch_metric_alarm: { disk: { alarm_name: "disk", dimensions: { InstanceId: "${aws_instance.n.id}", path: "/" } } }, aws_sns_topic: { alarms: { name: "alarms" } } } } };
    const { cases } = forceNewCases([alarms]);
    const state = forceNewState(cases).resources.filter((resource: { type: string }) => resource.type === "aws_cloudwatch_metric_alarm");
    expect(state.length).toBeGreaterThan(0);
    for (const resource of state) expect(Array.isArray(resource.instances[0].attributes.dimensions)).toBe(false);
    expect(state[0].instances[0].attributes.dimensions).toEqual({ InstanceId: "placeholder", path: "/" });
    const topic = forceNewState(cases).resources.find((resource: { type: string }) => resource.type === "aws_sns_topic");
    expect(topic.instances[0].attributes.fifo_topic).toBe(false);
  });

  it("knows other valid values: versioning is suspended, a lifecycle rule disabled, a CIDR moved", () => {
    expect(changed("versioning_configuration.status", "Enabled")).toBe("Suspended");
    expect(changed("rule.status", "Enabled")).toBe("Disabled");
    expect(changed("cidr_ipv4", "0.0.0.0/0")).toBe("10.0.0.0/8");
    expect(changed("ingress", [])).toBeUndefined();
  });

  it("fails a case the plan contradicts, naming what Terraform planned", () => {
    const { cases } = forceNewCases([platform]);
    const stream = cases.map((entry) => JSON.stringify({ type: "planned_change", change: { resource: { addr: entry.address }, action: entry.path === "cidr_block" ? "update" : entry.expected === "kept" ? "update" : entry.expected } })).join("\n");
    const failed = judgeCases(cases, plannedActions(stream)).filter((result) => !result.ok);
    expect(failed).toEqual([{ what: expect.stringContaining("aws_subnet.cidr_block (network/private): the review says replaced"), ok: false, detail: "terraform plans update" }]);
  });
});
