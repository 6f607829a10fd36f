/**
 * The cost estimate: counted from the synthesized stacks, priced from scripts/prices.ts, and the
 * figures the docs show are the ones it computes, so a change to the platform or a price cannot
 * leave them stale.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COST_PAGE, configFromFlags, costPage, estimate, rate, usageOf, usageOfConfig, usd, type Usage } from "../../scripts/cost";
import { INSTANCE_PRICES, PRICE_REGION, PRICES_READ, UNIT_PRICES } from "../../scripts/prices";
import { skipTokenStackTraces } from "../../synth/tokenStackTraces";

// As the app and the script run: the page synthesizes thirteen configs.
skipTokenStackTraces();

const README = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
const NONE: Usage = { instances: {}, gp3GiB: 0, natGateways: 0, publicIpv4: 0, elasticIps: 0, interfaceEndpointAzs: 0, flowLogs: 0, buckets: 0, vpcs: 0, kmsKeys: 0, alarmMetrics: 0, dashboards: 0 };

describe("the cost estimate", () => {
  const defaults = usageOfConfig(configFromFlags([]));

  it("counts the default platform from its synthesized stacks", () => {
    expect(defaults).toEqual({
      instances: { "t3.xlarge": 1, "t3.small": 1, "m7i.large": 4, "m7i.xlarge": 3 },
      // Roots 50 + 20 + 3×30 + 30 + 3×100, Kafka data 3×100, the ZooKeeper members' own 3×10.
      gp3GiB: 820,
      natGateways: 1,
      publicIpv4: 2,
      elasticIps: 1,
      interfaceEndpointAzs: 0,
      flowLogs: 1,
      // The data bucket and its access log bucket.
      buckets: 2,
      vpcs: 1,
      // The data bucket's, the flow-log group's, the Chef admin key's and the Spark secret's, the
      // service logs' of the chef, spark and kafka stacks, and the alarm topic's.
      kmsKeys: 8,
      // 31 alarms on one metric each; active controllers 1, ZooKeeper quorum 3, Chef server 2.
      alarmMetrics: 37,
      dashboards: 1,
    });
    const cost = estimate(defaults);
    expect({ instances: cost.instanceCount, vcpus: cost.vcpus }).toEqual({ instances: 9, vcpus: 26 });
    // 730 h × (0.1664 + 0.0208 + 4×0.1008 + 3×0.2016 + 0.045 + 2×0.005) + 820 × 0.08 + 8 keys × 1.00
    // + 37 alarm metrics × 0.10 + 1 dashboard × 3.00
    expect(cost.monthlyUsd).toBeCloseTo(992.946, 6);
  });

  it("moves with each size key", () => {
    const changed = (...flags: string[]): Usage => usageOfConfig(configFromFlags(flags));
    // Each broker: its root, its data volume and its ZooKeeper volume (every broker has one in ZooKeeper mode).
    expect(changed("--kafka.nodes", "5")).toMatchObject({ instances: { "m7i.large": 6 }, gp3GiB: 820 + 2 * (30 + 100 + 10) });
    expect(changed("--kafka.dataVolumeGiB", "500")).toMatchObject({ gp3GiB: 820 + 3 * 400 });
    expect(changed("--spark.workers", "6")).toMatchObject({ instances: { "m7i.xlarge": 6 }, gp3GiB: 820 + 3 * 100 });
    expect(changed("--network.natGateways", "perAz")).toMatchObject({ natGateways: 3, elasticIps: 3, publicIpv4: 4 });
    expect(changed("--network.interfaceEndpoints", "true")).toMatchObject({ interfaceEndpointAzs: 3 });
  });

  it("refuses a synthesized resource type it neither prices nor lists as charged only by use", () => {
    const stacks = { network: { resource: { aws_lb: { front: {} } } } };
    expect(() => usageOf(stacks)).toThrow("network: aws_lb.front: scripts/cost.ts neither prices aws_lb");
  });

  it("refuses what it has no price for: an instance type, a volume type, IOPS above gp3's baseline", () => {
    expect(() => estimate({ ...NONE, instances: { "c7i.large": 1 } })).toThrow("no price for instance type c7i.large");
    const instance = (root: Record<string, unknown>) => ({ kafka: { resource: { aws_instance: { node: { instance_type: "m7i.large", root_block_device: root } } } } });
    expect(() => usageOf(instance({ volume_size: 30, volume_type: "io2" }))).toThrow("volume type io2 has no price");
    expect(() => usageOf(instance({ volume_size: 30, volume_type: "gp3", iops: 6000 }))).toThrow("above gp3's included baseline");
    expect(usageOf(instance({ volume_size: 30, volume_type: "gp3" }))).toMatchObject({ instances: { "m7i.large": 1 }, gp3GiB: 30 });
  });

  it("names a source for every price", () => {
    for (const price of [...Object.values(INSTANCE_PRICES), ...Object.values(UNIT_PRICES)]) expect(price.source).toMatch(/\S{10}/);
    expect(rate(0.5)).toBe("$0.50");
    expect(rate(0.0208)).toBe("$0.0208");
  });
});

describe("the documented cost", () => {
  it("docs/reference/cost.md is what npm run cost:page writes today", () => {
    // Stale after a change to the platform or to scripts/prices.ts: run npm run cost:page.
    expect(readFileSync(COST_PAGE, "utf8")).toBe(costPage());
  });

  it("says plainly it is an estimate for one region, the region, and the date the prices were read", () => {
    const page = readFileSync(COST_PAGE, "utf8");
    expect(page).toContain("An estimate for one region, not a quote");
    expect(page).toContain(`for **${PRICE_REGION}**`);
    expect(page).toContain(PRICES_READ);
    expect(page).toContain("has not been measured");
  });

  it("the README's figures are the estimate of the default config", () => {
    const section = README.slice(README.indexOf("## Cost, time and quotas"), README.indexOf("## Prerequisites"));
    const usage = usageOfConfig(configFromFlags([]));
    const cost = estimate(usage);
    const text = section.replace(/\s+/g, " ");
    expect(text).toContain(`runs ${cost.instanceCount} instances (${cost.vcpus} vCPUs), ${usage.gp3GiB} GiB of gp3 volumes, ${usage.natGateways} NAT gateway and ${usage.publicIpv4} public IPv4 addresses`);
    expect(text).toContain(`about **${usd(cost.monthlyUsd)} a month** (730 h) at ${PRICE_REGION} On-Demand list prices read ${PRICES_READ}`);
    expect(text).toContain(`the ${cost.vcpus} vCPUs count against`);
    expect(text).toContain(`${usage.elasticIps} Elastic IP (\`perAz\`: one per AZ)`);
    expect(text).toContain("an estimate for one region, not a quote");
    expect(README).toContain("](docs/reference/cost.md)");
  });
});
