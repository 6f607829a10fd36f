import type { KafkaSecurity, PlatformConfig } from "../config/PlatformConfig";
import { architectureOf } from "../config/architecture";
import { chefClientPackage, knifeConfigPath } from "./chefPackages";
import { HOST_KEY_WAIT_ATTEMPTS, hostKeysParameter } from "./hostKeys";
import { KAFKA_NODE_ROLE } from "./kafkaNodeRole";
import { pkiContext } from "./pki";
import type { NodeMonitoring } from "./monitoring/NodeMonitoring";
import { renderScript } from "./renderScript";
import { SETUP_COMMAND } from "./setupCommand";

/** Bounds of the provisioner scripts: how long they wait for cloud-init, and for a node's SSH. */
const SETUP_TIMEOUT_SECONDS = 1800;
const SSH_WAIT_ATTEMPTS = 20;

/**
 * The converge's health gates between restarts. The wait outlasts cp-ansible's (15 looks 5 s
 * apart) as Strimzi's 5-minute operation timeout does: a broker with much data to catch up needs
 * it, and a roll stopped early is safe but leaves the change half done. PLATFORM_HEALTH_TIMEOUT
 * and PLATFORM_HEALTH_POLL override them for a run by hand.
 */
export const ROLLING_HEALTH = {
  timeoutSeconds: 300,
  pollSeconds: 10,
  /** A voter at most this many records behind the leader is caught up (cp-ansible's controller check). */
  maxLag: 1000,
  /**
   * ...and caught up to the leader's end this recently: the leader appends a record every 500 ms
   * even when idle, so a voter that stopped fetching falls behind in time long before 1000 records.
   */
  caughtUpMs: 10_000,
} as const;

/** Where the kafka-cluster and zookeeper-cluster cookbooks put what the health gates use. */
const KAFKA_TOOLS = {
  bin: "/opt/kafka/current/bin",
  logDir: "/var/log/kafka",
  kraftClientConfig: "/etc/kafka/tools.properties",
  controllerClientConfig: "/etc/kafka/controller-tools.properties",
  serverProperties: "/etc/kafka/server.properties",
  ports: { zookeeperClient: 2181, broker: 9092, controller: 9093, brokerTls: 9094, controllerTls: 9095 },
} as const;

/** The broker port clients use: the TLS listener unless kafka.security is "plaintext". */
export function kafkaClientPort(security: KafkaSecurity): number {
  return security === "plaintext" ? KAFKA_TOOLS.ports.broker : KAFKA_TOOLS.ports.brokerTls;
}

/**
 * How the workstation's checks ask KRaft's controllers: the controller listener every controller
 * serves throughout the stage and the node's client settings for its protocol. The plaintext one
 * (9093, controller-tools.properties) until kafka.security is "tls"; then the TLS one (9095) with
 * the node's SSL settings (tools.properties, SSL on every node since "migrating"; a node the
 * "tls" roll has not reached yet still has the middle stage's plaintext controller-tools.properties).
 */
export function kafkaControllerAccess(security: KafkaSecurity): { readonly port: number; readonly commandConfig: string } {
  return security === "tls"
    ? { port: KAFKA_TOOLS.ports.controllerTls, commandConfig: KAFKA_TOOLS.kraftClientConfig }
    : { port: KAFKA_TOOLS.ports.controller, commandConfig: KAFKA_TOOLS.controllerClientConfig };
}

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
  /** KRaft mode: how the workstation changes a dynamic quorum's voters. */
  readonly kraft?: KraftQuorumChange;
  /** ZooKeeper mode: how the workstation changes the ensemble's members (dynamic reconfiguration). */
  readonly zookeeper?: ZookeeperEnsembleChange;
}

