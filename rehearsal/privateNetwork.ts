import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { run } from "./system";
import type { Teardown } from "./Teardown";

/** Documentation addresses (RFC 5737): they can never be anyone's real hosts. */
const SUBNET = "192.0.2";

export interface RehearsalNode {
  /** Container and network namespace name. */
  readonly name: string;
  readonly ip: string;
  /** The namespace the node's container joins. */
  readonly netns: string;
}

export interface PrivateNetwork {
  /** The workstation side: knife, chef-zero, the download server and the provisioner scripts. */
  readonly workstationNetns: string;
  readonly workstationIp: string;
  /** The name chef-zero's self-signed certificate carries, resolved to the workstation everywhere. */
  readonly serverName: string;
  readonly nodes: readonly RehearsalNode[];
  /** The /etc/hosts every node mounts. */
  readonly nodeHostsFile: string;
}

/**
 * A bridge inside a network namespace of its own (the workstation side) and one namespace per
 * node joined to it by a veth pair. Nothing is routed anywhere else, so all traffic stays among
 * the namespaces made here; the host's own interfaces are never touched.
 */
export function createPrivateNetwork(prefix: string, nodeCount: number, runDir: string, teardown: Teardown): PrivateNetwork {
  const workstationNetns = `${prefix}-ws`;
  const workstationIp = `${SUBNET}.1`;
  // chef-zero names its certificate after this machine; nodes and knife reach it by that name.
  const serverName = hostname();
  const hosts = `127.0.0.1 localhost\n${workstationIp} ${serverName}\n`;

  addNetns(workstationNetns, teardown);
  // `ip netns exec` bind-mounts /etc/netns/<name>/hosts over /etc/hosts for what runs inside.
  const netnsEtc = `/etc/netns/${workstationNetns}`;
  mkdirSync(netnsEtc, { recursive: true });
  teardown.add(netnsEtc, () => rmSync(netnsEtc, { recursive: true, force: true }));
  writeFileSync(`${netnsEtc}/hosts`, hosts);
  run("ip", ["-n", workstationNetns, "link", "set", "lo", "up"]);
  run("ip", ["-n", workstationNetns, "link", "add", "br0", "type", "bridge"]);
  run("ip", ["-n", workstationNetns, "addr", "add", `${workstationIp}/24`, "dev", "br0"]);
  run("ip", ["-n", workstationNetns, "link", "set", "br0", "up"]);

  const nodes = Array.from({ length: nodeCount }, (_unused, index) => {
    const name = `${prefix}-n${index}`;
    const node = { name, ip: `${SUBNET}.${11 + index}`, netns: name };
    addNetns(node.netns, teardown);
    run("ip", ["-n", node.netns, "link", "set", "lo", "up"]);
    run("ip", ["link", "add", `${prefix}n${index}`, "netns", workstationNetns, "type", "veth", "peer", "name", "eth0", "netns", node.netns]);
    run("ip", ["-n", workstationNetns, "link", "set", `${prefix}n${index}`, "master", "br0", "up"]);
    run("ip", ["-n", node.netns, "addr", "add", `${node.ip}/24`, "dev", "eth0"]);
    run("ip", ["-n", node.netns, "link", "set", "eth0", "up"]);
    return node;
  });

  const nodeHostsFile = `${runDir}/node-hosts`;
  writeFileSync(nodeHostsFile, hosts);
  return { workstationNetns, workstationIp, serverName, nodes, nodeHostsFile };
}

function addNetns(name: string, teardown: Teardown): void {
  run("ip", ["netns", "add", name]);
  // Deleting a namespace removes the veth ends inside it, and so their peers.
  teardown.add(`network namespace ${name}`, () => run("ip", ["netns", "delete", name]));
}
