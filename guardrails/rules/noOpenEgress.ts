import type { IConstruct } from "constructs";
import type { TerraformStack } from "cdktf";
import { coversEverything } from "../../review/internetRanges";
import { resourcesOfType } from "../resourceConfig";
import type { Violation } from "../Violation";

export const NO_OPEN_EGRESS = "no-open-egress";

/** EC2 takes -1 and "all" for every protocol; Terraform passes either through. */
const ALL_PROTOCOLS = new Set(["-1", "all"]);

/**
 * No security group lets its members send every protocol to the whole internet: egress names
 * the ports its nodes use (HTTPS, HTTP, a peer group's ports), so a node that is taken over
 * cannot reach anything else. Any set of ranges that covers every address of a family counts as
 * the internet, as for ingress.
 */
export function noOpenEgress(stack: TerraformStack): Violation[] {
  const violations: Violation[] = [];
  const check = (construct: IConstruct, protocol: unknown, ipv4: string[], ipv6: string[]): void => {
    if (!ALL_PROTOCOLS.has(String(protocol))) return;
    const open = [...(coversEverything(ipv4, 4) ? ipv4 : []), ...(coversEverything(ipv6, 6) ? ipv6 : [])];
    if (open.length === 0) return;
    violations.push({ construct, ruleId: NO_OPEN_EGRESS, message: `egress to ${open.join(", ")} on all protocols: allow only the ports the group's nodes use` });
  };
  for (const type of ["aws_security_group", "aws_default_security_group"]) {
    for (const { resource, config } of resourcesOfType(stack, type)) {
      for (const block of asList(config.egress)) check(resource, block.protocol, strings(block.cidr_blocks), strings(block.ipv6_cidr_blocks));
    }
  }
  for (const { resource, config } of resourcesOfType(stack, "aws_security_group_rule")) {
    if (config.type === "egress") check(resource, config.protocol, strings(config.cidr_blocks), strings(config.ipv6_cidr_blocks));
  }
  for (const { resource, config } of resourcesOfType(stack, "aws_vpc_security_group_egress_rule")) {
    check(resource, config.ip_protocol, strings([config.cidr_ipv4]), strings([config.cidr_ipv6]));
  }
  return violations;
}

function asList(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? (value as Array<Record<string, unknown>>) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}
