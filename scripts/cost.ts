/**
 * What the platform costs while it exists, counted from the Terraform JSON it synthesizes and
 * priced with scripts/prices.ts:
 *
 *   npm run cost                       # the estimate for your config, read as the app reads it
 *   npm run cost -- --kafka.nodes 5    # ... with flags on top
 *   npm run cost:page                  # writes docs/reference/cost.md (the defaults and each size key)
 *
 * test/cost.test.ts fails when the committed page or the README's figures differ from what this
 * computes, and when the platform synthesizes a resource type this file neither prices nor lists
 * as charged only by use.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "cdktf";
import { ConfigError } from "../config/ConfigError";
import { loadConfig, PROJECT_CONFIG_FILE } from "../config/loadConfig";
import type { PlatformConfig } from "../config/PlatformConfig";
import { buildPlatform } from "../stacks/buildPlatform";
import { skipTokenStackTraces } from "../synth/tokenStackTraces";
import { HOURS_PER_MONTH, INSTANCE_PRICES, PRICE_REGION, PRICES_READ, UNIT_PRICES } from "./prices";

const ROOT = join(__dirname, "..");
export const COST_PAGE = join(ROOT, "docs", "reference", "cost.md");
/** `npm run cost:page`: write the page instead of printing one config's estimate. */
const PAGE_FLAG = "--page";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** What the synthesized platform holds that has a price per hour or per month. */
export interface Usage {
  /** Instances by type. */
  readonly instances: Readonly<Record<string, number>>;
  /** gp3 storage: root volumes and data volumes. */
  readonly gp3GiB: number;
  readonly natGateways: number;
  /** Elastic IPs and instances given a public address at launch. */
  readonly publicIpv4: number;
  /** Elastic IPs alone: the account's Elastic IP quota counts these. */
  readonly elasticIps: number;
  /** Interface endpoints × the subnets (AZs) each has a network interface in. */
  readonly interfaceEndpointAzs: number;
  readonly flowLogs: number;
  readonly buckets: number;
  readonly vpcs: number;
  /** Customer-managed KMS keys: a flat monthly charge each, whether used or not. */
  readonly kmsKeys: number;
  /** Metrics the alarms read: one per plain alarm, one per metric a metric-math alarm queries. */
  readonly alarmMetrics: number;
  readonly dashboards: number;
}

/**
 * Resource types with no price of their own, or charged only by what flows through or is stored
 * (the usage table of the cost page lists those prices). A type in neither this list nor the
 * counting below stops the estimate: a new resource must be priced or placed here on purpose.
 */
export const UNPRICED_TYPES: ReadonlySet<string> = new Set([
  "aws_vpc",
  "aws_subnet",
  "aws_route",
  "aws_route_table",
  "aws_route_table_association",
  "aws_internet_gateway",
  "aws_default_security_group",
  "aws_security_group",
  "aws_vpc_security_group_ingress_rule",
  "aws_vpc_security_group_egress_rule",
  "aws_iam_role",
  "aws_iam_role_policy",
  "aws_iam_policy",
  "aws_iam_instance_profile",
  // No charge of its own (EC2 User Guide, "Connect using EC2 Instance Connect Endpoint"); the data
  // it carries across AZs is, and the workstation sits in the endpoint's AZ.
  "aws_ec2_instance_connect_endpoint",
  "aws_volume_attachment",
  "aws_cloudwatch_log_group",
  "aws_s3_bucket_lifecycle_configuration",
  "aws_s3_bucket_ownership_controls",
  "aws_s3_bucket_policy",
  "aws_s3_bucket_public_access_block",
  "aws_s3_bucket_server_side_encryption_configuration",
  "aws_s3_bucket_versioning",
  "aws_s3_bucket_logging",
  "aws_s3_object",
  "aws_ssm_parameter",
  "aws_kms_alias",
  "aws_kms_key_policy",
  // Charged per notification: the alarms' few mails a month fall in SNS's free 1,000.
  "aws_sns_topic",
  "aws_sns_topic_subscription",
  "terraform_data",
]);

/** What the estimate cannot price; the CLI prints its message alone. */
export class UnpricedError extends Error {}

function copies(resource: Json, where: string): number {
  if (resource.count === undefined) return 1;
  if (typeof resource.count !== "number") throw new UnpricedError(`${where}: count ${JSON.stringify(resource.count)} is not known at synth, so the estimate cannot count it`);
  return resource.count;
}

