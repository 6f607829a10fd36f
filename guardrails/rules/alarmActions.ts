import type { TerraformStack } from "cdktf";
import { resourcesOfType } from "../resourceConfig";
import type { Violation } from "../Violation";

export const ALARM_ACTIONS = "alarm-actions";

/**
 * Every metric alarm notifies someone: an alarm without actions (or with them switched off)
 * changes state on a console page nobody watches, which is what the platform had before it had
 * alarms.
 */
export function alarmActions(stack: TerraformStack): Violation[] {
  return resourcesOfType(stack, "aws_cloudwatch_metric_alarm")
    .filter(({ config }) => !Array.isArray(config.alarm_actions) || config.alarm_actions.length === 0 || config.actions_enabled === false)
    .map(({ resource }) => ({
      construct: resource,
      ruleId: ALARM_ACTIONS,
      message: "aws_cloudwatch_metric_alarm must set alarm_actions (the platform's alarm topic) with actions enabled",
    }));
}
