import type { PlatformConfig } from "../config/PlatformConfig";
import { architectureOf } from "../config/architecture";
import { chefClientPackage, knifeConfigPath } from "./chefPackages";
import { KAFKA_NODE_ROLE } from "./kafkaNodeRole";
import { renderScript } from "./renderScript";
import { SETUP_COMMAND } from "./setupCommand";

/** Bounds of the provisioner scripts: how long they wait for cloud-init, and for a node's SSH. */
const SETUP_TIMEOUT_SECONDS = 1800;
const SSH_WAIT_ATTEMPTS = 20;

/** A Kafka node as the provisioner scripts see it. */
export interface ProvisionedNode {
  /** Chef node name. */
  readonly name: string;
  readonly ip: string;
  /** Changes when the node is replaced. */
  readonly instanceId: string;
  /** The broker's rack: its availability zone, so replicas spread over zones. */
  readonly rack: string;
  /** broker.id (ZooKeeper mode) or node.id (KRaft): fixed by the node's place in the stack. */
  readonly nodeId: number;
  /** False only for a dedicated KRaft controller. */
  readonly broker: boolean;
  /** A ZooKeeper ensemble member's own volume, for ZooKeeper's data. @default none */
  readonly zookeeperVolumeId?: string;
}

/** A data bag item the nodes read: ZooKeeper's ensemble, or KRaft's controllers and cluster id. */
export interface DataBagItem {
  readonly bag: string;
  readonly id: string;
  /** The item's JSON, `{"id":<id>,"_default":...}`; may hold Terraform references. */
  readonly json: string;
}

/** What the scripts that guard a running quorum need to know of it. */
interface QuorumCheck {
  /** In messages: "ZooKeeper ensemble" or "KRaft controller quorum". */
  readonly name: string;
  /** The config fields that move its membership, named in a refusal. */
  readonly fields: string;
  /** Where each member keeps the membership it runs with. */
  readonly configPath: string;
  readonly bag: string;
  readonly itemId: string;
  readonly sshWaitAttempts: number;
}

/** Names must stay valid in a shell word and a path: Chef's own rule for data bag names. */
const DATA_BAG_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * The scripts that run on the workstation to bring Kafka nodes into Chef, rendered from the
 * platform config. The Kafka stack hands them to Terraform with its nodes' addresses; the local
 * deploy rehearsal runs the very same ones with its containers' addresses.
 */
export class KafkaProvisionScripts {
  private readonly knifeConfig: string;
  private readonly client: ReturnType<typeof chefClientPackage>;

  constructor(private readonly config: PlatformConfig) {
    this.knifeConfig = knifeConfigPath(config.chef);
    this.client = chefClientPackage(config.chef, config.kafka.ubuntuRelease, architectureOf(config.kafka.instanceType));
  }

  /** Uploads one data bag item, e.g. zoo_bag/zookeeper with JSON `{"_default":[ips],"id":"zookeeper"}`. */
  uploadDataBag(item: DataBagItem): string {
    for (const name of [item.bag, item.id]) {
      if (!DATA_BAG_NAME.test(name)) throw new Error(`data bag name ${JSON.stringify(name)} may hold only letters, digits, _ and -`);
    }
    return renderScript("provision/upload-data-bag", {
      quorum: this.quorumCheck(item),
      bag: item.bag,
      itemId: item.id,
      item: item.json,
      knifeConfig: this.knifeConfig,
      setupTimeoutSeconds: SETUP_TIMEOUT_SECONDS,
    });
  }

  /** Registers one node with the Chef server (the server known by its instance id) and converges it. */
  bootstrapNode(node: ProvisionedNode, serverId: string): string {
    return renderScript("provision/bootstrap-node", {
      // One log per node: the bootstraps run at the same time.
      scriptName: `bootstrap-${node.name}`,
      nodeName: node.name,
      nodeIp: node.ip,
      instanceId: node.instanceId,
      // Normal attributes the node keeps: its id, whether it is a broker, its rack whatever Ohai
      // detects, and a ZooKeeper member's volume, so its first run puts ZooKeeper's data there.
      jsonAttributes: JSON.stringify({
        "insight-kafka-cluster": {
          rack: node.rack,
          node_id: node.nodeId,
          broker: node.broker,
          ...(node.zookeeperVolumeId === undefined ? {} : { zookeeper_volume_id: node.zookeeperVolumeId }),
        },
      }),
      serverId,
      knifeConfig: this.knifeConfig,
      runList: `role[${KAFKA_NODE_ROLE}]`,
      installCheck: `test -x ${this.client.binaryPath}`,
      licenceFlag: this.config.chef.flavor === "chef" ? "--chef-license accept" : "",
      setupTimeoutSeconds: SETUP_TIMEOUT_SECONDS,
      sshWaitAttempts: SSH_WAIT_ATTEMPTS,
    });
  }

  /**
   * Records on a ZooKeeper member's Chef node the id of the EBS volume that holds ZooKeeper's
   * data (normal attribute insight-kafka-cluster.zookeeper_volume_id), for members bootstrapped
   * before they had one: the bootstrap, which passes it to new members, never runs again on them.
   */
  recordZookeeperVolume(nodeName: string, volumeId: string): string {
    return renderScript("provision/record-zookeeper-volume", {
      scriptName: `record-zookeeper-volume-${nodeName}`,
      nodeName,
      volumeId,
      knifeConfig: this.knifeConfig,
    });
  }

  /**
   * Checks that the running quorum keeps its members with `quorum` (the item the upload sent),
   * uploads the current cookbooks and role (the workstation's setup, run again), then runs the
   * client on every node.
   */
  convergeNodes(nodeIps: readonly string[], quorum: DataBagItem): string {
    return renderScript("provision/converge-nodes", {
      nodeIps,
      item: quorum.json,
      quorum: this.quorumCheck(quorum),
      knifeConfig: this.knifeConfig,
      clientBinary: this.client.binary,
      setupCommand: SETUP_COMMAND,
    });
  }

  private quorumCheck(item: DataBagItem): QuorumCheck {
    const zookeeper = this.config.kafka.mode !== "kraft";
    return {
      name: zookeeper ? "ZooKeeper ensemble" : "KRaft controller quorum",
      fields: zookeeper
        ? "kafka.zookeeperNodes (or kafka.nodes, which its default follows)"
        : "kafka.controllerNodes, kafka.dedicatedControllers (or kafka.nodes, which the controllers' default follows)",
      configPath: zookeeper ? "/etc/zookeeper/zoo.cfg" : "/etc/kafka/server.properties",
      bag: item.bag,
      itemId: item.id,
      sshWaitAttempts: SSH_WAIT_ATTEMPTS,
    };
  }
}
