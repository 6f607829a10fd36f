import type { TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";

/** A guardrail rule broken by one construct; synth fails naming the construct's path and the rule id. */
export interface Violation {
  readonly construct: IConstruct;
  readonly ruleId: string;
  readonly message: string;
}

/** A guardrail rule: inspects a whole stack and lists what breaks it. */
export type GuardrailRule = (stack: TerraformStack) => Violation[];
