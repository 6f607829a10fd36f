import { isUnder } from "./attributePaths";
import { coversEverything } from "./internetRanges";
import { readable, refName } from "./references";
import { changedPaths, type ResourceChange, type StackChange } from "./resourceDiff";
import type { Json } from "./synthesizedPlatform";

/** Records one finding about the resource being looked at. */
export type Report = (message: string) => void;

const PUBLIC_CIDRS = new Set(["0.0.0.0/0", "::/0"]);
export const RULE_TYPES = new Set(["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"]);
/** What a rule lets through: two rules alike in this are the same access, whatever their names. */
const RULE_ACCESS = ["security_group_id", "ip_protocol", "from_port", "to_port", "cidr_ipv4", "cidr_ipv6", "referenced_security_group_id", "prefix_list_id"];

export function ruleAccess(type: string, body: Json | undefined): string {
  return JSON.stringify([type, ...RULE_ACCESS.map((key) => body?.[key] ?? null)]);
}

/** A security group rule as the review reads it: its resource type and its arguments. */
export interface SecurityGroupRule {
  readonly type: string;
  readonly body: Json;
}

/**
 * Whether `wide` already lets through everything `narrow` does: the same group and direction,
 * all traffic or the same protocol over a port range that holds narrow's, and the same peer or
 * every IPv4 (or IPv6) address, which holds any peer group of that family.
 */
export function ruleCovers(wide: SecurityGroupRule, narrow: SecurityGroupRule): boolean {
  // Groups compared by name: another stack refers to a group through its outputs.
  if (wide.type !== narrow.type || refName(wide.body.security_group_id) !== refName(narrow.body.security_group_id)) return false;
  const protocol = wide.body.ip_protocol === "-1" || (wide.body.ip_protocol === narrow.body.ip_protocol && Number(wide.body.from_port) <= Number(narrow.body.from_port) && Number(wide.body.to_port) >= Number(narrow.body.to_port));
  const peerGroup = (rule: SecurityGroupRule): string | null => (rule.body.referenced_security_group_id === undefined ? null : refName(rule.body.referenced_security_group_id));
  const samePeer =
    ["cidr_ipv4", "cidr_ipv6", "prefix_list_id"].every((key) => JSON.stringify(wide.body[key] ?? null) === JSON.stringify(narrow.body[key] ?? null)) && peerGroup(wide) === peerGroup(narrow);
  const everyIpv4 = wide.body.cidr_ipv4 === "0.0.0.0/0" && narrow.body.cidr_ipv6 === undefined;
  const everyIpv6 = wide.body.cidr_ipv6 === "::/0" && narrow.body.cidr_ipv6 !== undefined;
  return protocol && (samePeer || everyIpv4 || everyIpv6);
}

/** "tcp 443 to 0.0.0.0/0 from group x", "all traffic from group y into group x". */
export function describeRule(rule: SecurityGroupRule): string {
  const body = rule.body;
  const direction = rule.type.includes("ingress") ? "ingress" : "egress";
  const protocol = body.ip_protocol === "-1" ? "all traffic" : `${String(body.ip_protocol)} ${body.from_port === body.to_port ? body.from_port : `${body.from_port}-${body.to_port}`}`;
  const peer = body.cidr_ipv4 ?? body.cidr_ipv6 ?? (body.prefix_list_id ? `prefix list ${refName(body.prefix_list_id)}` : `group ${refName(body.referenced_security_group_id)}`);
  return `${protocol} ${direction === "ingress" ? "from" : "to"} ${String(peer)} ${direction === "ingress" ? "into" : "from"} group ${refName(body.security_group_id)}`;
}

/**
 * Access opened, widened or made public, and protections taken away, for one changed resource.
 * `removedRules` holds every rule removed anywhere: a rule added with the same access is one
 * renamed or moved, and one whose access a removed rule already gave (all traffic out, narrowed
 * to the ports used) opens nothing either.
 */
