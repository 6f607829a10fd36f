import { forceNewChanges } from "../review/forceNewAttributes";
import type { Json, SynthesizedPlatform } from "../review/synthesizedPlatform";

/**
 * What `npm run review` says about an argument change, checked against the AWS provider's own
 * plan. For every argument the platform sets (one resource of each type stands for its siblings),
 * a scratch configuration holds one copy of that resource with the argument changed and a
 * hand-written state holding it as synthesized; `terraform plan -refresh=false` then asks only the
 * provider's schema and plan logic, never AWS. The review's table says "replace" or "update in
 * place"; the plan must agree.
 *
 * A local mirror may hold 5.100 while the stacks pin 6.25. Read against the provider's source, the two
 * agree on every argument the platform sets; they differ only on arguments it does not set:
 * aws_nat_gateway's availability_mode and vpc_id (6.x only, force-new) and aws_flow_log's
 * log_group_name (gone in 6.0). With the pinned provider installed, the same check runs on 6.25.
 */

/** One argument changed on one resource: what the review expects Terraform to do about it. */
export interface ForceNewCase {
  /** The scratch resource's address, e.g. aws_instance.c12. */
  readonly address: string;
  readonly type: string;
  /** The argument as the review names it: `root_block_device.encrypted`, `rule.filter.prefix`. */
  readonly path: string;
  /** The synthesized resource it was taken from, `stack/name`. */
  readonly from: string;
  /** "kept" is a type's unchanged copy: the control that the state itself plans no replacement. */
  readonly expected: "replace" | "update" | "kept";
  /** The resource as the state holds it (references given concrete values) and as the change configures it. */
  readonly before: Json;
  readonly after: Json;
}

/** Arguments whose change the review does not read from the table, or that the plan cannot show without AWS. */
const NOT_CHECKED: Readonly<Record<string, string>> = {
  // Its force-new rule compares the CPU architectures of both types through DescribeInstanceTypes.
  "aws_instance.instance_type": "replacement depends on AWS's answer about both instance types",
};

/**
 * Arguments the platform does not set, whose table entry was corrected against the provider's
 * source: each is planned from the state value to the changed one on the platform's resource of
 * that type. Those that only the pinned 6.x has (aws_nat_gateway's availability_mode and vpc_id)
 * are not here: 5.100 would refuse them.
 */
export const PROBES: ReadonlyArray<{ readonly type: string; readonly path: string; readonly before: unknown; readonly after: unknown }> = [
  { type: "aws_instance", path: "security_groups", before: [], after: ["default"] },
  { type: "aws_instance", path: "ebs_optimized", before: false, after: true },
  { type: "aws_instance", path: "host_id", before: "h-0123456789abcdef0", after: "h-0123456789abcdef1" },
  { type: "aws_instance", path: "instance_market_options", before: undefined, after: { market_type: "spot" } },
  { type: "aws_instance", path: "private_dns_name_options", before: undefined, after: { hostname_type: "resource-name" } },
  { type: "aws_instance", path: "host_resource_group_arn", before: undefined, after: "arn:aws:resource-groups:eu-west-1:123456789012:group/hosts" },
  { type: "aws_instance", path: "ipv6_address_count", before: 0, after: 1 },
  { type: "aws_subnet", path: "ipv6_native", before: false, after: true },
];

/** Maps and dynamic values: a change to them is one change, not one per key. */
const WHOLE_VALUES = new Set(["tags", "tags_all", "triggers_replace", "triggers", "input", "keepers", "dimensions"]);
/** Meta-arguments and what the provider plan cannot see. */
const SKIPPED_KEYS = new Set(["//", "provider", "depends_on", "lifecycle", "provisioner", "connection", "count", "for_each"]);
/** Resource types the check plans: those the AWS provider or Terraform itself serves. */
const PLANNED_TYPE = /^(aws_|terraform_data$)/;

const POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::placeholder/*" }] });

/** A concrete value, of the form the provider validates, for a reference Terraform would resolve at apply time. */
function placeholder(name: string): unknown {
  if (/policy$/.test(name)) return POLICY;
  if (name === "dashboard_body") return JSON.stringify({ widgets: [] });
  if (/(^|_)arn$|^log_destination$/.test(name)) return "arn:aws:iam::123456789012:role/placeholder";
  // An alarm notifies its topic.
  if (/_actions$/.test(name)) return "arn:aws:sns:eu-west-1:123456789012:placeholder";
  // A log group's and a bucket's default encryption name their KMS key by ARN.
  if (/^kms_(master_)?key_id$/.test(name)) return "arn:aws:kms:eu-west-1:123456789012:key/0123abcd-45ef-67ab-89cd-0123456789ab";
  if (/cidr/.test(name)) return "198.51.100.0/24";
  if (name === "availability_zone") return "eu-west-1a";
  if (name === "ami") return "ami-0123456789abcdef0";
  if (name === "user_data_base64" || name === "content_base64") return Buffer.from("#!/bin/sh\n").toString("base64");
  const prefixes: Array<[RegExp, string]> = [
    [/security_group/, "sg"], [/route_table/, "rtb"], [/subnet/, "subnet"], [/^vpc_id$/, "vpc"], [/nat_gateway/, "nat"],
    [/allocation/, "eipalloc"], [/internet_gateway|gateway_id/, "igw"], [/instance_id/, "i"], [/volume_id/, "vol"],
  ];
  const prefix = prefixes.find(([pattern]) => pattern.test(name))?.[1];
  if (prefix) return `${prefix}-0123456789abcdef0`;
  if (/_ids$/.test(name)) return ["sg-0123456789abcdef0"];
  return "placeholder";
}

/** The body with every Terraform expression replaced by a concrete value; meta-arguments dropped. */
function concrete(value: unknown, name: string): unknown {
  if (typeof value === "string") return value.includes("${") ? placeholder(name) : value;
  if (Array.isArray(value)) {
    const items = value.map((item) => concrete(item, name));
    return items.map((item) => (Array.isArray(item) ? item[0] : item));
  }
  if (value !== null && typeof value === "object") {
    const out: Json = {};
    for (const [key, inner] of Object.entries(value as Json)) if (!SKIPPED_KEYS.has(key)) out[key] = concrete(inner, key);
    return out;
  }
  return value;
}

