import { architectureOf } from "../config/architecture";
import { DATA_HOLDERS, forceNewChanges, FORCE_NEW_ATTRIBUTES } from "./forceNewAttributes";
import { ignoredAttributes, isUnder } from "./attributePaths";
import { resourceBlocks, type ResourceChange } from "./resourceDiff";
import { RULE_TYPES } from "./securityFindings";
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

/** Resources other resources live in: deleting one that still holds them fails. */
const CONTAINERS: ReadonlySet<string> = new Set(["aws_subnet", "aws_vpc", "aws_security_group"]);

/** One stack reading another's replaced resources through cdktf's cross-stack outputs. */
interface Crossing {
  readonly producer: string;
  readonly consumer: string;
  readonly causes: Set<string>;
  readonly dependents: Set<string>;
}

/** How a block of one stack names a replaced resource: its address, or the remote-state output that carries it. */
interface ReplacedReference {
  readonly pattern: RegExp;
  /** The stack and address of the replaced resource. */
  readonly stack: string;
  readonly address: string;
}

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
    const outcome = direct(change, add, changes);
    if (outcome === "replaced") markReplaced(change.stack, change.address);
  }

  // Knock-on replacements, in this stack and in the stacks that read its outputs, until nothing more is dragged along.
  const blocksByStack = new Map(Object.keys(head).map((stack) => [stack, resourceBlocks(head[stack])]));
  const pathOf = (stack: string, address: string): string => String(blocksByStack.get(stack)?.get(address)?.["//"]?.metadata?.path ?? address);
  const texts = new Map<string, string>();
  /** Per consumer stack and producer stack: the producer's replaced resources it reads, and what of its own that drags along. */
  const crossings = new Map<string, Crossing>();
  const cross = (producer: string, consumer: string, cause: string, dependent: string): void => {
    const key = `${producer}>${consumer}`;
    if (!crossings.has(key)) crossings.set(key, { producer, consumer, causes: new Set(), dependents: new Set() });
    crossings.get(key)?.causes.add(cause);
    crossings.get(key)?.dependents.add(dependent);
  };
  for (let round = 0; round < 10; round += 1) {
    let more = false;
    for (const [stack, blocks] of blocksByStack) {
      const json = head[stack];
      const refs = replacedReferences(stack, replaced, head, changes);
      if (refs.length === 0) continue;
      const addresses = replaced.get(stack) ?? new Set<string>();
      for (const [address, body] of blocks) {
        if (addresses.has(address)) continue;
        const key = `${stack} ${address}`;
        if (!texts.has(key)) texts.set(key, replacingText(json, address, body));
        const text = texts.get(key) as string;
        const cause = refs.find((ref) => ref.pattern.test(text));
        if (!cause) continue;
        const path = pathOf(stack, address);
        const type = address.split(".")[0];
        const causePath = pathOf(cause.stack, cause.address);
        const via = cause.stack === stack ? "" : ` (stack ${cause.stack}, through its output)`;
        const rerun = PROVISIONER_STEPS.has(type);
        findings.push({
          kind: DATA_HOLDERS.has(type) ? "data-loss" : rerun ? "re-run" : "replacement",
          stack,
          address,
          path,
          message: rerun
            ? `re-runs its provisioner script on apply (a trigger refers to ${causePath}${via}, which is replaced)`
            : `replaced: it refers to ${causePath}${via}, which is replaced${DATA_HOLDERS.has(type) ? ": the data on it is destroyed" : ""}`,
        });
        if (cause.stack !== stack) cross(cause.stack, stack, cause.address, address);
        markReplaced(stack, address);
        more = true;
      }
    }
    if (!more) break;
  }

  // What refers to a replaced resource's attributes, and is not replaced itself, is updated in
  // place: the new resource's id (or address) is known only after apply.
  const users = new Map<string, string[]>();
  for (const [stack, blocks] of blocksByStack) {
    const refs = replacedReferences(stack, replaced, head, changes);
    if (refs.length === 0) continue;
    const addresses = replaced.get(stack) ?? new Set<string>();
    // A resource the head adds is created with the replaced resource's new attributes: no update.
    const added = new Set(changes.filter((change) => change.stack === stack && change.action === "add").map((change) => change.address));
    for (const [address, body] of blocks) {
      if (addresses.has(address) || added.has(address)) continue;
      const ignored = ignoredAttributes(body);
      if (ignored.includes("all")) continue;
      const live = Object.fromEntries(Object.entries(body).filter(([key]) => !META_ARGUMENTS.has(key) && !ignored.includes(key)));
      const causes = refs.filter((ref) => ref.pattern.test(JSON.stringify(live)));
      if (causes.length === 0) continue;
      if (!updated.has(stack)) updated.set(stack, new Set());
      updated.get(stack)?.add(address);
      const type = address.split(".")[0];
      const causePaths = causes.map((cause) => `${pathOf(cause.stack, cause.address)}${cause.stack === stack ? "" : ` (stack ${cause.stack})`}`);
      const path = pathOf(stack, address);
      // A group in use: an instance lists it, or another group's rule names it as its peer.
      const usesGroup = (cause: ReplacedReference): boolean =>
        cause.address.startsWith("aws_security_group.") &&
        ((type === "aws_instance" && cause.pattern.test(JSON.stringify(body.vpc_security_group_ids ?? ""))) ||
          (RULE_TYPES.has(type) && cause.pattern.test(JSON.stringify(body.referenced_security_group_id ?? ""))));
      const groups = causes.filter(usesGroup);
      for (const group of groups) {
        const key = `${group.stack} ${group.address}`;
        users.set(key, [...(users.get(key) ?? []), path]);
      }
      for (const cause of causes) if (cause.stack !== stack) cross(cause.stack, stack, cause.address, address);
      findings.push({ kind: "in-place", stack, address, path, message: `updated in place: it refers to ${causePaths.join(", ")}, replaced${type === "aws_instance" && groups.length > 0 ? " (its list of security groups changes)" : ""}` });
    }
  }

  // A group still in use cannot be deleted: without create_before_destroy Terraform deletes the old one first.
  for (const [key, using] of users) {
    const [stack, address] = key.split(" ");
    const body = blocksByStack.get(stack)?.get(address);
    if (body?.lifecycle?.create_before_destroy === true) continue;
    findings.push({
      kind: "replacement",
      stack,
      address,
      path: pathOf(stack, address),
      message:
        `IN USE: replaced without create_before_destroy while ${using.join(", ")} use it: Terraform deletes the old group first, which EC2 refuses ` +
        "while a network interface or another group's rule still uses it (DependencyViolation); the provider retries for up to 15 minutes and the apply fails. " +
        "Set lifecycle create_before_destroy on the group (with name_prefix instead of name, since the new group must be created beside the old one)",
    });
  }

  for (const { producer, consumer, causes, dependents } of crossings.values()) {
    const causePaths = [...causes].map((cause) => pathOf(producer, cause));
    const containers = [...causes].filter((cause) => CONTAINERS.has(cause.split(".")[0]) && blocksByStack.get(producer)?.get(cause)?.lifecycle?.create_before_destroy !== true);
    const inside = [...dependents].filter((dependent) => replaced.get(consumer)?.has(dependent) && ["aws_instance", "aws_vpc_endpoint", "aws_nat_gateway"].includes(dependent.split(".")[0]));
    const stall =
      containers.length > 0 && inside.length > 0
        ? `. But ${producer}'s apply cannot delete the old ${containers.map((cause) => pathOf(producer, cause)).join(", ")} while ${consumer}'s ${inside.map((dependent) => pathOf(consumer, dependent)).join(", ")} ${inside.length === 1 ? "is" : "are"} still in ${containers.length === 1 ? "it" : "them"}: ` +
          "EC2 answers DependencyViolation and the provider retries until its delete timeout (20 minutes for a subnet), then fails. " +
          `Destroy them first (in ${consumer}: terraform destroy ${inside.map((dependent) => `-target=${dependent}`).join(" ")}), then apply ${producer}, then ${consumer}`
        : "";
    findings.push({
      kind: "replacement",
      stack: consumer,
      address: "stack",
      path: consumer,
      message:
        `APPLY ORDER: ${producer} first, then ${consumer}: ${consumer} reads the new ${causePaths.join(", ")} from ${producer}'s outputs, ` +
        `so its ${dependents.size} dependent change${dependents.size === 1 ? "" : "s"} show${dependents.size === 1 ? "s" : ""} in its plan only once ${producer} is applied` +
        stall,
    });
  }
  return { findings, replaced, updated };
}