export function securityFindings(change: ResourceChange, removedRules: readonly SecurityGroupRule[], report: Report, publicGroups: ReadonlySet<string> = new Set()): void {
  const after = (change.after ?? {}) as Json;
  const before = (change.before ?? {}) as Json;
  const changed = (...names: string[]): boolean => change.action === "change" && change.attributes.some((path) => names.some((name) => isUnder(path, name)));
  const became = (path: string, value: unknown): boolean => {
    const get = (body: Json): unknown => path.split(".").reduce<unknown>((node, key) => (node as Json | undefined)?.[key], body);
    return change.action !== "remove" && JSON.stringify(get(after)) === JSON.stringify(value) && (change.action === "add" || JSON.stringify(get(before)) !== JSON.stringify(value));
  };

  switch (change.type) {
    case "aws_vpc_security_group_ingress_rule":
    case "aws_vpc_security_group_egress_rule":
      securityGroupRule(change, removedRules, report, publicGroups);
      break;
    case "aws_security_group":
    case "aws_default_security_group":
      if ((change.action === "add" && ((after.ingress ?? []) as Json[]).length > 0) || changed("ingress", "egress")) {
        const reaches = (direction: "ingress" | "egress"): boolean => {
          const rules = (after[direction] ?? []) as Json[];
          return coversEverything(rules.flatMap((rule) => (rule.cidr_blocks ?? []) as string[]), 4) || coversEverything(rules.flatMap((rule) => (rule.ipv6_cidr_blocks ?? []) as string[]), 6);
        };
        const reached = (["ingress", "egress"] as const).filter(reaches);
        report(`the group's inline rules change${reached.length > 0 ? ` — PUBLIC: its ${reached.join(" and ")} ranges together reach every address on the internet` : ""}`);
      }
      break;
    case "aws_iam_policy_document":
      policyDocument(change, report);
      break;
    case "aws_iam_role_policy": {
      const written = [before, after].map((body) => documentOf(body.policy));
      if (written[1] !== undefined && (change.action === "add" || changed("policy"))) {
        // A policy written as JSON in the resource: the same grant analysis as a policy document.
        policyDocument({ ...change, before: change.action === "add" ? undefined : written[0] ?? {}, after: written[1] }, (message) => report(`inline policy ${String(after.name)} on role ${refName(after.role)}: ${message}`));
        if (changed("role")) report(`inline policy ${String(after.name)} now belongs to role ${refName(after.role)}`);
      } else if (change.action === "add") report(`attaches inline policy ${String(after.name)} to role ${refName(after.role)}`);
      else if (changed("policy", "role")) report(`inline policy ${String(after.name)} now ${changed("role") ? `belongs to role ${refName(after.role)}` : `is ${readable(String(after.policy))} (was ${readable(String(before.policy))})`}`);
      break;
    }
    case "aws_iam_role_policy_attachment":
      if (change.action === "add" || changed("policy_arn", "role")) report(`attaches managed policy ${readable(String(after.policy_arn))} to role ${refName(after.role)}`);
      break;
    case "aws_iam_role":
      if (changed("assume_role_policy")) report("who may assume the role changes (assume_role_policy)");
      break;
    case "aws_iam_instance_profile":
      if (changed("role")) report(`instance profile now gives role ${refName(after.role)} (was ${refName(before.role)})`);
      break;
    case "aws_instance":
      if (became("associate_public_ip_address", true)) report("gets a public IP address: reachable from the internet as far as its security groups allow");
      if (became("metadata_options.http_tokens", "optional")) report("allows IMDSv1 (http_tokens optional): credentials readable without a session token");
      if (became("root_block_device.encrypted", false)) report("root volume unencrypted");
      if (changed("vpc_security_group_ids")) report(`security groups now ${((after.vpc_security_group_ids ?? []) as string[]).map(refName).join(", ")}`);
      if (changed("iam_instance_profile")) report(`instance profile now ${refName(after.iam_instance_profile)}`);
      break;
    case "aws_subnet":
      if (became("map_public_ip_on_launch", true)) report("gives every instance launched in it a public IP (map_public_ip_on_launch)");
      break;
    case "aws_ebs_volume":
      if (became("encrypted", false)) report("volume unencrypted");
      break;
    case "aws_s3_bucket_public_access_block":
      if (change.action === "remove") report("removes the bucket's public access block");
      for (const flag of ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]) {
        if (became(flag, false)) report(`turns ${flag} off: the bucket can be made public`);
      }
      break;
    case "aws_s3_bucket_policy":
      if (change.action === "remove") report("removes the bucket policy (and the protections in it)");
      else if (change.action === "add" || changed("policy")) report(`bucket policy is now ${readable(String(after.policy))}`);
      break;
    case "aws_s3_bucket_server_side_encryption_configuration":
      if (change.action === "remove") report("removes the bucket's default encryption");
      else if (changed("rule")) report("the bucket's default encryption changes");
      break;
    case "aws_s3_bucket_acl":
      if (/public/.test(String(after.acl)) && became("acl", after.acl)) report(`bucket ACL ${String(after.acl)}: PUBLIC`);
      break;
    case "aws_flow_log":
      if (change.action === "remove") report("removes the VPC flow log: no more record of the traffic");
      break;
    case "aws_kms_key":
      if (change.action === "remove") report("schedules the key's deletion: whatever is encrypted under it is unreadable once the deletion window ends");
      if (became("enable_key_rotation", false)) report("turns the key's yearly rotation off");
      break;
    case "aws_kms_key_policy":
      if (change.action === "remove") report("puts the key's policy back to the account default: any IAM policy that allows kms:Decrypt can use the key");
      else if (change.action === "add" || changed("policy")) report(`key policy is now ${readable(String(after.policy))}`);
      break;
    case "aws_cloudwatch_log_group":
      if (change.action === "change" && changed("kms_key_id") && after.kms_key_id === undefined) report("new log events are no longer encrypted under the group's own key");
      break;
    default:
      break;
  }
}

