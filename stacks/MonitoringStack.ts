import { Fn, TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig, type CloudwatchMetricAlarmMetricQuery } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { metricNamespace } from "../constructs/monitoring/names";
import { PlatformKey } from "../constructs/platformKey";
import { PlatformStack, type PlatformStackProps } from "./PlatformStack";

/** An instance the alarms watch: its Name tag (alarm names start with it) and its id. */
export interface MonitoredInstance {
  readonly name: string;
  readonly instanceId: string;
}

export interface MonitoringStackProps extends PlatformStackProps {
  readonly chef: { readonly server: MonitoredInstance; readonly workstation: MonitoredInstance };
  readonly spark: { readonly master: MonitoredInstance; readonly workers: readonly MonitoredInstance[] };
  /** Brokers in node id order (the ZooKeeper ensemble runs on the first kafka.zookeeperNodes), and KRaft's dedicated controllers. */
  readonly kafka: { readonly brokers: readonly MonitoredInstance[]; readonly controllers: readonly MonitoredInstance[] };
}

/**
 * How the alarms sample, after AWS's own recommendations. CloudWatch's recommended alarms for Amazon MSK's
 * ActiveControllerCount and OfflinePartitionsCount evaluate one-minute periods and alarm when 5
 * of 5 breach; every service alarm here does the same: a rolling restart, a controller election
 * or a Spark worker's re-registration (spark.worker.timeout, 60 s) passes within that, a real
 * outage does not. EC2's status checks run every minute; two failed minutes in a row alarm, as
 * AWS's instance-recovery alarms do.
 */
export const ALARM_TIMING = {
  service: { period: 60, evaluationPeriods: 5, datapointsToAlarm: 5 },
  statusCheck: { period: 60, evaluationPeriods: 2, datapointsToAlarm: 2 },
} as const;

/** Disk use that alarms: a warning and a critical level on Kafka's data volume, critical on every root volume. */
export const DISK_THRESHOLDS = { dataWarning: 80, dataCritical: 90, root: 90 } as const;

type Timing = (typeof ALARM_TIMING)[keyof typeof ALARM_TIMING];
type AlarmSpec = Omit<CloudwatchMetricAlarmConfig, "alarmActions" | "okActions" | "period" | "evaluationPeriods" | "datapointsToAlarm" | "alarmName"> & {
  readonly timing: Timing;
};

/**
 * What the platform tells an operator: alarms on the nodes' metrics (the agent's, in the
 * platform's namespace) and on EC2's own, each of which notifies one SNS topic when it fires and
 * when it clears, an optional email subscription to that topic, and a dashboard of the same
 * metrics. Deployed last: it reads every node stack's instance ids, and nothing reads it.
 */
