/**
 * What the drain and roll guards promise depends on how Terraform orders destroys, creates and
 * failures, which only Terraform itself can show: this builds, from a synthesized Kafka stack, a
 * model in which every broker's instance, data volume, attachment and guard becomes a
 * `terraform_data` with exactly the dependencies the stack gives it (its `depends_on` and its
 * references), each logging what Terraform does to it. `terraform apply` of the model needs no
 * provider and no cloud. A drain guard's destroy fails, as it does while its broker holds replicas.
 */

import { CONTROLLER_NODE_ID_BASE } from "../config/validateConfig";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const KEPT = /^(aws_instance|aws_ebs_volume|aws_volume_attachment)$/;
const GUARD = /^(drain-guard$|roll-guard-)/;

/** One modelled resource: its stack address, and the modelled addresses it waits for. */
export interface ModelNode {
  readonly address: string;
  readonly after: readonly string[];
  /** The for_each keys of a resource with one instance per broker (the drain guard): node ids. */
  readonly keys?: readonly string[];
}

/**
 * The dedicated controllers' model adds their guard and what removes a controller from the voters:
 * the converge, with the bootstraps and the data bag upload it waits for.
 */
const CONTROLLER_MODEL = /^(controller-guard$|converge$|bootstrap-|kraft-bag$)/;

/** The stack's instances, volumes, attachments and guards (and `also`'s steps) with the dependencies among them. */
export function modelNodes(stack: Json, also?: RegExp): ModelNode[] {
  const resources: Array<[string, Json]> = [];
  for (const [type, byName] of Object.entries((stack.resource ?? {}) as Record<string, Record<string, Json>>)) {
    for (const [name, body] of Object.entries(byName)) {
      if (KEPT.test(type) || (type === "terraform_data" && (GUARD.test(name) || also?.test(name)))) resources.push([`${type}.${name}`, body]);
    }
  }
  const addresses = new Set(resources.map(([address]) => address));
  return resources.map(([address, body]) => {
    const { provisioner: _provisioner, connection: _connection, ...rest } = body;
    const text = JSON.stringify(rest);
    const after = [...addresses].filter((other) => other !== address && new RegExp(`(^|[^A-Za-z0-9_.-])${other.replace(/[.]/g, "\\.")}([^A-Za-z0-9_-]|$)`).test(text));
    const keys = body.for_each && typeof body.for_each === "object" ? Object.keys(body.for_each as Json).sort((a, b) => Number(a) - Number(b)) : undefined;
    return { address, after: after.sort(), ...(keys ? { keys } : {}) };
  });
}

/**
 * Broker `index`'s own resources, as the stack names them: its instance, volumes, attachments, roll
 * guard, and a ZooKeeper member's volume attribute step.
 */
function brokerResources(index: number): RegExp {
  return new RegExp(
    `^(aws_instance\\.node-${index}_|aws_ebs_volume\\.(zookeeper-)?data-volume-${index}$|aws_volume_attachment\\.(zookeeper-)?data-volume-${index}-attachment$|` +
      `terraform_data\\.roll-guard-node-${index}$|terraform_data\\.zookeeper-volume-attribute-node-${index}$)`,
  );
}

/** A modelled resource's name in the model: one Terraform identifier per stack address. */
export function modelName(address: string): string {
  return address.replace(/[^A-Za-z0-9_-]/g, "__");
}

/**
 * The model's configuration. A drain guard's destroy fails while `protection` is true, as the real
 * guard does while its broker holds replicas. Without `removed`, every broker is configured; with
 * it, that broker's resources and drain guard instance are left out, as lowering kafka.nodes does.
 */