/**
 * The replaced resources a stack's blocks can name: its own by address, another stack's through
 * the cross-stack outputs cdktf writes (`cross-stack-output-*`, read back with
 * `data.terraform_remote_state`), for an attribute the replacement gives a new value (the id, not
 * an availability zone the config sets and the change leaves alone).
 */
function replacedReferences(stack: string, replaced: ReadonlyMap<string, ReadonlySet<string>>, head: SynthesizedPlatform, changes: readonly ResourceChange[]): ReplacedReference[] {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const refs: ReplacedReference[] = [...(replaced.get(stack) ?? [])].map((address) => ({ pattern: new RegExp(`\\b${escape(address)}\\.`), stack, address }));
  for (const [producer, addresses] of replaced) {
    if (producer === stack || addresses.size === 0) continue;
    for (const [name, output] of Object.entries((head[producer]?.output ?? {}) as Json)) {
      if (!name.startsWith("cross-stack-output-")) continue;
      const value = String((output as Json).value ?? "");
      for (const address of addresses) {
        const attribute = new RegExp(`^\\$\\{${escape(address)}\\.([a-z0-9_]+)\\}$`).exec(value)?.[1];
        if (attribute === undefined) continue;
        const body = resourceBlocks(head[producer]).get(address);
        const change = changes.find((each) => each.stack === producer && each.address === address);
        // An argument the config sets keeps its value through the replacement, unless the change is to it or it names another replaced resource.
        const setting = body?.[attribute] === undefined ? undefined : JSON.stringify(body[attribute]);
        const keeps = setting !== undefined && ![...addresses].some((other) => setting.includes(`${other}.`)) && !(change?.attributes ?? []).some((path) => isUnder(path, attribute));
        if (keeps) continue;
        refs.push({ pattern: new RegExp(`data\\.terraform_remote_state\\.cross-stack-reference-input-${escape(producer)}\\.outputs\\.${escape(name)}(?![A-Za-z0-9_-])`), stack: producer, address });
      }
    }
  }
  return refs;
}

