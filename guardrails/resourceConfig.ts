import { TerraformResource, type TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
// cdktf has no public resolve(); this is the function its own stacks use to render tokens.
import { resolve } from "cdktf/lib/_tokens";

type Json = Record<string, unknown>;

/** Rendered arguments and each stack's constructs, kept while the guardrails check one stack (see withRenderCache). */
let renderCache: Map<TerraformResource, Json> | undefined;
let nodeCache: Map<TerraformStack, IConstruct[]> | undefined;

/**
 * Runs `check` with each resource rendered at most once: several rules read the same resources,
 * and rendering (token resolution) is most of what the guardrails cost at synth.
 */
export function withRenderCache<T>(check: () => T): T {
  renderCache = new Map();
  nodeCache = new Map();
  try {
    return check();
  } finally {
    renderCache = undefined;
    nodeCache = undefined;
  }
}

/**
 * The resource's arguments as they will appear in the synthesized JSON (snake_case, overrides
 * applied, tokens resolved to Terraform expressions), so rules check what Terraform will see.
 */
export function resourceConfig(resource: TerraformResource): Json {
  const cached = renderCache?.get(resource);
  if (cached) return cached;
  const rendered = resolve(resource, resource.toTerraform()) as { resource: Record<string, Json> };
  const byName = rendered.resource[resource.terraformResourceType] as Record<string, Json>;
  const config = Object.values(byName)[0];
  renderCache?.set(resource, config);
  return config;
}

/** Every construct in the stack. */
export function constructsOf(stack: TerraformStack): IConstruct[] {
  const cached = nodeCache?.get(stack);
  if (cached) return cached;
  const all = stack.node.findAll();
  nodeCache?.set(stack, all);
  return all;
}

/** All resources of one Terraform type in a stack, with their rendered arguments. */
export function resourcesOfType(stack: TerraformStack, type: string): Array<{ resource: TerraformResource; config: Json }> {
  return constructsOf(stack)
    .filter((node): node is TerraformResource => node instanceof TerraformResource && node.terraformResourceType === type)
    .map((resource) => ({ resource, config: resourceConfig(resource) }));
}