function gp3(size: unknown, type: unknown, where: string, resource: Json): number {
  if (type !== "gp3") throw new UnpricedError(`${where}: volume type ${String(type)} has no price in scripts/prices.ts (gp3 only)`);
  if ((resource.iops ?? 3000) > 3000 || (resource.throughput ?? 125) > 125) throw new UnpricedError(`${where}: IOPS or throughput above gp3's included baseline has no price in scripts/prices.ts`);
  if (typeof size !== "number") throw new UnpricedError(`${where}: volume size ${JSON.stringify(size)} is not a number`);
  return size;
}

/** Counts what the stacks' synthesized JSON holds; throws on anything it cannot price. */
export function usageOf(stacks: Readonly<Record<string, Json>>): Usage {
  const instances: Record<string, number> = {};
  let gp3GiB = 0;
  let natGateways = 0;
  let elasticIps = 0;
  let publicInstances = 0;
  let interfaceEndpointAzs = 0;
  let flowLogs = 0;
  let buckets = 0;
  let vpcs = 0;
  let kmsKeys = 0;
  let alarmMetrics = 0;
  let dashboards = 0;
  for (const [stackName, json] of Object.entries(stacks)) {
    for (const [type, byName] of Object.entries((json.resource ?? {}) as Record<string, Record<string, Json>>)) {
      for (const [name, resource] of Object.entries(byName)) {
        const where = `${stackName}: ${type}.${name}`;
        const n = copies(resource, where);
        switch (type) {
          case "aws_instance": {
            instances[resource.instance_type] = (instances[resource.instance_type] ?? 0) + n;
            const root = (Array.isArray(resource.root_block_device) ? resource.root_block_device[0] : resource.root_block_device) as Json | undefined;
            if (!root) throw new UnpricedError(`${where}: no root_block_device, so its root volume's size is unknown`);
            gp3GiB += n * gp3(root.volume_size, root.volume_type, where, root);
            if (resource.associate_public_ip_address === true) publicInstances += n;
            break;
          }
          case "aws_ebs_volume":
            gp3GiB += n * gp3(resource.size, resource.type, where, resource);
            break;
          case "aws_nat_gateway":
            natGateways += n;
            break;
          case "aws_eip":
            elasticIps += n;
            break;
          case "aws_vpc_endpoint":
            if (resource.vpc_endpoint_type === "Interface") interfaceEndpointAzs += n * (resource.subnet_ids as unknown[]).length;
            else if (resource.vpc_endpoint_type !== "Gateway") throw new UnpricedError(`${where}: endpoint type ${String(resource.vpc_endpoint_type)} has no price in scripts/prices.ts`);
            break;
          case "aws_flow_log":
            flowLogs += n;
            break;
          case "aws_s3_bucket":
            buckets += n;
            break;
          case "aws_vpc":
            vpcs += n;
            break;
          case "aws_kms_key":
            kmsKeys += n;
            break;
          case "aws_cloudwatch_metric_alarm": {
            const queries = (resource.metric_query ?? []) as Json[];
            alarmMetrics += n * (queries.length === 0 ? 1 : queries.filter((query) => query.metric !== undefined).length);
            break;
          }
          case "aws_cloudwatch_dashboard":
            dashboards += n;
            break;
          default:
            if (!UNPRICED_TYPES.has(type)) throw new UnpricedError(`${where}: scripts/cost.ts neither prices ${type} nor lists it as charged only by use (UNPRICED_TYPES)`);
        }
      }
    }
  }
  return { instances, gp3GiB, natGateways, publicIpv4: elasticIps + publicInstances, elasticIps, interfaceEndpointAzs, flowLogs, buckets, vpcs, kmsKeys, alarmMetrics, dashboards };
}

/** Synthesizes every stack of the platform for a config and counts it. */
export function usageOfConfig(config: PlatformConfig): Usage {
  const platform = buildPlatform(Testing.app(), config);
  const stacks: Record<string, Json> = {};
  for (const [name, stack] of Object.entries(platform)) stacks[name] = JSON.parse(Testing.synth(stack)) as Json;
  return usageOf(stacks);
}

export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  readonly unitPrice: string;
  readonly monthlyUsd: number;
}

export interface Estimate {
  readonly lines: readonly CostLine[];
  readonly monthlyUsd: number;
  readonly instanceCount: number;
  readonly vcpus: number;
}

