import { quorumFindings } from "./quorumFindings";
import { META_ARGUMENTS, replacementFindings } from "./replacementFindings";
import { ignoredAttributes, isUnder } from "./attributePaths";
import type { Move, ResourceChange, StackChange } from "./resourceDiff";
import { describeRule, publicRuleGroups, RULE_TYPES, ruleAccess, ruleCovers, securityFindings, stackFindings } from "./securityFindings";
import type { Json, SynthesizedPlatform } from "./synthesizedPlatform";

export { readable, refName } from "./references";

/**
 * What a reviewer must notice, in the order the review shows it: access opened or widened,
 * resources replaced or terminated, instances stopped and started, provisioner steps re-run,
 * data that would be destroyed, updates in place a replacement causes, and changes that touch
 * nothing (tags, a move).
 */
export type FindingKind = "security" | "replacement" | "stop-start" | "re-run" | "data-loss" | "in-place" | "harmless";

export interface Finding {
  readonly kind: FindingKind;
  readonly stack: string;
  readonly address: string;
  /** The construct path, e.g. `kafka/node-0/instance`. */
  readonly path: string;
  readonly message: string;
}

/**
 * What `terraform plan` would do to one resource: `ignored` is a change that
 * `lifecycle.ignore_changes` covers, `no-op` one to meta-arguments only (provisioners,
 * connection, depends_on); neither counts in Terraform's summary.
 */
export type PlanEffect = "create" | "update" | "replace" | "destroy" | "ignored" | "no-op";

export interface PlannedChange {
  readonly stack: string;
  readonly address: string;
  readonly path: string;
  readonly effect: PlanEffect;
}

const TAG_PATH = /^(tags|tags_all)(\.|$)/;

export function findingsOf(resources: readonly ResourceChange[], stacks: readonly StackChange[], base: SynthesizedPlatform = {}, head: SynthesizedPlatform = {}, moves: readonly Move[] = []): Finding[] {
  return reviewOf(resources, stacks, base, head, moves).findings;
}

/** The findings and, per resource, what Terraform's plan would do with it. */
export function reviewOf(
  resources: readonly ResourceChange[],
  stacks: readonly StackChange[],
  base: SynthesizedPlatform = {},
  head: SynthesizedPlatform = {},
  moves: readonly Move[] = [],
): { findings: Finding[]; plan: PlannedChange[] } {
  const findings: Finding[] = [];
  const removedRules = resources.filter((change) => change.action === "remove" && RULE_TYPES.has(change.type)).map((change) => ({ type: change.type, body: change.before as Json }));
  const addedRules = resources.filter((change) => change.action === "add" && RULE_TYPES.has(change.type)).map((change) => ({ type: change.type, body: change.after as Json }));
  const publicGroups = publicRuleGroups(head);
  const siblings = new Map<string, { paths: string[]; grants: Set<string> }>();
  for (const change of resources) {
    const sibling = change.action === "add" ? siblingOf(change, base) : undefined;
    securityFindings(change, removedRules, (message) => {
      if (sibling === undefined) {
        findings.push({ kind: "security", stack: change.stack, address: change.address, path: change.path, message });
        return;
      }
      // A new node given exactly what its existing siblings have opens no new kind of access.
      if (!siblings.has(change.stack)) siblings.set(change.stack, { paths: [], grants: new Set() });
      siblings.get(change.stack)?.paths.push(change.path);
      siblings.get(change.stack)?.grants.add(`${change.path.split("/").slice(-1)[0]}: ${message.replace(/-\d+(?=[_/ ]|$)/g, "-N")}`);
    }, publicGroups);
  }
  for (const [stack, { paths, grants }] of siblings) {
    const nodes = [...new Set(paths.map((path) => path.split("/").slice(0, -1).join("/")))];
    findings.push({
      kind: "harmless",
      stack,
      address: "stack",
      path: nodes.join(", "),
      message: `${nodes.length === 1 ? "a new node gets" : `${nodes.length} new nodes get`} the same access as the existing ones, nothing more: ${[...grants].join("; ")}`,
    });
  }
  // A rule removed with no added rule of the same access closes it: the access it gave is gone,
  // or narrowed to what the group's added rules name.
  for (const change of resources) {
    if (change.action !== "remove" || !RULE_TYPES.has(change.type)) continue;
    const removed = { type: change.type, body: change.before as Json };
    if (addedRules.some((added) => ruleAccess(added.type, added.body) === ruleAccess(removed.type, removed.body))) continue;
    const narrowed = addedRules.filter((added) => ruleCovers(removed, added));
    findings.push({
      kind: "harmless",
      stack: change.stack,
      address: change.address,
      path: change.path,
      message: `closes ${change.type.includes("ingress") ? "ingress" : "egress"} ${describeRule(removed)}${narrowed.length > 0 ? `, narrowed to ${narrowed.map((added) => describeRule(added).replace(/ (from|into) group \S+$/, "")).join(", ")}` : ""}`,
    });
  }
  const replacements = replacementFindings(resources, head);
  findings.push(...replacements.findings);
  findings.push(...quorumFindings(replacements.findings, base, head));
  findings.push(...suggestedMoves(resources));
  for (const move of moves) {
    const path = String(blockAt(head[move.stack], move.to)?.["//"]?.metadata?.path ?? move.to);
    findings.push({ kind: "harmless", stack: move.stack, address: move.to, path, message: `moved from ${move.from} (a moved block): Terraform moves it in its state, nothing is destroyed` });
  }
  for (const change of resources) {
    if (change.action === "change" && change.attributes.every((path) => TAG_PATH.test(path))) {
      findings.push({ kind: "harmless", stack: change.stack, address: change.address, path: change.path, message: `tags only (${change.attributes.join(", ")}), updated in place` });
    }
  }
  for (const stack of stacks) {
    stackFindings(stack, base[stack.stack], head[stack.stack], (kind, message) => findings.push({ kind, stack: stack.stack, address: "stack", path: stack.stack, message }));
  }
  return { findings, plan: plannedChanges(resources, replacements.replaced, replacements.updated, base, head) };
}