/** Another valid value of the same form, or undefined when this check knows none. */
export function changed(path: string, value: unknown): unknown {
  const name = path.split(".").pop() as string;
  const swaps: Readonly<Record<string, Readonly<Record<string, string>>>> = {
    domain: { vpc: "standard" },
    type: { gp3: "gp2", gp2: "gp3", String: "StringList", SecureString: "String", StringList: "String" },
    volume_type: { gp3: "gp2", gp2: "gp3" },
    http_tokens: { required: "optional", optional: "required" },
    http_endpoint: { enabled: "disabled", disabled: "enabled" },
    instance_metadata_tags: { enabled: "disabled", disabled: "enabled" },
    log_destination_type: { s3: "cloud-watch-logs", "cloud-watch-logs": "s3" },
    traffic_type: { ALL: "REJECT", REJECT: "ALL", ACCEPT: "ALL" },
    vpc_endpoint_type: { Gateway: "Interface", Interface: "Gateway" },
    ip_protocol: { tcp: "udp", udp: "tcp", "-1": "tcp" },
    object_ownership: { BucketOwnerEnforced: "BucketOwnerPreferred", BucketOwnerPreferred: "BucketOwnerEnforced" },
    sse_algorithm: { AES256: "aws:kms", "aws:kms": "AES256" },
    statistic: { Maximum: "Minimum", Minimum: "Maximum", Sum: "Average", Average: "Sum", SampleCount: "Sum" },
    stat: { Maximum: "Minimum", Minimum: "Maximum", Sum: "Average", Average: "Sum", SampleCount: "Sum" },
    comparison_operator: {
      GreaterThanThreshold: "GreaterThanOrEqualToThreshold",
      GreaterThanOrEqualToThreshold: "GreaterThanThreshold",
      LessThanThreshold: "LessThanOrEqualToThreshold",
      LessThanOrEqualToThreshold: "LessThanThreshold",
    },
    treat_missing_data: { breaching: "notBreaching", notBreaching: "breaching", missing: "ignore", ignore: "missing" },
    unit: { Count: "None", Percent: "None", Milliseconds: "None", None: "Count" },
    protocol: { email: "email-json", "email-json": "email" },
  };
  if (typeof value === "boolean") return !value;
  if (typeof value === "number") {
    if (name === "max_aggregation_interval") return value === 60 ? 600 : 60;
    if (name === "retention_in_days") return value === 30 ? 60 : 30;
    // CloudWatch takes 10, 30 or a multiple of 60 seconds.
    if (name === "period") return value === 60 ? 120 : 60;
    return value + 1;
  }
  if (Array.isArray(value)) {
    if (!(value.length > 0 && value.every((item) => typeof item === "string"))) return undefined;
    return [...value, /_actions$/.test(name) ? "arn:aws:sns:eu-west-1:123456789012:another" : "sg-0fedcba9876543210"];
  }
  if (value !== null && typeof value === "object") return { ...(value as Json), ChangedBy: "review-check" };
  if (typeof value !== "string") return undefined;
  if (name in swaps) return swaps[name][value];
  // Versioning is Enabled or Suspended; a lifecycle rule is Enabled or Disabled.
  if (name === "status") return value === "Enabled" ? (path.startsWith("versioning_configuration") ? "Suspended" : "Disabled") : "Enabled";
  if (/policy$/.test(name)) {
    const document = JSON.parse(value) as Json;
    const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    return JSON.stringify({ ...document, Statement: statements.map((statement: Json, index: number) => (index === 0 ? { ...statement, Sid: "ChangedByReviewCheck" } : statement)) });
  }
  const cidr = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(value);
  if (cidr) return Number(cidr[5]) >= 16 ? `${cidr[1]}.${(Number(cidr[2]) + 1) % 256}.${cidr[3]}.${cidr[4]}/${cidr[5]}` : "10.0.0.0/8";
  if (/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/.test(value)) return `${value.slice(0, -1)}${value.endsWith("b") ? "a" : "b"}`;
  const id = /^([a-z]+)-([0-9a-f]{8,17})$/.exec(value);
  if (id) return `${id[1]}-${id[2].slice(0, -1)}${id[2].endsWith("1") ? "2" : "1"}`;
  if (name === "content_base64" || name === "user_data_base64") return Buffer.from(`${Buffer.from(value, "base64").toString("utf8")}# changed\n`).toString("base64");
  if (name === "content_type") return value === "application/json" ? "text/plain" : "application/json";
  if (name === "dashboard_body") return JSON.stringify({ ...(JSON.parse(value) as Json), periodOverride: "auto" });
  if (name === "bucket_prefix" || name === "name_prefix") return `${value.slice(0, 20)}x`;
  return `${value}-2`;
}

/** Leaf argument paths of a body: scalars, lists of scalars and maps; blocks are walked into. */
function leaves(body: Json, prefix = ""): Array<{ path: string; segments: string[] }> {
  const out: Array<{ path: string; segments: string[] }> = [];
  for (const [key, value] of Object.entries(body)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const block = Array.isArray(value) && value.length > 0 && value.every((item) => item !== null && typeof item === "object" && !Array.isArray(item)) ? (value[0] as Json) : undefined;
    if (block) out.push(...leaves(block, path).map((leaf) => ({ ...leaf, segments: [key, "0", ...leaf.segments] })));
    else if (value !== null && typeof value === "object" && !Array.isArray(value) && !WHOLE_VALUES.has(key)) out.push(...leaves(value as Json, path).map((leaf) => ({ ...leaf, segments: [key, ...leaf.segments] })));
    else out.push({ path, segments: [key] });
  }
  return out;
}

function setAt(body: Json, segments: readonly string[], value: unknown): Json {
  const copy = structuredClone(body);
  let node: Json = copy;
  for (const segment of segments.slice(0, -1)) node = node[segment];
  node[segments[segments.length - 1]] = value;
  return copy;
}

