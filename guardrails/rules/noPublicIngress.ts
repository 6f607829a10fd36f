import type { IConstruct } from "constructs";
import type { TerraformStack } from "cdktf";
import { resourcesOfType } from "../resourceConfig";
import type { Violation } from "../Violation";

export const NO_PUBLIC_INGRESS = "no-public-ingress";
const ANYWHERE = new Set(["0.0.0.0/0", "::/0"]);
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
  readonly sources: unknown[];
}

/** No security group accepts traffic from 0.0.0.0/0 or ::/0 except on declared public ports. */
export function noPublicIngress(stack: TerraformStack): Violation[] {
  const found: Array<{ construct: IConstruct; entry: IngressEntry }> = [];
  for (const type of ["aws_security_group", "aws_default_security_group"]) {
    for (const { resource, config } of resourcesOfType(stack, type)) {
      for (const block of asList(config.ingress)) {
        found.push({ construct: resource, entry: { fromPort: block.from_port, toPort: block.to_port, sources: [...asArray(block.cidr_blocks), ...asArray(block.ipv6_cidr_blocks)] } });
      }
    }
  }
  for (const { resource, config } of resourcesOfType(stack, "aws_security_group_rule")) {
    if (config.type !== "ingress") continue;
    found.push({ construct: resource, entry: { fromPort: config.from_port, toPort: config.to_port, sources: [...asArray(config.cidr_blocks), ...asArray(config.ipv6_cidr_blocks)] } });
  }
  for (const { resource, config } of resourcesOfType(stack, "aws_vpc_security_group_ingress_rule")) {
    found.push({ construct: resource, entry: { fromPort: config.from_port, toPort: config.to_port, sources: [config.cidr_ipv4, config.cidr_ipv6] } });
  }

  return found
    .filter(({ entry }) => entry.sources.some((source) => typeof source === "string" && ANYWHERE.has(source)))
    .filter(({ construct, entry }) => !isDeclaredPublic(construct, entry))
    .map(({ construct, entry }) => ({
      construct,
      ruleId: NO_PUBLIC_INGRESS,
      message: `ingress from anywhere on port ${describePorts(entry)} is not a declared public port`,
    }));
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

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
