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
  /**
   * The host's side of the bridge: the Chef server (chef-zero), the download server that stands
   * in for S3 and the download sites, the operator's laptop that Terraform runs on, and the checks.
   */
  readonly hostNetns: string;
  readonly hostIp: string;
  /** The name chef-zero's self-signed certificate carries, resolved to the host side everywhere. */
  readonly serverName: string;
  /** The workstation's container: where Terraform's provisioners run the scripts. */
  readonly workstation: RehearsalNode;
  readonly nodes: readonly RehearsalNode[];
  /** The /etc/hosts every container mounts. */
  readonly nodeHostsFile: string;
}

/**
 * A bridge inside a network namespace of its own (the host side), and one namespace per
 * container (the workstation and each node) joined to it by a veth pair. Nothing is routed
 * anywhere else, so all traffic stays among the namespaces made here; the host's own interfaces
 * are never touched.
 */
export function createPrivateNetwork(prefix: string, nodeCount: number, runDir: string, teardown: Teardown): PrivateNetwork {
  const hostNetns = `${prefix}-host`;
  const hostIp = `${SUBNET}.1`;
  // chef-zero names its certificate after this machine; nodes and knife reach it by that name.
  const serverName = hostname();
  const hosts = `127.0.0.1 localhost\n${hostIp} ${serverName}\n`;

  addNetns(hostNetns, teardown);
  // `ip netns exec` bind-mounts /etc/netns/<name>/hosts over /etc/hosts for what runs inside.
  const netnsEtc = `/etc/netns/${hostNetns}`;
  mkdirSync(netnsEtc, { recursive: true });
  teardown.add(netnsEtc, () => rmSync(netnsEtc, { recursive: true, force: true }));
  writeFileSync(`${netnsEtc}/hosts`, hosts);
  run("ip", ["-n", hostNetns, "link", "set", "lo", "up"]);
  run("ip", ["-n", hostNetns, "link", "add", "br0", "type", "bridge"]);
  run("ip", ["-n", hostNetns, "addr", "add", `${hostIp}/24`, "dev", "br0"]);
  run("ip", ["-n", hostNetns, "link", "set", "br0", "up"]);

  const attach = (name: string, ip: string, link: string): RehearsalNode => {
    const machine = { name, ip, netns: name };
    addNetns(machine.netns, teardown);
    run("ip", ["-n", machine.netns, "link", "set", "lo", "up"]);
    run("ip", ["link", "add", link, "netns", hostNetns, "type", "veth", "peer", "name", "eth0", "netns", machine.netns]);
    run("ip", ["-n", hostNetns, "link", "set", link, "master", "br0", "up"]);
    run("ip", ["-n", machine.netns, "addr", "add", `${machine.ip}/24`, "dev", "eth0"]);
    run("ip", ["-n", machine.netns, "link", "set", "eth0", "up"]);
    return machine;
  };
  const workstation = attach(`${prefix}-ws`, `${SUBNET}.5`, `${prefix}w`);
  const nodes = Array.from({ length: nodeCount }, (_unused, index) => attach(`${prefix}-n${index}`, `${SUBNET}.${11 + index}`, `${prefix}n${index}`));

  // Every machine resolves its own name (sudo asks for it), as an EC2 instance resolves its own.
  const nodeHostsFile = `${runDir}/node-hosts`;
  writeFileSync(nodeHostsFile, `${hosts}${[workstation, ...nodes].map((machine) => `${machine.ip} ${machine.name}\n`).join("")}`);
  return { hostNetns, hostIp, serverName, workstation, nodes, nodeHostsFile };
}

function addNetns(name: string, teardown: Teardown): void {
  run("ip", ["netns", "add", name]);
  // Deleting a namespace removes the veth ends inside it, and so their peers.
  teardown.add(`network namespace ${name}`, () => run("ip", ["netns", "delete", name]));
}