function getAt(body: Json, segments: readonly string[]): unknown {
  return segments.reduce<unknown>((node, segment) => (node as Json)[segment], body);
}

/** Whether changing this argument replaces the resource, as the review reads it. */
function reviewExpects(type: string, path: string, body: Json): "replace" | "update" {
  if (type === "aws_instance" && /^user_data(_base64)?$/.test(path)) return body.user_data_replace_on_change === true ? "replace" : "update";
  return forceNewChanges(type, [path], []).length > 0 ? "replace" : "update";
}

/** One case per argument the platform sets on each resource type, from the first resource that sets it. */
export function forceNewCases(platforms: readonly SynthesizedPlatform[]): { cases: ForceNewCase[]; unchecked: string[] } {
  const cases: ForceNewCase[] = [];
  const unchecked: string[] = [];
  const seen = new Set<string>();
  for (const platform of platforms) {
    for (const [stack, json] of Object.entries(platform)) {
      for (const [type, resources] of Object.entries((json.resource ?? {}) as Json)) {
        if (!PLANNED_TYPE.test(type)) continue;
        for (const [name, raw] of Object.entries(resources as Json)) {
          const before = concrete(raw, "") as Json;
          if (!seen.has(type)) {
            seen.add(type);
            cases.push({ address: `${type}.c${cases.length}`, type, path: "(unchanged)", from: `${stack}/${name}`, expected: "kept", before, after: before });
          }
          for (const { path, segments } of leaves(before)) {
            const key = `${type}.${path}`;
            if (seen.has(key)) continue;
            seen.add(key);
            const why = NOT_CHECKED[key];
            const after = why === undefined ? changed(path, getAt(before, segments)) : undefined;
            if (after === undefined) {
              unchecked.push(`${key}${why ? ` (${why})` : " (no other valid value known)"}`);
              continue;
            }
            cases.push({ address: `${type}.c${cases.length}`, type, path, from: `${stack}/${name}`, expected: reviewExpects(type, path, before), before, after: setAt(before, segments, after) });
          }
        }
      }
    }
  }
  for (const probe of PROBES) {
    const base = cases.find((entry) => entry.type === probe.type && entry.expected === "kept");
    if (base === undefined) continue;
    const before = probe.before === undefined ? base.before : { ...base.before, [probe.path]: probe.before };
    cases.push({ address: `${probe.type}.c${cases.length}`, type: probe.type, path: probe.path, from: base.from, expected: reviewExpects(probe.type, probe.path, before), before, after: { ...before, [probe.path]: probe.after } });
  }
  return { cases, unchecked };
}

/** Terraform's JSON type of a value, as the state stores a dynamic attribute's. */
function ctyType(value: unknown): unknown {
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return ["tuple", value.map(ctyType)];
  return ["object", Object.fromEntries(Object.entries(value as Json).map(([key, inner]) => [key, ctyType(inner)]))];
}

/** In state, every nested block is a list; the JSON configuration may write a single block as an object. */
function stateForm(value: unknown, key: string): unknown {
  if (WHOLE_VALUES.has(key) || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => stateForm(item, ""));
  const object = Object.fromEntries(Object.entries(value as Json).map(([inner, v]) => [inner, stateForm(v, inner)]));
  return key === "" ? object : [object];
}

/** Schema versions of the types the platform uses, in the provider the check runs with; an older one is upgraded by the provider. */
const SCHEMA_VERSIONS: Readonly<Record<string, number>> = {
  aws_instance: 1, aws_vpc: 1, aws_subnet: 1, aws_security_group: 1, aws_default_security_group: 1, aws_key_pair: 1, aws_s3_bucket_lifecycle_configuration: 1,
};