export const usd = (value: number): string => `$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
/** A unit price as its source gives it, never fewer than two decimals: $0.50, $0.0208. */
export const rate = (value: number): string => `$${value.toFixed(Math.max(2, (String(value).split(".")[1] ?? "").length))}`;

function instancePrice(type: string) {
  const price = INSTANCE_PRICES[type];
  if (!price) throw new UnpricedError(`no price for instance type ${type} in scripts/prices.ts (priced: ${Object.keys(INSTANCE_PRICES).join(", ")})`);
  return price;
}

/** The monthly cost of what exists around the clock; usage-priced items are not in it. */
export function estimate(usage: Usage): Estimate {
  const lines: CostLine[] = [];
  const hourly = (item: string, count: number, unitUsd: number, unit: string): void => {
    if (count > 0) lines.push({ item, quantity: `${count} × ${HOURS_PER_MONTH} h`, unitPrice: `${rate(unitUsd)} per ${unit}`, monthlyUsd: count * unitUsd * HOURS_PER_MONTH });
  };
  let vcpus = 0;
  let instanceCount = 0;
  for (const [type, count] of Object.entries(usage.instances).sort(([a], [b]) => a.localeCompare(b))) {
    const price = instancePrice(type);
    hourly(`EC2 ${type}`, count, price.hourlyUsd, "instance-hour");
    vcpus += count * price.vcpus;
    instanceCount += count;
  }
  const gp3 = UNIT_PRICES.gp3GbMonth;
  lines.push({ item: "EBS gp3", quantity: `${usage.gp3GiB} GiB`, unitPrice: `${rate(gp3.usd)} per GB-month`, monthlyUsd: usage.gp3GiB * gp3.usd });
  hourly("NAT gateway", usage.natGateways, UNIT_PRICES.natGatewayHour.usd, "gateway-hour");
  hourly("public IPv4 address", usage.publicIpv4, UNIT_PRICES.publicIpv4Hour.usd, "address-hour");
  hourly("interface endpoint (per AZ)", usage.interfaceEndpointAzs, UNIT_PRICES.interfaceEndpointAzHour.usd, "endpoint-AZ-hour");
  const kms = UNIT_PRICES.kmsKeyMonth;
  if (usage.kmsKeys > 0) lines.push({ item: "KMS customer-managed key", quantity: `${usage.kmsKeys} keys`, unitPrice: `${rate(kms.usd)} per key-month`, monthlyUsd: usage.kmsKeys * kms.usd });
  const alarm = UNIT_PRICES.alarmMetricMonth;
  if (usage.alarmMetrics > 0) lines.push({ item: "CloudWatch alarms", quantity: `${usage.alarmMetrics} alarm metrics`, unitPrice: `${rate(alarm.usd)} per alarm metric-month`, monthlyUsd: usage.alarmMetrics * alarm.usd });
  const dashboard = UNIT_PRICES.dashboardMonth;
  if (usage.dashboards > 0) lines.push({ item: "CloudWatch dashboard", quantity: `${usage.dashboards} dashboard${usage.dashboards === 1 ? "" : "s"}`, unitPrice: `${rate(dashboard.usd)} per dashboard-month`, monthlyUsd: usage.dashboards * dashboard.usd });
  return { lines, monthlyUsd: lines.reduce((sum, line) => sum + line.monthlyUsd, 0), instanceCount, vcpus };
}

/** A config as the defaults plus flags, the way `npx tsx main.ts <flags>` builds it (no file, no environment). */
export function configFromFlags(argv: readonly string[]): PlatformConfig {
  return loadConfig({ argv, env: {} });
}

/** The settings the cost page shows, each as the flags that make it from the defaults. */
export const SIZE_CHANGES: ReadonlyArray<{ readonly flags: readonly string[]; readonly what: string }> = [
  { flags: ["--kafka.nodes", "5"], what: "2 more brokers (instance, 30 GiB root, data and ZooKeeper volumes)" },
  { flags: ["--kafka.instanceType", "m7i.xlarge"], what: "every broker one size up" },
  { flags: ["--kafka.dataVolumeGiB", "500"], what: "400 GiB more on each broker" },
  { flags: ["--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true"], what: "3 controller instances with their own volumes" },
  { flags: ["--spark.workers", "6"], what: "3 more workers (instance, 100 GiB root)" },
  { flags: ["--spark.workerInstanceType", "m7i.2xlarge"], what: "every worker one size up" },
  { flags: ["--network.natGateways", "perAz"], what: "a NAT gateway and its Elastic IP in every AZ" },
  {
    flags: ["--network.azCount", "2", "--network.publicSubnetCidrs", "10.0.0.0/24,10.0.1.0/24", "--network.privateSubnetCidrs", "10.0.16.0/20,10.0.32.0/20"],
    what: "two AZs: nothing priced changes while one NAT gateway serves them",
  },
  { flags: ["--network.interfaceEndpoints", "true"], what: "the SSM endpoint, one network interface per private subnet" },
  { flags: ["--chef.operatorAccess", "instance-connect-endpoint"], what: "no public address on the workstation; EC2 Instance Connect Endpoints cost nothing themselves" },
];

export const EXAMPLES = ["small", "default", "large"] as const;

const cell = (text: string): string => text.replace(/\|/g, "\\|");

function sizeRow(label: string, usage: Usage, cost: Estimate, base: Estimate | undefined, what: string): string {
  const change = base === undefined ? "" : cost.monthlyUsd === base.monthlyUsd ? "±$0.00" : `${cost.monthlyUsd > base.monthlyUsd ? "+" : "−"}${usd(Math.abs(cost.monthlyUsd - base.monthlyUsd))}`;
  return `| ${label} | ${cell(what)} | ${cost.instanceCount} | ${cost.vcpus} | ${usage.gp3GiB} | ${usage.natGateways} | ${usage.publicIpv4} | ${usd(cost.monthlyUsd)} | ${change} |`;
}

export function costPage(): string {
  const defaultConfig = configFromFlags([]);
  const defaults = usageOfConfig(defaultConfig);
  const base = estimate(defaults);
  const costLines = base.lines.map((line) => `| ${line.item} | ${line.quantity} | ${line.unitPrice} | ${usd(line.monthlyUsd)} |`);
  const header = ["| setting | what it adds | instances | vCPUs | gp3 GiB | NAT gateways | public IPv4 | a month | change |", "|---|---|---|---|---|---|---|---|---|"];
  const changes = SIZE_CHANGES.map(({ flags, what }) => {
    const usage = usageOfConfig(configFromFlags(flags));
    return sizeRow(`\`${flags.join(" ")}\``, usage, estimate(usage), base, what);
  });
  const examples = EXAMPLES.map((name) => {
    const usage = usageOfConfig(configFromFlags(["--config", join(ROOT, "examples", `${name}.json`)]));
    return sizeRow(`[examples/${name}.json](../../examples/${name}.json)`, usage, estimate(usage), base, "");
  });
  const byUse = [
    UNIT_PRICES.natGatewayGb,
    UNIT_PRICES.logsIngestGb,
    UNIT_PRICES.logsStorageGbMonth,
    UNIT_PRICES.customMetricMonth,
    UNIT_PRICES.s3StandardGbMonth,
    UNIT_PRICES.interfaceEndpointGb,
  ].map((price) => `| ${cell(price.unit)} | ${rate(price.usd)} |`);
  const sources = [
    ...Object.entries(INSTANCE_PRICES).map(([type, price]) => `| EC2 ${type} | ${rate(price.hourlyUsd)} per hour, ${price.vcpus} vCPUs | ${cell(price.source)} |`),
    ...Object.values(UNIT_PRICES).map((price) => `| ${cell(price.unit)} | ${rate(price.usd)} | ${cell(price.source)} |`),
  ];
  return [
    "# Cost, quotas and time",
    "",
    "<!-- Generated by `npm run cost:page` from the synthesized platform and scripts/prices.ts; edit those, not this page. -->",
    "",
    `**An estimate for one region, not a quote.** The figures are On-Demand list prices for **${PRICE_REGION}** as public sources gave them on ${PRICES_READ} (each named below), multiplied by what the Terraform JSON holds, ${HOURS_PER_MONTH} hours a month, before tax, credits, Savings Plans or the free tier. AWS changes its prices and prices every region on its own: the default config deploys to **${defaultConfig.region}**, whose prices this project has not read. Check the AWS pricing pages for your region before relying on a figure. \`npm run cost\` prints the estimate for your own settings (it reads \`${PROJECT_CONFIG_FILE}\`, \`PLATFORM_*\` variables and flags as the app does: \`npm run cost -- --kafka.nodes 5\`).`,
    "",
    `## The default platform: ${usd(base.monthlyUsd)} a month`,
    "",
    "What exists around the clock once deployed, counted from the synthesized stacks:",
    "",
    "| item | quantity | unit price | a month |",
    "|---|---|---|---|",
    ...costLines,
    `| **total** | | | **${usd(base.monthlyUsd)}** |`,
    "",
    "Not in the total, because they grow with use (same region and sources):",
    "",
    "| charged per | price |",
    "|---|---|",
    ...byUse,
    "",
    `The flow logs are kept ${defaultConfig.network.flowLogRetentionDays} days (\`network.flowLogRetentionDays\`), which bounds what they store; the services' and setup scripts' logs ${defaultConfig.monitoring.logRetentionDays} days (\`monitoring.logRetentionDays\`). The nodes' CloudWatch agent publishes custom metrics, charged per metric-month whether or not anything reads them: [monitoring.md](../monitoring.md#cost) counts them for the default platform. The data bucket's access logs are kept ${defaultConfig.storage.accessLogExpirationDays} days (\`storage.accessLogExpirationDays\`): one line, a few hundred bytes, per request to the bucket, negligible beside the data. Also charged by use and not priced here: data sent out to the internet, S3 requests, KMS requests for the bucket's encryption, and CloudWatch Logs Insights queries. The S3 gateway endpoint keeps the nodes' S3 traffic off the NAT gateway. Stopping instances stops their hourly charge; volumes, the NAT gateway and its Elastic IP are charged until destroyed.`,
    "",
    "## What each size key changes",
    "",
    "Each row is the default config with one change, synthesized and priced like the default:",
    "",
    ...header,
    sizeRow("(defaults)", defaults, base, undefined, ""),
    ...changes,
    "",
    "The example configs, against the defaults:",
    "",
    ...header,
    ...examples,
    "",
    "Instance types are priced only when scripts/prices.ts has them: any other type makes the estimate fail naming it.",
    "",
    "## Quotas",
    "",
    `- **vCPUs**: the default runs ${base.vcpus} vCPUs of standard On-Demand instances, counted against the account's "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" quota in the region, beside whatever already runs there; the tables above give the count for each change.`,
    `- **Elastic IPs**: ${defaults.elasticIps} (the NAT gateway's; one per AZ with \`perAz\`). The workstation's public address is not an Elastic IP.`,
    `- **VPCs**: ${defaults.vpcs}, with ${defaults.flowLogs} flow log and ${defaults.buckets} S3 bucket${defaults.buckets === 1 ? "" : "s"} (the data bucket and its access log bucket, whose logs cost storage only: S3 charges nothing to deliver them).`,
    "",
    "## Time",
    "",
    "Synth takes seconds and needs no AWS account. How long a deploy takes on AWS has not been measured by this project: no deploy's timings have been recorded. The scripts' own waits bound some steps; [deploy.md](../deploy.md#waiting-until-the-software-is-ready) lists them. Resources are charged from the moment they are created, whether or not the deploy finishes.",
    "",
    "## Sources",
    "",
    `Read ${PRICES_READ}. "Derived" marks a figure computed from sourced ones, stated with the rule it uses.`,
    "",
    "| price | figure | source |",
    "|---|---|---|",
    ...sources,
    "",
  ].join("\n");
}

