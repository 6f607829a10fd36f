import { Lazy, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import type { PlatformConfig } from "../../config/PlatformConfig";
import { escapeTerraformTemplate } from "../escapeTerraformTemplate";
import { ssmParameterArn } from "../ssmParameterArn";
import {
  agentConfig,
  type AgentConfigOptions,
  CLOUDWATCH_AGENT,
  agentPackage,
  exporterJobs,
  INSTANCE_ID_PLACEHOLDER,
  JMX_EXPORTER,
  logServicesOf,
  type NodeKind,
  PROMETHEUS_CONFIG_PATH,
  prometheusConfig,
} from "./agentConfig";
import { logGroupName, metricNamespace } from "./names";

/** SSM's standard tier holds values up to 4 KB; the advanced tier costs per parameter and month. */
export const MAX_PARAMETER_BYTES = 4096;

/** The agent's actions on CloudWatch Logs: it writes into groups Terraform made, never creates one. */
export const AGENT_LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"] as const;

export interface NodeMonitoringProps {
  readonly config: PlatformConfig;
  /** The instance's name (its Name tag): the parameters are the instance's own. */
  readonly nodeName: string;
  readonly kind: NodeKind;
  /** The instance's CPU architecture: picks the agent's package. */
  readonly architecture: "amd64" | "arm64";
  /** What differs between platforms in a kind's disks and log paths. @default the kind's defaults */
  readonly options?: Omit<AgentConfigOptions, "project" | "environment">;
}

/**
 * What one node needs to send its metrics and logs: its CloudWatch agent configuration in an SSM
 * parameter of its own (and the Prometheus scrape configuration beside it when the node runs a
 * JVM exporter), the inline policy its role needs for exactly that, and the context its script's
 * `cloudwatch_agent_*` functions read. A parameter per instance, not per kind: a node's kind can
 * change while it runs (a broker that becomes a ZooKeeper member or a KRaft voter), and Kafka
 * nodes never run a changed user data, so the parameter's name must not depend on the kind.
 */
export class NodeMonitoring extends Construct {
  readonly parameterName: string;
  /**
   * The agent's package pin (version, URL and sha256 for the node's architecture), read at first
   * boot and by the node's 5-minute timer: a new version is installed in place, verified as at
   * boot, and no user data changes, so no node is replaced for it.
   */
  readonly packageParameterName: string;
  readonly prometheusParameterName?: string;
  readonly parameters: SsmParameter[];
  /**
   * The inline policy for the node's role (HardenedInstance's `policies`). Its document is made
   * by `attach`, under the node: a node added later then repeats its siblings' document path and
   * grants, which the plan review recognizes as nothing new.
   */
  readonly policyJson: string;
  private document?: DataAwsIamPolicyDocument;
  private readonly statementsFor: (scope: Construct) => DataAwsIamPolicyDocumentStatement[];
  /** Merged into the node script's template context. */
  readonly scriptContext: { readonly cloudwatchAgent: Readonly<Record<string, unknown>> };

  constructor(scope: Construct, id: string, props: NodeMonitoringProps) {
    super(scope, id);
    const { config, kind } = props;
    const options = { ...props.options, project: config.project, environment: config.environment };
    this.parameterName = `/${config.project}/${config.environment}/monitoring/${props.nodeName}`;
    const agentJson = JSON.stringify(agentConfig(kind, options));
    const scrape = prometheusConfig(kind);
    for (const [field, value] of [
      ["agent configuration", agentJson],
      ["Prometheus scrape configuration", scrape ?? ""],
    ] as const) {
      if (Buffer.byteLength(value) > MAX_PARAMETER_BYTES) {
        throw new Error(`monitoring: the ${field} of ${props.nodeName} (${kind}) is ${Buffer.byteLength(value)} bytes; an SSM String parameter holds at most ${MAX_PARAMETER_BYTES}`);
      }
    }
    // Escaped: the agent's own `${aws:InstanceId}` is not a Terraform interpolation.
    const agentParameter = new SsmParameter(this, "agent-config", {
      name: this.parameterName,
      type: "String",
      value: escapeTerraformTemplate(agentJson),
      description: `CloudWatch agent configuration of ${props.nodeName} (${kind}); the node applies a new version within minutes`,
    });
    this.packageParameterName = `${this.parameterName}/package`;
    const packageParameter = new SsmParameter(this, "agent-package", {
      name: this.packageParameterName,
      type: "String",
      value: JSON.stringify(agentPackage(props.architecture)),
      description: `CloudWatch agent package ${props.nodeName} runs; the node installs a new version within minutes, after its sha256 and AWS's signature check out`,
    });
    this.parameters = [agentParameter, packageParameter];
    if (scrape !== undefined) {
      this.prometheusParameterName = `${this.parameterName}/prometheus`;
      this.parameters.push(
        new SsmParameter(this, "prometheus-config", {
          name: this.prometheusParameterName,
          type: "String",
          value: escapeTerraformTemplate(scrape),
          description: `Prometheus scrape configuration of ${props.nodeName}'s CloudWatch agent: its JVM exporters on loopback`,
        }),
      );
    }

    const region = config.region;
    const statements = (scopeForArns: Construct): DataAwsIamPolicyDocumentStatement[] => {
      const stack = TerraformStack.of(scopeForArns);
      const partition = (stack.node.tryFindChild("partition") as DataAwsPartition | undefined) ?? new DataAwsPartition(stack, "partition");
      const account = (stack.node.tryFindChild("account") as DataAwsCallerIdentity | undefined) ?? new DataAwsCallerIdentity(stack, "account");
      const groupArns = logServicesOf(kind, options).flatMap((service) => {
        const arn = `arn:${partition.partition}:logs:${region}:${account.accountId}:log-group:${logGroupName(config.project, config.environment, service)}`;
        // The group itself (CreateLogStream, DescribeLogStreams) and its streams (PutLogEvents).
        return [arn, `${arn}:*`];
      });
      const parameterNames = [this.parameterName, this.packageParameterName, ...(this.prometheusParameterName ? [this.prometheusParameterName] : [])];
      return [
        {
          sid: "PutPlatformMetrics",
          actions: ["cloudwatch:PutMetricData"],
          // PutMetricData has no resource type: the namespace condition is what scopes it.
          resources: ["*"],
          condition: [{ test: "StringEquals", variable: "cloudwatch:namespace", values: [metricNamespace(config.project, config.environment)] }],
        },
        { sid: "ShipLogs", actions: [...AGENT_LOG_ACTIONS], resources: groupArns },
        { sid: "ReadAgentConfiguration", actions: ["ssm:GetParameter"], resources: parameterNames.map((name) => ssmParameterArn(scopeForArns, region, name)) },
      ];
    };
    this.policyJson = Lazy.stringValue({
      produce: () => {
        if (!this.document) throw new Error(`monitoring: ${props.nodeName}'s policy document was never attached to its node (NodeMonitoring.attach)`);
        return this.document.json;
      },
    });
    this.statementsFor = statements;

    this.scriptContext = {
      cloudwatchAgent: {
        keyUrl: CLOUDWATCH_AGENT.keyUrl,
        keyFingerprint: CLOUDWATCH_AGENT.keyFingerprint,
        region: config.region,
        parameter: this.parameterName,
        prometheusParameter: this.prometheusParameterName ?? "",
        prometheusConfigPath: PROMETHEUS_CONFIG_PATH,
        instanceIdPlaceholder: INSTANCE_ID_PLACEHOLDER,
        ...(exporterJobs(kind).length > 0 ? { exporter: { sha256: JMX_EXPORTER.sha256, urls: JMX_EXPORTER.urls, path: JMX_EXPORTER.path } } : {}),
      },
    };
  }

  /** Makes the policy document under the node it is for; `policyJson` stands for it. Once per node. */
  attach(node: Construct): void {
    if (this.document) throw new Error(`monitoring: ${this.parameterName} is attached already`);
    this.document = new DataAwsIamPolicyDocument(node, "cloudwatch-agent-policy", { statement: this.statementsFor(node) });
  }
}