export class MonitoringStack extends PlatformStack {
  readonly topic: SnsTopic;
  readonly topicKey: PlatformKey;
  /** By alarm name. */
  readonly alarms = new Map<string, CloudwatchMetricAlarm>();
  readonly dashboard: CloudwatchDashboard;
  /** The dashboard in the CloudWatch console. */
  readonly dashboardUrl: string;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config } = props;
    const namespace = metricNamespace(config.project, config.environment);
    const zookeeperMode = config.kafka.mode === "zookeeper";
    const zookeeperMembers = zookeeperMode ? props.kafka.brokers.slice(0, config.kafka.zookeeperNodes) : [];
    const everyInstance: MonitoredInstance[] = [
      props.chef.server,
      props.chef.workstation,
      props.spark.master,
      ...props.spark.workers,
      ...props.kafka.controllers,
      ...props.kafka.brokers,
    ];

    // CloudWatch publishes to an encrypted topic as itself: the key must let the service make and
    // read data keys, or every notification is dropped without an error anywhere.
    this.topicKey = new PlatformKey(this, "alarm-topic-key", {
      alias: this.resourceName("alarms"),
      description: `Encryption of the ${this.resourceName("alarms")} SNS topic`,
      deletionWindowInDays: 7,
    });
    const topicKeyPolicy = this.topicKey.allow([
      {
        sid: "CloudWatchPublishesAlarms",
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      },
    ]);
    this.topic = new SnsTopic(this, "alarm-topic", {
      name: this.resourceName("alarms"),
      displayName: `${this.resourceName("alarms")}`,
      kmsMasterKeyId: this.topicKey.arn,
      dependsOn: [topicKeyPolicy],
    });
    if (config.monitoring.alarmEmail !== "") {
      // A new address is a new subscription: AWS mails it a confirmation link, and nothing is
      // delivered there until someone follows it.
      new SnsTopicSubscription(this, "alarm-email", { topicArn: this.topic.arn, protocol: "email", endpoint: config.monitoring.alarmEmail });
    }

    const alarm = (name: string, spec: AlarmSpec): CloudwatchMetricAlarm => {
      const { timing, ...rest } = spec;
      // PutMetricAlarm refuses a period beside metric queries: each query names its own.
      const { period, ...evaluation } = timing;
      const created = new CloudwatchMetricAlarm(this, `alarm-${name}`, {
        ...rest,
        alarmName: name,
        ...evaluation,
        ...(rest.metricQuery ? {} : { period }),
        alarmActions: [this.topic.arn],
        okActions: [this.topic.arn],
      });
      this.alarms.set(name, created);
      return created;
    };
    const custom = (metricName: string, dimensions: Record<string, string>, statistic: string) => ({ namespace, metricName, dimensions, statistic });

    // Kafka: a broker's own JMX metric stops when its JVM stops answering, whatever the cause.
    for (const broker of props.kafka.brokers) {
      alarm(`${broker.name}-broker-down`, {
        alarmDescription: `Broker ${broker.name} reported no metrics for 5 minutes: its Kafka process is down or hung, or the node's agent stopped. First check: systemctl status kafka on the node, then its log group.`,
        ...custom("kafka_under_replicated_partitions", { InstanceId: broker.instanceId }, "SampleCount"),
        comparisonOperator: "LessThanThreshold",
        threshold: 1,
        treatMissingData: "breaching",
        timing: ALARM_TIMING.service,
      });
    }
    const partitions: Array<[string, string, string]> = [
      ["kafka-under-replicated-partitions", "kafka_under_replicated_partitions", "Some partitions have fewer in-sync replicas than replicas: a broker is down, slow or catching up. First check: the broker-down alarms, then kafka-topics --describe --under-replicated-partitions."],
      ["kafka-under-min-isr-partitions", "kafka_under_min_isr_partitions", "Some partitions have fewer in-sync replicas than min.insync.replicas: producers with acks=all fail on them. First check: which brokers are down (broker-down alarms), then kafka-topics --describe --under-min-isr-partitions."],
      ["kafka-offline-partitions", "kafka_offline_partitions", "Some partitions have no leader: nothing can be read from or written to them. First check: the broker-down alarms and the controller's log in the kafka log group."],
    ];
    for (const [name, metricName, description] of partitions) {
      alarm(this.resourceName(name), {
        alarmDescription: description,
        ...custom(metricName, {}, "Maximum"),
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        // Nodes that report nothing are the broker-down alarms' to report.
        treatMissingData: "notBreaching",
        timing: ALARM_TIMING.service,
      });
    }
    // Every node that holds the controller bean reports its count once a minute (the agent's
    // collection interval): the minute's sum is the number of active controllers, which must be one.
    alarm(this.resourceName("kafka-active-controllers"), {
      alarmDescription: "The cluster has no active controller, or more than one: no leader elections or topic changes happen, or two controllers disagree. First check: the controllers' logs in the kafka log group, and in ZooKeeper mode the ensemble's quorum alarm.",
      metricQuery: [
        { id: "controllers", metric: { namespace, metricName: "kafka_active_controllers", period: ALARM_TIMING.service.period, stat: "Sum" }, returnData: false },
        { id: "offbyone", expression: "ABS(controllers - 1)", label: "active controllers other than one", returnData: true },
      ],
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "breaching",
      timing: ALARM_TIMING.service,
    });

    if (zookeeperMode) {
      const majority = Math.floor(zookeeperMembers.length / 2) + 1;
      const members: CloudwatchMetricAlarmMetricQuery[] = zookeeperMembers.map((member, index) => ({
        id: `member${index}`,
        metric: { namespace, metricName: "zookeeper_in_quorum", dimensions: { InstanceId: member.instanceId }, period: ALARM_TIMING.service.period, stat: "Maximum" },
        returnData: false,
      }));
      alarm(this.resourceName("zookeeper-quorum-lost"), {
        alarmDescription: `Fewer than ${majority} of the ${zookeeperMembers.length} ZooKeeper members are leader or follower: the ensemble serves no writes and the brokers lose their sessions. First check: the zookeeper log group, then echo srvr | nc on each member.`,
        metricQuery: [
          ...members,
          { id: "inquorum", expression: members.map((member) => `FILL(${member.id}, 0)`).join(" + "), label: "members in quorum", returnData: true },
        ],
        comparisonOperator: "LessThanThreshold",
        threshold: majority,
        treatMissingData: "breaching",
        timing: ALARM_TIMING.service,
      });
    }

    // The data volume is mounted at kafka.dataPath on brokers and dedicated controllers alike.
    for (const node of [...props.kafka.controllers, ...props.kafka.brokers]) {
      for (const [level, threshold] of [["warning", DISK_THRESHOLDS.dataWarning], ["critical", DISK_THRESHOLDS.dataCritical]] as const) {
        alarm(`${node.name}-data-disk-${threshold}`, {
          alarmDescription: `${node.name}'s Kafka data volume (${config.kafka.dataPath}) is over ${threshold}% full (${level}): a full volume stops the broker. First check: the largest topics' retention, then grow kafka.dataVolumeGiB (docs/kafka.md).`,
          ...custom("disk_used_percent", { InstanceId: node.instanceId, path: config.kafka.dataPath }, "Maximum"),
          comparisonOperator: "GreaterThanThreshold",
          threshold,
          treatMissingData: "notBreaching",
          timing: ALARM_TIMING.service,
        });
      }
    }
    for (const node of everyInstance) {
      alarm(`${node.name}-root-disk-${DISK_THRESHOLDS.root}`, {
        alarmDescription: `${node.name}'s root volume is over ${DISK_THRESHOLDS.root}% full: services fail to write logs and temporary files. First check: du -xh / | sort -h | tail on the node (journal, /var/log, Spark work directories).`,
        ...custom("disk_used_percent", { InstanceId: node.instanceId, path: "/" }, "Maximum"),
        comparisonOperator: "GreaterThanThreshold",
        threshold: DISK_THRESHOLDS.root,
        treatMissingData: "notBreaching",
        timing: ALARM_TIMING.service,
      });
      // EC2's own check of the host and of the instance's OS, network and disks: no agent needed.
      alarm(`${node.name}-status-check-failed`, {
        alarmDescription: `EC2's status checks of ${node.name} fail (the host, or the instance's OS, network or disks): the node is unreachable. First check: the instance's status checks and system log in the EC2 console; a stopped instance alarms too.`,
        namespace: "AWS/EC2",
        metricName: "StatusCheckFailed",
        dimensions: { InstanceId: node.instanceId },
        statistic: "Maximum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        treatMissingData: "breaching",
        timing: ALARM_TIMING.statusCheck,
      });
    }

    alarm(this.resourceName("spark-alive-workers"), {
      alarmDescription: `The Spark master counts fewer alive workers than the ${config.spark.workers} configured (spark.workers), or the master itself is down: jobs get fewer executors or none. First check: the spark-master log group for lost workers, then systemctl status on the workers.`,
      ...custom("spark_alive_workers", { InstanceId: props.spark.master.instanceId }, "Minimum"),
      comparisonOperator: "LessThanThreshold",
      threshold: config.spark.workers,
      treatMissingData: "breaching",
      timing: ALARM_TIMING.service,
    });

    // Unreachable: EC2 sees the instance fail its checks, or the node's agent goes silent (the
    // node hung, stopped, or lost its network), both of which keep knife and every chef-client
    // out. Erchef itself answering needs a probe of https://<server>/_status on the node, which
    // no metric of the agent carries yet.
    const server = props.chef.server;
    alarm(`${server.name}-unreachable`, {
      alarmDescription: `The Chef server ${server.name} fails EC2's status checks or has sent no metrics for 5 minutes: knife, bootstraps and Kafka converges cannot reach it. First check: the instance in the EC2 console, then systemctl status and ${"`"}cinc-server-ctl status${"`"} (or chef-server-ctl) on it.`,
      metricQuery: [
        { id: "status", metric: { namespace: "AWS/EC2", metricName: "StatusCheckFailed", dimensions: { InstanceId: server.instanceId }, period: ALARM_TIMING.service.period, stat: "Maximum" }, returnData: false },
        { id: "heartbeat", metric: { namespace, metricName: "mem_used_percent", dimensions: { InstanceId: server.instanceId }, period: ALARM_TIMING.service.period, stat: "SampleCount" }, returnData: false },
        { id: "unreachable", expression: "IF(FILL(status, 1) >= 1 || FILL(heartbeat, 0) < 1, 1, 0)", label: "status checks failed or agent silent", returnData: true },
      ],
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      treatMissingData: "breaching",
      timing: ALARM_TIMING.service,
    });

    this.dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName: this.resourceName("platform"),
      dashboardBody: Fn.jsonencode(
        dashboardBody({
          region: config.region,
          namespace,
          alarmArns: [...this.alarms.values()].map((created) => created.arn),
          instances: everyInstance,
          brokers: [...props.kafka.controllers, ...props.kafka.brokers],
          zookeeperMembers,
          kraft: !zookeeperMode,
          sparkMaster: props.spark.master,
          dataPath: config.kafka.dataPath,
        }),
      ),
    });
    this.dashboardUrl = `https://${config.region}.console.aws.amazon.com/cloudwatch/home?region=${config.region}#dashboards:name=${this.resourceName("platform")}`;
    new TerraformOutput(this, "dashboard_url", { value: this.dashboardUrl, description: "The platform's CloudWatch dashboard: its alarms and metrics" });
    new TerraformOutput(this, "alarm_topic_arn", { value: this.topic.arn, description: "The SNS topic every alarm notifies; subscribe more endpoints to it" });
  }
}

