import { DATA_HOLDERS, forceNewChanges } from "./forceNewAttributes";
import type { ResourceChange, StackChange } from "./resourceDiff";
import type { Json } from "./synthesizedPlatform";

/**
 * What a reviewer must notice, in the order the review shows it: access opened or widened,
 * instances and steps that will be replaced or re-run, data that would be destroyed, and changes
 * that only touch tags.
 */
export type FindingKind = "security" | "replacement" | "data-loss" | "harmless";

export interface Finding {
  readonly kind: FindingKind;
  readonly stack: string;
  readonly address: string;
  /** The construct path, e.g. `kafka/node-0/instance`. */
  readonly path: string;
  readonly message: string;
}

const PUBLIC_CIDRS = new Set(["0.0.0.0/0", "::/0"]);
const RULE_TYPES = new Set(["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"]);
const TAG_PATH = /^(tags|tags_all)(\.|$)/;

export function findingsOf(resources: readonly ResourceChange[], stacks: readonly StackChange[]): Finding[] {
  const findings: Finding[] = [];
  for (const change of resources) {
    const add = (kind: FindingKind, message: string): void => {
      findings.push({ kind, stack: change.stack, address: change.address, path: change.path, message });
    };
    if (RULE_TYPES.has(change.type)) securityGroupRule(change, add);
    if (change.type === "aws_iam_policy_document") policyDocument(change, add);
    if (change.type === "aws_iam_role_policy_attachment" && change.action === "add") add("security", `attaches managed policy ${refName(change.after?.policy_arn)} to role ${refName(change.after?.role)}`);
    if (change.type === "aws_iam_role_policy" && change.action === "add") add("security", `attaches inline policy ${String(change.after?.name)} to role ${refName(change.after?.role)}`);
    publicOrUnencrypted(change, add);
    replacementOrLoss(change, add);
    if (change.action === "change" && change.attributes.every((path) => TAG_PATH.test(path))) {
      add("harmless", `tags only (${change.attributes.join(", ")}), updated in place`);
    }
  }
  for (const stack of stacks) {
    if (stack.providers.length > 0 && stack.providers.every((path) => /(^|\.)default_tags(\[|\.|$)/.test(path))) {
      findings.push({ kind: "harmless", stack: stack.stack, address: "provider.aws", path: `${stack.stack}/provider`, message: "the provider's default tags only, updated in place on every resource" });
    }
  }
  return findings;
}

type Add = (kind: FindingKind, message: string) => void;

/** A rule added, or changed to let more in: its ports, protocol and source, public or not. */
function securityGroupRule(change: ResourceChange, add: Add): void {
  if (change.action === "remove") return;
  const rule = change.after as Json;
  const direction = change.type.includes("ingress") ? "ingress" : "egress";
  const describe = (body: Json): string => {
    const protocol = body.ip_protocol === "-1" ? "all traffic" : `${String(body.ip_protocol)} ${body.from_port === body.to_port ? body.from_port : `${body.from_port}-${body.to_port}`}`;
    const peer = body.cidr_ipv4 ?? body.cidr_ipv6 ?? (body.prefix_list_id ? `prefix list ${refName(body.prefix_list_id)}` : `group ${refName(body.referenced_security_group_id)}`);
    return `${protocol} ${direction === "ingress" ? "from" : "to"} ${String(peer)} ${direction === "ingress" ? "into" : "from"} group ${refName(body.security_group_id)}`;
  };
  const isPublic = PUBLIC_CIDRS.has(String(rule.cidr_ipv4 ?? rule.cidr_ipv6 ?? ""));
  const publicNote = isPublic ? ` — PUBLIC: ${direction === "ingress" ? "anyone on the internet can connect" : "to any address on the internet"}` : "";
  if (change.action === "add") {
    add("security", `opens ${direction} ${describe(rule)}${publicNote}`);
    return;
  }
  const before = change.before as Json;
  const access = ["cidr_ipv4", "cidr_ipv6", "referenced_security_group_id", "prefix_list_id", "ip_protocol", "security_group_id"];
  const widerPorts = Number(rule.from_port) < Number(before.from_port) || Number(rule.to_port) > Number(before.to_port);
  if (widerPorts || access.some((key) => JSON.stringify(rule[key]) !== JSON.stringify(before[key]))) {
    add("security", `widens ${direction}: now ${describe(rule)} (was ${describe(before)})${publicNote}`);
  }
}

/** Statements that allow more: new actions or resources, new principals (who may assume a role). */
function policyDocument(change: ResourceChange, add: Add): void {
  if (change.action === "remove") return;
  const grants = (document: Json | undefined): Set<string> => {
    const set = new Set<string>();
    for (const statement of (document?.statement ?? []) as Json[]) {
      if ((statement.effect ?? "Allow") !== "Allow") continue;
      const principals = ((statement.principals ?? []) as Json[]).flatMap((principal) => (principal.identifiers as string[]).map((id) => `principal ${principal.type}:${id}`));
      for (const action of (statement.actions ?? ["(no action)"]) as string[]) {
        for (const resource of (statement.resources ?? ["*"]) as string[]) set.add(`${action} on ${readable(resource)}`);
      }
      principals.forEach((principal) => set.add(principal));
    }
    return set;
  };
  const before = grants(change.before);
  const added = [...grants(change.after)].filter((grant) => !before.has(grant));
  if (added.length === 0) return;
  const anyone = added.some((grant) => /^principal (AWS|\*):\*$/.test(grant));
  add("security", `${change.action === "add" ? "new policy document grants" : "policy document now also grants"} ${added.join("; ")}${anyone ? " — PUBLIC: any principal" : ""}`);
}

function publicOrUnencrypted(change: ResourceChange, add: Add): void {
  if (change.action === "remove") {
    if (change.type === "aws_s3_bucket_public_access_block") add("security", "removes the bucket's public access block");
    return;
  }
  const after = change.after as Json;
  const became = (path: string, value: unknown): boolean => {
    const get = (body: Json | undefined): unknown => path.split(".").reduce<unknown>((node, key) => (node as Json | undefined)?.[key], body);
    return JSON.stringify(get(after)) === JSON.stringify(value) && (change.action === "add" || JSON.stringify(get(change.before)) !== JSON.stringify(value));
  };
  if (change.type === "aws_instance") {
    if (became("associate_public_ip_address", true)) add("security", "gets a public IP address: reachable from the internet as far as its security groups allow");
    if (became("metadata_options.http_tokens", "optional")) add("security", "allows IMDSv1 (http_tokens optional): credentials readable without a session token");
    if (became("root_block_device.encrypted", false)) add("security", "root volume unencrypted");
  }
  if (change.type === "aws_ebs_volume" && became("encrypted", false)) add("security", "volume unencrypted");
  if (change.type === "aws_s3_bucket_public_access_block") {
    for (const flag of ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]) {
      if (became(flag, false)) add("security", `turns ${flag} off: the bucket can be made public`);
    }
  }
  if (change.type === "aws_s3_bucket_acl" && /public/.test(String(after.acl)) && became("acl", after.acl)) add("security", `bucket ACL ${String(after.acl)}: PUBLIC`);
}

