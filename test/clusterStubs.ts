import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A running Kafka cluster as the converge script sees it through ssh: ZooKeeper members that answer
 * `srvr`, Kafka's kafka-topics.sh and kafka-metadata-quorum.sh, and the Chef client. Each answer
 * has the layout the real tool prints (the source each copies is named beside it); what it says
 * comes from files in WORK_DIR/cluster, which a test writes and a client run may rewrite, so the
 * cluster can change while the script waits.
 *
 * Files in WORK_DIR/cluster (a "sequence" answers its first line and, while more follow, uses it up):
 * - `zk-<address>`: sequence of the member's state: leader, follower, standalone, not-serving, down.
 * - `under-replicated`, `under-min-isr`, `unavailable`: sequences of the partitions that report
 *   lists, space-separated `<topic>:<partition>:<leader or none>:<replicas>:<isr>`, or `-` for none.
 * - `no-kafka`: present when no Kafka is installed (kafka-topics.sh is absent).
 * - `kraft-leader`: sequence of the active controller's id; `voters`, `observers`: ids, space-separated.
 * - `voter-<id>`: sequence of `<lag> <ms since it last caught up>` (default `0 100`).
 * - `config-<address>`: the member's zoo.cfg or server.properties.
 * - `after-run-<address>`, `after-run`: bash sourced after a client run on that node (on any node,
 *   with `$host` set).
 * - `fail-run-<address>`: that node's client run fails.
 * Every look is appended to `events`: `run <address>`, `srvr <address> <state>`,
 * `topics <report> <count>`, `quorum <status|replication> <leader id>`.
 */
export const CLUSTER_SSH = readFileSync(join(__dirname, "fixtures", "cluster-ssh.sh"), "utf8");

/** `srvr` answers for kafka.test.ts's converge runs: `leader` leads, every other address follows. */
export function zookeeperMembersSsh(leader: string): string {
  return [
    'if [[ " $* " == *"/dev/tcp/127.0.0.1/2181"*srvr* ]]; then',
    '  for a; do [[ $a == ubuntu@* ]] && host=${a#ubuntu@}; done',
    `  echo "Zookeeper version: 3.8.4-9316c2a7a97e1666d8f4593f34dd6fc36ecc436c, built on 2024-02-12 22:16 UTC"`,
    `  if [[ $host == ${leader} ]]; then echo "Mode: leader"; else echo "Mode: follower"; fi`,
    "  exit 0",
    "fi",
  ].join("\n");
}
