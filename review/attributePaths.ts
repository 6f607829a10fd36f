import type { Json } from "./synthesizedPlatform";

/** Whether an attribute path is `name` itself or lies under it: `root_block_device.encrypted`, `ingress[0]` under `ingress`. */
export function isUnder(path: string, name: string): boolean {
  return path === name || path.startsWith(`${name}.`) || path.startsWith(`${name}[`);
}

/** The arguments a block's `lifecycle.ignore_changes` names; `["all"]` when it ignores every one. */
export function ignoredAttributes(body: Json | undefined): string[] {
  const ignore = body?.lifecycle?.ignore_changes as unknown;
  if (ignore === "all") return ["all"];
  return Array.isArray(ignore) ? ignore.map(String) : [];
}