/** A rule added, or changed to let more in: its ports, protocol and source, public or not. */
function securityGroupRule(change: ResourceChange, removedRules: readonly SecurityGroupRule[], report: Report, publicGroups: ReadonlySet<string>): void {
  if (change.action === "remove") return;
  const rule = change.after as Json;
  const direction = change.type.includes("ingress") ? "ingress" : "egress";
  const describe = (body: Json): string => describeRule({ type: change.type, body });
  const family = rule.cidr_ipv4 !== undefined ? 4 : rule.cidr_ipv6 !== undefined ? 6 : undefined;
  const alone = PUBLIC_CIDRS.has(String(rule.cidr_ipv4 ?? rule.cidr_ipv6 ?? ""));
  const together = !alone && family !== undefined && publicGroups.has(groupKey(direction, family, rule.security_group_id));
  const reach = direction === "ingress" ? "anyone on the internet can connect" : "to any address on the internet";
  const publicNote = alone ? ` — PUBLIC: ${reach}` : together ? ` — PUBLIC: with the group's other ${direction} rules its ranges cover every IPv${family} address, so ${reach}` : "";
  if (change.action === "add") {
    if (!removedRules.some((removed) => ruleCovers(removed, { type: change.type, body: rule }))) report(`opens ${direction} ${describe(rule)}${publicNote}`);
    return;
  }
  const before = change.before as Json;
  const access = ["cidr_ipv4", "cidr_ipv6", "referenced_security_group_id", "prefix_list_id", "ip_protocol", "security_group_id"];
  const widerPorts = Number(rule.from_port) < Number(before.from_port) || Number(rule.to_port) > Number(before.to_port);
  if (widerPorts || access.some((key) => JSON.stringify(rule[key]) !== JSON.stringify(before[key]))) {
    report(`widens ${direction}: now ${describe(rule)} (was ${describe(before)})${publicNote}`);
  }
}

function groupKey(direction: string, family: 4 | 6, group: unknown): string {
  return `${direction} IPv${family} ${refName(group)}`;
}

/**
 * The groups, per direction and address family, whose rules' ranges together reach every
 * address (0.0.0.0/1 and 128.0.0.0/1 as much as 0.0.0.0/0), across every stack of the head: a
 * group is named as its stacks' references name it, directly or through a cross-stack output.
 */
export function publicRuleGroups(head: Readonly<Record<string, Json>>): Set<string> {
  const ranges = new Map<string, string[]>();
  for (const stack of Object.values(head)) {
    for (const type of RULE_TYPES) {
      const direction = type.includes("ingress") ? "ingress" : "egress";
      for (const rule of Object.values((stack.resource?.[type] ?? {}) as Json) as Json[]) {
        for (const [family, cidr] of [[4, rule.cidr_ipv4], [6, rule.cidr_ipv6]] as const) {
          if (typeof cidr !== "string") continue;
          const key = groupKey(direction, family, rule.security_group_id);
          ranges.set(key, [...(ranges.get(key) ?? []), cidr]);
        }
      }
    }
  }
  return new Set([...ranges].filter(([key, cidrs]) => coversEverything(cidrs, key.includes(" IPv4 ") ? 4 : 6)).map(([key]) => key));
}

