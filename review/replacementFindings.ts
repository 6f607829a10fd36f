import { architectureOf } from "../config/architecture";
import { DATA_HOLDERS, forceNewChanges, FORCE_NEW_ATTRIBUTES } from "./forceNewAttributes";
import { ignoredAttributes } from "./attributePaths";
import { resourceBlocks, type ResourceChange } from "./resourceDiff";
import type { Json, SynthesizedPlatform } from "./synthesizedPlatform";


/** Resources whose replacement means their provisioner script runs again, nothing more. */
const PROVISIONER_STEPS = new Set(["null_resource", "terraform_data"]);
/** One replacement-or-loss finding about a resource. */
export interface Replacement {
  readonly kind: "replacement" | "stop-start" | "re-run" | "data-loss" | "in-place";
  readonly stack: string;
  readonly address: string;
  readonly path: string;
  readonly message: string;
}

const USER_DATA = /^user_data(_base64)?$/;

/**
 * Resources Terraform will replace (and why), instances it will stop and start, provisioner
 * steps that run again, and data destroyed; then everything in the same stack that a
 * replacement drags along: a resource whose force-new argument, replace-on-change user data or
 * trigger refers to a replaced one gets a new value, so it is replaced too.
 */
export function replacementFindings(changes: readonly ResourceChange[], head: SynthesizedPlatform): { findings: Replacement[]; replaced: Map<string, Set<string>>; updated: Map<string, Set<string>> } {
  const findings: Replacement[] = [];
  const updated = new Map<string, Set<string>>();
  const replaced = new Map<string, Set<string>>();
  const markReplaced = (stack: string, address: string): void => {
    if (!replaced.has(stack)) replaced.set(stack, new Set());
    replaced.get(stack)?.add(address);
  };
  for (const change of changes) {
    const add = (kind: Replacement["kind"], message: string): void => {
      findings.push({ kind, stack: change.stack, address: change.address, path: change.path, message });
    };
    const outcome = direct(change, add);
    if (outcome === "replaced") markReplaced(change.stack, change.address);
  }

  // Knock-on replacements, until nothing more is dragged along.
  const blocksByStack = new Map([...replaced.keys()].map((stack) => [stack, resourceBlocks(head[stack])]));
  const texts = new Map<string, string>();
  for (let round = 0; round < 10; round += 1) {
    let more = false;
    for (const [stack, addresses] of replaced) {
      const json = head[stack];
      const blocks = blocksByStack.get(stack);
      if (!json || !blocks) continue;
      for (const [address, body] of blocks) {
        if (addresses.has(address)) continue;
        const key = `${stack} ${address}`;
        if (!texts.has(key)) texts.set(key, replacingText(json, address, body));
        const text = texts.get(key) as string;
        const cause = [...addresses].find((other) => new RegExp(`\\b${other.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.`).test(text));
        if (!cause) continue;
        const path = String(body["//"]?.metadata?.path ?? address);
        const type = address.split(".")[0];
        const causePath = String(blocks.get(cause)?.["//"]?.metadata?.path ?? cause);
        const rerun = PROVISIONER_STEPS.has(type);
        findings.push({
          kind: DATA_HOLDERS.has(type) ? "data-loss" : rerun ? "re-run" : "replacement",
          stack,
          address,
          path,
          message: rerun ? `re-runs its provisioner script on apply (a trigger refers to ${causePath}, which is replaced)` : `replaced: it refers to ${causePath}, which is replaced${DATA_HOLDERS.has(type) ? ": the data on it is destroyed" : ""}`,
        });
        addresses.add(address);
        more = true;
      }
    }
    if (!more) break;
  }

  // What refers to a replaced resource's attributes, and is not replaced itself, is updated in
  // place: the new resource's id (or address) is known only after apply.
  for (const [stack, addresses] of replaced) {
    const blocks = blocksByStack.get(stack);
    if (!blocks) continue;
    for (const [address, body] of blocks) {
      if (addresses.has(address)) continue;
      const ignored = ignoredAttributes(body);
      if (ignored.includes("all")) continue;
      const text = JSON.stringify(Object.fromEntries(Object.entries(body).filter(([key]) => !META_ARGUMENTS.has(key) && !ignored.includes(key))));
      const causes = [...addresses].filter((other) => new RegExp(`\\b${other.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.`).test(text));
      if (causes.length === 0) continue;
      if (!updated.has(stack)) updated.set(stack, new Set());
      updated.get(stack)?.add(address);
      const type = address.split(".")[0];
      const causePaths = causes.map((cause) => String(blocks.get(cause)?.["//"]?.metadata?.path ?? cause));
      const path = String(body["//"]?.metadata?.path ?? address);
      const groups = type === "aws_instance" && causes.some((cause) => cause.startsWith("aws_security_group.") && JSON.stringify(body.vpc_security_group_ids ?? "").includes(`${cause}.`));
      findings.push({ kind: "in-place", stack, address, path, message: `updated in place: it refers to ${causePaths.join(", ")}, replaced${groups ? " (its list of security groups changes)" : ""}` });
    }
  }
  return { findings, replaced, updated };
}

/** Terraform's meta-arguments and cdktf's metadata: a change to them alone plans no change. */
export const META_ARGUMENTS: ReadonlySet<string> = new Set(["//", "provisioner", "connection", "lifecycle", "depends_on", "count", "for_each", "provider"]);