interface DashboardInput {
  readonly region: string;
  readonly namespace: string;
  readonly alarmArns: string[];
  readonly instances: readonly MonitoredInstance[];
  readonly brokers: readonly MonitoredInstance[];
  readonly zookeeperMembers: readonly MonitoredInstance[];
  /** KRaft mode: the metadata quorum's widgets, from every Kafka node. */
  readonly kraft: boolean;
  readonly sparkMaster: MonitoredInstance;
  readonly dataPath: string;
}

/** The dashboard's widgets: the alarms first, then Kafka (with KRaft's metadata quorum), ZooKeeper, Spark and every node, each 12 units wide. */
function dashboardBody(input: DashboardInput): object {
  const { region, namespace } = input;
  type Metric = Array<string | Record<string, string>>;
  const perNode = (metricName: string, nodes: readonly MonitoredInstance[], extra: Record<string, string> = {}, ns = namespace): Metric[] =>
    nodes.map((node) => [ns, metricName, "InstanceId", node.instanceId, ...Object.entries(extra).flat(), { label: node.name }]);
  const graph = (title: string, metrics: Metric[], stat = "Average") => ({ type: "metric", width: 12, height: 6, properties: { title, region, stat, period: 60, view: "timeSeries", metrics } });
  const widgets: object[] = [
    { type: "alarm", width: 24, height: 6, properties: { title: "Alarms", alarms: input.alarmArns } },
    graph(
      "Kafka partitions",
      [
        [namespace, "kafka_under_replicated_partitions", { label: "under-replicated" }],
        [namespace, "kafka_under_min_isr_partitions", { label: "under min ISR" }],
        [namespace, "kafka_offline_partitions", { label: "offline" }],
      ],
      "Maximum",
    ),
    graph("Kafka active controllers", [[namespace, "kafka_active_controllers", { label: "active controllers" }]], "Sum"),
    graph("Kafka bytes in per second", perNode("kafka_bytes_in_per_sec", input.brokers)),
    graph("Kafka bytes out per second", perNode("kafka_bytes_out_per_sec", input.brokers)),
    graph("Kafka messages in per second", perNode("kafka_messages_in_per_sec", input.brokers)),
    // Two samples a minute per node (produce, fetch): their sum is the node's rate.
    graph("Kafka requests per second", perNode("kafka_requests_per_sec", input.brokers), "Sum"),
    graph(`Kafka data volume used (${input.dataPath}), %`, perNode("disk_used_percent", input.brokers, { path: input.dataPath }), "Maximum"),
  ];
  if (input.kraft) {
    widgets.push(
      graph("KRaft metadata lag, ms", perNode("kafka_metadata_lag", input.brokers), "Maximum"),
      // Every node should name the same leader; -1 is a node that knows none.
      graph("KRaft quorum leader's node id, as each node sees it", perNode("kafka_raft_current_leader", input.brokers), "Minimum"),
    );
  }
  if (input.zookeeperMembers.length > 0) {
    widgets.push(
      graph("ZooKeeper members in quorum", perNode("zookeeper_in_quorum", input.zookeeperMembers), "Minimum"),
      graph("ZooKeeper outstanding requests", perNode("zookeeper_outstanding_requests", input.zookeeperMembers), "Maximum"),
    );
  }
  widgets.push(
    graph("Spark alive workers and applications (running or waiting)", [...perNode("spark_alive_workers", [input.sparkMaster]), ...perNode("spark_running_apps", [input.sparkMaster])].map((metric, index) => [...metric.slice(0, -1), { label: index === 0 ? "alive workers" : "applications" }]), "Minimum"),
    graph("CPU utilization, %", perNode("CPUUtilization", input.instances, {}, "AWS/EC2")),
    graph("Memory used, %", perNode("mem_used_percent", input.instances), "Maximum"),
    graph("Root volume used, %", perNode("disk_used_percent", input.instances, { path: "/" }), "Maximum"),
    graph("Status check failed", perNode("StatusCheckFailed", input.instances, {}, "AWS/EC2"), "Maximum"),
  );
  return { widgets };
}