/** Replacements (with the arguments that force them), re-run steps, and destroyed data. */
function replacementOrLoss(change: ResourceChange, add: Add): void {
  const holdsData = DATA_HOLDERS.has(change.type);
  if (change.action === "remove") {
    if (holdsData) add("data-loss", `destroyed: ${change.type} is removed from the config, and the data on it with it`);
    else if (change.type === "aws_instance") add("replacement", "terminated: removed from the config");
    return;
  }
  if (change.action === "add") return;
  const ignored = ignoredAttributes(change.before as Json).concat(ignoredAttributes(change.after as Json));
  if (ignored.includes("all")) return;
  const forced = forceNewChanges(change.type, change.attributes, ignored);
  if (change.type === "null_resource" && forced.length > 0) {
    const keys = change.attributes.filter((path) => path.startsWith("triggers.")).map((path) => path.slice("triggers.".length));
    add("replacement", `re-runs its provisioner script on apply (${keys.length === 1 ? "trigger" : "triggers"} ${keys.join(", ")} changed)`);
    return;
  }
  const userData = change.attributes.filter((path) => /^user_data(_base64)?$/.test(path) && !ignored.includes(path));
  const after = change.after as Json;
  const replaceOnUserData = userData.length > 0 && after.user_data_replace_on_change === true;
  if (forced.length > 0 || replaceOnUserData) {
    const why = [...forced.map((name) => `${name} changes`), ...(replaceOnUserData ? ["its user data changes and user_data_replace_on_change is set"] : [])];
    add(holdsData ? "data-loss" : "replacement", `replaced: ${why.join("; ")}${holdsData ? ": the data on it is destroyed" : ""}`);
  } else if (change.type === "aws_instance" && userData.length > 0) {
    add("replacement", "stopped and started to take new user data (which EC2 runs only at first boot)");
  }
  if (change.type === "aws_s3_bucket" && after.force_destroy === true && (change.before as Json).force_destroy !== true) {
    add("data-loss", "force_destroy turned on: a destroy deletes every object in the bucket");
  }
}

function ignoredAttributes(body: Json | undefined): string[] {
  const ignore = body?.lifecycle?.ignore_changes as unknown;
  if (ignore === "all") return ["all"];
  return Array.isArray(ignore) ? ignore.map(String) : [];
}

/** Types whose names cdktf runs together with the resource name in cross-stack outputs. */
const REFERENCED_TYPES = ["dataaws_iam_policy_document", "aws_security_group", "aws_s3_bucket", "aws_instance", "aws_subnet", "aws_vpc", "aws_iam_role", "aws_ssm_parameter"];
const ATTRIBUTES = ["availability_zone", "public_ip", "private_ip", "bucket", "json", "name", "arn", "id"];

/** A reference as a reader knows it: `${aws_security_group.kafka-security-group.id}` is kafka-security-group. */
export function refName(value: unknown): string {
  const text = String(value ?? "?");
  const crossStack = /cross-stack-output-([A-Za-z0-9_-]+)\}$/.exec(text);
  if (crossStack) {
    const joined = crossStack[1];
    const type = REFERENCED_TYPES.find((candidate) => joined.startsWith(candidate));
    const attribute = ATTRIBUTES.find((candidate) => joined.endsWith(candidate));
    if (type && attribute) return joined.slice(type.length, joined.length - attribute.length).replace(/_[0-9A-F]{8}$/, "");
  }
  const local = /^\$\{(?:data\.)?[a-z0-9_]+\.([A-Za-z0-9_-]+?)(?:_[0-9A-F]{8})?\.(?:id|arn|name|json)\}$/.exec(text);
  return local ? local[1] : text;
}

/** Text with every Terraform reference in it named as a reader knows it. */
export function readable(text: string): string {
  return text.replace(/\$\{[^{}]*\}/g, (reference) => refName(reference));
}