/** The finding of one change on its own; "replaced" when Terraform will replace the resource. */
function direct(change: ResourceChange, add: (kind: Replacement["kind"], message: string) => void): "replaced" | "other" {
  const holdsData = DATA_HOLDERS.has(change.type);
  if (change.action === "remove") {
    if (holdsData) add("data-loss", `destroyed: ${change.type} is removed from the config, and the data on it with it`);
    else if (change.type === "aws_instance") add("replacement", `terminated: removed from the config${holdsState(change.before) ? ` ${STATE_NOTE}` : ""}`);
    return "other";
  }
  if (change.action === "add") return "other";
  const before = change.before as Json;
  const after = change.after as Json;
  // Terraform reads only the configuration it applies: the head's ignore list, not the base's.
  const ignored = ignoredAttributes(after);
  const narrowed = narrowedIgnores(change.type, ignoredAttributes(before), ignored);
  if (narrowed.length > 0) {
    const forced = forceNewChanges(change.type, narrowed, []);
    const restarts = change.type === "aws_instance" && narrowed.some((name) => USER_DATA.test(name) || name === "instance_type");
    add(
      forced.length > 0 ? "replacement" : restarts ? "stop-start" : "in-place",
      `lifecycle.ignore_changes no longer covers ${narrowed.join(", ")}: the apply brings ${narrowed.length === 1 ? "it" : "them"} to the configured value, whatever changed since ${narrowed.length === 1 ? "it was" : "they were"} last applied` +
        (forced.length > 0 ? ` (replaced where ${forced.join(", ")} differs)` : restarts ? " (stopped and started where it differs)" : ""),
    );
  }
  if (ignored.includes("all")) return "other";
  if (change.type === "aws_s3_bucket" && after.force_destroy === true && before.force_destroy !== true) {
    add("data-loss", "force_destroy turned on: a destroy deletes every object in the bucket");
  }
  if (change.type === "aws_s3_bucket_versioning" && JSON.stringify(after.versioning_configuration) !== JSON.stringify(before.versioning_configuration) && after.versioning_configuration?.status !== "Enabled") {
    add("data-loss", `versioning ${String(after.versioning_configuration?.status)}: an overwritten or deleted object can no longer be recovered`);
  }
  if (change.type === "aws_s3_bucket_lifecycle_configuration" && change.attributes.some((path) => path.startsWith("rule"))) {
    add("data-loss", "the bucket's lifecycle rules change: check what expires now");
  }
  const forced = forceNewChanges(change.type, change.attributes, ignored);
  if (PROVISIONER_STEPS.has(change.type)) {
    if (forced.length === 0) return "other";
    const keys = change.attributes.filter((path) => /^triggers(_replace)?\./.test(path)).map((path) => path.replace(/^triggers(_replace)?\./, ""));
    add("re-run", `re-runs its provisioner script on apply (${keys.length === 1 ? "trigger" : "triggers"} ${keys.join(", ")} changed)`);
    return "replaced";
  }
  const why = forced.map((name) => `${name} changes`);
  const userData = change.attributes.filter((path) => USER_DATA.test(path) && !ignored.includes(path));
  if (userData.length > 0 && after.user_data_replace_on_change === true) why.push("its user data changes and user_data_replace_on_change is set");
  const typeChanged = change.type === "aws_instance" && change.attributes.includes("instance_type") && !ignored.includes("instance_type");
  if (typeChanged && architectureOf(String(before.instance_type)) !== architectureOf(String(after.instance_type))) {
    why.push(`instance_type changes from ${String(before.instance_type)} to ${String(after.instance_type)}, another CPU architecture`);
  }
  if (why.length > 0) {
    const state = change.type === "aws_instance" && holdsState(after) ? ` ${STATE_NOTE}` : "";
    add(holdsData ? "data-loss" : "replacement", `replaced: ${why.join("; ")}${holdsData ? ": the data on it is destroyed" : state}`);
    return "replaced";
  }
  if (change.type === "aws_instance" && (userData.length > 0 || typeChanged)) {
    const reasons = [...(typeChanged ? [`to change its type from ${String(before.instance_type)} to ${String(after.instance_type)}`] : []), ...(userData.length > 0 ? ["to take new user data (which EC2 runs only at first boot)"] : [])];
    add("stop-start", `stopped and started ${reasons.join(" and ")}`);
  }
  return "other";
}

/** What an ignore list stopped covering; "all" stands for every argument the base ignored. */
function narrowedIgnores(type: string, before: readonly string[], after: readonly string[]): string[] {
  if (after.includes("all")) return [];
  if (before.includes("all")) return [...(FORCE_NEW_ATTRIBUTES[type] ?? []), ...(type === "aws_instance" ? ["user_data", "user_data_base64", "instance_type"] : [])].filter((name) => !after.includes(name));
  return before.filter((name) => !after.includes(name));
}

const STATE_NOTE = "— it holds state (its lifecycle keeps it through script changes): replace such nodes one at a time";

/** An instance whose lifecycle ignores its user data is one the stack keeps for the state it holds. */
function holdsState(body: Json | undefined): boolean {
  return ignoredAttributes(body).some((name) => USER_DATA.test(name));
}


/**
 * The text of a resource's force-new arguments (and of its user data, through its local, when a
 * change replaces the instance): a resource named in it is one whose replacement drags this one along.
 */
function replacingText(stack: Json, address: string, body: Json): string {
  const type = address.split(".")[0];
  const ignored = ignoredAttributes(body);
  if (ignored.includes("all")) return "";
  const names = [...(FORCE_NEW_ATTRIBUTES[type] ?? []).map((name) => name.split(".")[0]), ...(body.user_data_replace_on_change === true ? ["user_data", "user_data_base64"] : [])];
  const locals = (stack.locals ?? {}) as Json;
  return names
    .filter((name) => !ignored.includes(name) && body[name] !== undefined)
    .map((name) => JSON.stringify(body[name]).replace(/local\.([A-Za-z0-9_-]+)/g, (match, local: string) => `${match} ${JSON.stringify(locals[local] ?? "")}`))
    .join("\n");
}
