import type { IConstruct } from "constructs";
import type { TerraformStack } from "cdktf";
import { resourcesOfType } from "../resourceConfig";
import { coversEverything } from "../../review/internetRanges";
import type { Violation } from "../Violation";

export const NO_PUBLIC_INGRESS = "no-public-ingress";
const METADATA_KEY = "platform:public-ingress";

/**
 * Declares that `rule` may accept `port` from anywhere, and why. Only a declared port on the
 * very rule that opens it passes the no-public-ingress guardrail.
 */
export function declarePublicIngress(rule: IConstruct, port: number, reason: string): void {
  rule.node.addMetadata(METADATA_KEY, { port, reason });
}

interface IngressEntry {
  readonly fromPort: unknown;
  readonly toPort: unknown;
  readonly ipv4: string[];
  readonly ipv6: string[];
}

/**
 * No security group accepts traffic from the internet except on declared public ports. The
 * internet is any set of a group's ranges that together cover every address of a family:
 * `0.0.0.0/1` and `128.0.0.0/1`, in one rule or in two, reach as far as `0.0.0.0/0`.
 */
export function noPublicIngress(stack: TerraformStack): Violation[] {
  // Ingress by the group it opens: an inline block by its group, a separate rule by the id it names.
  const groups = new Map<unknown, Array<{ construct: IConstruct; entry: IngressEntry }>>();
  const add = (group: unknown, construct: IConstruct, entry: IngressEntry): void => {
    groups.set(group, [...(groups.get(group) ?? []), { construct, entry }]);
  };
  for (const type of ["aws_security_group", "aws_default_security_group"]) {
    for (const { resource, config } of resourcesOfType(stack, type)) {
      for (const block of asList(config.ingress)) {
        add(resource, resource, { fromPort: block.from_port, toPort: block.to_port, ipv4: strings(block.cidr_blocks), ipv6: strings(block.ipv6_cidr_blocks) });
      }
    }
  }
  for (const { resource, config } of resourcesOfType(stack, "aws_security_group_rule")) {
    if (config.type !== "ingress") continue;
    add(config.security_group_id, resource, { fromPort: config.from_port, toPort: config.to_port, ipv4: strings(config.cidr_blocks), ipv6: strings(config.ipv6_cidr_blocks) });
  }
  for (const { resource, config } of resourcesOfType(stack, "aws_vpc_security_group_ingress_rule")) {
    add(config.security_group_id, resource, { fromPort: config.from_port, toPort: config.to_port, ipv4: strings([config.cidr_ipv4]), ipv6: strings([config.cidr_ipv6]) });
  }

  const violations: Violation[] = [];
  for (const entries of groups.values()) {
    const undeclared = entries.filter(({ construct, entry }) => !isDeclaredPublic(construct, entry));
    const open4 = coversEverything(undeclared.flatMap(({ entry }) => entry.ipv4), 4);
    const open6 = coversEverything(undeclared.flatMap(({ entry }) => entry.ipv6), 6);
    for (const { construct, entry } of undeclared) {
      const part = [...(open4 ? entry.ipv4 : []), ...(open6 ? entry.ipv6 : [])];
      if (part.length === 0) continue;
      const alone = coversEverything(entry.ipv4, 4) || coversEverything(entry.ipv6, 6);
      const from = alone ? "anywhere" : `${part.join(", ")}, which with the group's other ranges reach the whole internet,`;
      violations.push({ construct, ruleId: NO_PUBLIC_INGRESS, message: `ingress from ${from} on port ${describePorts(entry)} is not a declared public port` });
    }
  }
  return violations;
}

function isDeclaredPublic(construct: IConstruct, entry: IngressEntry): boolean {
  const declared = construct.node.metadata
    .filter((m) => m.type === METADATA_KEY)
    .map((m) => (m.data as { port: number }).port);
  return entry.fromPort === entry.toPort && declared.includes(entry.fromPort as number);
}

function describePorts(entry: IngressEntry): string {
  if (entry.fromPort === undefined || entry.fromPort === -1) return "all";
  return entry.fromPort === entry.toPort ? String(entry.fromPort) : `${String(entry.fromPort)}-${String(entry.toPort)}`;
}

function asList(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? (value as Array<Record<string, unknown>>) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}
