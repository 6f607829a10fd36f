import type { Finding } from "./findings";
import type { Json, SynthesizedPlatform } from "./synthesizedPlatform";

/** The provisioner step that uploads each mode's quorum, and the trigger naming its members. */
const QUORUMS = [
  { mode: "zookeeper", step: "zoo-bag", trigger: "ensemble", name: "ZooKeeper ensemble" },
  { mode: "kraft", step: "kraft-bag", trigger: "controllers", name: "KRaft controller quorum" },
] as const;

/**
 * Outages: every member of the quorum (the ZooKeeper ensemble, or the KRaft controllers) stopped,
 * replaced or terminated by one apply, which takes the whole cluster down; and a switch of
 * kafka.mode on a running cluster.
 */
export function quorumFindings(findings: readonly Finding[], base: SynthesizedPlatform, head: SynthesizedPlatform): Finding[] {
  const result: Finding[] = [];
  for (const stack of Object.keys(head)) {
    const before = quorumOf(base[stack]);
    const after = quorumOf(head[stack]);
    if (before && after && before.mode !== after.mode) {
      result.push(
        quorumFinding(stack, after, "data-loss",
          `kafka.mode switches from ${before.mode} to ${after.mode} on a running cluster: the brokers come up as a new cluster, ` +
          "and the topics, offsets and ACLs the old quorum holds do not carry over (a migration between ZooKeeper and KRaft is a procedure of its own, not an apply); " +
          "build the new cluster beside the old one and move the data, or keep the mode"),
      );
    }
    const quorum = after ?? before;
    if (!quorum || quorum.members.length === 0) continue;
    const hit = (kinds: readonly string[]) => quorum.members.filter((member) => findings.some((finding) => finding.stack === stack && finding.address === member && kinds.includes(finding.kind)));
    const down = hit(["replacement", "stop-start"]);
    if (down.length < quorum.members.length) continue;
    const replaced = hit(["replacement"]).length > 0;
    // The stack's roll guards: each node's instance waits on a guard that re-runs when its type or
    // subnet changes and holds until the cluster is healthy after the node before it. A stop and
    // start of every member then goes one member at a time, with the quorum kept.
    const guard = (member: string): string | undefined =>
      (head[stack]?.resource?.aws_instance?.[member.slice("aws_instance.".length)]?.depends_on as string[] | undefined)?.find((dependency) => dependency.startsWith("terraform_data.roll-guard-"));
    const rerun = (address: string | undefined): boolean => address !== undefined && findings.some((finding) => finding.stack === stack && finding.address === address && ["re-run", "replacement"].includes(finding.kind));
    if (!replaced && quorum.members.every((member) => rerun(guard(member)))) {
      result.push(
        quorumFinding(stack, quorum, "stop-start",
          `every member of the ${quorum.name} (${quorum.members.length}) is stopped and started by this apply, one at a time: each node's roll guard re-runs ` +
          "and waits until the cluster is healthy again before the next node stops, so the quorum is kept; the apply takes about one restart and recovery per node"),
      );
      continue;
    }
    result.push(
      quorumFinding(stack, quorum, replaced ? "replacement" : "stop-start",
        `OUTAGE: every member of the ${quorum.name} (${quorum.members.length}) is ${replaced ? "replaced or stopped" : "stopped and started"} by this one apply, ` +
        "so the quorum is lost and Kafka stops serving. Apply one member at a time instead (terraform apply -target=<its address>), " +
        "and start the next only once it has rejoined the quorum and no partition is under-replicated"),
    );
  }
  return result;
}

/** A finding on the step that uploads the quorum. */
function quorumFinding(stack: string, quorum: { step: string }, kind: Finding["kind"], message: string): Finding {
  return { kind, stack, address: `terraform_data.${quorum.step}`, path: `${stack}/${quorum.step}`, message };
}

/** The quorum a stack's step uploads: its mode, and the instances its trigger names. */
function quorumOf(stack: Json | undefined): { mode: string; step: string; name: string; members: string[] } | undefined {
  const steps = (stack?.resource?.terraform_data ?? {}) as Json;
  for (const quorum of QUORUMS) {
    const step = steps[quorum.step] as Json | undefined;
    if (!step) continue;
    const text = String(step.triggers_replace?.[quorum.trigger] ?? "");
    const members = [...new Set([...text.matchAll(/aws_instance\.([A-Za-z0-9_-]+)\./g)].map((match) => `aws_instance.${match[1]}`))];
    return { mode: quorum.mode, step: quorum.step, name: quorum.name, members };
  }
  return undefined;
}
