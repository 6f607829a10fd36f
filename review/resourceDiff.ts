import { createHash } from "node:crypto";
import type { Json, SynthesizedPlatform } from "./synthesizedPlatform";

export type ChangeAction = "add" | "remove" | "change";

/** One resource or data source that differs between two synths. */
export interface ResourceChange {
  readonly stack: string;
  /** Terraform address: `aws_instance.node-0_instance_CE375AEE`, `data.aws_iam_policy_document.read`. */
  readonly address: string;
  readonly type: string;
  /** The construct path cdktf records, e.g. `kafka/node-0/instance`: what a reader recognises. */
  readonly path: string;
  readonly action: ChangeAction;
  /** Attribute paths that differ (`tags.Name`, `statement[0].actions`); empty for add and remove. */
  readonly attributes: readonly string[];
  readonly before?: Json;
  readonly after?: Json;
}

/** What differs in one stack beyond its resources: providers, variables, Terraform settings, outputs. */
export interface StackChange {
  readonly stack: string;
  readonly action: ChangeAction;
  readonly providers: readonly string[];
  /** Paths under `variable` (a validation, a default). */
  readonly variables: readonly string[];
  /** Paths under `terraform` (provider versions, the state backend). */
  readonly terraform: readonly string[];
  readonly outputs: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[] };
}

/** A `moved` block of the head that Terraform applies: the base's `from` becomes `to` in state. */
export interface Move {
  readonly stack: string;
  readonly from: string;
  readonly to: string;
}

/**
 * Resources, data sources, providers and outputs that differ between two synths, stack by
 * stack. A resource that uses a Terraform local (user data is one) differs when the local's
 * value does, though its own expression is the same text. The head's `moved` blocks are applied
 * to the base first, as Terraform does before it plans: a moved resource is compared with what
 * it was, and a reference to it (in any stack, through cross-stack outputs too) by what it
 * points to, not by its address.
 */
export function diffPlatforms(base: SynthesizedPlatform, head: SynthesizedPlatform): { resources: ResourceChange[]; stacks: StackChange[]; moves: Move[] } {
  const moves = movesOf(base, head);
  base = applyMoves(base, moves);
  const resources: ResourceChange[] = [];
  const stacks: StackChange[] = [];
  for (const stack of [...new Set([...Object.keys(base), ...Object.keys(head)])].sort()) {
    const before = blocksOf(base[stack]);
    const after = blocksOf(head[stack]);
    for (const address of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      const was = before.get(address);
      const is = after.get(address);
      const type = address.startsWith("data.") ? address.split(".")[1] : address.split(".")[0];
      const path = String((is ?? was)?.["//"]?.metadata?.path ?? address);
      if (!was) resources.push({ stack, address, type, path, action: "add", attributes: [], after: is });
      else if (!is) resources.push({ stack, address, type, path, action: "remove", attributes: [], before: was });
      else {
        const attributes = changedPaths(withLocals(was, base[stack]), withLocals(is, head[stack]), "");
        if (attributes.length > 0) resources.push({ stack, address, type, path, action: "change", attributes, before: was, after: is });
      }
    }
    const providers = changedPaths(base[stack]?.provider ?? {}, head[stack]?.provider ?? {}, "");
    const variables = changedPaths(base[stack]?.variable ?? {}, head[stack]?.variable ?? {}, "");
    const terraform = changedPaths(base[stack]?.terraform ?? {}, head[stack]?.terraform ?? {}, "");
    const outputs = keyChanges(base[stack]?.output ?? {}, head[stack]?.output ?? {});
    const action: ChangeAction = !base[stack] ? "add" : !head[stack] ? "remove" : "change";
    const changed = providers.length + variables.length + terraform.length + outputs.added.length + outputs.removed.length + outputs.changed.length > 0;
    if (action !== "change" || changed) stacks.push({ stack, action, providers, variables, terraform, outputs });
  }
  return { resources, stacks, moves };
}

