import { TerraformResource, type TerraformStack } from "cdktf";
// cdktf has no public resolve(); this is the function its own stacks use to render tokens.
import { resolve } from "cdktf/lib/_tokens";

type Json = Record<string, unknown>;

/**
 * The resource's arguments as they will appear in the synthesized JSON (snake_case, overrides
 * applied, tokens resolved to Terraform expressions), so rules check what Terraform will see.
 */
export function resourceConfig(resource: TerraformResource): Json {
  const rendered = resolve(resource, resource.toTerraform()) as { resource: Record<string, Json> };
  const byName = rendered.resource[resource.terraformResourceType] as Record<string, Json>;
  return Object.values(byName)[0];
}

/** All resources of one Terraform type in a stack, with their rendered arguments. */
export function resourcesOfType(stack: TerraformStack, type: string): Array<{ resource: TerraformResource; config: Json }> {
  return stack.node
    .findAll()
    .filter((node): node is TerraformResource => node instanceof TerraformResource && node.terraformResourceType === type)
    .map((resource) => ({ resource, config: resourceConfig(resource) }));
}
