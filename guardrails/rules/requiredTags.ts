import { TerraformResource, type TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { resolve } from "cdktf/lib/_tokens";
import { constructsOf, resourceConfig } from "../resourceConfig";
import type { Violation } from "../Violation";

export const REQUIRED_TAGS = "required-tags";
/** Tags every taggable resource carries, through the provider's default_tags or its own tags. */
export const REQUIRED_TAG_KEYS = ["Project", "Environment", "ManagedBy"] as const;

/** Every taggable resource ends up with the Project, Environment and ManagedBy tags. */
export function requiredTags(stack: TerraformStack): Violation[] {
  const inherited = new Set<string>();
  for (const provider of constructsOf(stack).filter((node): node is AwsProvider => node instanceof AwsProvider)) {
    const defaults = resolve(stack, provider.defaultTags) as Array<{ tags?: Record<string, string> }> | undefined;
    for (const entry of defaults ?? []) Object.keys(entry.tags ?? {}).forEach((key) => inherited.add(key));
  }
  return constructsOf(stack)
    .filter((node): node is TerraformResource => node instanceof TerraformResource && "tagsInput" in node)
    .flatMap((resource) => {
      const own = Object.keys((resourceConfig(resource).tags as Record<string, string> | undefined) ?? {});
      const missing = REQUIRED_TAG_KEYS.filter((key) => !inherited.has(key) && !own.includes(key));
      return missing.length === 0
        ? []
        : [{ construct: resource, ruleId: REQUIRED_TAGS, message: `${resource.terraformResourceType} lacks tags ${missing.join(", ")}` }];
    });
}
