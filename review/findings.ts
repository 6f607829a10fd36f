import { replacementFindings } from "./replacementFindings";
import type { ResourceChange, StackChange } from "./resourceDiff";
import { RULE_TYPES, ruleAccess, securityFindings, stackFindings } from "./securityFindings";
import type { SynthesizedPlatform } from "./synthesizedPlatform";

export { readable, refName } from "./references";

/**
 * What a reviewer must notice, in the order the review shows it: access opened or widened,
 * instances and steps that will be replaced or re-run, data that would be destroyed, and changes
 * that only touch tags.
 */
export type FindingKind = "security" | "replacement" | "data-loss" | "harmless";

export interface Finding {
  readonly kind: FindingKind;
  readonly stack: string;
  readonly address: string;
  /** The construct path, e.g. `kafka/node-0/instance`. */
  readonly path: string;
  readonly message: string;
}

const TAG_PATH = /^(tags|tags_all)(\.|$)/;

export function findingsOf(resources: readonly ResourceChange[], stacks: readonly StackChange[], base: SynthesizedPlatform = {}, head: SynthesizedPlatform = {}): Finding[] {
  const findings: Finding[] = [];
  const removedAccess = new Set(resources.filter((change) => change.action === "remove" && RULE_TYPES.has(change.type)).map((change) => ruleAccess(change.type, change.before)));
  for (const change of resources) {
    securityFindings(change, removedAccess, (message) => findings.push({ kind: "security", stack: change.stack, address: change.address, path: change.path, message }));
  }
  findings.push(...replacementFindings(resources, head));
  for (const change of resources) {
    if (change.action === "change" && change.attributes.every((path) => TAG_PATH.test(path))) {
      findings.push({ kind: "harmless", stack: change.stack, address: change.address, path: change.path, message: `tags only (${change.attributes.join(", ")}), updated in place` });
    }
  }
  for (const stack of stacks) {
    stackFindings(stack, base[stack.stack], head[stack.stack], (kind, message) => findings.push({ kind, stack: stack.stack, address: "stack", path: stack.stack, message }));
  }
  return findings;
}
