import { createHash } from "node:crypto";
import { ConfigError } from "../config/ConfigError";
import type { ChefRole } from "./kafkaNodeRole";

/** A role's name becomes `roles/<name>.json` on the workstation: nothing that could leave that directory. */
export const ROLE_NAME = /^[A-Za-z0-9_-]+$/;

/** The roles as the workstation reads them, once every name is one a file may safely carry. */
export function chefRepoRolesJson(roles: readonly ChefRole[]): string {
  const problems = roles.flatMap((role, index) =>
    ROLE_NAME.test(role.name) ? [] : [`roles[${index}].name: ${JSON.stringify(role.name)} must be letters, digits, _ or - only (${ROLE_NAME.source}): it becomes a file name on the workstation`],
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return JSON.stringify(roles, null, 2);
}

/**
 * The sha256 of each file the workstation downloads, as "<cookbooks.tar.gz> <roles.json>": the
 * workstation refuses files whose bytes differ, so writing the bucket is not enough to change what
 * the Chef server serves to the nodes.
 */
export function chefRepoDigests(cookbooks: Buffer, rolesJson: string): string {
  const sha256 = (bytes: Buffer | string): string => createHash("sha256").update(bytes).digest("hex");
  return `${sha256(cookbooks)} ${sha256(rolesJson)}`;
}