/** Where zkCli.sh is on the members, their client port and log directory, and how long a member change may take. */
interface ZookeeperEnsembleChange {
  readonly binDir: string;
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly logDir: string;
  /** The members' TLS client port, and the zkCli.sh client configuration the cookbook leaves on a member that runs TLS. */
  readonly secureClientPort: number;
  readonly clientTlsConfig: string;
  /** Checks, ZK_WAIT_SECONDS apart, before a member that has not joined (or left) stops the change. */
  readonly waitAttempts: number;
  readonly waitSeconds: number;
}

/**
 * The zookeeper-cluster cookbook's install path, ports and log directory; a member change waits
 * up to 10 minutes per step, as a controller change does.
 */
export const ZOOKEEPER_ENSEMBLE_CHANGE: ZookeeperEnsembleChange = {
  binDir: "/opt/zookeeper/current/bin",
  clientPort: 2181,
  quorumPort: 2888,
  electionPort: 3888,
  logDir: "/var/log/zookeeper",
  secureClientPort: 2182,
  clientTlsConfig: "/etc/zookeeper/zkcli-tls.properties",
  waitAttempts: 120,
  waitSeconds: 5,
};

/** Where kafka-metadata-quorum.sh is on the nodes, and how long a voter change may take. */
interface KraftQuorumChange {
  readonly binDir: string;
  readonly controllerPort: number;
  /** The admin client's settings on the node asked (see kafkaControllerAccess). */
  readonly commandConfig: string;
  /** Checks, KRAFT_WAIT_SECONDS apart, before a controller that has not caught up stops the change. */
  readonly waitAttempts: number;
  readonly waitSeconds: number;
  /** Records of the metadata log a controller may trail the leader by and count as caught up. */
  readonly maxLag: number;
}

/**
 * The kafka-cluster cookbook's install path (the controller listener follows kafka.security: see
 * kafkaControllerAccess); a voter change waits up to 10 minutes per step, and a controller within
 * 100 records of the leader's log has caught up (the leader writes a few records a second even
 * when idle).
 */
const KRAFT_QUORUM_CHANGE = { binDir: "/opt/kafka/current/bin", waitAttempts: 120, waitSeconds: 5, maxLag: 100 } as const;

/** A Kafka node as the drain and roll guards see it. */
export interface GuardedNode {
  /** Chef node name. */
  readonly name: string;
  readonly ip: string;
  /** broker.id (ZooKeeper mode) or node.id (KRaft). */
  readonly nodeId: number;
  /** False only for a dedicated KRaft controller. */
  readonly broker: boolean;
  /** Its availability zone: a drained replica moves to the same zone when it can. */
  readonly rack: string;
}

/** The command, installed on the workstation, that drains brokers before they are removed. */
export const DRAIN_COMMAND = "/usr/local/bin/platform-kafka-drain";
/** The end of the here-document that carries the drain script. */
const DRAIN_SCRIPT_END = "PLATFORM_DRAIN_SCRIPT";
/** Per-broker replication throttle of a drain, bytes/s: a drain must not starve the clients. */
const DRAIN_THROTTLE_BYTES_PER_SECOND = 50_000_000;
/** How many times a drain checks its reassignment, 30 s apart, before it hands back (6 h). */
const DRAIN_VERIFY_ATTEMPTS = 720;
/** The command, installed on the workstation, that spreads partitions over every broker. */
export const REBALANCE_COMMAND = "/usr/local/bin/platform-kafka-rebalance";
/** The end of the here-document that carries the rebalance script. */
const REBALANCE_SCRIPT_END = "PLATFORM_REBALANCE_SCRIPT";
/**
 * How long a dedicated controller's guard waits for the converge of the same apply to remove it
 * from the voters, 15 s apart: 30 minutes plus 10 minutes for every node the converge rolls (the
 * dedicated controllers and the brokers). The converge removes controllers only after it has
 * rolled every node, one at a time, each a Chef run and a health wait of up to 5 minutes, and
 * added any new controller: a fixed bound would run out first on a large cluster.
 */
