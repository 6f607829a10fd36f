import { Annotations, TerraformStack, type IAspect } from "cdktf";
import type { IConstruct } from "constructs";
import { alarmActions } from "./rules/alarmActions";
import { awsApiLimits } from "./rules/awsApiLimits";
import { bucketProtection } from "./rules/bucketProtection";
import { ebsOptimized, encryptedVolumes, imdsv2Required } from "./rules/instanceHardening";
import { kafkaTls } from "./rules/kafkaTls";
import { logGroupEncryption } from "./rules/logGroupEncryption";
import { noOpenEgress } from "./rules/noOpenEgress";
import { noPublicIngress } from "./rules/noPublicIngress";
import { requiredTags } from "./rules/requiredTags";
import { withRenderCache } from "./resourceConfig";
import type { GuardrailRule } from "./Violation";

export const ALL_RULES: readonly GuardrailRule[] = [
  noPublicIngress,
  noOpenEgress,
  imdsv2Required,
  encryptedVolumes,
  ebsOptimized,
  bucketProtection,
  logGroupEncryption,
  requiredTags,
  awsApiLimits,
  kafkaTls,
  alarmActions,
];

/**
 * Runs every guardrail rule when a stack synthesizes. A violation becomes an error annotation
 * on the offending construct, which makes synth fail with `[path] [rule-id] message`.
 *
 * Added per stack (cdktf 0.21 does not invoke aspects added to the App).
 */
export class Guardrails implements IAspect {
  constructor(private readonly rules: readonly GuardrailRule[] = ALL_RULES) {}

  visit(node: IConstruct): void {
    if (!(node instanceof TerraformStack)) return;
    const violations = withRenderCache(() => this.rules.flatMap((rule) => rule(node)));
    for (const violation of violations) {
      Annotations.of(violation.construct).addError(`[${violation.ruleId}] ${violation.message}`);
    }
  }
}