export function modelConfig(nodes: readonly ModelNode[], removed?: number): Json {
  const ofRemoved = removed === undefined ? undefined : brokerResources(removed);
  const keep = (address: string): boolean => !ofRemoved?.test(address);
  const resource: Record<string, Json> = {};
  for (const node of nodes.filter((candidate) => keep(candidate.address))) {
    const guard = node.address.startsWith("terraform_data.drain-guard");
    const label = node.keys ? `${node.address}[\${each.key}]` : node.address;
    resource[modelName(node.address)] = {
      ...(node.keys ? { for_each: Object.fromEntries(node.keys.filter((key) => removed === undefined || key !== String(removed + 1)).map((key) => [key, key])) } : {}),
      triggers_replace: { address: label },
      input: guard ? { protection: "${var.protection}", label } : null,
      depends_on: node.after.filter(keep).map((other) => `terraform_data.${modelName(other)}`),
      provisioner: [
        { "local-exec": { command: `echo 'create ${label}' >> order.log` } },
        {
          "local-exec": {
            when: "destroy",
            command: guard
              ? "echo \"destroy ${self.input.label} protection=${self.input.protection}\" >> order.log; test \"${self.input.protection}\" = false"
              : `echo 'destroy ${node.address}' >> order.log`,
          },
        },
      ],
    };
  }
  return { variable: { protection: { type: "bool", default: true } }, resource: { terraform_data: resource } };
}

/** The first create and first destroy line of each address in a model run's order.log. */
export function orderOf(log: string): { readonly created: Map<string, number>; readonly destroyed: Map<string, number> } {
  const created = new Map<string, number>();
  const destroyed = new Map<string, number>();
  log
    .split("\n")
    .filter((line) => line.trim() !== "")
    .forEach((line, index) => {
      const [action, address] = line.split(" ");
      const seen = action === "create" ? created : destroyed;
      if (!seen.has(address)) seen.set(address, index);
    });
  return { created, destroyed };
}

/** Runs terraform in the model's directory. */
export type ModelTerraform = (args: readonly string[]) => { readonly status: number; readonly stdout: string; readonly stderr: string };

/** What the model runs showed: one line per check that failed, and what each run did. */
export interface GuardModelResult {
  readonly problems: readonly string[];
  readonly created: readonly string[];
  readonly scaleDown: readonly string[];
}

/**
 * Applies the model of a stack with `brokers` brokers, in `write`'s directory: (1) a first deploy,
 * whose creates must go instance by instance with each roll guard between two instances, and the
 * first instance's own guard before it; (2) the
 * last broker left out of the config, which must fail at its drain guard with its instance,
 * volume and attachment not destroyed; (3) protection off, deployed, then a destroy of everything,
 * which must pass.
 */