const CONTROLLER_GUARD_BASE_MINUTES = 30;
const CONTROLLER_GUARD_MINUTES_PER_NODE = 10;
const CONTROLLER_GUARD_INTERVAL_SECONDS = 15;
/** Consecutive looks with no controller answering before the guard gives up (about a minute). */
const CONTROLLER_GUARD_SILENT_LOOKS = 4;
/** How long a roll guard waits for the cluster to be healthy after a node changed: 60 x 10 s. */
const ROLL_WAIT_ATTEMPTS = 60;
const ROLL_WAIT_INTERVAL_SECONDS = 10;

/** The command, installed on the workstation, that renews the Kafka nodes' TLS certificates when due. */
export const RENEW_COMMAND = "/usr/local/bin/platform-renew-certificates";
/** The end of the here-document that carries the renewal script. */
const RENEW_SCRIPT_END = "PLATFORM_RENEW_SCRIPT";

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

  /**
   * @param hostKeysDir where the bootstraps read each node's published host keys (`<dir>/<node
   *   name>`, the parameter's value) instead of from SSM: the rehearsal, which has no SSM. @default SSM
   */
  constructor(
    private readonly config: PlatformConfig,
    private readonly hostKeysDir?: string,
  ) {
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

  /** Pins the SSH host keys the node published on the workstation, as its bootstrap does first. */
  pinHostKeys(node: Pick<ProvisionedNode, "name" | "ip" | "instanceId">): string {
    return renderScript("provision/pin-host-keys", {
      scriptName: `pin-host-keys-${node.name}`,
      nodeName: node.name,
      nodeIp: node.ip,
      instanceId: node.instanceId,
      knifeConfig: this.knifeConfig,
      setupTimeoutSeconds: SETUP_TIMEOUT_SECONDS,
      hostKeys: this.hostKeysContext(node.name),
      // The node-side functions, for a node that predates publishing (see the template).
      hostKeysParameter: hostKeysParameter(this.config, node.name),
    });
  }

  private hostKeysContext(nodeName: string): Record<string, string | number> {
    return {
      parameter: hostKeysParameter(this.config, nodeName),
      region: this.config.region,
      file: this.hostKeysDir === undefined ? "" : `${this.hostKeysDir}/${nodeName}`,
      // The rehearsal carries the file before any bootstrap reads it: waiting would only delay a
      // failure by the twenty minutes a first boot may take on EC2.
      waitAttempts: this.hostKeysDir === undefined ? HOST_KEY_WAIT_ATTEMPTS : 1,
    };
  }

  /**
   * What a running node runs as root to get the CloudWatch agent as its first boot does
   * (templates/monitoring-agent.sh.hbs). It holds no Terraform reference, so its digest says
   * exactly when it changed.
   * @param agent the node's NodeMonitoring.scriptContext
   */
  monitoringAgentNodeScript(agent: NodeMonitoring["scriptContext"]): string {
    return renderScript("monitoring-agent", { ...agent, client: this.client });
  }

  /** Has a running node run its `monitoringAgentNodeScript`, copied to it over its pinned host key. */
  monitoringAgent(node: Pick<ProvisionedNode, "name" | "ip">, nodeScript: string): string {
    return renderScript("provision/monitoring-agent", {
      scriptName: `monitoring-agent-${node.name}`,
      nodeName: node.name,
      nodeIp: node.ip,
      knifeConfig: this.knifeConfig,
      setupTimeoutSeconds: SETUP_TIMEOUT_SECONDS,
      nodeScriptBase64: Buffer.from(nodeScript, "utf8").toString("base64"),
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
      pki: pkiContext(this.config),
      hostKeys: this.hostKeysContext(node.name),
    });
  }

  /**
   * Grants the example pipeline's principal (User:spark) Read, Write and Describe on its topic and
   * Read on Spark's consumer groups, as kafka-admin through a broker. Only with kafka.security
   * "tls": without an authorizer there is nothing to grant.
   */
  pipelineAcls(acl: { node: string; bootstrapServers: string; topic: string; groupPrefix: string }): string {
    return renderScript("provision/pipeline-acls", {
      scriptName: "pipeline-acls",
      principal: "User:spark",
      ...acl,
      ...this.kafkaToolsContext(),
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
   * client on every node, one at a time between health gates, the quorum's leader last.
   */
  convergeNodes(nodeIps: readonly string[], quorum: DataBagItem): string {
    return renderScript("provision/converge-nodes", {
      nodeIps,
      item: quorum.json,
      quorum: this.quorumCheck(quorum),
      knifeConfig: this.knifeConfig,
      clientBinary: this.client.binary,
      setupCommand: SETUP_COMMAND,
      dedicatedControllers: this.config.kafka.mode === "kraft" && this.config.kafka.dedicatedControllers,
      rolling: this.rollingContext(),
      // Each node's certificate is renewed (when due) right before its run, which then restarts
      // its services on the new files while the roll is gated.
      renewCommand: RENEW_COMMAND,
      ...this.kafkaToolsContext(),
    });
  }

  /** The renewal command's script: every node's certificate checked and renewed when due (see the template). */
  renewCertificates(nodeIps: readonly string[]): string {
    return renderScript("provision/renew-certificates", {
      scriptName: "platform-renew-certificates",
      nodeIps,
      renewCommand: RENEW_COMMAND,
      knifeConfig: this.knifeConfig,
      pki: pkiContext(this.config),
    });
  }

  /** Installs the renewal command on the workstation. */
  installRenewCommand(nodeIps: readonly string[]): string {
    return this.installCommand("renew", RENEW_COMMAND, this.renewCertificates(nodeIps), RENEW_SCRIPT_END);
  }

  /** The health checks of the converge's rolling section, which the roll guards use too. */
  private rollingContext(): Record<string, unknown> {
    return {
      mode: this.config.kafka.mode,
      ...ROLLING_HEALTH,
      zookeeperClientPort: KAFKA_TOOLS.ports.zookeeperClient,
      controllerPort: kafkaControllerAccess(this.config.kafka.security).port,
      controllerCommandConfig: kafkaControllerAccess(this.config.kafka.security).commandConfig,
    };
  }

  /**
   * Run when Terraform destroys a broker, before its instance and volume: fails while the broker
   * holds partition replicas (or, in KRaft mode, is still registered), naming the drain command.
   * One script for every broker: its arguments name the broker and the addresses to ask.
   */
  drainGuard(): string {
    return renderScript("provision/drain-guard", {
      scriptName: "drain-guard",
      deletionProtection: this.config.kafka.deletionProtection,
      drainCommand: DRAIN_COMMAND,
      ...this.kafkaToolsContext(),
    });
  }

  /**
   * Run when Terraform is about to close the plaintext ports between Kafka nodes (kafka.security
   * becomes "tls"), before it does: fails while a node's running server.properties still reaches
   * another node in plaintext. Its arguments name every Kafka node's address.
   */
  plaintextGuard(): string {
    return renderScript("provision/plaintext-guard", {
      scriptName: "plaintext-guard",
      deletionProtection: this.config.kafka.deletionProtection,
      knifeConfig: this.knifeConfig,
      serverProperties: KAFKA_TOOLS.serverProperties,
    });
  }

  /**
   * Run when Terraform destroys a dedicated KRaft controller, before its instance and volume:
   * waits until the converge of the same apply has removed it from the voters, and fails if that
   * does not happen in time, if no controller answers, or if the quorum is static. One script for
   * every controller: its arguments name the controller, its directory id and the addresses to ask.
   */
  controllerGuard(): string {
    if (this.config.kafka.mode !== "kraft") throw new Error("a controller guard is for KRaft mode's dedicated controllers only");
    return renderScript("provision/controller-guard", {
      scriptName: "controller-guard",
      deletionProtection: this.config.kafka.deletionProtection,
      attempts: this.controllerGuardAttempts(),
      intervalSeconds: CONTROLLER_GUARD_INTERVAL_SECONDS,
      silentLimit: CONTROLLER_GUARD_SILENT_LOOKS,
      knifeConfig: this.knifeConfig,
      quorum: this.quorumCheck({ bag: "kafka_bag", id: "kraft", json: "" }),
    });
  }

  /** The controller guard's looks: its bound (see CONTROLLER_GUARD_BASE_MINUTES) over its interval. */
  private controllerGuardAttempts(): number {
    const { nodes, controllerNodes, dedicatedControllers } = this.config.kafka;
    const rolled = nodes + (dedicatedControllers ? controllerNodes : 0);
    return ((CONTROLLER_GUARD_BASE_MINUTES + CONTROLLER_GUARD_MINUTES_PER_NODE * rolled) * 60) / CONTROLLER_GUARD_INTERVAL_SECONDS;
  }

  /** The drain command's script: moves every replica off the brokers it is given (see the template). */
  drainBrokers(brokers: readonly GuardedNode[], controllerIds: readonly number[]): string {
    return renderScript("provision/drain-brokers", {
      scriptName: "platform-kafka-drain",
      brokers: brokers.map((node) => `${node.nodeId} ${node.ip} ${node.rack}`),
      controllerIds,
      drainCommand: DRAIN_COMMAND,
      throttleBytesPerSecond: DRAIN_THROTTLE_BYTES_PER_SECOND,
      verifyAttempts: DRAIN_VERIFY_ATTEMPTS,
      ...this.kafkaToolsContext(),
    });
  }

  /**
   * A workstation command's install step (templates/provision/install-<kind>-command.sh.hbs): it
   * writes the command's script through a quoted here-document ending at `scriptEnd`, which the
   * script itself must never hold.
   */
  private installCommand(kind: "drain" | "rebalance" | "renew", command: string, script: string, scriptEnd: string): string {
    if (script.split("\n").includes(scriptEnd)) throw new Error(`the ${kind} script holds its own here-document's end, ${scriptEnd}`);
    return renderScript(`provision/install-${kind}-command`, { [`${kind}Script`]: script, [`${kind}Command`]: command, knifeConfig: this.knifeConfig });
  }

  /** Installs the drain command on the workstation. */
  installDrainCommand(brokers: readonly GuardedNode[], controllerIds: readonly number[]): string {
    return this.installCommand("drain", DRAIN_COMMAND, this.drainBrokers(brokers, controllerIds), DRAIN_SCRIPT_END);
  }

  /**
   * The rebalance command's script: a plan from kafka-reassign-partitions.sh --generate over every
   * registered broker, started throttled and verified to the end (see the template). The drain's
   * throttle and bound: a rebalance copies as much as a drain and must not starve the clients either.
   */
  rebalancePartitions(brokers: readonly GuardedNode[]): string {
    return renderScript("provision/rebalance-partitions", {
      scriptName: "platform-kafka-rebalance",
      brokers: brokers.map((node) => `${node.nodeId} ${node.ip}`),
      rebalanceCommand: REBALANCE_COMMAND,
      throttleBytesPerSecond: DRAIN_THROTTLE_BYTES_PER_SECOND,
      verifyAttempts: DRAIN_VERIFY_ATTEMPTS,
      rolling: this.rollingContext(),
      ...this.kafkaToolsContext(),
    });
  }

  /** Installs the rebalance command on the workstation. */
  installRebalanceCommand(brokers: readonly GuardedNode[]): string {
    return this.installCommand("rebalance", REBALANCE_COMMAND, this.rebalancePartitions(brokers), REBALANCE_SCRIPT_END);
  }

  /**
   * Run between two nodes whose change stops or replaces them: waits until the cluster is healthy
   * after `previous`. Only the next node's name: a reference to its instance would make the step
   * that gates it depend on it.
   */
  rollGuard(previous: GuardedNode, nextName: string): string {
    return renderScript("provision/roll-guard", {
      scriptName: `roll-guard-${nextName}`,
      previous,
      nextName,
      attempts: ROLL_WAIT_ATTEMPTS,
      intervalSeconds: ROLL_WAIT_INTERVAL_SECONDS,
      setupTimeoutSeconds: SETUP_TIMEOUT_SECONDS,
      ...this.rollGuardQuorum(),
      rolling: this.rollingContext(),
      ...this.kafkaToolsContext(),
    });
  }

  /**
   * Run before the first node, whose change stops or replaces it: waits until the cluster is
   * healthy, asking `first` itself; its address must come from anything but its instance.
   */
  firstRollGuard(first: GuardedNode): string {
    return renderScript("provision/roll-guard", {
      scriptName: `roll-guard-${first.name}`,
      first: true,
      previous: first,
      nextName: first.name,
      attempts: ROLL_WAIT_ATTEMPTS,
      intervalSeconds: ROLL_WAIT_INTERVAL_SECONDS,
      setupTimeoutSeconds: SETUP_TIMEOUT_SECONDS,
      ...this.rollGuardQuorum(),
      rolling: this.rollingContext(),
      ...this.kafkaToolsContext(),
    });
  }

  /**
   * What a roll guard checks the quorum with, as the converge does: the item the nodes run with,
   * which the guard reads from the Chef server (the stack uploads it under these names). Without
   * the membership changes: those are the converge's alone.
   */
  private rollGuardQuorum(): Record<string, unknown> {
    const kraft = this.config.kafka.mode === "kraft";
    const item = kraft ? { bag: "kafka_bag", id: "kraft", json: "" } : { bag: "zoo_bag", id: "zookeeper", json: "" };
    return {
      quorum: { ...this.quorumCheck(item), kraft: undefined, zookeeper: undefined },
      dedicatedControllers: kraft && this.config.kafka.dedicatedControllers,
    };
  }

  private kafkaToolsContext(): Record<string, unknown> {
    const kraft = this.config.kafka.mode === "kraft";
    return {
      kraft,
      knifeConfig: this.knifeConfig,
      kafkaTools: {
        binDir: KAFKA_TOOLS.bin,
        logDir: KAFKA_TOOLS.logDir,
        brokerPort: kafkaClientPort(this.config.kafka.security),
        // Written by the kafka-cluster cookbook in KRaft mode, and with TLS in both modes (the
        // node's own certificate: its tools run there).
        commandConfig: kraft || this.config.kafka.security !== "plaintext" ? KAFKA_TOOLS.kraftClientConfig : "",
      },
    };
  }

  private kraftQuorumChange(): KraftQuorumChange {
    const access = kafkaControllerAccess(this.config.kafka.security);
    return { ...KRAFT_QUORUM_CHANGE, controllerPort: access.port, commandConfig: access.commandConfig };
  }

  private quorumCheck(item: DataBagItem): QuorumCheck {
    const zookeeper = this.config.kafka.mode !== "kraft";
    return {
      name: zookeeper ? "ZooKeeper ensemble" : "KRaft controller quorum",
      fields: zookeeper
        ? "kafka.zookeeperNodes (or kafka.nodes, which its default follows)"
        : "kafka.controllerNodes, kafka.dedicatedControllers (or kafka.nodes, which the controllers' default follows)",
      configPath: zookeeper ? "/etc/zookeeper/zoo.cfg" : KAFKA_TOOLS.serverProperties,
      bag: item.bag,
      itemId: item.id,
      sshWaitAttempts: SSH_WAIT_ATTEMPTS,
      kraft: zookeeper ? undefined : this.kraftQuorumChange(),
      zookeeper: zookeeper ? ZOOKEEPER_ENSEMBLE_CHANGE : undefined,
    };
  }
}