/** Terraform's meta-arguments and cdktf's metadata: a change to them alone plans no change. */
export const META_ARGUMENTS: ReadonlySet<string> = new Set(["//", "provisioner", "connection", "lifecycle", "depends_on", "count", "for_each", "provider"]);

/** The finding of one change on its own; "replaced" when Terraform will replace the resource. */
function direct(change: ResourceChange, add: (kind: Replacement["kind"], message: string) => void, changes: readonly ResourceChange[]): "replaced" | "other" {
  const holdsData = DATA_HOLDERS.has(change.type);
  if (change.action === "remove") {
    if (change.type === "aws_s3_bucket") add("data-loss", bucketRemoval(change, changes));
    else if (change.type === "aws_s3_bucket_versioning" && change.before?.versioning_configuration?.status === "Enabled" && !bucketGoes(change, changes)) {
      // S3 cannot turn versioning off: the provider's delete suspends it.
      add("data-loss", "removed: the provider suspends the bucket's versioning on delete, so from then on an overwritten or deleted object can no longer be recovered (versions kept so far stay)");
    }
    else if (holdsData) add("data-loss", `destroyed: ${change.type} is removed from the config, and the data on it with it`);
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
  const otherArchitecture = typeChanged && architectureOf(String(before.instance_type)) !== architectureOf(String(after.instance_type));
  if (otherArchitecture && ignored.includes("ami")) {
    // instance_type is updated in place; the image stays, and EC2 refuses a type of another architecture for it.
    add(
      "stop-start",
      `APPLY FAILS: instance_type changes from ${String(before.instance_type)} to ${String(after.instance_type)}, another CPU architecture, but lifecycle ignores ami: ` +
        `Terraform updates it in place, the provider stops the instance and EC2 refuses the new type for its ${architectureOf(String(before.instance_type))} image, so the apply fails with the instance stopped. ` +
        `Replace it instead: terraform apply -replace=${change.address}`,
    );
    return "other";
  }
  if (why.length > 0) {
    const state = change.type === "aws_instance" && holdsState(after) ? ` ${STATE_NOTE}` : "";
    const loss = change.type === "aws_s3_bucket" ? `: ${bucketReplacement(before)}` : holdsData ? ": the data on it is destroyed" : state;
    add(holdsData ? "data-loss" : "replacement", `replaced: ${why.join("; ")}${loss}`);
    return "replaced";
  }
  if (change.type === "aws_instance" && (userData.length > 0 || typeChanged)) {
    const reasons = [...(typeChanged ? [`to change its type from ${String(before.instance_type)} to ${String(after.instance_type)}`] : []), ...(userData.length > 0 ? ["to take new user data (which EC2 runs only at first boot)"] : [])];
    add("stop-start", `stopped and started ${reasons.join(" and ")}`);
  }
  return "other";
}

/**
 * A bucket taken out of the config. With force_destroy the provider deletes every object and
 * every version before the bucket. Without it, Terraform first destroys what depends on the
 * bucket (its policy, public access block, encryption, versioning), then S3 refuses to delete a
 * bucket that holds anything (BucketNotEmpty): the apply fails and the bucket stays, unprotected.
 */
function bucketRemoval(change: ResourceChange, changes: readonly ResourceChange[]): string {
  if (change.before?.force_destroy === true) return "destroyed with force_destroy: the provider deletes every object and every version in the bucket, then the bucket";
  const reference = new RegExp(`\\b${change.address.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.`);
  const protections = changes
    .filter((other) => other.stack === change.stack && other.action === "remove" && other.type.startsWith("aws_s3_bucket_") && reference.test(JSON.stringify(other.before ?? {})))
    .map((other) => other.type.replace(/^aws_s3_bucket_/, ""));
  return (
    "removed from the config with force_destroy false: " +
    (protections.length > 0 ? `Terraform first destroys its ${protections.join(", ")}, then ` : "Terraform ") +
    "fails to delete the bucket while it holds any object (BucketNotEmpty), so the apply fails" +
    (protections.length > 0 ? " and the bucket stays without those protections" : "") +
    "; empty it first, or keep it out of Terraform (terraform state rm) before removing it from the config"
  );
}

/**
 * A bucket replaced: Terraform destroys the old one first, with the force_destroy of its state.
 * Without it S3 refuses to delete a bucket that holds anything, after the bucket's configuration
 * resources, replaced with it, have been destroyed.
 */
function bucketReplacement(before: Json): string {
  if (before.force_destroy === true) return "the provider deletes every object and every version in the old bucket, then the bucket";
  return (
    "with force_destroy false, Terraform first destroys the old bucket's configuration resources replaced with it (its policy, public access block, encryption), " +
    "then fails to delete the bucket while it holds any object (BucketNotEmpty), so the apply fails and the bucket stays without those protections; " +
    "empty it first, or keep the old bucket out of Terraform (terraform state rm)"
  );
}

/** Whether the bucket a bucket-configuration resource names is removed in the same apply. */
function bucketGoes(change: ResourceChange, changes: readonly ResourceChange[]): boolean {
  const named = /\$\{(aws_s3_bucket\.[A-Za-z0-9_-]+)\./.exec(JSON.stringify(change.before?.bucket ?? ""))?.[1];
  return changes.some((other) => other.stack === change.stack && other.action === "remove" && other.address === named);
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