/**
 * A policy written as IAM JSON (`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
 * in the shape of an `aws_iam_policy_document`'s arguments; undefined when the text is a
 * reference (`${data.aws_iam_policy_document.x.json}`) or not JSON.
 */
export function documentOf(policy: unknown): Json | undefined {
  if (typeof policy !== "string" || !policy.trim().startsWith("{")) return undefined;
  let parsed: Json;
  try {
    parsed = JSON.parse(policy) as Json;
  } catch {
    return undefined;
  }
  const list = (value: unknown): string[] | undefined => (value === undefined ? undefined : (Array.isArray(value) ? value : [value]).map(String));
  const statements = (Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : []) as Json[];
  return {
    statement: statements.map((statement) => ({
      sid: statement.Sid,
      effect: statement.Effect,
      actions: list(statement.Action),
      not_actions: list(statement.NotAction),
      resources: list(statement.Resource),
      not_resources: list(statement.NotResource),
      principals:
        statement.Principal === undefined
          ? undefined
          : statement.Principal === "*"
            ? [{ type: "*", identifiers: ["*"] }]
            : Object.entries(statement.Principal as Json).map(([type, ids]) => ({ type, identifiers: list(ids) ?? [] })),
      condition: statement.Condition,
    })),
  };
}

/**
 * What a policy document allows that it did not: actions and resources, principals, statements
 * whose conditions or exclusions (not_actions, not_resources) change; and Deny statements taken
 * away or changed, which remove a protection.
 */
function policyDocument(change: ResourceChange, report: Report): void {
  if (change.action === "remove") return;
  const statements = (document: Json | undefined): Json[] => (document?.statement ?? []) as Json[];
  const grants = (document: Json | undefined): Set<string> => {
    const set = new Set<string>();
    for (const statement of statements(document)) {
      if ((statement.effect ?? "Allow") !== "Allow") continue;
      const actions = (statement.actions ?? []) as string[];
      const principals = (statement.principals ?? []) as Json[];
      // A trust policy: who may become the role, not what the role may do.
      if (principals.length > 0 && actions.length > 0 && actions.every((action) => /^sts:AssumeRole/.test(action))) {
        for (const principal of principals) for (const id of principal.identifiers as string[]) set.add(`lets ${principal.type === "*" ? "anyone" : `${principal.type} ${id}`} assume this role${actions.some((action) => action !== "sts:AssumeRole") ? ` (${actions.join(", ")})` : ""}`);
        if (statement.condition) set.add(`under the conditions ${JSON.stringify(statement.condition)}`);
        continue;
      }
      for (const action of actions) {
        for (const resource of (statement.resources ?? ["*"]) as string[]) set.add(`${action} on ${readable(resource)}`);
      }
      for (const action of (statement.not_actions ?? []) as string[]) set.add(`every action but ${action}`);
      for (const resource of (statement.not_resources ?? []) as string[]) set.add(`every resource but ${readable(resource)}`);
      for (const principal of (statement.principals ?? []) as Json[]) for (const id of principal.identifiers as string[]) set.add(`principal ${principal.type}:${id}`);
      if (statement.condition) set.add(`under the conditions ${JSON.stringify(statement.condition)}`);
    }
    return set;
  };
  const denies = (document: Json | undefined): Set<string> => new Set(statements(document).filter((statement) => statement.effect === "Deny").map((statement) => JSON.stringify(statement)));
  const before = grants(change.before);
  const added = [...grants(change.after)].filter((grant) => !before.has(grant));
  if (added.length > 0) {
    const admin = added.some((grant) => /^(\*|\*:\*) on \*$/.test(grant));
    const anyone = added.some((grant) => /^principal (AWS|\*):\*$/.test(grant) || /^lets (anyone|AWS \*) /.test(grant));
    const trust = added.every((grant) => grant.startsWith("lets ") || grant.startsWith("under the conditions"));
    const what = trust ? (change.action === "add" ? "new trust policy:" : "trust policy now also:") : change.action === "add" ? "new policy document grants" : "policy document now also grants";
    report(`${what} ${added.join("; ")}${anyone ? " — PUBLIC: any principal" : ""}${admin ? " — ADMIN: every action on every resource" : ""}`);
  }
  const deniesAfter = denies(change.after);
  const weakened = [...denies(change.before)].filter((deny) => !deniesAfter.has(deny));
  for (const deny of weakened) {
    const statement = JSON.parse(deny) as Json;
    report(`a Deny statement ${statement.sid ? `(${String(statement.sid)}) ` : ""}is removed or changed: a protection goes or narrows`);
  }
}

