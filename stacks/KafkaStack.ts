import { createHash } from "node:crypto";
import { dependable, type FileProvisioner, Fn, type ITerraformDependable, Lazy, type RemoteExecProvisioner, TerraformIterator, TerraformLocal, TerraformOutput, Token } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsInstances } from "@cdktf/provider-aws/lib/data-aws-instances";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import type { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import type { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import type { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { CONTROLLER_NODE_ID_BASE } from "../config/validateConfig";
import { chefClientPackage } from "../constructs/chefPackages";
import { HardenedInstance } from "../constructs/HardenedInstance";
import { escapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { SPARK_GROUP_PREFIX, TOPIC as PIPELINE_TOPIC } from "../pipeline/pipelineConfig";
import { kafkaClientPort, KafkaProvisionScripts, type DataBagItem, type GuardedNode } from "../constructs/kafkaProvisionScripts";
import { hostKeysParameter, publishHostKeysPolicyJson } from "../constructs/hostKeys";
import { kraftClusterId, kraftDirectoryId } from "../constructs/kraftClusterId";
import { OperatorVariables } from "../constructs/OperatorVariables";
import { TerraformData } from "../constructs/TerraformData";
import { ServiceLogGroups } from "../constructs/monitoring/ServiceLogGroups";
import { renderScript } from "../constructs/renderScript";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import { allowInternetEgress, allowTcp, securityGroup, type TcpIngress } from "../constructs/securityGroupRules";
import { architectureOf } from "../constructs/ubuntuAmi";
import type { NodeKind } from "../constructs/monitoring/agentConfig";
import { NodeMonitoring } from "../constructs/monitoring/NodeMonitoring";
import { type WorkstationAccess, type WorkstationConnection, workstationScript } from "../constructs/workstationScript";
import { PlatformStack, type PlatformStackProps } from "./PlatformStack";

export const KAFKA_PORTS = {
  zookeeperClient: 2181,
  zookeeperSecureClient: 2182,
  zookeeperQuorum: 2888,
  zookeeperElection: 3888,
  broker: 9092,
  controller: 9093,
  brokerTls: 9094,
  controllerTls: 9095,
} as const;

/** A dedicated controller keeps only the metadata log: small, and never grown with the topics. */
const CONTROLLER_DATA_VOLUME_GIB = 20;
/** Tries, with backoff, while a node waits for its data volume's device to appear. */
const VOLUME_WAIT_ATTEMPTS = 20;
/**
 * A ZooKeeper ensemble member's own volume. Not the data volume: Kafka's log.dirs is that
 * volume's mount point and refuses any directory there that is not a partition's. ZooKeeper's
 * snapshots and transaction log of a Kafka cluster's metadata stay well under a GiB (autopurge
 * keeps 5 snapshots); 10 GiB is gp3's headroom, and a device of its own keeps the transaction
 * log's fsyncs clear of the brokers' writes, as ZooKeeper's administrator's guide advises.
 * The mount point and label are the insight-kafka-cluster cookbook's defaults too.
 */
export const ZOOKEEPER_VOLUME = { gib: 10, deviceName: "/dev/sdg", mountPoint: "/var/lib/zookeeper-volume", label: "zookeeper-data" } as const;

export interface KafkaStackProps extends PlatformStackProps {
  readonly network: {
    readonly vpc: Vpc;
    readonly privateSubnets: readonly Subnet[];
    readonly workstationSecurityGroup: SecurityGroup;
  };
  readonly chef: {
    readonly serverSecurityGroup: SecurityGroup;
    /** Where the provisioners connect: the workstation's public address, or the operator's tunnel to it. */
    readonly workstation: WorkstationAccess;
    /** The server the nodes register with: a replaced one, even at the same address, gets every node registered again. */
    readonly serverInstanceId: string;
    readonly bootstrapKeyParameter: string;
    readonly bootstrapKeySourceParameter: string;
    readonly readBootstrapKeyPolicyJson: string;
    /** Changes with the cookbooks or the role; the converge step re-runs when it does. */
    readonly chefRepoHash: string;
  };
  /** Spark's nodes consume from Kafka. */
  readonly sparkSecurityGroup: SecurityGroup;
}

/** The security group rules of these ports carry plaintext between nodes (KAFKA_PORTS' names as the rules use them). */
const PLAINTEXT_PORT_NAMES: ReadonlySet<string> = new Set(["broker", "zookeeper-client", "controller"]);

/** A provisioner Terraform runs when it destroys the resource: cdktf's types lack `when`, which its JSON passes on. */
function atDestroy<T extends object>(provisioner: T): T {
  return { ...provisioner, when: "destroy" };
}

/** What differs between a broker's instance and a dedicated controller's. */
interface KafkaInstanceSpec {
  /** Construct ids of the instance and its data volume. */
  readonly id: string;
  readonly volumeId: string;
  /** Name tag, and Chef node name. */
  readonly name: string;
  /** Position among its kind: picks the AZ, round-robin. */
  readonly index: number;
  readonly instanceType: string;
  readonly volumeGiB: number;
  /**
   * Gets a volume of its own for ZooKeeper's data: every broker in ZooKeeper mode, member or not.
   * The ensemble runs on the first kafka.zookeeperNodes brokers, and a change of that size then
   * never attaches or detaches a volume on a running broker: detaching a mounted volume stops the
   * instance, and a smaller ensemble would stop every broker it leaves at once.
   */
  readonly zookeeperVolume: boolean;
  /** What its CloudWatch agent collects: its mode and its role in the quorum. */
  readonly monitoringKind: NodeKind;
}

/** One Kafka instance as the stack builds it. */
interface KafkaNode {
  readonly instance: HardenedInstance;
  /** Chef node name and Name tag. */
  readonly name: string;
  /** broker.id (ZooKeeper mode) or node.id (KRaft). */
  readonly nodeId: number;
  /** False only for a dedicated KRaft controller. */
  readonly broker: boolean;
}

/**
 * Kafka nodes that Terraform bootstraps with Chef. Each node prepares itself in user data (Chef
 * client, bootstrap key, data volume); then terraform_data provisioners, run on the workstation:
 * (a) upload the data bag item the nodes read, generated from the quorum's IPs: in ZooKeeper mode
 * zoo_bag/zookeeper (the ensemble, which runs on the first kafka.zookeeperNodes brokers), in KRaft
 * mode kafka_bag/kraft (the controllers and the cluster id), (b) knife bootstrap every node, one
 * resource per node so they run in parallel, (c) re-run the Chef client everywhere, one node at a
 * time, when the quorum or the cookbooks change. A broker outside the quorum changes neither, so
 * adding or replacing one re-runs only its own bootstrap.
 */
export class KafkaStack extends PlatformStack {
  readonly securityGroup: SecurityGroup;
  /** The brokers, in node id order. */
  readonly nodes: HardenedInstance[];
  /** KRaft mode's dedicated controllers; empty otherwise. */
  readonly controllers: HardenedInstance[];
  /** The data bag item upload: zoo_bag/zookeeper or kafka_bag/kraft. */
  readonly quorumBagUpload: TerraformData;
  readonly bootstraps: TerraformData[];
  readonly converge: TerraformData;
  /** Every node's data volume: the converge grows their filesystems once EC2 has grown them. */
  private readonly dataVolumes: EbsVolume[] = [];
  /** One instance per broker, by node id: refuses, when Terraform is about to destroy the broker, while it holds replicas. */
  readonly drainGuard: TerraformData;
  /** Between consecutive nodes: each node's instance waits for the cluster to be healthy after the one before. */
  readonly rollGuards: TerraformData[];
  /** KRaft mode's dedicated controllers, one instance per controller by node id: waits, when Terraform is about to destroy one, until the converge has removed it from the voters. */
  readonly controllerGuard?: TerraformData;
  /**
   * One instance while kafka.security lets plaintext through the security group, none with "tls":
   * Terraform destroys it, running its check, before the plaintext ports' rules it depends on.
   */
  readonly plaintextGuard: TerraformData;
  /** Kafka's, the Chef client's and, in ZooKeeper mode, ZooKeeper's log groups. */
  readonly logGroups: ServiceLogGroups;
  /** Installs the drain command on the workstation. */
  readonly drainCommand: TerraformData;
  /** Installs the rebalance command on the workstation. */
  readonly rebalanceCommand: TerraformData;
  /** Installs the command that renews the nodes' TLS certificates, which the converge runs. */
  readonly renewCommand: TerraformData;
  /** Where each instance is placed, as configured: the roll guards name it without referring to the instance. */
  private readonly placements = new Map<HardenedInstance, { readonly subnetId: string; readonly availabilityZone: string; readonly instanceType: string; readonly attachment: VolumeAttachment }>();
  /** Each ZooKeeper ensemble member's own volume, by instance (ZooKeeper mode only). */
  private readonly zookeeperVolumes = new Map<HardenedInstance, { volume: EbsVolume; attachment: VolumeAttachment }>();
  /** Each node's CloudWatch agent: what its setup installs, and its in-place step installs again. */
  private readonly monitoring = new Map<HardenedInstance, NodeMonitoring>();

  constructor(scope: Construct, id: string, props: KafkaStackProps) {
    super(scope, id, props);
    const { config } = props;
    const kafka = config.kafka;
    const kraft = kafka.mode === "kraft";
    const { vpc, workstationSecurityGroup } = props.network;

    this.securityGroup = securityGroup(this, "kafka-security-group", {
      name: this.resourceName("kafka"),
      vpcId: vpc.id,
      description: kraft ? "Kafka brokers and KRaft controllers" : "ZooKeeper ensemble members and Kafka brokers",
    });
    // With TLS (docs/tls.md) brokers reach ZooKeeper on its TLS port; its plaintext port stays
    // on each member's loopback. The plaintext broker port is open only while kafka.security
    // allows it (a lab, or the middle of a migration). While migrating, brokers still reach
    // ZooKeeper on its plaintext port and the members open their TLS one (the first of its rolls
    // onto TLS), so both are open among members.
    const security = kafka.security;
    const zookeeperTls = security === "tls";
    const zookeeperClientPorts: ReadonlyArray<readonly [string, number]> = [
      ...(security === "tls" ? [] : [["zookeeper-client", KAFKA_PORTS.zookeeperClient] as const]),
      ...(security === "plaintext" ? [] : [["zookeeper-secure-client", KAFKA_PORTS.zookeeperSecureClient] as const]),
    ];
    // KRaft's controllers move the same way: the plaintext controller listener while plaintext is
    // allowed, the TLS one (9095) once TLS is on, both while migrating.
    const controllerPorts: ReadonlyArray<readonly [string, number]> = [
      ...(security === "tls" ? [] : [["controller", KAFKA_PORTS.controller] as const]),
      ...(security === "plaintext" ? [] : [["controller-tls", KAFKA_PORTS.controllerTls] as const]),
    ];
    const memberPorts: ReadonlyArray<readonly [string, number]> = kraft
      ? controllerPorts
      : [
          ...zookeeperClientPorts,
          ["zookeeper-quorum", KAFKA_PORTS.zookeeperQuorum],
          ["zookeeper-election", KAFKA_PORTS.zookeeperElection],
        ];
    const brokerPorts: ReadonlyArray<readonly [string, number]> = [
      ...(security === "tls" ? [] : [["broker", KAFKA_PORTS.broker] as const]),
      ...(security === "plaintext" ? [] : [["broker-tls", KAFKA_PORTS.brokerTls] as const]),
    ];
    // What a node's bootstrap needs open: SSH from the workstation, the Chef server for the
    // client, and the members' ports for the health checks of its first run.
    const bootstrapRules: ITerraformDependable[] = [];
    // Every rule of a plaintext port, both sides: what the plaintext guard (below) stands before.
    const plaintextRules: ITerraformDependable[] = [];
    const rule = (name: string, id: string, ingress: TcpIngress): VpcSecurityGroupIngressRule => {
      const made = allowTcp(this, id, this.securityGroup, ingress);
      if (PLAINTEXT_PORT_NAMES.has(name)) plaintextRules.push(made, ...this.node.children.filter((child): child is VpcSecurityGroupEgressRule => child.node.id === `${id}-egress`));
      return made;
    };
    for (const [name, port] of [...memberPorts, ...brokerPorts]) {
      bootstrapRules.push(rule(name, `${name}-from-members`, { port, from: this.securityGroup, description: `${name} among cluster members` }));
    }
    for (const [name, port] of brokerPorts) {
      rule(name, `${name}-from-spark`, { port, from: props.sparkSecurityGroup, description: "Spark jobs read and write topics" });
      kafka.clientSecurityGroupIds.forEach((groupId, index) => rule(name, `${name}-from-client-${index}`, { port, from: groupId, description: "configured Kafka client" }));
    }
    bootstrapRules.push(
      allowTcp(this, "ssh-from-workstation", this.securityGroup, { port: 22, from: workstationSecurityGroup, description: "knife bootstrap and ssh from the workstation only" }),
      ...allowInternetEgress(this, "kafka-egress", this.securityGroup),
      // The nodes' Chef client talks to the server.
      allowTcp(this, "chef-server-from-kafka", props.chef.serverSecurityGroup, { port: 443, from: this.securityGroup, description: "chef-client on Kafka nodes" }),
    );

    this.logGroups = new ServiceLogGroups(this, "log-groups", { config, services: kraft ? ["kafka", "chef-client"] : ["kafka", "zookeeper", "chef-client"], purpose: "kafka" });

    const brokers: KafkaNode[] = Array.from({ length: kafka.nodes }, (_unused, index) => ({
      instance: this.kafkaInstance(props, {
        id: `node-${index}`,
        volumeId: `data-volume-${index}`,
        name: this.nodeName(index),
        index,
        instanceType: kafka.instanceType,
        volumeGiB: kafka.dataVolumeGiB,
        // The ensemble runs on the first kafka.zookeeperNodes brokers (see `quorum` below).
        zookeeperVolume: !kraft,
        monitoringKind: !kraft
          ? index < kafka.zookeeperNodes ? "kafka-zookeeper-member" : "kafka-zookeeper-broker"
          : !kafka.dedicatedControllers && index < kafka.controllerNodes ? "kafka-kraft-combined" : "kafka-kraft-broker",
      }),
      name: this.nodeName(index),
      nodeId: index + 1,
      broker: true,
    }));
    const dedicated: KafkaNode[] = !kraft || !kafka.dedicatedControllers
      ? []
      : Array.from({ length: kafka.controllerNodes }, (_unused, index) => ({
          instance: this.kafkaInstance(props, {
            id: `controller-${index}`,
            volumeId: `controller-data-volume-${index}`,
            name: this.controllerName(index),
            index,
            instanceType: kafka.controllerInstanceType,
            volumeGiB: CONTROLLER_DATA_VOLUME_GIB,
            zookeeperVolume: false,
            monitoringKind: "kafka-kraft-controller",
          }),
          name: this.controllerName(index),
          nodeId: CONTROLLER_NODE_ID_BASE + index + 1,
          broker: false,
        }));
    this.nodes = brokers.map((node) => node.instance);
    this.controllers = dedicated.map((node) => node.instance);
    for (const node of [...dedicated, ...brokers]) this.logGroups.before(node.instance.instance);
    // Controllers first: the converge then rolls through the quorum before the brokers.
    const everyNode = [...dedicated, ...brokers];
    // The voters: the first brokers are spread over the AZs round-robin, and so are dedicated controllers.
    const quorum = kraft ? (dedicated.length > 0 ? dedicated : brokers.slice(0, kafka.controllerNodes)) : brokers.slice(0, kafka.zookeeperNodes);
    const quorumIps = quorum.map((node) => node.instance.privateIp);

    const workstation: WorkstationConnection = {
      ...props.chef.workstation,
      privateKeyPath: OperatorVariables.deployerPrivateKeyPath(this).stringValue,
    };
    const scripts = new KafkaProvisionScripts(config);

    // (a) What the nodes read of each other, generated from their IPs, never typed by hand.
    let item: DataBagItem;
    let quorumTrigger: Record<string, string>;
    let bagTrigger: Record<string, string> = {};
    /** KRaft mode: each controller's metadata directory id, by node id. */
    const directoryIds = new Map<number, string>();
    if (kraft) {
      // Generated once and kept in Terraform's state: a replaced node, or a re-converge, reads the
      // same id from the data bag, and a replaced Chef server gets it uploaded again.
      const clusterId = kraftClusterId(this, "cluster-id");
      // A dynamic quorum (KIP-853): its controllers can be added and removed one at a time on a
      // running cluster. Each directory id is kept per node id; only a cluster being created is
      // formatted with them (the upload marks it), and an item on a running static quorum is
      // turned back into a static one by the upload, which reads what runs.
      const controllers = quorum.map((node) => {
        const directoryId = kraftDirectoryId(this, `controller-directory-id-${node.nodeId}`);
        directoryIds.set(node.nodeId, directoryId);
        return { id: node.nodeId, address: node.instance.privateIp, directory_id: directoryId };
      });
      item = { bag: "kafka_bag", id: "kraft", json: Fn.jsonencode({ id: "kraft", _default: { cluster_id: clusterId, quorum: "dynamic", controllers } }) };
      quorumTrigger = { controllers: Fn.join(",", quorum.map((node) => `${node.nodeId}@${node.instance.privateIp}`)) };
      bagTrigger = { clusterId };
      new TerraformOutput(this, "kafka_cluster_id", { value: clusterId, description: "The KRaft cluster's id, as every node's meta.properties holds it" });
      new TerraformOutput(this, "kafka_controller_quorum", {
        value: Fn.join(",", quorum.map((node) => `${node.nodeId}@${node.instance.privateIp}:${security === "plaintext" ? KAFKA_PORTS.controller : KAFKA_PORTS.controllerTls}`)),
        description: "The controllers the data bag lists (id@address:port, the controller listener the nodes reach them on once this stage's converges are done); the running voters: kafka-metadata-quorum.sh describe --status",
      });
    } else {
      // Exactly the original's format: {"id":"zookeeper","_default":[ips]}, the ensemble only.
      item = { bag: "zoo_bag", id: "zookeeper", json: Fn.jsonencode({ id: "zookeeper", _default: quorumIps }) };
      quorumTrigger = { ensemble: Fn.join(",", quorumIps) };
      new TerraformOutput(this, "zookeeper_connect", {
        value: `${Fn.join(",", quorumIps.map((ip) => `${ip}:${zookeeperTls ? KAFKA_PORTS.zookeeperSecureClient : KAFKA_PORTS.zookeeperClient}`))}/kafka`,
      });
    }
    // Each node's published host keys, pinned again on a replaced workstation, which re-runs no
    // bootstrap. Whatever reaches a node over SSH runs after them: the upload (it reads the
    // members' config), and every bootstrap, hence everything after those.
    const pinned = new Map(
      everyNode.map((node) => [
        node,
        workstationScript(this, `host-keys-${node.instance.node.id}`, {
          workstation,
          script: scripts.pinHostKeys({ name: node.name, ip: node.instance.privateIp, instanceId: node.instance.instance.id }),
          triggers: { instance: node.instance.instance.id, workstation: workstation.instanceId },
        }),
      ]),
    );
    this.quorumBagUpload = workstationScript(this, kraft ? "kraft-bag" : "zoo-bag", {
      workstation,
      script: scripts.uploadDataBag(item),
      triggers: { ...quorumTrigger, ...bagTrigger, server: props.chef.serverInstanceId },
      after: [...pinned.values()],
    });

    // (b) One bootstrap per node: Terraform runs them in parallel, and replacing a node re-runs
    // only its own. A node outside the quorum waits for the quorum's bootstraps: its run's health
    // check needs a quorum, which Terraform's parallelism (10 at a time) could otherwise leave
    // unstarted behind a wave of brokers.
    const bootstrap = (node: KafkaNode, after: ITerraformDependable[]): TerraformData =>
      workstationScript(this, `bootstrap-${node.instance.node.id}`, {
        workstation,
        script: scripts.bootstrapNode(
          {
            name: node.name,
            ip: node.instance.privateIp,
            instanceId: node.instance.instance.id,
            rack: node.instance.instance.availabilityZone,
            nodeId: node.nodeId,
            broker: node.broker,
            zookeeperVolumeId: this.zookeeperVolumes.get(node.instance)?.volume.id,
          },
          props.chef.serverInstanceId,
        ),
        triggers: { instance: node.instance.instance.id, server: props.chef.serverInstanceId },
        after: [...after, ...bootstrapRules, pinned.get(node)!],
      });
    const quorumBootstraps = new Map(quorum.map((node) => [node, bootstrap(node, [this.quorumBagUpload])]));
    this.bootstraps = everyNode.map((node) => quorumBootstraps.get(node) ?? bootstrap(node, [this.quorumBagUpload, ...quorumBootstraps.values()]));

    // A broker bootstrapped before it had a ZooKeeper volume never runs its bootstrap again: its
    // Chef node learns the volume's id here, before a converge that makes it a member mounts the
    // volume and moves ZooKeeper's data onto it. A new broker has it from its bootstrap already.
    const bootstrapOf = new Map(everyNode.map((node, position) => [node, this.bootstraps[position]]));
    const zookeeperVolumeSteps = everyNode.flatMap((node) => {
      const own = this.zookeeperVolumes.get(node.instance);
      const bootstrapped = bootstrapOf.get(node);
      if (!own || !bootstrapped) return [];
      return [
        workstationScript(this, `zookeeper-volume-attribute-${node.instance.node.id}`, {
          workstation,
          script: scripts.recordZookeeperVolume(node.name, own.volume.id),
          triggers: { volume: own.volume.id, instance: node.instance.instance.id, server: props.chef.serverInstanceId },
          after: [bootstrapped],
        }),
      ];
    });
    // The members' volumes: a broker added outside the ensemble re-runs nothing on the others.
    const zookeeperVolumeIds = quorum.flatMap((node) => this.zookeeperVolumes.get(node.instance)?.volume.id ?? []);

    // The command that renews the nodes' TLS certificates when due, which the converge runs for
    // each node right before its Chef run; installed again whenever a node's address changes.
    const nodeIps = everyNode.map((node) => node.instance.privateIp);
    this.renewCommand = workstationScript(this, "renew-certificates-command", {
      workstation,
      script: scripts.installRenewCommand(nodeIps),
      triggers: {
        nodes: Fn.join(",", nodeIps),
        script: createHash("sha256").update(scripts.renewCertificates(everyNode.map(() => "address"))).digest("hex"),
      },
    });

    // kafka.security "tls" closes the plaintext ports in its apply, beside the converge's roll:
    // the guard's destroy-time check, which Terraform runs before it destroys a rule the guard
    // depends on, and before the converge that waits for the guard, fails the apply (no port
    // closed, no node rolled) while a node still reaches another in plaintext. Declared in every
    // stack, with no instance under "tls", for the same reason as the controller guard's below.
    this.plaintextGuard = this.destroyGuard("plaintext-guard", "plaintext_guard_script", {
      workstation,
      script: scripts.plaintextGuard(),
      nodes: security === "tls" ? {} : { "plaintext-ports": { name: "plaintext-ports", addresses: Fn.join(" ", everyNode.map((node) => node.instance.privateIp)) } },
      arguments: ["addresses"],
      after: plaintextRules,
    });

    // (c) Converge everything, one node at a time, when the quorum or the cookbooks change.
    this.converge = workstationScript(this, "converge", {
      workstation,
      script: scripts.convergeNodes(everyNode.map((node) => node.instance.privateIp), item),
      // A grown kafka.dataVolumeGiB re-runs it once the volumes have their new size (the AWS
      // provider waits for that), so each node grows its filesystem to match. A new ZooKeeper
      // volume re-runs it once attached, so its member mounts it and moves its data there.
      triggers: {
        ...quorumTrigger,
        chefRepo: props.chef.chefRepoHash,
        dataVolumeGiB: String(kafka.dataVolumeGiB),
        ...(zookeeperVolumeIds.length > 0 ? { zookeeperVolumes: Fn.join(",", zookeeperVolumeIds) } : {}),
      },
      after: [
        this.plaintextGuard,
        this.quorumBagUpload,
        this.renewCommand,
        ...this.bootstraps,
        ...this.dataVolumes,
        ...[...this.zookeeperVolumes.values()].map((own) => own.attachment),
        ...zookeeperVolumeSteps,
      ],
    });

    // A Kafka node runs its setup once: the CloudWatch agent, and any change to how it is set up,
    // reach a node set up before them through the workstation, in place: no node is replaced or
    // restarted. A newly pinned version needs no step (the node's timer reads its package
    // parameter). After the converge, whose Chef runs install packages too.
    for (const node of everyNode) {
      const nodeScript = scripts.monitoringAgentNodeScript(this.monitoring.get(node.instance)!.scriptContext);
      workstationScript(this, `monitoring-agent-${node.instance.node.id}`, {
        workstation,
        script: scripts.monitoringAgent({ name: node.name, ip: node.instance.privateIp }, nodeScript),
        triggers: { instance: node.instance.instance.id, workstation: workstation.instanceId, agent: createHash("sha256").update(nodeScript).digest("hex") },
        after: [pinned.get(node)!, bootstrapOf.get(node)!, this.converge],
      });
    }

    // (d) Day 2. A broker is destroyed only once it holds nothing: its drain guard is destroyed
    // first (it depends on the volume attachment, hence on the instance and the volume) and its
    // destroy-time script fails while the broker holds replicas. And a change that stops or
    // replaces nodes (instance type, subnet) reaches them one at a time: each node's instance
    // depends on a roll guard that depends on the node before it and waits until the cluster is
    // healthy again. Terraform orders creates and updates along these edges; the destroy half of
    // a replacement it does not, so several nodes moving at once are refused at plan (below).
    const guarded = (node: KafkaNode): GuardedNode => ({
      name: node.name,
      ip: node.instance.privateIp,
      nodeId: node.nodeId,
      broker: node.broker,
      rack: this.placementOf(node.instance).availabilityZone,
    });
    const controllerBrokerIds = kraft && dedicated.length === 0 ? quorum.map((node) => node.nodeId) : [];
    // Rendered with stand-in addresses: the hash follows the script, the trigger beside it the addresses.
    const drainScriptHash = createHash("sha256")
      .update(scripts.drainBrokers(brokers.map((node) => ({ ...guarded(node), ip: "address", rack: "rack" })), controllerBrokerIds))
      .digest("hex");
    this.drainCommand = workstationScript(this, "drain-command", {
      workstation,
      script: scripts.installDrainCommand(brokers.map(guarded), controllerBrokerIds),
      triggers: {
        brokers: Fn.join(",", brokers.map((node) => `${node.nodeId}@${node.instance.privateIp}@${this.placementOf(node.instance).availabilityZone}`)),
        script: drainScriptHash,
      },
    });
    // New brokers take only new topics until partitions are reassigned: the command that does it,
    // installed beside the drain command, with the brokers it must find registered.
    const rebalanceScriptHash = createHash("sha256")
      .update(scripts.rebalancePartitions(brokers.map((node) => ({ ...guarded(node), ip: "address", rack: "rack" }))))
      .digest("hex");
    this.rebalanceCommand = workstationScript(this, "rebalance-command", {
      workstation,
      script: scripts.installRebalanceCommand(brokers.map(guarded)),
      triggers: {
        brokers: Fn.join(",", brokers.map((node) => `${node.nodeId}@${node.instance.privateIp}`)),
        script: rebalanceScriptHash,
      },
    });
    // Lowering kafka.nodes drops instances from the guard's for_each, so their scripts run.
    this.drainGuard = this.destroyGuard("drain-guard", "drain_guard_script", {
      workstation,
      script: scripts.drainGuard(),
      nodes: Object.fromEntries(
        brokers.map((node) => [
          String(node.nodeId),
          { name: node.name, addresses: Fn.join(" ", [node, ...brokers.filter((other) => other !== node)].map((other) => other.instance.privateIp)) },
        ]),
      ),
      arguments: ["addresses"],
      // Through the attachments, on the instances and the volumes too: Terraform destroys a
      // broker's attachments (each stops the instance first), volumes and instance only after its
      // guard; a ZooKeeper member's own volume included.
      after: brokers.flatMap((node) => [this.placementOf(node.instance).attachment, ...(this.zookeeperVolumes.has(node.instance) ? [this.zookeeperVolumes.get(node.instance)!.attachment] : [])]),
    });
    // A dedicated controller is destroyed only once it no longer votes: lowering
    // kafka.controllerNodes 3 to 1 would otherwise destroy two of three voters, the quorum's
    // majority, while the converge of the same apply is still about to remove them one at a time.
    // Its guard is destroyed first (through the attachment, before the instance and the volume)
    // and its destroy-time script waits until the converge has removed it. A resource of its own,
    // beside the brokers' drain guard, so the brokers' instances keep their keys. Declared in
    // every KRaft stack, with no instance when no controller is dedicated: turning
    // kafka.dedicatedControllers off must still run each guard's destroy-time script (Terraform
    // runs it for an instance its for_each no longer names, not for a block that left the
    // configuration), or the controllers' attachments would go first and stop every controller.
    if (kraft) {
      this.controllerGuard = this.destroyGuard("controller-guard", "controller_guard_script", {
        workstation,
        script: scripts.controllerGuard(),
        nodes: Object.fromEntries(
          dedicated.map((node) => [
            String(node.nodeId),
            {
              name: node.name,
              address: node.instance.privateIp,
              directoryId: directoryIds.get(node.nodeId) ?? "",
              others: Fn.join(" ", dedicated.filter((other) => other !== node).map((other) => other.instance.privateIp)),
            },
          ]),
        ),
        arguments: ["address", "directoryId", "others"],
        after: dedicated.map((node) => this.placementOf(node.instance).attachment),
      });
    }
    this.rollGuards = everyNode.slice(1).map((next, index) => {
      const previous = everyNode[index];
      const placement = this.placementOf(next.instance);
      const guard = workstationScript(this, `roll-guard-${next.instance.node.id}`, {
        workstation,
        script: scripts.rollGuard(guarded(previous), next.name),
        // What stops (instance type) or replaces (subnet) the next node: the guard runs again just before.
        triggers: { instanceType: placement.instanceType, subnet: placement.subnetId },
        after: [previous.instance.instance, ...bootstrapRules],
      });
      next.instance.instance.dependsOn = [...(next.instance.instance.dependsOn ?? []), dependable(guard)];
      return guard;
    });

    // Terraform destroys every node a plan replaces before it creates any: the destroy half of a
    // replacement waits for nothing, so the roll guards cannot space out moves. Several nodes moved
    // to other subnets (network.azCount, the subnets) would all be gone at once, each coming back
    // with a new, empty data volume. Refused at plan, from where EC2 says each node runs now.
    const placed = new Map<KafkaNode, DataAwsInstances>();
    const moving = everyNode.map((node) => {
      const states = ["pending", "running", "stopping", "stopped"];
      const named = { name: "tag:Name", values: [node.name] };
      const anywhere = new DataAwsInstances(this, `placed-${node.instance.node.id}`, { instanceStateNames: states, filter: [named] });
      placed.set(node, anywhere);
      const here = new DataAwsInstances(this, `placed-here-${node.instance.node.id}`, {
        instanceStateNames: states,
        filter: [named, { name: "subnet-id", values: [this.placementOf(node.instance).subnetId] }],
      });
      return `length(${anywhere.fqn}.ids) > 0 && length(${here.fqn}.ids) == 0 ? [${JSON.stringify(node.name)}] : []`;
    });
    const moved = new TerraformLocal(this, "kafka_nodes_moving", `\${concat(${moving.map((expression) => `(${expression})`).join(", ")})}`).fqn;
    new TerraformData(this, "placement-check", {
      lifecycle: {
        precondition: [
          {
            condition: `\${length(${moved}) <= 1}`,
            errorMessage: `\${format("REFUSED: %d Kafka nodes would move to other subnets in one apply (%s): Terraform would destroy them all, with their data volumes, before creating any; move one node per apply (docs/kafka.md, Removing and replacing brokers), or set network.azCount and the subnets back; nothing was changed", length(${moved}), join(", ", ${moved}))}`,
          },
        ],
      },
    });

    // The first node's own stop or replacement waits for a healthy cluster too. Its guard cannot
    // refer to the instance it gates (a cycle): it asks the node at the address EC2 gave the plan.
    const first = everyNode[0];
    const firstPlacement = this.placementOf(first.instance);
    const firstGuard = workstationScript(this, `roll-guard-${first.instance.node.id}`, {
      workstation,
      script: scripts.firstRollGuard({
        name: first.name,
        ip: Fn.element(Fn.concat([placed.get(first)!.privateIps, [""]]), 0),
        nodeId: first.nodeId,
        broker: first.broker,
        rack: firstPlacement.availabilityZone,
      }),
      triggers: { instanceType: firstPlacement.instanceType, subnet: firstPlacement.subnetId },
      after: [...bootstrapRules],
    });
    first.instance.instance.dependsOn = [...(first.instance.instance.dependsOn ?? []), dependable(firstGuard)];
    this.rollGuards = [firstGuard, ...this.rollGuards];

    // (e) With TLS the authorizer refuses what no ACL allows: the example pipeline's principal
    // gets its topic, once the brokers converged with the authorizer.
    if (security === "tls") {
      const aclScript = scripts.pipelineAcls({
        node: brokers[0].instance.privateIp,
        bootstrapServers: Fn.join(",", brokers.map((node) => `${node.instance.privateIp}:${KAFKA_PORTS.brokerTls}`)),
        topic: PIPELINE_TOPIC,
        groupPrefix: SPARK_GROUP_PREFIX,
      });
      workstationScript(this, "pipeline-acls", {
        workstation,
        script: aclScript,
        triggers: { acls: `User:spark ${PIPELINE_TOPIC} ${SPARK_GROUP_PREFIX}`, server: props.chef.serverInstanceId, first: brokers[0].instance.instance.id },
        after: [this.converge],
      });
    }

    // What clients use, the same in both modes: the brokers.
    new TerraformOutput(this, "kafka_bootstrap_servers", {
      value: Fn.join(",", brokers.map((node) => `${node.instance.privateIp}:${kafkaClientPort(security)}`)),
    });
    new TerraformOutput(this, "kafka_node_ips", { value: brokers.map((node) => node.instance.privateIp) });
    new TerraformOutput(this, "kafka_security", { value: security, description: "kafka.security: tls (clients use mutual TLS on kafka_bootstrap_servers), plaintext or migrating" });
  }

  /** Chef node name and Name tag of broker `index`. */
  nodeName(index: number): string {
    return this.resourceName(`kafka-${index}`);
  }

  /** Chef node name and Name tag of dedicated controller `index`. */
  controllerName(index: number): string {
    return this.resourceName(`kafka-controller-${index}`);
  }

  /**
   * A guard Terraform destroys before a node's resources (through `after`), whose destroy-time
   * script runs on the workstation with the node's id, name and `arguments` and fails the apply
   * while the node must not go. One resource with an instance per node, not one resource per
   * node: Terraform runs the destroy-time provisioner of an instance that for_each no longer
   * names, but not of a resource whose block left the configuration. A destroy-time provisioner
   * may refer to nothing but the resource itself, so everything the script needs (the script too,
   * with kafka.deletionProtection in it) is in its input, as last deployed; the node id, its
   * only trigger, never changes while the node exists.
   */
  private destroyGuard(
    id: string,
    scriptLocal: string,
    guard: {
      readonly workstation: WorkstationConnection;
      readonly script: string;
      /** By node id: the node's name, and the values the script takes after it. */
      readonly nodes: Record<string, { readonly name: string } & Record<string, string>>;
      readonly arguments: readonly string[];
      readonly after: ITerraformDependable[];
    },
  ): TerraformData {
    const script = new TerraformLocal(this, scriptLocal, escapeTerraformTemplate(guard.script));
    const target = TerraformIterator.fromMap(guard.nodes);
    const destination = `/tmp/platform-${id}-\${self.input.nodeId}.sh`;
    return new TerraformData(this, id, {
      forEach: target,
      triggersReplace: { nodeId: target.key },
      input: {
        nodeId: target.key,
        nodeName: target.getString("name"),
        ...Object.fromEntries(guard.arguments.map((name) => [name, target.getString(name)])),
        script: script.asString,
        host: guard.workstation.host,
        port: guard.workstation.port,
        privateKeyPath: guard.workstation.privateKeyPath,
      },
      dependsOn: guard.after,
      // A step run at destroy may read only from self: where the workstation was at the last apply.
      connection: { type: "ssh", host: "${self.input.host}", port: Token.asNumber("${self.input.port}"), user: "ubuntu", privateKey: "${file(self.input.privateKeyPath)}", timeout: "10m" },
      provisioners: [
        atDestroy<FileProvisioner>({ type: "file", content: "${self.input.script}", destination }),
        atDestroy<RemoteExecProvisioner>({
          type: "remote-exec",
          inline: [`bash ${destination} ${["nodeId", "nodeName", ...guard.arguments].map((name) => `\${self.input.${name}}`).join(" ")}`],
        }),
      ],
    });
  }

  private placementOf(instance: HardenedInstance) {
    const placement = this.placements.get(instance);
    if (!placement) throw new Error(`${instance.node.path} is not a Kafka instance of this stack`);
    return placement;
  }

  /** One Kafka instance in the AZ its index falls on, with its own encrypted data volume. */
  private kafkaInstance(props: KafkaStackProps, spec: KafkaInstanceSpec): HardenedInstance {
    const { id, volumeId, name, index, instanceType, volumeGiB } = spec;
    const { config } = props;
    const kafka = config.kafka;
    const subnets = props.network.privateSubnets;
    const subnet = subnets[index % subnets.length];
    const volume = new EbsVolume(this, volumeId, {
      availabilityZone: subnet.availabilityZone,
      size: volumeGiB,
      type: "gp3",
      encrypted: true,
      tags: { Name: `${name}-data` },
    });
    this.dataVolumes.push(volume);
    const zookeeperVolume = spec.zookeeperVolume
      ? new EbsVolume(this, `zookeeper-${volumeId}`, {
          availabilityZone: subnet.availabilityZone,
          size: ZOOKEEPER_VOLUME.gib,
          type: "gp3",
          encrypted: true,
          tags: { Name: `${name}-zookeeper` },
        })
      : undefined;
    const client = chefClientPackage(config.chef, kafka.ubuntuRelease, architectureOf(instanceType));
    const monitoring = new NodeMonitoring(this, `${id}-monitoring`, {
      config,
      nodeName: name,
      kind: spec.monitoringKind,
      architecture: architectureOf(instanceType),
      options: { kafkaDataPath: kafka.dataPath, chefFlavor: client.name },
    });
    const node = new HardenedInstance(this, id, {
      name,
      ubuntuRelease: kafka.ubuntuRelease,
      instanceType,
      subnetId: subnet.id,
      securityGroupIds: [this.securityGroup.id],
      rootVolumeGiB: 30,
      // A broker or controller holds data and quorum: replacing, or stopping and starting, every
      // node because a script changed would take the cluster down at once. A replaced node gets
      // the new script; what may change at run time, the workstation's bootstrap key, sshd reads
      // from SSM at each login.
      onUserDataChange: "ignore",
      policies: {
        "read-bootstrap-key": props.chef.readBootstrapKeyPolicyJson,
        "cloudwatch-agent": monitoring.policyJson,
        // Only this node can vouch for its host keys: its role writes its own parameter alone.
        "publish-host-keys": Lazy.stringValue({ produce: () => publishHostKeys }),
      },
      dependsOn: monitoring.parameters,
      userData: renderScript("kafka-node", {
        ...monitoring.scriptContext,
        setupCommand: SETUP_COMMAND,
        region: config.region,
        client,
        acceptBootstrapKeyFrom: props.chef.bootstrapKeyParameter,
        bootstrapKeySource: props.chef.bootstrapKeySourceParameter,
        hostKeysParameter: hostKeysParameter(config, name),
        dataVolumeId: volume.id,
        dataPath: kafka.dataPath,
        volumeWaitAttempts: VOLUME_WAIT_ATTEMPTS,
        ...(zookeeperVolume ? { zookeeperVolume: { id: zookeeperVolume.id, mountPoint: ZOOKEEPER_VOLUME.mountPoint, label: ZOOKEEPER_VOLUME.label } } : {}),
      }),
    });
    monitoring.attach(node);
    this.monitoring.set(node, monitoring);
    // Under the node, as the agent's document: a node added later repeats its siblings' document
    // path and grant, which the plan review tells apart from new access.
    const publishHostKeys = publishHostKeysPolicyJson(node, "publish-host-keys", config.region, hostKeysParameter(config, name));
    const attachment = new VolumeAttachment(this, `${volumeId}-attachment`, {
      deviceName: "/dev/sdf",
      volumeId: volume.id,
      instanceId: node.instance.id,
      // The volume is mounted: EC2 cannot detach it from a running instance, so destroy and
      // -replace would hang on DetachVolume. Stopping the node first unmounts it cleanly.
      stopInstanceBeforeDetaching: true,
    });
    this.placements.set(node, { subnetId: subnet.id, availabilityZone: subnet.availabilityZone, instanceType, attachment });
    if (zookeeperVolume) {
      const attachment = new VolumeAttachment(this, `zookeeper-${volumeId}-attachment`, {
        deviceName: ZOOKEEPER_VOLUME.deviceName,
        volumeId: zookeeperVolume.id,
        instanceId: node.instance.id,
        // Mounted too: stopping first is what lets EC2 detach it.
        stopInstanceBeforeDetaching: true,
      });
      this.zookeeperVolumes.set(node, { volume: zookeeperVolume, attachment });
    }
    return node;
  }
}
