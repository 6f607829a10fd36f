import { Testing } from "cdktf";
import { configFrom, platformStackJson, resourcesOf, type Json } from "./helpers";
import { logGroupName, metricNamespace, type LogService } from "../constructs/monitoring/names";
import { buildPlatform } from "../stacks/buildPlatform";

const NAMESPACE = "Platform/insight-dev";
const TOPIC = "${aws_sns_topic.alarm-topic.arn}";

/** The instance id of a node stack's instance, as the monitoring stack reads it from that stack's state. */
const idOf = (stack: string, construct: string): RegExp => new RegExp(`^\\$\\{data\\.terraform_remote_state\\.cross-stack-reference-input-${stack}\\.outputs\\.cross-stack-output-aws_instance${construct}_instance_[A-Z0-9]+id\\}$`);

/** Alarms by alarm_name. */
function alarmsOf(json: Json): Record<string, Json> {
  return Object.fromEntries(Object.values(resourcesOf(json, "aws_cloudwatch_metric_alarm")).map((alarm) => [alarm.alarm_name as string, alarm]));
}

describe("names shared by the agent and the alarms", () => {
  it("puts every platform's metrics and log groups under its own project and environment", () => {
    expect(metricNamespace("insight", "dev")).toBe("Platform/insight-dev");
    expect(metricNamespace("acme", "prod")).toBe("Platform/acme-prod");
    const services: LogService[] = ["kafka", "zookeeper", "spark-master", "spark-worker", "chef-server", "chef-client", "provisioning"];
    expect(services.map((service) => logGroupName("insight", "dev", service))).toEqual([
      "/platform/insight-dev/kafka",
      "/platform/insight-dev/zookeeper",
      "/platform/insight-dev/spark-master",
      "/platform/insight-dev/spark-worker",
      "/platform/insight-dev/chef-server",
      "/platform/insight-dev/chef-client",
      "/platform/insight-dev/provisioning",
    ]);
  });
});