/** The head's `moved` blocks whose `from` the base has and whose `to` it has not. */
function movesOf(base: SynthesizedPlatform, head: SynthesizedPlatform): Move[] {
  const moves: Move[] = [];
  for (const [stack, json] of Object.entries(head)) {
    const before = blocksOf(base[stack]);
    for (const block of (json.moved ?? []) as Json[]) {
      const from = String(block.from);
      const to = String(block.to);
      if (before.has(from) && !before.has(to)) moves.push({ stack, from, to });
    }
  }
  return moves;
}

/** The base as Terraform sees it once the moves are applied: blocks and every reference renamed. */
function applyMoves(base: SynthesizedPlatform, moves: readonly Move[]): SynthesizedPlatform {
  if (moves.length === 0) return base;
  const name = "(?![A-Za-z0-9_-])";
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  let text = JSON.stringify(base);
  for (const { from, to } of moves) {
    // cdktf names a cross-stack output after the address with its dots dropped, then the attribute.
    const joined = (address: string): string => `cross-stack-output-${address.replace(/\./g, "")}`;
    text = text.replace(new RegExp(`${escape(joined(from))}(?=[a-z_]+${name})`, "g"), joined(to));
    text = text.replace(new RegExp(`${escape(from)}${name}`, "g"), to);
  }
  const moved = JSON.parse(text) as Record<string, Json>;
  for (const { stack, from, to } of moves) {
    const [section, type, fromName, toName] = from.startsWith("data.") ? ["data", ...from.split(".").slice(1), to.split(".")[2]] : ["resource", ...from.split("."), to.split(".")[1]];
    const byName = moved[stack]?.[section]?.[type] as Json | undefined;
    if (byName && fromName in byName) {
      byName[toName] = byName[fromName];
      delete byName[fromName];
    }
  }
  return moved;
}

/** Every resource and data source of a stack by address (`aws_instance.x`, `data.aws_ami.y`). */
function blocksOf(stack: Json | undefined): Map<string, Json> {
  return new Map([...resourceBlocks(stack, "resource"), ...resourceBlocks(stack, "data")]);
}

/** The stack's resources (or data sources) by Terraform address. */
export function resourceBlocks(stack: Json | undefined, section: "resource" | "data" = "resource"): Map<string, Json> {
  const prefix = section === "data" ? "data." : "";
  const blocks = new Map<string, Json>();
  for (const [type, byName] of Object.entries((stack?.[section] ?? {}) as Json)) {
    for (const [name, body] of Object.entries(byName as Json)) blocks.set(`${prefix}${type}.${name}`, body as Json);
  }
  return blocks;
}

/** The block with every `local.NAME` it uses stamped with a digest of that local's value. */
function withLocals(block: Json, stack: Json): Json {
  const locals = (stack.locals ?? {}) as Json;
  const stamp = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.replace(/local\.([A-Za-z0-9_-]+)/g, (match, name: string) =>
        name in locals ? `${match}<${createHash("sha256").update(JSON.stringify(locals[name])).digest("hex").slice(0, 12)}>` : match,
      );
    }
    if (Array.isArray(value)) return value.map(stamp);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, stamp(inner)]));
    return value;
  };
  return stamp(block) as Json;
}

/** Leaf paths whose values differ; cdktf's `//` metadata is not Terraform's and never counts. */
export function changedPaths(before: unknown, after: unknown, prefix: string): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
  if (isObject(before) && isObject(after)) {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((key) => key !== "//")
      .sort()
      .flatMap((key) => changedPaths(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, index) => changedPaths(item, after[index], `${prefix}[${index}]`));
  }
  return [prefix];
}

function keyChanges(before: Json, after: Json): StackChange["outputs"] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return {
    added: keys.filter((key) => !(key in before)),
    removed: keys.filter((key) => !(key in after)),
    changed: keys.filter((key) => key in before && key in after && JSON.stringify(before[key]) !== JSON.stringify(after[key])),
  };
}
