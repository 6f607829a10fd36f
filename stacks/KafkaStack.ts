import { Fn, TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import type { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import type { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import type { Resource as NullResource } from "@cdktf/provider-null/lib/resource";
import { chefClientPackage } from "../constructs/chefPackages";
import { HardenedInstance } from "../constructs/HardenedInstance";
import { KafkaProvisionScripts } from "../constructs/kafkaProvisionScripts";
import { OperatorVariables } from "../constructs/OperatorVariables";
import { renderScript } from "../constructs/renderScript";
import { allowAllEgress, allowTcp, securityGroup } from "../constructs/securityGroupRules";
import { architectureOf } from "../constructs/ubuntuAmi";
import { workstationScript } from "../constructs/workstationScript";
import { PlatformStack, type PlatformStackProps } from "./PlatformStack";

export const KAFKA_PORTS = { zookeeperClient: 2181, zookeeperQuorum: 2888, zookeeperElection: 3888, broker: 9092 } as const;

export interface KafkaStackProps extends PlatformStackProps {
  readonly network: {
    readonly vpc: Vpc;
    readonly privateSubnets: readonly Subnet[];
    readonly workstationSecurityGroup: SecurityGroup;
  };
  readonly chef: {
    readonly serverSecurityGroup: SecurityGroup;
    /** Where the provisioners connect: the workstation's public IP. */
    readonly workstationPublicIp: string;
    /** The server the nodes register with: a replaced one, even at the same address, gets every node registered again. */
    readonly serverInstanceId: string;
    readonly bootstrapKeyParameter: string;
    readonly readBootstrapKeyPolicyJson: string;
    /** Changes with the cookbooks or the role; the converge step re-runs when it does. */
    readonly chefRepoHash: string;
  };
  /** Spark's nodes consume from Kafka. */
  readonly sparkSecurityGroup: SecurityGroup;
}

/**
 * ZooKeeper + Kafka nodes that Terraform bootstraps with Chef. Each node prepares itself in user
 * data (Chef client, bootstrap key, data volume); then null_resource provisioners, run on the
 * workstation: (a) upload data bag zoo_bag/zookeeper generated from the nodes' IPs, (b) knife
 * bootstrap every node, one resource per node so they run in parallel, (c) re-run the Chef
 * client everywhere when the ensemble or the cookbooks change.
 */
export class KafkaStack extends PlatformStack {
  readonly securityGroup: SecurityGroup;
  readonly nodes: HardenedInstance[];
  readonly zooBagUpload: NullResource;
  readonly bootstraps: NullResource[];
  readonly converge: NullResource;

  constructor(scope: Construct, id: string, props: KafkaStackProps) {
    super(scope, id, props);
    const { config } = props;
    const kafka = config.kafka;
    const { vpc, privateSubnets, workstationSecurityGroup } = props.network;
    new NullProvider(this, "null");

    this.securityGroup = securityGroup(this, "kafka-security-group", {
      name: this.resourceName("kafka"),
      vpcId: vpc.id,
      description: "ZooKeeper ensemble members and Kafka brokers",
    });
    for (const [name, port] of [
      ["zookeeper-client", KAFKA_PORTS.zookeeperClient],
      ["zookeeper-quorum", KAFKA_PORTS.zookeeperQuorum],
      ["zookeeper-election", KAFKA_PORTS.zookeeperElection],
      ["broker", KAFKA_PORTS.broker],
    ] as const) {
      allowTcp(this, `${name}-from-members`, this.securityGroup, { port, from: this.securityGroup, description: `${name} among cluster members` });
    }
    allowTcp(this, "broker-from-spark", this.securityGroup, { port: KAFKA_PORTS.broker, from: props.sparkSecurityGroup, description: "Spark jobs read and write topics" });
    kafka.clientSecurityGroupIds.forEach((groupId, index) =>
      allowTcp(this, `broker-from-client-${index}`, this.securityGroup, { port: KAFKA_PORTS.broker, from: groupId, description: "configured Kafka client" }),
    );
    allowTcp(this, "ssh-from-workstation", this.securityGroup, { port: 22, from: workstationSecurityGroup, description: "knife bootstrap and ssh from the workstation only" });
    allowAllEgress(this, "kafka-egress", this.securityGroup);
    // The nodes' Chef client talks to the server.
    allowTcp(this, "chef-server-from-kafka", props.chef.serverSecurityGroup, { port: 443, from: this.securityGroup, description: "chef-client on Kafka nodes" });

    const client = chefClientPackage(config.chef, kafka.ubuntuRelease, architectureOf(kafka.instanceType));
    const volumeWaitAttempts = 20;
    this.nodes = Array.from({ length: kafka.nodes }, (_unused, index) => {
      const subnet = privateSubnets[index % privateSubnets.length];
      const name = this.nodeName(index);
      const volume = new EbsVolume(this, `data-volume-${index}`, {
        availabilityZone: subnet.availabilityZone,
        size: kafka.dataVolumeGiB,
        type: "gp3",
        encrypted: true,
        tags: { Name: `${name}-data` },
      });
      const node = new HardenedInstance(this, `node-${index}`, {
        name,
        ubuntuRelease: kafka.ubuntuRelease,
        instanceType: kafka.instanceType,
        subnetId: subnet.id,
        securityGroupIds: [this.securityGroup.id],
        rootVolumeGiB: 30,
        // A broker and ensemble member holds data and quorum: replacing, or stopping and
        // starting, every node because a script changed would take the cluster down at once. A
        // replaced node gets the new script; what may change at run time, the workstation's
        // bootstrap key, sshd reads from SSM at each login.
        onUserDataChange: "ignore",
        policies: { "read-bootstrap-key": props.chef.readBootstrapKeyPolicyJson },
        userData: renderScript("kafka-node", {
          region: config.region,
          client,
          acceptBootstrapKeyFrom: props.chef.bootstrapKeyParameter,
          dataVolumeId: volume.id,
          dataPath: kafka.dataPath,
          volumeWaitAttempts,
        }),
      });
      new VolumeAttachment(this, `data-volume-${index}-attachment`, {
        deviceName: "/dev/sdf",
        volumeId: volume.id,
        instanceId: node.instance.id,
        // The volume is mounted: EC2 cannot detach it from a running instance, so destroy and
        // -replace would hang on DetachVolume. Stopping the node first unmounts it cleanly.
        stopInstanceBeforeDetaching: true,
      });
      return node;
    });
    const nodeIps = this.nodes.map((node) => node.privateIp);

    const workstation = {
      host: props.chef.workstationPublicIp,
      privateKeyPath: OperatorVariables.deployerPrivateKeyPath(this).stringValue,
    };
    const scripts = new KafkaProvisionScripts(config);

    // (a) The data bag item in exactly the original's format: {"id":"zookeeper","_default":[ips]}.
    this.zooBagUpload = workstationScript(this, "zoo-bag", {
      workstation,
      script: scripts.uploadZooBag(Fn.jsonencode({ id: "zookeeper", _default: nodeIps })),
      triggers: { ensemble: Fn.join(",", nodeIps), server: props.chef.serverInstanceId },
    });

    // (b) One bootstrap per node: Terraform runs them in parallel, and replacing a node re-runs only its own.
    this.bootstraps = this.nodes.map((node, index) =>
      workstationScript(this, `bootstrap-node-${index}`, {
        workstation,
        script: scripts.bootstrapNode(
          { name: this.nodeName(index), ip: node.privateIp, instanceId: node.instance.id, rack: node.instance.availabilityZone },
          props.chef.serverInstanceId,
        ),
        triggers: { instance: node.instance.id, server: props.chef.serverInstanceId },
        after: [this.zooBagUpload],
      }),
    );

    // (c) Converge everything when the ensemble or the cookbooks change.
    this.converge = workstationScript(this, "converge", {
      workstation,
      script: scripts.convergeNodes(nodeIps),
      triggers: { ensemble: Fn.join(",", nodeIps), chefRepo: props.chef.chefRepoHash },
      after: [this.zooBagUpload, ...this.bootstraps],
    });

    new TerraformOutput(this, "kafka_bootstrap_servers", {
      value: Fn.join(",", nodeIps.map((ip) => `${ip}:${KAFKA_PORTS.broker}`)),
    });
    new TerraformOutput(this, "zookeeper_connect", {
      value: `${Fn.join(",", nodeIps.map((ip) => `${ip}:${KAFKA_PORTS.zookeeperClient}`))}/kafka`,
    });
    new TerraformOutput(this, "kafka_node_ips", { value: nodeIps });
  }

  /** Chef node name and Name tag of node `index`. */
  nodeName(index: number): string {
    return this.resourceName(`kafka-${index}`);
  }
}