/** Terraform's summary line: a replacement is one to add and one to destroy. */
export function planCounts(plan: readonly PlannedChange[]): { add: number; change: number; destroy: number } {
  const count = (...effects: PlanEffect[]): number => plan.filter((change) => effects.includes(change.effect)).length;
  return { add: count("create", "replace"), change: count("update"), destroy: count("destroy", "replace") };
}

function plannedChanges(resources: readonly ResourceChange[], replaced: Map<string, Set<string>>, updated: Map<string, Set<string>>, base: SynthesizedPlatform, head: SynthesizedPlatform): PlannedChange[] {
  const plan = new Map<string, PlannedChange>();
  const has = (map: Map<string, Set<string>>, stack: string, address: string): boolean => map.get(stack)?.has(address) ?? false;
  for (const change of resources) {
    // Data sources are read, not planned.
    if (change.address.startsWith("data.")) continue;
    const effect = ((): PlanEffect => {
      if (change.action === "add") return "create";
      if (change.action === "remove") return "destroy";
      if (has(replaced, change.stack, change.address)) return "replace";
      if (has(updated, change.stack, change.address)) return "update";
      const ignored = ignoredAttributes(change.after);
      const live = change.attributes.filter((path) => !META_ARGUMENTS.has(path.split(/[.[]/)[0]));
      if (live.length === 0) return "no-op";
      if (ignored.includes("all") || live.every((path) => ignored.some((name) => isUnder(path, name)))) return "ignored";
      return "update";
    })();
    plan.set(`${change.stack} ${change.address}`, { stack: change.stack, address: change.address, path: change.path, effect });
  }
  // Dragged along: replaced or updated though their own text did not change.
  for (const [map, effect] of [[replaced, "replace"], [updated, "update"]] as const) {
    for (const [stack, addresses] of map) {
      for (const address of addresses) {
        const key = `${stack} ${address}`;
        if (plan.has(key) && plan.get(key)?.effect !== "ignored" && plan.get(key)?.effect !== "no-op") continue;
        plan.set(key, { stack, address, path: String(blockAt(head[stack], address)?.["//"]?.metadata?.path ?? address), effect });
      }
    }
  }
  return [...plan.values()].flatMap((change) => eachInstance(change, blockAt(base[change.stack], change.address), blockAt(head[change.stack], change.address)));
}

/**
 * A block with a literal for_each is one resource per key to Terraform, and counts so: keys added
 * are created, keys gone destroyed, and a key whose value changed is updated (replaced when
 * triggers_replace reads each.value), even when nothing else in the block changed.
 */
function eachInstance(change: PlannedChange, before: Json | undefined, after: Json | undefined): PlannedChange[] {
  const keysBefore = forEachKeys(before);
  const keysAfter = forEachKeys(after);
  if (!keysBefore && !keysAfter) return [change];
  const instance = (key: string, effect: PlanEffect): PlannedChange => ({ ...change, address: `${change.address}[${JSON.stringify(key)}]`, effect });
  const was = keysBefore ?? new Map<string, string>();
  const is = keysAfter ?? new Map<string, string>();
  if (change.effect === "create") return [...is.keys()].map((key) => instance(key, "create"));
  if (change.effect === "destroy") return [...was.keys()].map((key) => instance(key, "destroy"));
  const valueChange: PlanEffect = JSON.stringify(after?.triggers_replace ?? {}).includes("each.value") ? "replace" : "update";
  const kept = [...is.keys()].map((key) => {
    if (!was.has(key)) return instance(key, "create");
    if (change.effect !== "no-op" && change.effect !== "ignored") return instance(key, change.effect);
    return instance(key, was.get(key) === is.get(key) ? change.effect : valueChange);
  });
  return [...kept, ...[...was.keys()].filter((key) => !is.has(key)).map((key) => instance(key, "destroy"))];
}

/** A literal for_each's keys, each with its value as JSON; undefined when it has none or it is an expression. */
function forEachKeys(block: Json | undefined): Map<string, string> | undefined {
  const each: unknown = block?.for_each;
  if (Array.isArray(each)) return new Map(each.map((key) => [String(key), JSON.stringify(key)]));
  if (each && typeof each === "object") return new Map(Object.entries(each as Record<string, unknown>).map(([key, value]) => [key, JSON.stringify(value)]));
  return undefined;
}

/** A removed and an added resource of one type with the same arguments: a rename that lacks a moved block. */
function suggestedMoves(resources: readonly ResourceChange[]): Finding[] {
  const body = (json: Json | undefined): string => JSON.stringify(Object.fromEntries(Object.entries(json ?? {}).filter(([key]) => key !== "//")));
  const added = resources.filter((change) => change.action === "add" && !change.address.startsWith("data."));
  const findings: Finding[] = [];
  const taken = new Set<string>();
  for (const removed of resources.filter((change) => change.action === "remove" && !change.address.startsWith("data."))) {
    const twin = added.find((change) => change.stack === removed.stack && change.type === removed.type && !taken.has(change.address) && body(change.after) === body(removed.before));
    if (!twin) continue;
    taken.add(twin.address);
    findings.push({
      kind: "replacement",
      stack: removed.stack,
      address: removed.address,
      path: removed.path,
      message: `destroyed and created again as ${twin.address} with the same arguments: a moved block (moveTo or moveFromId) from ${removed.address} to ${twin.address} keeps it`,
    });
  }
  return findings;
}

/**
 * The existing sibling an added block repeats: a block of the same type in the base's stack
 * whose arguments are the same once node numbers and cdktf's hash suffixes are set aside
 * (`node-3/trust` repeats `node-0/trust`).
 */
function siblingOf(change: ResourceChange, base: SynthesizedPlatform): string | undefined {
  if (!/-\d+(\/|$)/.test(change.path)) return undefined;
  const shape = (body: Json | undefined): string =>
    JSON.stringify(Object.fromEntries(Object.entries(body ?? {}).filter(([key]) => key !== "//")))
      .replace(/_[0-9A-F]{8}(?=[."])/g, "_H")
      .replace(/-\d+(?=[^0-9])/g, "-N");
  const own = shape(change.after);
  const section = change.address.startsWith("data.") ? "data" : "resource";
  for (const [name, body] of Object.entries((base[change.stack]?.[section]?.[change.type] ?? {}) as Json)) {
    if (shape(body as Json) === own) return name;
  }
  return undefined;
}

function blockAt(stack: Json | undefined, address: string): Json | undefined {
  const parts = address.split(".");
  return parts[0] === "data" ? stack?.data?.[parts[1]]?.[parts[2]] : stack?.resource?.[parts[0]]?.[parts[1]];
}