/** Variables whose value decides who can reach or act on the platform. */
const SECURITY_VARIABLE = /cidr|admin|ssh|key|public|ingress|allow|principal|role|password|secret|token/i;

/** A value for one line: JSON, cut short. */
export function shown(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Stack-wide settings: the provider's region or credentials, variables' validations, the state backend. */
export function stackFindings(stack: StackChange, base: Json | undefined, head: Json | undefined, report: (kind: "security" | "replacement" | "data-loss" | "harmless", message: string) => void): void {
  const region = (json: Json | undefined): unknown => json?.provider?.aws?.[0]?.region;
  // A provider block the base did not have (a new stack's, a new alias) configures nothing that ran before.
  const added: string[] = [];
  const changedProviders: string[] = [];
  if (stack.providers.length > 0) {
    const blocks = (json: Json | undefined, name: string): Json[] => {
      const value = json?.provider?.[name] as Json | Json[] | undefined;
      return value === undefined ? [] : Array.isArray(value) ? value : [value];
    };
    for (const name of Object.keys((head?.provider ?? {}) as Json)) {
      const before = blocks(base, name);
      blocks(head, name).forEach((block, index) => {
        if (before[index] === undefined) added.push(block.alias ? `${name}.${String(block.alias)}` : name);
        else changedProviders.push(...changedPaths(before[index], block, `${name}[${index}]`));
      });
    }
  }
  if (added.length > 0) report("harmless", `a new provider block (${added.join(", ")}): what it creates is reviewed resource by resource`);
  if (changedProviders.length > 0) {
    if (changedProviders.every((path) => /(^|\.)default_tags(\[|\.|$)/.test(path))) {
      report("harmless", "the provider's default tags only, updated in place on every resource");
    } else if (base && head && region(base) !== region(head)) {
      report("data-loss", `the provider's region changes from ${String(region(base))} to ${String(region(head))}: every resource of the stack is created anew there and the old ones destroyed, data included`);
    } else {
      report("security", `the provider's settings change: ${changedProviders.join(", ")}`);
    }
  }
  for (const name of [...new Set(stack.variables.map((path) => path.split(/[.[]/)[0]))]) {
    const was = base?.variable?.[name] as Json | undefined;
    const is = head?.variable?.[name] as Json | undefined;
    const parts: string[] = [];
    for (const key of ["default", "type", "sensitive", "nullable"]) {
      if (JSON.stringify(was?.[key]) !== JSON.stringify(is?.[key])) parts.push(`${key} ${shown(was?.[key])} → ${shown(is?.[key])}`);
    }
    const conditions = (variable: Json | undefined): string => ((variable?.validation ?? []) as Json[]).map((rule) => String(rule.condition)).join(" and ") || "none";
    const validationChanged = JSON.stringify(was?.validation ?? []) !== JSON.stringify(is?.validation ?? []);
    const cut = (text: string): string => (text.length > 80 ? `${text.slice(0, 77)}...` : text);
    if (validationChanged) parts.push(`validation ${cut(conditions(was))} → ${cut(conditions(is))}`);
    if (parts.length === 0) continue;
    const what = !was ? "new variable" : !is ? "variable removed" : "variable";
    // What the operator may pass, or what the stack assumes when nothing is passed, decides who gets in.
    const sensitive = SECURITY_VARIABLE.test(name) && (validationChanged || JSON.stringify(was?.default) !== JSON.stringify(is?.default));
    report(sensitive || validationChanged ? "security" : "harmless", `${what} ${name}: ${parts.join("; ")}${sensitive && is?.default !== undefined ? " — a default here applies to every deploy that does not pass one" : ""}`);
  }
  if (stack.terraform.some((path) => path.startsWith("backend"))) {
    report("replacement", "the state backend changes: terraform init must migrate the state first, or every resource is created anew");
  }
}