describe("MonitoringStack, default config (ZooKeeper mode, 3 brokers, 3 Spark workers)", () => {
  const json = platformStackJson("monitoring", "--monitoring.alarmEmail", "ops@example.com");
  const alarms = alarmsOf(json);

  it("matches the committed snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  type Expected = { metric: string; namespace?: string; dimensions: Record<string, string | RegExp>; statistic: string; comparison: string; threshold: number; periods: number; missing: string };
  const service = { periods: 5 };
  const perNode: Array<[string, string, string]> = [
    ["insight-dev-chef-server", "chef", "server"],
    ["insight-dev-chef-workstation", "chef", "workstation"],
    ["insight-dev-spark-master", "spark", "master"],
    ...[0, 1, 2].map((index): [string, string, string] => [`insight-dev-spark-worker-${index}`, "spark", `worker-${index}`]),
    ...[0, 1, 2].map((index): [string, string, string] => [`insight-dev-kafka-${index}`, "kafka", `node-${index}`]),
  ];
  const expected: Record<string, Expected> = {
    "insight-dev-kafka-under-replicated-partitions": { metric: "kafka_under_replicated_partitions", dimensions: {}, statistic: "Maximum", comparison: "GreaterThanThreshold", threshold: 0, ...service, missing: "notBreaching" },
    "insight-dev-kafka-under-min-isr-partitions": { metric: "kafka_under_min_isr_partitions", dimensions: {}, statistic: "Maximum", comparison: "GreaterThanThreshold", threshold: 0, ...service, missing: "notBreaching" },
    "insight-dev-kafka-offline-partitions": { metric: "kafka_offline_partitions", dimensions: {}, statistic: "Maximum", comparison: "GreaterThanThreshold", threshold: 0, ...service, missing: "notBreaching" },
    "insight-dev-spark-alive-workers": { metric: "spark_alive_workers", dimensions: { InstanceId: idOf("spark", "master") }, statistic: "Minimum", comparison: "LessThanThreshold", threshold: 3, ...service, missing: "breaching" },
  };
  for (const index of [0, 1, 2]) {
    const id = idOf("kafka", `node-${index}`);
    expected[`insight-dev-kafka-${index}-broker-down`] = { metric: "kafka_under_replicated_partitions", dimensions: { InstanceId: id }, statistic: "SampleCount", comparison: "LessThanThreshold", threshold: 1, ...service, missing: "breaching" };
    for (const threshold of [80, 90]) {
      expected[`insight-dev-kafka-${index}-data-disk-${threshold}`] = { metric: "disk_used_percent", dimensions: { InstanceId: id, path: "/data/kafka" }, statistic: "Maximum", comparison: "GreaterThanThreshold", threshold, ...service, missing: "notBreaching" };
    }
  }
  for (const [name, stack, construct] of perNode) {
    const id = idOf(stack, construct);
    expected[`${name}-root-disk-90`] = { metric: "disk_used_percent", dimensions: { InstanceId: id, path: "/" }, statistic: "Maximum", comparison: "GreaterThanThreshold", threshold: 90, ...service, missing: "notBreaching" };
    expected[`${name}-status-check-failed`] = { metric: "StatusCheckFailed", namespace: "AWS/EC2", dimensions: { InstanceId: id }, statistic: "Maximum", comparison: "GreaterThanOrEqualToThreshold", threshold: 1, periods: 2, missing: "breaching" };
  }

  it.each(Object.keys(expected))("alarm %s: its metric, dimensions, statistic, threshold, periods and missing data", (name) => {
    const want = expected[name];
    const alarm = alarms[name];
    expect(alarm).toBeDefined();
    expect(alarm).toMatchObject({
      metric_name: want.metric,
      namespace: want.namespace ?? NAMESPACE,
      statistic: want.statistic,
      comparison_operator: want.comparison,
      threshold: want.threshold,
      period: 60,
      evaluation_periods: want.periods,
      datapoints_to_alarm: want.periods,
      treat_missing_data: want.missing,
    });
    expect(Object.keys(alarm.dimensions ?? {}).sort()).toEqual(Object.keys(want.dimensions).sort());
    for (const [key, value] of Object.entries(want.dimensions)) {
      if (value instanceof RegExp) expect(alarm.dimensions[key]).toMatch(value);
      else expect(alarm.dimensions[key]).toBe(value);
    }
  });

  it("active controllers: the minute's sum of every node's count, alarmed when it is not exactly one", () => {
    const alarm = alarms["insight-dev-kafka-active-controllers"];
    expect(alarm).toMatchObject({ comparison_operator: "GreaterThanThreshold", threshold: 0, evaluation_periods: 5, datapoints_to_alarm: 5, treat_missing_data: "breaching" });
    // A metric-math alarm names its period per query: PutMetricAlarm refuses both.
    expect(alarm.period).toBeUndefined();
    expect(alarm.metric_query).toEqual([
      { id: "controllers", metric: { metric_name: "kafka_active_controllers", namespace: NAMESPACE, period: 60, stat: "Sum" }, return_data: false },
      { id: "offbyone", expression: "ABS(controllers - 1)", label: "active controllers other than one", return_data: true },
    ]);
  });

  it("ZooKeeper quorum: members in quorum, each read on its own and missing counted as out, below a majority of the ensemble", () => {
    const alarm = alarms["insight-dev-zookeeper-quorum-lost"];
    expect(alarm).toMatchObject({ comparison_operator: "LessThanThreshold", threshold: 2, evaluation_periods: 5, datapoints_to_alarm: 5, treat_missing_data: "breaching" });
    expect(alarm.period).toBeUndefined();
    const queries = alarm.metric_query as Json[];
    expect(queries.slice(0, 3).map((query) => query.metric)).toEqual(
      [0, 1, 2].map(() => expect.objectContaining({ metric_name: "zookeeper_in_quorum", namespace: NAMESPACE, period: 60, stat: "Maximum" })),
    );
    queries.slice(0, 3).forEach((query, index) => expect(query.metric.dimensions.InstanceId).toMatch(idOf("kafka", `node-${index}`)));
    expect(queries[3]).toMatchObject({ expression: "FILL(member0, 0) + FILL(member1, 0) + FILL(member2, 0)", return_data: true });
  });

  it("Chef server unreachable: its status checks, or its agent silent, for 5 minutes", () => {
    const alarm = alarms["insight-dev-chef-server-unreachable"];
    expect(alarm).toMatchObject({ comparison_operator: "GreaterThanOrEqualToThreshold", threshold: 1, evaluation_periods: 5, treat_missing_data: "breaching" });
    const [status, heartbeat, result] = alarm.metric_query as Json[];
    expect(status.metric).toMatchObject({ namespace: "AWS/EC2", metric_name: "StatusCheckFailed", stat: "Maximum", period: 60 });
    expect(heartbeat.metric).toMatchObject({ namespace: NAMESPACE, metric_name: "mem_used_percent", stat: "SampleCount", period: 60 });
    for (const query of [status, heartbeat]) expect(query.metric.dimensions.InstanceId).toMatch(idOf("chef", "server"));
    expect(result).toMatchObject({ expression: "IF(FILL(status, 1) >= 1 || FILL(heartbeat, 0) < 1, 1, 0)", return_data: true });
  });

  it("has exactly these alarms, and every one notifies the topic when it fires and when it clears", () => {
    expect(Object.keys(alarms).sort()).toEqual(
      [...Object.keys(expected), "insight-dev-kafka-active-controllers", "insight-dev-zookeeper-quorum-lost", "insight-dev-chef-server-unreachable"].sort(),
    );
    for (const alarm of Object.values(alarms)) {
      expect({ name: alarm.alarm_name, actions: alarm.alarm_actions, ok: alarm.ok_actions, enabled: alarm.actions_enabled }).toEqual({ name: alarm.alarm_name, actions: [TOPIC], ok: [TOPIC], enabled: undefined });
    }
  });

  it("encrypts the topic under a key CloudWatch may make and read data keys with, and subscribes the configured address", () => {
    const topic = resourcesOf(json, "aws_sns_topic")["alarm-topic"];
    expect(topic.name).toBe("insight-dev-alarms");
    expect(topic.kms_master_key_id).toMatch(/^\$\{aws_kms_key\.alarm-topic-key_[A-Z0-9]+\.arn\}$/);
    // SNS takes the key only once CloudWatch may use it: the topic waits for the key policy.
    expect(topic.depends_on).toEqual([expect.stringMatching(/^aws_kms_key_policy\.alarm-topic-key_policy_[A-Z0-9]+$/)]);
    const document = Object.values(json.data.aws_iam_policy_document as Record<string, Json>).find((doc) => (doc.statement as Json[]).some((statement) => statement.sid === "CloudWatchPublishesAlarms"))!;
    const statement = (document.statement as Json[]).find((candidate) => candidate.sid === "CloudWatchPublishesAlarms")!;
    expect(statement).toEqual({
      sid: "CloudWatchPublishesAlarms",
      principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
    });
    expect(Object.values(resourcesOf(json, "aws_sns_topic_subscription"))).toEqual([{ topic_arn: TOPIC, protocol: "email", endpoint: "ops@example.com" }]);
  });

  it("outputs the dashboard's console URL and draws the alarms and the platform's metrics", () => {
    expect(json.output.dashboard_url.value).toBe("https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#dashboards:name=insight-dev-platform");
    const dashboard = resourcesOf(json, "aws_cloudwatch_dashboard").dashboard;
    expect(dashboard.dashboard_name).toBe("insight-dev-platform");
    const body = dashboard.dashboard_body as string;
    expect(body.startsWith("${jsonencode(")).toBe(true);
    for (const metric of ["kafka_under_replicated_partitions", "kafka_offline_partitions", "kafka_active_controllers", "kafka_bytes_in_per_sec", "zookeeper_in_quorum", "zookeeper_outstanding_requests", "spark_alive_workers", "spark_running_apps", "mem_used_percent", "disk_used_percent", "CPUUtilization", "StatusCheckFailed"]) {
      expect(body).toContain(`"${metric}"`);
    }
    expect(body).toContain("aws_cloudwatch_metric_alarm.alarm-insight-dev-zookeeper-quorum-lost.arn");
    // KRaft's metadata quorum widgets only in KRaft mode.
    expect(body).not.toContain("kafka_metadata_lag");
    expect(body).not.toContain("kafka_raft_current_leader");
    // Each node sends its produce and its fetch rate each minute: the widget sums them.
    expect(body).toMatch(/"title" = "Kafka requests per second", "region" = "us-west-2", "stat" = "Sum"/);
  });
});

describe("MonitoringStack, other configs", () => {
  it("subscribes no one without monitoring.alarmEmail, and alarms still notify the topic", () => {
    const json = platformStackJson("monitoring");
    expect(resourcesOf(json, "aws_sns_topic_subscription")).toEqual({});
    expect(Object.keys(resourcesOf(json, "aws_cloudwatch_metric_alarm")).length).toBeGreaterThan(0);
  });

  it("KRaft with dedicated controllers: no ZooKeeper alarm; controllers get disk and status alarms but no broker-down; the dashboard draws the metadata quorum from every Kafka node", () => {
    const json = platformStackJson("monitoring", "--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true");
    const alarms = alarmsOf(json);
    const body = resourcesOf(json, "aws_cloudwatch_dashboard").dashboard.dashboard_body as string;
    expect(body).toContain('"title" = "KRaft metadata lag, ms"');
    // Three controllers and three brokers: one line each.
    expect(body.match(/"kafka_metadata_lag"/g)).toHaveLength(6);
    expect(body.match(/"kafka_raft_current_leader"/g)).toHaveLength(6);
    expect(body).not.toContain("zookeeper_");
    const names = Object.keys(alarms);
    expect(names.filter((name) => name.includes("zookeeper"))).toEqual([]);
    expect(names.filter((name) => name.startsWith("insight-dev-kafka-controller-0-")).sort()).toEqual([
      "insight-dev-kafka-controller-0-data-disk-80",
      "insight-dev-kafka-controller-0-data-disk-90",
      "insight-dev-kafka-controller-0-root-disk-90",
      "insight-dev-kafka-controller-0-status-check-failed",
    ]);
    expect(names.filter((name) => name.endsWith("-broker-down"))).toHaveLength(3);
  });

  it("follows spark.workers, kafka.zookeeperNodes and kafka.dataPath", () => {
    const alarms = alarmsOf(platformStackJson("monitoring", "--spark.workers", "5", "--kafka.nodes", "5", "--kafka.zookeeperNodes", "5", "--kafka.dataPath", "/srv/kafka"));
    expect(alarms["insight-dev-spark-alive-workers"].threshold).toBe(5);
    expect(alarms["insight-dev-zookeeper-quorum-lost"].threshold).toBe(3);
    expect(alarms["insight-dev-zookeeper-quorum-lost"].metric_query).toHaveLength(6);
    expect(alarms["insight-dev-kafka-4-data-disk-90"].dimensions.path).toBe("/srv/kafka");
  });
});

describe("service log groups, in the stacks of the nodes that write them", () => {
  const cases: Array<[string, LogService[], string[], string[]]> = [
    ["chef", ["provisioning", "chef-server"], ["--kafka.mode", "zookeeper"], ["server", "workstation"]],
    ["spark", ["spark-master", "spark-worker"], [], ["master", "worker-0", "worker-1", "worker-2"]],
    ["kafka", ["kafka", "zookeeper", "chef-client"], [], ["node-0", "node-1", "node-2"]],
    ["kafka", ["kafka", "chef-client"], ["--kafka.mode", "kraft"], ["node-0", "node-1", "node-2"]],
  ];

  it.each(cases)("%s stack: %j, encrypted under the stack's own key that only CloudWatch Logs may use for them, before any instance", (stack, services, flags, nodes) => {
    const json = platformStackJson(stack, ...flags, "--monitoring.logRetentionDays", "30");
    const groups = Object.values(resourcesOf(json, "aws_cloudwatch_log_group"));
    expect(groups.map((group) => group.name).sort()).toEqual(services.map((service) => `/platform/insight-dev/${service}`).sort());
    const key = Object.entries(resourcesOf(json, "aws_kms_key")).find(([name]) => name.startsWith("log-groups_key"))!;
    const policy = Object.keys(resourcesOf(json, "aws_kms_key_policy")).find((name) => name.startsWith("log-groups_key_policy"))!;
    for (const group of groups) {
      expect(group).toMatchObject({ retention_in_days: 30, kms_key_id: `\${aws_kms_key.${key[0]}.arn}`, depends_on: [`aws_kms_key_policy.${policy}`] });
    }
    expect(Object.values(resourcesOf(json, "aws_kms_alias")).map((alias) => alias.name)).toContain(`alias/insight-dev-${stack}-logs`);
    const document = Object.entries(json.data.aws_iam_policy_document as Record<string, Json>).find(([name]) => name.startsWith("log-groups_key_policy-document"))![1];
    const statement = (document.statement as Json[]).find((candidate) => candidate.sid === "CloudWatchLogsUsesKeyForServiceLogGroups")!;
    expect(statement.principals).toEqual([{ type: "Service", identifiers: ["logs.us-west-2.amazonaws.com"] }]);
    expect(statement.condition).toEqual([
      {
        test: "ArnEquals",
        variable: "kms:EncryptionContext:aws:logs:arn",
        values: services.map((service) => `arn:\${data.aws_partition.partition.partition}:logs:us-west-2:\${data.aws_caller_identity.account.account_id}:log-group:/platform/insight-dev/${service}`),
      },
    ]);
    // No instance boots before the groups it ships to exist.
    const instances = resourcesOf(json, "aws_instance");
    for (const node of nodes) {
      const [, instance] = Object.entries(instances).find(([name]) => name.startsWith(`${node}_instance`))!;
      for (const groupName of Object.keys(resourcesOf(json, "aws_cloudwatch_log_group"))) expect(instance.depends_on).toContain(`aws_cloudwatch_log_group.${groupName}`);
    }
  });

  it("keeps service logs 90 days by default", () => {
    const json = platformStackJson("spark");
    for (const group of Object.values(resourcesOf(json, "aws_cloudwatch_log_group"))) expect(group.retention_in_days).toBe(365);
  });

  it("puts every service's group in exactly one stack, and every group names.ts names somewhere", () => {
    const platform = buildPlatform(Testing.app(), configFrom());
    const owners = (["chef", "spark", "kafka"] as const).flatMap((stack) => [...platform[stack].logGroups.groups.keys()].map((service) => `${service}@${stack}`));
    expect(owners.sort()).toEqual(["chef-client@kafka", "chef-server@chef", "kafka@kafka", "provisioning@chef", "spark-master@spark", "spark-worker@spark", "zookeeper@kafka"]);
  });
});
