import { Lazy, TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import type { Subnet } from "@cdktf/provider-aws/lib/subnet";
import type { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { HardenedInstance } from "../constructs/HardenedInstance";
import { hostKeysParameter, publishHostKeysPolicyJson } from "../constructs/hostKeys";
import { ServiceLogGroups } from "../constructs/monitoring/ServiceLogGroups";
import { renderScript } from "../constructs/renderScript";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import { SPARK_JOBS_KEY, SPARK_JOBS_USER } from "../constructs/sparkJobsIdentity";
import { NODE_TLS_DIR, pkiParameters, SPARK_KEY_ALIAS_SUFFIX } from "../constructs/pki";
import { PlatformKey, ssmParameterKeyStatement, SSM_READER_ACTIONS, SSM_WRITER_ACTIONS, waitFor } from "../constructs/platformKey";
import { ssmParameterArn } from "../constructs/ssmParameterArn";
import { jarChecksum, jarFile, jarUrls, sparkJars } from "../config/sparkJars";
import { allowInternetEgress, allowTcp, securityGroup } from "../constructs/securityGroupRules";
import { architectureOf } from "../constructs/ubuntuAmi";
import { EXPORTER_PORTS, JMX_EXPORTER, sparkMasterExporterRules } from "../constructs/monitoring/agentConfig";
import { NodeMonitoring } from "../constructs/monitoring/NodeMonitoring";
import { PlatformStack, type PlatformStackProps } from "./PlatformStack";

/**
 * Spark's ports, pinned so the security group rules stay tight. Drivers and block managers
 * take the next free port above their base, up to `maxRetries` of them.
 */
export const SPARK_PORTS = {
  master: 7077,
  worker: 7078,
  driver: 7079,
  blockManager: 7089,
  maxRetries: 9,
  masterUi: 8080,
  workerUi: 8081,
  applicationUi: 4040,
} as const;
/**
 * How long a worker keeps a stopped application's work directory (its jars, files and executor
 * logs): a day fits many applications beside shuffle and spill on the worker's 100 GiB root volume.
 */
export const WORKER_APP_DATA_TTL_HOURS = 24;
/** Tries of the health checks, with retry's backoff: about ten minutes in all. */
const HEALTH_ATTEMPTS = 13;
/** Every port cluster members use among themselves: 7077 through the last block manager port. */
const INTERNAL_PORT_RANGE = { port: SPARK_PORTS.master, toPort: SPARK_PORTS.blockManager + SPARK_PORTS.maxRetries };

export interface SparkStackProps extends PlatformStackProps {
  readonly network: {
    readonly vpc: Vpc;
    readonly privateSubnets: readonly Subnet[];
    readonly workstationSecurityGroup: SecurityGroup;
  };
  /** IAM policy JSON that lets the nodes read the data bucket. */
  readonly dataReadPolicyJson: string;
  /** IAM policy JSON letting jobs write their results and checkpoints under the bucket's Spark output prefix. */
  readonly outputWritePolicyJson: string;
  /** The workstation's bootstrap key, which the nodes accept for ubuntu (an admin: setup re-runs, debugging). */
  readonly bootstrapKey: {
    readonly parameter: string;
    /** The workstation's private address, the only one the key works from. */
    readonly sourceParameter: string;
    readonly readPolicyJson: string;
  };
  /** The workstation's jobs key, which the master accepts for spark-jobs (no sudo), from the bootstrap key's address only. */
  readonly jobsKey: {
    readonly parameter: string;
    readonly readPolicyJson: string;
  };
  /** The Chef workstation's role, which makes Spark's Kafka client key under this stack's KMS key. */
  readonly workstationRoleArn: string;
}

/** Where Spark is unpacked (`current` links the release) and where its configuration lives. */
export const SPARK_PATHS = { root: "/opt/spark", home: "/opt/spark/current", conf: "/etc/spark" } as const;

/**
 * The command that submits a job on the master, run over SSH as SPARK_JOBS_USER: spark-submit
 * there reads the cluster's configuration (master URL, authentication secret, pinned ports,
 * connectors).
 */
export function sparkSubmitOnMaster(...args: string[]): string {
  return `spark-submit ${args.join(" ")}`;
}

/**
 * A Spark standalone cluster: one master and `spark.workers` workers in the private subnets,
 * each installing and starting itself from its user data. Nodes authenticate to each other
 * with a secret the master generates and shares through SSM; the web UIs are reachable only
 * from the workstation.
 */
export class SparkStack extends PlatformStack {
  readonly securityGroup: SecurityGroup;
  readonly master: HardenedInstance;
  readonly workers: HardenedInstance[];
  /** `spark://<master private ip>:7077` */
  readonly masterUrl: string;
  /** Encrypts the authentication secret: only the master may encrypt with it, only members decrypt. */
  readonly secretKey: PlatformKey;
  /** The master's and the workers' log groups. */
  readonly logGroups: ServiceLogGroups;

  constructor(scope: Construct, id: string, props: SparkStackProps) {
    super(scope, id, props);
    const spark = props.config.spark;
    const { vpc, privateSubnets, workstationSecurityGroup } = props.network;

    this.securityGroup = securityGroup(this, "spark-security-group", {
      name: this.resourceName("spark"),
      vpcId: vpc.id,
      description: "Spark standalone master and workers",
    });
    allowTcp(this, "spark-internal", this.securityGroup, {
      ...INTERNAL_PORT_RANGE,
      from: this.securityGroup,
      description: "Spark RPC among cluster members: master, workers, drivers, block managers",
    });
    for (const [name, port] of [
      ["master-ui", SPARK_PORTS.masterUi],
      ["worker-ui", SPARK_PORTS.workerUi],
      ["application-ui", SPARK_PORTS.applicationUi],
    ] as const) {
      allowTcp(this, `spark-${name}-from-workstation`, this.securityGroup, {
        port,
        from: workstationSecurityGroup,
        description: `Spark ${name.replace("-", " ")} through an SSH tunnel from the workstation`,
      });
    }
    allowTcp(this, "spark-master-ui-internal", this.securityGroup, {
      port: SPARK_PORTS.masterUi,
      from: this.securityGroup,
      description: "Spark master UI JSON, from which each worker checks its own registration",
    });
    allowTcp(this, "spark-ssh-from-workstation", this.securityGroup, {
      port: 22,
      from: workstationSecurityGroup,
      description: "SSH from the workstation only",
    });
    allowInternetEgress(this, "spark-egress", this.securityGroup);

    const secretParameter = `/${props.config.project}/${props.config.environment}/spark/auth-secret`;
    const secretArn = ssmParameterArn(this, props.config.region, secretParameter);
    const secretPolicy = (actions: string[], name: string): string =>
      new DataAwsIamPolicyDocument(this, name, {
        statement: [{ sid: "SparkAuthSecret", actions, resources: [secretArn] }],
      }).json;
    const publishSecret = secretPolicy(["ssm:PutParameter", "ssm:GetParameter"], "spark-secret-publish");
    // Spark's Kafka client identity (principal "spark") and the CA that signs the brokers.
    const pki = pkiParameters(props.config);
    const sparkClientKeyArn = ssmParameterArn(this, props.config.region, pki.sparkKey);
    const readClientIdentity = new DataAwsIamPolicyDocument(this, "kafka-client-identity-read", {
      statement: [
        {
          sid: "ReadKafkaClientIdentity",
          actions: ["ssm:GetParameter"],
          resources: [pki.sparkKey, pki.sparkCert, pki.caCert].map((name) => ssmParameterArn(this, props.config.region, name)),
        },
      ],
    }).json;
    const readSecret = secretPolicy(["ssm:GetParameter"], "spark-secret-read");
    this.secretKey = new PlatformKey(this, "secret-key", {
      // The workstation names this key by its alias when it stores Spark's Kafka client key.
      alias: this.resourceName(SPARK_KEY_ALIAS_SUFFIX),
      description: `The Spark authentication secret of ${this.resourceName("spark")} in SSM`,
      deletionWindowInDays: 7,
    });

    const scriptContext = {
      setupCommand: SETUP_COMMAND,
      sparkRoot: SPARK_PATHS.root,
      confDir: SPARK_PATHS.conf,
      acceptBootstrapKeyFrom: props.bootstrapKey.parameter,
      bootstrapKeySource: props.bootstrapKey.sourceParameter,
      sparkVersion: spark.version,
      sparkSha512: spark.sha512,
      mirrorUrl: spark.mirrorUrl,
      jars: sparkJars(spark.version).map((jar) => ({ file: jarFile(jar), checksum: jarChecksum(jar), urls: jarUrls(jar) })),
      workerAppDataTtlHours: WORKER_APP_DATA_TTL_HOURS,
      workerAppDataTtlSeconds: WORKER_APP_DATA_TTL_HOURS * 3600,
      healthAttempts: HEALTH_ATTEMPTS,
      region: props.config.region,
      secretParameter,
      secretWaitAttempts: 30,
      ports: SPARK_PORTS,
      kafkaClient: { keyParameter: pki.sparkKey, certParameter: pki.sparkCert, caCertParameter: pki.caCert, dir: NODE_TLS_DIR },
    };

    this.logGroups = new ServiceLogGroups(this, "log-groups", { config: props.config, services: ["spark-master", "spark-worker"], purpose: "spark" });

    const monitoring = (id: string, name: string, kind: "spark-master" | "spark-worker", instanceType: string): NodeMonitoring =>
      new NodeMonitoring(this, id, { config: props.config, nodeName: name, kind, architecture: architectureOf(instanceType) });
    const masterMonitoring = monitoring("master-monitoring", this.resourceName("spark-master"), "spark-master", spark.masterInstanceType);
    const sparkExporter = { ...JMX_EXPORTER, port: EXPORTER_PORTS["spark-master"], rules: sparkMasterExporterRules() };
    const masterName = this.resourceName("spark-master");
    this.master = new HardenedInstance(this, "master", {
      name: masterName,
      ubuntuRelease: spark.ubuntuRelease,
      instanceType: spark.masterInstanceType,
      subnetId: privateSubnets[0].id,
      securityGroupIds: [this.securityGroup.id],
      rootVolumeGiB: 30,
      // Stateless: a new Spark release or checksum gets new nodes running it, and workers follow
      // a replaced master (its address is in their user data).
      onUserDataChange: "replace",
      // The driver runs here: it writes a streaming job's checkpoints and output log.
      policies: {
        "read-data-bucket": props.dataReadPolicyJson,
        "write-spark-output": props.outputWritePolicyJson,
        "publish-spark-secret": publishSecret,
        "read-bootstrap-key": props.bootstrapKey.readPolicyJson,
        "read-jobs-key": props.jobsKey.readPolicyJson,
        "read-kafka-client-identity": readClientIdentity,
        "cloudwatch-agent": masterMonitoring.policyJson,
        // Only a node can vouch for its host keys: its role writes its own parameter alone.
        "publish-host-keys": Lazy.stringValue({ produce: () => masterPublishHostKeys }),
      },
      userData: renderScript("spark-node", {
        ...scriptContext,
        ...masterMonitoring.scriptContext,
        hostKeysParameter: hostKeysParameter(props.config, masterName),
        sparkExporter,
        role: "master",
        isMaster: true,
        acceptJobsKeyFrom: props.jobsKey.parameter,
        jobsUser: SPARK_JOBS_USER,
        secretKmsKey: this.secretKey.arn,
      }),
      dependsOn: masterMonitoring.parameters,
    });
    masterMonitoring.attach(this.master);
    // Under the node, as the Kafka nodes' document: the plan review tells a node added later (its
    // siblings' path and grant) apart from new access.
    const masterPublishHostKeys = publishHostKeysPolicyJson(this.master, "publish-host-keys", props.config.region, hostKeysParameter(props.config, masterName));

    this.workers = Array.from({ length: spark.workers }, (_unused, index) => {
      const subnet = privateSubnets[index % privateSubnets.length];
      const workerName = this.resourceName(`spark-worker-${index}`);
      const workerMonitoring = monitoring(`worker-${index}-monitoring`, workerName, "spark-worker", spark.workerInstanceType);
      const worker = new HardenedInstance(this, `worker-${index}`, {
        name: workerName,
        ubuntuRelease: spark.ubuntuRelease,
        instanceType: spark.workerInstanceType,
        subnetId: subnet.id,
        securityGroupIds: [this.securityGroup.id],
        // Shuffle and spill files live on the root volume.
        rootVolumeGiB: 100,
        onUserDataChange: "replace",
        policies: {
          "read-data-bucket": props.dataReadPolicyJson,
          "write-spark-output": props.outputWritePolicyJson,
          "read-spark-secret": readSecret,
          "read-bootstrap-key": props.bootstrapKey.readPolicyJson,
          "read-kafka-client-identity": readClientIdentity,
          "cloudwatch-agent": workerMonitoring.policyJson,
          "publish-host-keys": Lazy.stringValue({ produce: () => publishHostKeys }),
        },
        userData: renderScript("spark-node", {
          ...scriptContext,
          ...workerMonitoring.scriptContext,
          hostKeysParameter: hostKeysParameter(props.config, workerName),
          role: "worker",
          isMaster: false,
          masterIp: this.master.privateIp,
        }),
        dependsOn: workerMonitoring.parameters,
      });
      workerMonitoring.attach(worker);
      const publishHostKeys = publishHostKeysPolicyJson(worker, "publish-host-keys", props.config.region, hostKeysParameter(props.config, workerName));
      return worker;
    });

    // Set once the roles exist; every member's first read of the secret waits for it.
    const secretKeyPolicy = this.secretKey.allow([
      ssmParameterKeyStatement("MasterPublishesSecret", props.config.region, secretArn, [this.master.role.arn], SSM_WRITER_ACTIONS),
      ssmParameterKeyStatement("WorkersReadSecret", props.config.region, secretArn, this.workers.map((worker) => worker.role.arn), SSM_READER_ACTIONS),
      ssmParameterKeyStatement("WorkstationWritesKafkaClientKey", props.config.region, sparkClientKeyArn, [props.workstationRoleArn], SSM_WRITER_ACTIONS),
      ssmParameterKeyStatement(
        "SparkReadsKafkaClientKey",
        props.config.region,
        sparkClientKeyArn,
        [this.master, ...this.workers].map((node) => node.role.arn),
        SSM_READER_ACTIONS,
      ),
    ]);
    for (const node of [this.master, ...this.workers]) {
      waitFor(node.instance, secretKeyPolicy);
      this.logGroups.before(node.instance);
    }

    this.masterUrl = `spark://${this.master.privateIp}:${SPARK_PORTS.master}`;
    new TerraformOutput(this, "spark_master_url", { value: this.masterUrl, description: "spark-submit's --master, reachable inside the VPC only" });
    new TerraformOutput(this, "spark_master_ui", {
      description: "Open the master UI through the workstation (the UIs are never public)",
      value: `ssh -N -L ${SPARK_PORTS.masterUi}:${this.master.privateIp}:${SPARK_PORTS.masterUi} <the login of the chef stack's workstation_ssh output>, then browse http://localhost:${SPARK_PORTS.masterUi}`,
    });
    // The pipeline's commands trust the master's SSH host key only as this instance published it.
    new TerraformOutput(this, "spark_master_instance_id", { value: this.master.instance.id, description: "The Spark master's instance id, the first line of what it publishes as its SSH host keys" });
    new TerraformOutput(this, "spark_master_host_keys_parameter", {
      value: hostKeysParameter(props.config, masterName),
      description: "The SSM parameter where the Spark master publishes its SSH host keys",
    });
    new TerraformOutput(this, "spark_worker_ips", { value: this.workers.map((worker) => worker.privateIp), description: "The Spark workers' private IPs" });
    // The driver runs on the master, inside the cluster's security group: no Spark port opens to
    // the workstation, which reaches the master over SSH only.
    new TerraformOutput(this, "spark_submit_example", {
      description: "Run on the workstation: SparkPi, the example that ships with Spark, submitted to the cluster",
      value: `ssh -i ${SPARK_JOBS_KEY} ${SPARK_JOBS_USER}@${this.master.privateIp} ${sparkSubmitOnMaster("--class org.apache.spark.examples.SparkPi", `${SPARK_PATHS.home}/examples/jars/spark-examples_2.13-${spark.version}.jar`, "100")}`,
    });
  }
}