/** The scratch configuration: the provider with fake credentials and every endpoint on a closed loopback port, and each case's changed resource. */
export function forceNewConfig(cases: readonly ForceNewCase[], awsVersion: string): Json {
  const closed = "http://127.0.0.1:1";
  const resource: Json = {};
  for (const entry of cases) {
    const [type, name] = entry.address.split(".");
    resource[type] ??= {};
    resource[type][name] = entry.after;
  }
  return {
    terraform: { required_providers: { aws: { source: "hashicorp/aws", version: awsVersion } } },
    provider: {
      aws: {
        region: "eu-west-1", access_key: "AKIAREVIEWCHECK00000", secret_key: "review-check-not-a-secret", max_retries: 1,
        skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true, skip_region_validation: true,
        endpoints: [{ ec2: closed, iam: closed, logs: closed, s3: closed, ssm: closed, sts: closed }],
      },
    },
    resource,
  };
}

/**
 * What the provider stores on create for arguments the platform leaves out, where the plan would
 * otherwise see a null in state as a force-new change (defaults, and computed lists). Found by
 * planning each type's unchanged copy: that control must not be replaced.
 */
const STATE_DEFAULTS: Readonly<Record<string, Json>> = {
  aws_iam_role: { path: "/" },
  aws_iam_policy: { path: "/" },
  aws_iam_instance_profile: { path: "/" },
  aws_instance: { ipv6_addresses: [], security_groups: [] },
  aws_nat_gateway: { connectivity_type: "public" },
  aws_vpc: { instance_tenancy: "default" },
  aws_subnet: { ipv6_native: false },
  aws_s3_bucket_lifecycle_configuration: { expected_bucket_owner: "" },
  aws_kms_key: { customer_master_key_spec: "SYMMETRIC_DEFAULT", key_usage: "ENCRYPT_DECRYPT", multi_region: false },
  aws_sns_topic: { fifo_topic: false },
};

/** A version 4 state holding each case's resource as synthesized (before the change). */
export function forceNewState(cases: readonly ForceNewCase[]): Json {
  return {
    version: 4, terraform_version: "1.11.4", serial: 1, lineage: "00000000-0000-4000-8000-000000000000", outputs: {}, check_results: null,
    resources: cases.map((entry) => {
      const [type, name] = entry.address.split(".");
      const attributes = { ...(STATE_DEFAULTS[type] ?? {}), ...(stateForm(entry.before, "") as Json) };
      if (type === "terraform_data") {
        for (const key of ["input", "triggers_replace"]) if (key in attributes) attributes[key] = { value: attributes[key], type: ctyType(attributes[key]) };
        if ("input" in attributes) attributes.output = attributes.input;
      } else if (attributes.tags !== undefined) attributes.tags_all = attributes.tags;
      attributes.id = `${name}-id`;
      return {
        mode: "managed", type, name,
        provider: type === "terraform_data" ? 'provider["terraform.io/builtin/terraform"]' : 'provider["registry.terraform.io/hashicorp/aws"]',
        instances: [{ schema_version: SCHEMA_VERSIONS[type] ?? 0, attributes, sensitive_attributes: [] }],
      };
    }),
  };
}

/** The action `terraform plan -json` announced for each resource: create, update, replace, delete, noop. */
export function plannedActions(stream: string): Map<string, string> {
  const actions = new Map<string, string>();
  for (const line of stream.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as Json;
    if (entry.type === "planned_change") actions.set(String(entry.change.resource.addr), String(entry.change.action));
  }
  return actions;
}

/** Each case against the plan: a force-new argument must be replaced, any other updated in place. */
export function judgeCases(cases: readonly ForceNewCase[], actions: ReadonlyMap<string, string>): Array<{ readonly what: string; readonly ok: boolean; readonly detail: string }> {
  return cases.map((entry) => {
    const action = actions.get(entry.address) ?? "noop";
    const ok = entry.expected === "kept" ? action === "noop" || action === "update" : action === entry.expected;
    const says = { replace: "the review says replaced", update: "the review says updated in place", kept: "as synthesized, not replaced" }[entry.expected];
    return {
      what: `${entry.type}.${entry.path} (${entry.from}): ${says}`,
      ok,
      detail: ok ? "" : `terraform plans ${action}`,
    };
  });
}
