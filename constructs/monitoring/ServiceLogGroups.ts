import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { TerraformResource } from "cdktf";
import type { PlatformConfig } from "../../config/PlatformConfig";
import { accountOf, logGroupKeyStatement, PlatformKey, waitFor } from "../platformKey";
import { logGroupName, type LogService } from "./names";

export interface ServiceLogGroupsProps {
  readonly config: PlatformConfig;
  /** The services whose nodes live in this stack. */
  readonly services: readonly LogService[];
  /** The stack's own word in the key's alias, `<project>-<environment>-<purpose>-logs`: aliases are one per region and account. */
  readonly purpose: string;
}

/**
 * The log groups a stack's nodes ship to, created by Terraform so their retention and key are
 * the platform's (an agent that created a group would leave it unencrypted and kept forever),
 * under one customer-managed key of the stack that only CloudWatch Logs may use, and only for
 * these groups.
 */
export class ServiceLogGroups extends Construct {
  readonly key: PlatformKey;
  /** By service. */
  readonly groups: ReadonlyMap<LogService, CloudwatchLogGroup>;

  constructor(scope: Construct, id: string, props: ServiceLogGroupsProps) {
    super(scope, id);
    const { config } = props;
    const account = accountOf(this);
    const names = props.services.map((service) => logGroupName(config.project, config.environment, service));
    this.key = new PlatformKey(this, "key", {
      alias: `${config.project}-${config.environment}-${props.purpose}-logs`,
      description: `Encryption of the log groups ${names.join(", ")}`,
      deletionWindowInDays: 7,
    });
    const keyPolicy = this.key.allow([
      logGroupKeyStatement(
        "CloudWatchLogsUsesKeyForServiceLogGroups",
        config.region,
        names.map((name) => `arn:${account.partition}:logs:${config.region}:${account.accountId}:log-group:${name}`),
      ),
    ]);
    const groups = new Map<LogService, CloudwatchLogGroup>();
    props.services.forEach((service, index) => {
      groups.set(
        service,
        new CloudwatchLogGroup(this, service, {
          name: names[index],
          // Changed in place (PutRetentionPolicy): a shorter retention deletes older events within days.
          retentionInDays: config.monitoring.logRetentionDays,
          kmsKeyId: this.key.arn,
          // CloudWatch Logs refuses a key whose policy does not let it in yet.
          dependsOn: [keyPolicy],
        }),
      );
    });
    this.groups = groups;
  }

  /** The group of a service this stack holds; fails loudly for another stack's service. */
  group(service: LogService): CloudwatchLogGroup {
    const group = this.groups.get(service);
    if (!group) throw new Error(`${this.node.path} holds no log group for ${service}`);
    return group;
  }

  /**
   * Makes an instance wait for these groups: its agent starts shipping at first boot and never
   * creates a group itself, so a group made after it would miss the first boot's logs.
   */
  before(instance: TerraformResource): void {
    for (const group of this.groups.values()) waitFor(instance, group);
  }
}