export function checkGuardModel(stack: Json, brokers: number, terraform: ModelTerraform, write: (file: string, text: string) => void, read: (file: string) => string): GuardModelResult {
  const nodes = modelNodes(stack);
  const problems: string[] = [];
  const last = brokers - 1;
  const instances = Array.from({ length: brokers }, (_unused, index) => nodes.find((node) => new RegExp(`^aws_instance\\.node-${index}_`).test(node.address))?.address);
  const lines = (): string[] => read("order.log").split("\n").filter((line) => line.trim() !== "");

  write("main.tf.json", JSON.stringify(modelConfig(nodes), null, 2));
  write("order.log", "");
  for (const args of [["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]]) {
    const run = terraform(args);
    if (run.status !== 0) return { problems: [`terraform ${args[0]} of the model failed: ${(run.stderr || run.stdout).trim().split("\n").slice(0, 5).join(" / ")}`], created: [], scaleDown: [] };
  }
  const created = lines();
  const { created: createdAt } = orderOf(created.join("\n"));
  // The first instance waits for its own guard, which waits for no instance.
  const firstGuard = createdAt.get("terraform_data.roll-guard-node-0");
  const firstInstance = instances[0] === undefined ? undefined : createdAt.get(instances[0]);
  if (firstGuard === undefined || firstInstance === undefined || !(firstGuard < firstInstance)) {
    problems.push(`${instances[0] ?? "broker 0's instance"} is not created after terraform_data.roll-guard-node-0 (log lines ${firstGuard}, ${firstInstance})`);
  }
  for (let index = 1; index < brokers; index += 1) {
    const [previous, next] = [instances[index - 1], instances[index]];
    const guard = `terraform_data.roll-guard-node-${index}`;
    if (!previous || !next) {
      problems.push(`no instance of broker ${index - 1} or ${index} in the stack`);
      continue;
    }
    const [p, g, n] = [createdAt.get(previous), createdAt.get(guard), createdAt.get(next)];
    if (g === undefined || p === undefined || n === undefined || !(p < g && g < n)) {
      problems.push(`${next} is not created after ${guard}, after ${previous} (log lines ${p}, ${g}, ${n})`);
    }
  }

  write("order.log", "");
  write("main.tf.json", JSON.stringify(modelConfig(nodes, last), null, 2));
  const down = terraform(["apply", "-auto-approve", "-input=false", "-no-color"]);
  const scaleDown = lines();
  if (down.status === 0) problems.push(`removing broker ${last} succeeded without its drain guard refusing`);
  if (!scaleDown.some((line) => line.startsWith(`destroy terraform_data.drain-guard[${last + 1}] `))) problems.push(`removing broker ${last} did not run its drain guard`);
  // A resource whose block left the configuration runs no provisioner: the state says what is left.
  const state = terraform(["state", "list"]);
  const left = new Set(state.stdout.split("\n").map((line) => line.trim()));
  const held = nodes.filter((node) => brokerResources(last).test(node.address) && !node.address.startsWith("terraform_data."));
  // Its instance, data volume and attachment; a ZooKeeper member's own volume and attachment too.
  const kinds = ["aws_instance.", "aws_ebs_volume.", "aws_volume_attachment."];
  if (!kinds.every((kind) => held.some((node) => node.address.startsWith(kind)))) problems.push(`expected broker ${last}'s instance, volume and attachment in the stack, found ${held.map((node) => node.address).join(", ") || "none"}`);
  const lost = held.filter((node) => !left.has(`terraform_data.${modelName(node.address)}`)).map((node) => node.address);
  if (state.status !== 0) problems.push(`terraform state list failed: ${state.stderr.trim()}`);
  if (lost.length > 0) problems.push(`removing broker ${last} destroyed ${lost.join(", ")} although nothing drained it`);

  write("main.tf.json", JSON.stringify(modelConfig(nodes), null, 2));
  for (const args of [["apply", "-auto-approve", "-input=false", "-no-color", "-var", "protection=false"], ["destroy", "-auto-approve", "-input=false", "-no-color", "-var", "protection=false"]]) {
    const run = terraform(args);
    if (run.status !== 0) problems.push(`teardown with kafka.deletionProtection off: terraform ${args[0]} failed: ${(run.stderr || run.stdout).trim().split("\n").slice(0, 3).join(" / ")}`);
  }
  return { problems, created, scaleDown };
}

/** Dedicated controller `index`'s own resources, as the stack names them. */
function controllerResources(index: number): RegExp {
  return new RegExp(
    `^(aws_instance\\.controller-${index}_|aws_ebs_volume\\.controller-data-volume-${index}$|aws_volume_attachment\\.controller-data-volume-${index}-attachment$|` +
      `terraform_data\\.(roll-guard|bootstrap)-controller-${index}$)`,
  );
}

/** How long the model's controller guard waits for the model's converge, in seconds. */
const MODEL_GUARD_WAIT_SECONDS = 20;

/**
 * The controllers' model. Every controller is configured, except the `removed` ones (indexes),
 * whose resources and guard instances are left out, as lowering kafka.controllerNodes does. The
 * converge runs again on each apply (`run`); when `removes` is true it marks the removed
 * controllers as out of the voters, as the real converge's remove-controller does. A controller
 * guard's destroy waits, bounded, for that mark, and fails without it, as the real guard does.
 */
export function controllerModelConfig(nodes: readonly ModelNode[], removed: readonly number[], run: string, removes: boolean): Json {
  const gone = removed.map(controllerResources);
  const keep = (address: string): boolean => !gone.some((pattern) => pattern.test(address));
  const removedKeys = removed.map((index) => String(CONTROLLER_NODE_ID_BASE + index + 1));
  const resource: Record<string, Json> = {};
  for (const node of nodes.filter((candidate) => keep(candidate.address))) {
    const guard = node.address === "terraform_data.controller-guard";
    const converge = node.address === "terraform_data.converge";
    const label = node.keys ? `${node.address}[\${each.key}]` : node.address;
    const wait = `for i in $(seq ${MODEL_GUARD_WAIT_SECONDS}); do [ -f voted-out-\${self.input.key} ] && break; sleep 1; done`;
    resource[modelName(node.address)] = {
      ...(node.keys ? { for_each: Object.fromEntries(node.keys.filter((key) => !removedKeys.includes(key)).map((key) => [key, key])) } : {}),
      triggers_replace: { address: label, ...(converge ? { run } : {}) },
      input: guard ? { protection: "${var.protection}", label, key: "${each.key}" } : null,
      depends_on: node.after.filter(keep).map((other) => `terraform_data.${modelName(other)}`),
      provisioner: [
        { "local-exec": { command: `echo 'create ${label}' >> order.log${converge && removes ? removedKeys.map((key) => `; touch voted-out-${key}`).join("") : ""}` } },
        {
          "local-exec": {
            when: "destroy",
            command: guard
              ? `if [ "\${self.input.protection}" = true ]; then ${wait}; fi; echo "destroy \${self.input.label} protection=\${self.input.protection}" >> order.log; test "\${self.input.protection}" = false || test -f voted-out-\${self.input.key}`
              : `echo 'destroy ${node.address}' >> order.log`,
          },
        },
      ],
    };
  }
  return { variable: { protection: { type: "bool", default: true } }, resource: { terraform_data: resource } };
}

/** What the controllers' model runs showed. */
export interface ControllerGuardModelResult {
  readonly problems: readonly string[];
  readonly scaleDown: readonly string[];
}

/**
 * Applies the controllers' model of a stack with `controllers` dedicated controllers: (1) a first
 * deploy; (2) every controller but the first left out, with a converge that does not remove them:
 * it must fail at their guards with their instances, volumes and attachments kept; (3) the same,
 * with a converge that removes them: it must pass, each guard passing after the converge ran (so
 * Terraform never makes the converge wait for a guard that waits for it), and the controllers'
 * resources gone; (4) protection off, then a destroy of everything.
 */
export function checkControllerGuardModel(stack: Json, controllers: number, terraform: ModelTerraform, write: (file: string, text: string) => void, read: (file: string) => string): ControllerGuardModelResult {
  const nodes = modelNodes(stack, CONTROLLER_MODEL);
  const problems: string[] = [];
  const removed = Array.from({ length: controllers - 1 }, (_unused, index) => index + 1);
  const lines = (): string[] => read("order.log").split("\n").filter((line) => line.trim() !== "");
  const apply = ["apply", "-auto-approve", "-input=false", "-no-color"];
  const left = (): Set<string> => new Set(terraform(["state", "list"]).stdout.split("\n").map((line) => line.trim()));
  if (!nodes.some((node) => node.address === "terraform_data.controller-guard")) return { problems: ["no controller guard in the stack"], scaleDown: [] };
  if (removed.length === 0) return { problems: ["the model needs at least two dedicated controllers"], scaleDown: [] };

  write("main.tf.json", JSON.stringify(controllerModelConfig(nodes, [], "1", false), null, 2));
  write("order.log", "");
  for (const args of [["init", "-input=false", "-no-color"], apply]) {
    const run = terraform(args);
    if (run.status !== 0) return { problems: [`terraform ${args[0]} of the controllers' model failed: ${(run.stderr || run.stdout).trim().split("\n").slice(0, 5).join(" / ")}`], scaleDown: [] };
  }
  const held = (index: number): string[] => nodes.filter((node) => controllerResources(index).test(node.address) && !node.address.startsWith("terraform_data.")).map((node) => node.address);

  write("main.tf.json", JSON.stringify(controllerModelConfig(nodes, removed, "2", false), null, 2));
  if (terraform(apply).status === 0) problems.push(`removing controllers ${removed.join(", ")} while they still vote succeeded without their guards refusing`);
  const kept = left();
  for (const index of removed) {
    if (held(index).length !== 3) problems.push(`expected controller ${index}'s instance, volume and attachment in the stack, found ${held(index).join(", ") || "none"}`);
    const lost = held(index).filter((address) => !kept.has(`terraform_data.${modelName(address)}`));
    if (lost.length > 0) problems.push(`removing controller ${index} while it still votes destroyed ${lost.join(", ")}`);
  }

  write("order.log", "");
  write("main.tf.json", JSON.stringify(controllerModelConfig(nodes, removed, "3", true), null, 2));
  const down = terraform(apply);
  const scaleDown = lines();
  if (down.status !== 0) problems.push(`removing controllers ${removed.join(", ")} with a converge that removes them failed: ${(down.stderr || down.stdout).trim().split("\n").slice(0, 3).join(" / ")}`);
  const { created, destroyed } = orderOf(scaleDown.join("\n"));
  const convergeAt = created.get("terraform_data.converge");
  // A resource whose block left the configuration runs no provisioner: the state says what went.
  const after = left();
  for (const index of removed) {
    const guardAt = destroyed.get(`terraform_data.controller-guard[${CONTROLLER_NODE_ID_BASE + index + 1}]`);
    if (guardAt === undefined || convergeAt === undefined || guardAt < convergeAt) problems.push(`controller ${index}'s guard did not pass after the converge ran (log lines ${convergeAt}, ${guardAt})`);
    const still = held(index).filter((address) => after.has(`terraform_data.${modelName(address)}`));
    if (still.length > 0) problems.push(`controller ${index} was removed from the voters, yet ${still.join(", ")} stayed`);
  }

  write("main.tf.json", JSON.stringify(controllerModelConfig(nodes, [], "4", false), null, 2));
  for (const args of [[...apply, "-var", "protection=false"], ["destroy", "-auto-approve", "-input=false", "-no-color", "-var", "protection=false"]]) {
    const run = terraform(args);
    if (run.status !== 0) problems.push(`teardown with kafka.deletionProtection off: terraform ${args[0]} failed: ${(run.stderr || run.stdout).trim().split("\n").slice(0, 3).join(" / ")}`);
  }
  return { problems, scaleDown };
}

/** The plaintext guard's model, before (a migrating stack) and after (a tls one), and the rules it stands before. */
export interface PlaintextGuardModel {
  readonly before: Json;
  readonly after: Json;
  /** The modelled names of the plaintext ports' rules. */
  readonly plaintextRules: readonly string[];
}

/**
 * The plaintext guard with the rules it depends on, as `before` (kafka.security "migrating")
 * synthesizes them, and as `after` ("tls") leaves them: its rules gone, its for_each empty. The
 * guard's destroy fails, as the real one does while a node still reaches another in plaintext.
 */
export function plaintextGuardModel(before: Json, after: Json): PlaintextGuardModel {
  const guardOf = (stack: Json): Json | undefined => stack.resource?.terraform_data?.["plaintext-guard"];
  const guard = guardOf(before);
  if (!guard) throw new Error("no plaintext guard in the stack");
  const rules: string[] = (guard.depends_on as string[]).filter((address) => /^aws_vpc_security_group_(ingress|egress)_rule\./.test(address));
  const present = (stack: Json, address: string): boolean => {
    const [type, name] = address.split(".");
    return stack.resource?.[type]?.[name] !== undefined;
  };
  const config = (stack: Json): Json => {
    const resource: Record<string, Json> = {};
    for (const address of rules.filter((candidate) => present(stack, candidate))) {
      resource[modelName(address)] = {
        provisioner: [
          { "local-exec": { command: `echo 'create ${address}' >> order.log` } },
          { "local-exec": { when: "destroy", command: `echo 'destroy ${address}' >> order.log` } },
        ],
      };
    }
    // The converge rolls the nodes to the stack's kafka.security: it must wait for the guard.
    const converge = stack.resource?.terraform_data?.converge as Json | undefined;
    resource.converge = {
      triggers_replace: { stage: stack === before ? "before" : "after" },
      depends_on: ((converge?.depends_on ?? []) as string[]).includes("terraform_data.plaintext-guard") ? ["terraform_data.plaintext-guard"] : [],
      provisioner: [{ "local-exec": { command: "echo 'create terraform_data.converge' >> order.log" } }],
    };
    const keys = Object.keys((guardOf(stack)?.for_each ?? {}) as Json);
    resource["plaintext-guard"] = {
      for_each: Object.fromEntries(keys.map((key) => [key, key])),
      input: { protection: "${var.protection}", label: "terraform_data.plaintext-guard[${each.key}]" },
      depends_on: rules.filter((address) => present(stack, address)).map((address) => `terraform_data.${modelName(address)}`),
      provisioner: [
        { "local-exec": { when: "destroy", command: "echo \"destroy ${self.input.label}\" >> order.log; test \"${self.input.protection}\" = false" } },
      ],
    };
    return { variable: { protection: { type: "bool", default: true } }, resource: { terraform_data: resource } };
  };
  return { before: config(before), after: config(after), plaintextRules: rules.map(modelName) };
}

/**
 * Applies the plaintext guard's model: the migrating stack, then the tls one, which must fail at
 * the guard with every plaintext rule still in place; then, protection off, the tls one again,
 * which must close them.
 */
export function checkPlaintextGuardModel(before: Json, after: Json, terraform: ModelTerraform, write: (file: string, text: string) => void, read: (file: string) => string): { readonly problems: readonly string[] } {
  const model = plaintextGuardModel(before, after);
  const problems: string[] = [];
  const apply = ["apply", "-auto-approve", "-input=false", "-no-color"];
  const lines = (): string[] => read("order.log").split("\n").filter((line) => line.trim() !== "");
  const left = (): Set<string> => new Set(terraform(["state", "list"]).stdout.split("\n").map((line) => line.trim()));
  write("main.tf.json", JSON.stringify(model.before, null, 2));
  write("order.log", "");
  for (const args of [["init", "-input=false", "-no-color"], apply]) {
    const run = terraform(args);
    if (run.status !== 0) return { problems: [`terraform ${args[0]} of the plaintext guard's model failed: ${(run.stderr || run.stdout).trim().split("\n").slice(0, 5).join(" / ")}`] };
  }
  write("order.log", "");
  write("main.tf.json", JSON.stringify(model.after, null, 2));
  if (terraform(apply).status === 0) problems.push("closing the plaintext ports succeeded without the plaintext guard refusing");
  const refused = lines();
  if (!refused.some((line) => line.startsWith("destroy terraform_data.plaintext-guard["))) problems.push("closing the plaintext ports did not run the plaintext guard");
  if (refused.includes("create terraform_data.converge")) problems.push("the refused apply still ran the converge, rolling the nodes to tls");
  const closed = refused.filter((line) => line.startsWith("destroy aws_vpc_security_group_"));
  if (closed.length > 0) problems.push(`the refused apply still closed ${closed.map((line) => line.split(" ")[1]).join(", ")}`);
  const kept = left();
  const lost = model.plaintextRules.filter((name) => !kept.has(`terraform_data.${name}`));
  if (lost.length > 0) problems.push(`the refused apply destroyed ${lost.join(", ")}`);
  // A destroy-time check reads its input as last applied: the migrating stack with the check
  // passing first, then the tls one.
  write("main.tf.json", JSON.stringify(model.before, null, 2));
  const passing = terraform([...apply, "-var", "protection=false"]);
  write("main.tf.json", JSON.stringify(model.after, null, 2));
  const open = passing.status === 0 ? terraform([...apply, "-var", "protection=false"]) : passing;
  if (open.status !== 0) problems.push(`closing them once the check passes failed: ${(open.stderr || open.stdout).trim().split("\n").slice(0, 3).join(" / ")}`);
  const remaining = model.plaintextRules.filter((name) => left().has(`terraform_data.${name}`));
  if (remaining.length > 0) problems.push(`closing them once the check passes left ${remaining.join(", ")}`);
  return { problems };
}