/** The estimate for one config, as `npm run cost -- <flags>` prints it. */
export function estimateText(config: PlatformConfig): string {
  const cost = estimate(usageOfConfig(config));
  return [
    `${config.region} config priced at ${PRICE_REGION} On-Demand list prices read ${PRICES_READ} (scripts/prices.ts); an estimate, not a quote:`,
    ...cost.lines.map((line) => `  ${line.item.padEnd(30)} ${line.quantity.padEnd(14)} ${line.unitPrice.padEnd(36)} ${usd(line.monthlyUsd).padStart(10)}`),
    `  ${"total a month".padEnd(82)} ${usd(cost.monthlyUsd).padStart(10)}`,
    `  ${cost.instanceCount} instances, ${cost.vcpus} vCPUs; usage charges (NAT and endpoint GB, logs, S3) not included`,
  ].join("\n");
}

if (require.main === module) {
  skipTokenStackTraces();
  const argv = process.argv.slice(2);
  if (argv[0] === PAGE_FLAG) {
    writeFileSync(COST_PAGE, costPage());
    console.log("wrote docs/reference/cost.md");
  } else {
    try {
      console.log(estimateText(loadConfig({ argv, env: process.env, projectFile: join(ROOT, PROJECT_CONFIG_FILE) })));
    } catch (error) {
      if (error instanceof ConfigError) for (const problem of error.problems) console.error(`config error: ${problem}`);
      else if (error instanceof UnpricedError) console.error(`cost: ${error.message}`);
      else throw error;
      process.exitCode = 1;
    }
  }
}
