import type { PlatformConfig } from "../config/PlatformConfig";
import { architectureOf } from "../config/architecture";
import { chefClientPackage, knifeConfigPath } from "./chefPackages";
import { KAFKA_NODE_ROLE } from "./kafkaNodeRole";
import { renderScript } from "./renderScript";

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
}

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

  /** Uploads data bag item zoo_bag/zookeeper; `item` is its JSON, `{"_default":[ips],"id":"zookeeper"}`. */
  uploadZooBag(item: string): string {
    return renderScript("provision/upload-zoo-bag", { item, knifeConfig: this.knifeConfig, setupTimeoutSeconds: SETUP_TIMEOUT_SECONDS });
  }

  /** Registers one node with the Chef server (the server known by its instance id) and converges it. */
  bootstrapNode(node: ProvisionedNode, serverId: string): string {
    return renderScript("provision/bootstrap-node", {
      // One log per node: the bootstraps run at the same time.
      scriptName: `bootstrap-${node.name}`,
      nodeName: node.name,
      nodeIp: node.ip,
      instanceId: node.instanceId,
      // A normal attribute the node keeps: every broker gets its rack, whatever Ohai detects.
      jsonAttributes: JSON.stringify({ "insight-kafka-cluster": { rack: node.rack } }),
      serverId,
      knifeConfig: this.knifeConfig,
      runList: `role[${KAFKA_NODE_ROLE}]`,
      installCheck: `test -x ${this.client.binaryPath}`,
      licenceFlag: this.config.chef.flavor === "chef" ? "--chef-license accept" : "",
      setupTimeoutSeconds: SETUP_TIMEOUT_SECONDS,
      sshWaitAttempts: SSH_WAIT_ATTEMPTS,
    });
  }

  /** Uploads the current cookbooks and role, then runs the client on every node. */
  convergeNodes(nodeIps: readonly string[]): string {
    return renderScript("provision/converge-nodes", { nodeIps, clientBinary: this.client.binary });
  }
}
