import { readFileSync } from "node:fs";
import { join } from "node:path";
import { knifeConfigPath } from "../constructs/chefPackages";
import type { KafkaProvisionScripts, ProvisionedNode } from "../constructs/kafkaProvisionScripts";
import type { PlatformConfig } from "../config/PlatformConfig";
import type { Checks } from "./Checks";
import type { NodeContainer } from "./nodeContainer";
import type { PrivateNetwork, RehearsalNode } from "./privateNetwork";
import { run, tryRun } from "./system";
import { deployerSsh, pinnedSshFromWorkstation, runScriptAsync, sshOptions, type Workstation } from "./workstationSide";

/** Where the rehearsal's node user data writes the value a real node puts into its SSM parameter. */
export const NODE_HOST_KEYS_FILE = "/var/lib/platform/host-keys";
/** Where the bootstraps read it on the workstation (KafkaProvisionScripts' hostKeysDir). */
export const WORKSTATION_HOST_KEYS_DIR = "/var/lib/platform-rehearsal/host-keys";

/**
 * The stand-in for SSM: the value the node published, read from its container's file system
 * (never from an SSH connection to it, whose key is what is being checked), written where the
 * workstation's bootstraps read it.
 */
export function carryHostKeys(container: NodeContainer, net: PrivateNetwork, workstation: Workstation): string {
  const value = readFileSync(join(container.root(), NODE_HOST_KEYS_FILE), "utf8");
  const target = `${WORKSTATION_HOST_KEYS_DIR}/${container.node.name}`;
  run("ssh", [...deployerSsh(workstation), `sudo install -D -m 0644 /dev/stdin ${target}`], { netns: net.hostNetns, input: value });
  return value;
}

/** The published keys' lines as the workstation pins them for `ip`. */
function pinnedLines(ip: string, published: string): string[] {
  return published.trim().split("\n").slice(1).map((line) => `${ip} ${line.trim()}`);
}

export interface HostKeyState {
  readonly config: PlatformConfig;
  readonly net: PrivateNetwork;
  readonly workstation: Workstation;
  readonly scripts: KafkaProvisionScripts;
  readonly provisioned: readonly ProvisionedNode[];
  readonly serverId: string;
  readonly containers: ReadonlyMap<string, NodeContainer>;
  /** What each node's bootstrap printed. */
  readonly bootstrapOutputs: ReadonlyMap<string, string>;
}

/** (a) the nodes were bootstrapped against the keys they published; (b) a changed host key is refused. */
export async function runHostKeyChecks(checks: Checks, state: HostKeyState): Promise<void> {
  const { net, workstation } = state;
  const onWorkstation = (command: string): { status: number | null; output: string } => tryRun("ssh", [...deployerSsh(workstation), command], { netns: net.hostNetns, timeoutSeconds: 60 });
  const published = (node: RehearsalNode): string => readFileSync(join(state.containers.get(node.name)!.root(), NODE_HOST_KEYS_FILE), "utf8");

  await checks.check("host keys: every node bootstrapped against the SSH host keys it published; ssh and knife trusted no others", () => {
    const global = onWorkstation("cat /etc/ssh/ssh_known_hosts").output.split("\n").map((line) => line.trim());
    for (const node of net.nodes) {
      const value = published(node);
      const id = state.provisioned.find((provisioned) => provisioned.name === node.name)?.instanceId;
      if (value.split("\n")[0] !== id) throw new Error(`${node.name} published its keys as ${value.split("\n")[0]}, not ${id}`);
      const expected = pinnedLines(node.ip, value);
      const held = global.filter((line) => line.startsWith(`${node.ip} `));
      if (expected.length === 0 || held.sort().join("\n") !== [...expected].sort().join("\n")) {
        throw new Error(`the workstation's /etc/ssh/ssh_known_hosts holds for ${node.ip}:\n${held.join("\n")}\nnot what ${node.name} published:\n${expected.join("\n")}`);
      }
      const output = state.bootstrapOutputs.get(node.name) ?? "";
      // What knife prints before it falls back to accepting an unknown key.
      if (output.includes("can't be established")) throw new Error(`knife did not know ${node.name}'s host key: ${output.split("\n").find((line) => line.includes("can't be established"))}`);
    }
    return `${net.nodes.length} nodes, ${pinnedLines("x", published(net.nodes[0])).length} keys each`;
  });

  const node = net.nodes[net.nodes.length - 1];
  const provisioned = state.provisioned.find((candidate) => candidate.name === node.name)!;
  const registered = `.platform/registered/${node.name}`;
  const onNode = (command: string): string =>
    run("ssh", [...sshOptions(workstation), `ubuntu@${node.ip}`, command], {
      netns: net.hostNetns,
      timeoutSeconds: 60,
    });
  await checks.check(`host keys: ${node.name}'s host keys changed after it published them: its next bootstrap and knife refuse it, nothing is registered`, async () => {
    // As if the node were bootstrapped again (a replaced workstation or server), with new keys.
    onNode("sudo sh -c 'rm -rf /root/host-keys-saved && mkdir /root/host-keys-saved && cp -a /etc/ssh/ssh_host_* /root/host-keys-saved/ && rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && systemctl restart ssh'");
    run("ssh", [...deployerSsh(workstation), `mv ${registered} ${registered}.kept`], { netns: net.hostNetns });
    try {
      const result = await runScriptAsync(state.scripts.bootstrapNode(provisioned, state.serverId), `bootstrap-${node.name}`, net, workstation);
      const refusal = result.output.split("\n").find((line) => line.includes("REFUSED:"));
      if (result.status === 0 || !refusal) throw new Error(`the bootstrap was not refused (exit ${result.status}): ${result.output.trim().split("\n").slice(-5).join(" ")}`);
      if (result.output.includes("step: register")) throw new Error("the bootstrap went on to register the node");
      if (onWorkstation(`test -e ${registered}`).status === 0) throw new Error("the bootstrap recorded the node as registered");
      // knife on its own, with the pinned keys: it refuses before it logs in, so before any client key is sent.
      const knife = onWorkstation(
        `knife bootstrap ${node.ip} --node-name host-key-probe --connection-user ubuntu --ssh-identity-file .ssh/platform_bootstrap --ssh-verify-host-key always${state.config.chef.flavor === "chef" ? " --chef-license accept" : ""} --yes --config ${knifeConfigPath(state.config.chef)} 2>&1`,
      );
      if (knife.status === 0 || !/does not match/.test(knife.output)) throw new Error(`knife did not refuse the changed key (exit ${knife.status}): ${knife.output.trim().split("\n").slice(-4).join(" ")}`);
      if (onWorkstation(`knife node show host-key-probe --config ${knifeConfigPath(state.config.chef)}`).status === 0) throw new Error("knife registered a node");
      return `${refusal.replace(/^.*REFUSED: /, "").slice(0, 120)}...; knife: ${knife.output.split("\n").find((line) => /does not match/.test(line))?.trim().slice(0, 100)}`;
    } finally {
      onNode("sudo sh -c 'cp -a /root/host-keys-saved/ssh_host_* /etc/ssh/ && systemctl restart ssh'");
      run("ssh", [...deployerSsh(workstation), `mv ${registered}.kept ${registered}`], { netns: net.hostNetns });
      // The node answers with its published key again, as ssh_node checks it.
      run("ssh", [...deployerSsh(workstation), pinnedSshFromWorkstation("platform_bootstrap", "ubuntu", node.ip, "true")], { netns: net.hostNetns });
    }
  });
}
