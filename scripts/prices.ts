/**
 * The list prices the cost estimate (scripts/cost.ts) multiplies the synthesized platform by:
 * On-Demand, Linux, USD, before tax, credits or discounts, for one region. Every figure names
 * where it was read. AWS changes prices and prices each region on its own: a figure here is a
 * reading of a public source on PRICES_READ, not a quote.
 */

/** The region the figures are for. The default config deploys to us-west-2: see the cost page. */
export const PRICE_REGION = "us-east-1";
/** When the sources below were read. */
export const PRICES_READ = "2026-12-05";
/** The month AWS's own estimates use (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

// AWS's own published material. Their notes say: us-east-1 list prices, approximate, as of early 2026.
const AWS_TOOLKIT = "aws/agent-toolkit-for-aws (commit d6ad2e44, 2026-08-20), skills/core-skills/aws-billing-and-cost-management/references";
// AWS's sample cost-optimization server: the fallback prices it uses when the Price List API does not answer.
const AWS_SAMPLE = "aws-samples/sample-cfm-tips-mcp (commit dcf19f1e, 2026-03-20)";

// AWS's CloudWatch pricing page, US East (N. Virginia), paid tier (the free tier is left out, as everywhere here).
const CLOUDWATCH_PRICING = "https://aws.amazon.com/cloudwatch/pricing/ (US East (N. Virginia))";

export interface InstancePrice {
  readonly hourlyUsd: number;
  /** What the account's On-Demand vCPU quota counts. */
  readonly vcpus: number;
  readonly source: string;
}

/** Instance types the estimate can price; any other makes it fail, naming the type. */
export const INSTANCE_PRICES: Readonly<Record<string, InstancePrice>> = {
  "t3.small": { hourlyUsd: 0.0208, vcpus: 2, source: `${AWS_SAMPLE}, playbooks/ec2/ec2_optimization.py` },
  "t3.xlarge": {
    hourlyUsd: 0.1664,
    vcpus: 4,
    source: `derived: 8 × t3.small; t3 prices double with each size in ${AWS_SAMPLE} (t3.micro 0.0104, t3.small 0.0208, t3.medium 0.0416). No public source quoting t3.xlarge itself was found`,
  },
  "m7i.large": { hourlyUsd: 0.1008, vcpus: 2, source: "https://www.doit.com/blog/aws-ec2-pricing (US East, N. Virginia)" },
  "m7i.xlarge": { hourlyUsd: 0.2016, vcpus: 4, source: "https://c3x.dev/blog/m5-vs-m6i-vs-m7i-cost-performance (us-east-1)" },
  "m7i.2xlarge": { hourlyUsd: 0.4032, vcpus: 8, source: "derived: 2 × m7i.xlarge; m7i prices double with each size (m7i.large and m7i.xlarge above)" },
};

export interface UnitPrice {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
}

export const UNIT_PRICES = {
  gp3GbMonth: { usd: 0.08, unit: "GB-month of gp3 (3,000 IOPS and 125 MB/s included)", source: `${AWS_TOOLKIT}/ebs-optimization.md; ${AWS_SAMPLE}, playbooks/ebs/ebs_optimization.py` },
  natGatewayHour: { usd: 0.045, unit: "NAT gateway-hour", source: `${AWS_TOOLKIT}/service-optimization.md; ${AWS_SAMPLE}, services/pricing.py (0.045 for us-east-1 and us-west-2)` },
  natGatewayGb: { usd: 0.045, unit: "GB through a NAT gateway", source: `${AWS_TOOLKIT}/service-optimization.md` },
  publicIpv4Hour: { usd: 0.005, unit: "public IPv4 address-hour, in use or idle", source: `${AWS_TOOLKIT}/cost-audit.md` },
  interfaceEndpointAzHour: { usd: 0.01, unit: "interface endpoint-hour per AZ", source: `${AWS_TOOLKIT}/service-optimization.md` },
  interfaceEndpointGb: { usd: 0.01, unit: "GB through an interface endpoint", source: `${AWS_TOOLKIT}/service-optimization.md` },
  logsIngestGb: {
    usd: 0.5,
    unit: "GB delivered to CloudWatch Logs: flow logs (first 10 TB a month) and the nodes' service and setup logs",
    source: `${AWS_SAMPLE}, services/cloudwatch_service_vended_log.py; ${CLOUDWATCH_PRICING} (Logs, Standard: collect $0.50 per GB)`,
  },
  logsStorageGbMonth: { usd: 0.03, unit: "GB-month of CloudWatch Logs kept", source: `${AWS_SAMPLE}, services/cloudwatch_service_vended_log.py; ${AWS_TOOLKIT}/service-optimization.md` },
  kmsKeyMonth: {
    usd: 1,
    unit: "KMS key-month (each yearly rotation adds $1.00 a month for that key)",
    source: "https://aws.amazon.com/kms/pricing/ (Key storage: $1/month per key, prorated hourly; each newly generated backing key of automatic rotation costs an additional $1/month)",
  },
  alarmMetricMonth: {
    usd: 0.1,
    unit: "standard-resolution alarm metric-month (a metric-math alarm counts each metric it reads)",
    source: `${CLOUDWATCH_PRICING} (Alarms, Standard resolution: $0.10 per alarm metric)`,
  },
  dashboardMonth: { usd: 3, unit: "CloudWatch dashboard-month", source: `${CLOUDWATCH_PRICING} (Dashboards: $3.00 per dashboard per month); https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards (2026-06-13)` },
  customMetricMonth: { usd: 0.3, unit: "custom metric-month (first 10,000 metrics)", source: `${CLOUDWATCH_PRICING} (Metrics: $0.30 per metric per month for the first 10,000)` },
  s3StandardGbMonth: { usd: 0.023, unit: "GB-month in S3 Standard", source: `${AWS_SAMPLE}, services/s3_pricing.py` },
} as const satisfies Record<string, UnitPrice>;
