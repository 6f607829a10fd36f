/**
 * A running ZooKeeper member's metrics as its CloudWatch agent would publish them: its beans read
 * over JMX by JmxProbe (run from source on the member, as the member's user, by the Java runtime
 * the member runs on), turned into samples by zookeeper-cluster's own exporter rules file, and
 * kept as a member's agent configuration keeps them. The exporter's jar cannot be fetched here;
 * its rules, the beans and the agent's selection are the real ones.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { publishedByAgent } from "./agentSelection";
import { exportedSamples, parseExporterRules, parseProbeOutput, type Sample } from "./jmxExporterRules";

const ROOT = join(__dirname, "..");
export const ZOOKEEPER_RULES = "cookbooks/zookeeper-cluster/files/default/jmx_exporter.yaml";
const PROBE = join(__dirname, "jmx", "JmxProbe.java");
const PROBE_ON_NODE = "/tmp/platform-rehearsal-JmxProbe.java";

/** Runs a shell command on the member as the checks' login user (sudo allowed), with `input` on stdin. */
export type OnMember = (command: string, input?: string) => string;

/** The member's published ZooKeeper samples; `pid` is its JVM's (zookeeper.service's MainPID). */
export function memberMetrics(onMember: OnMember, pid: string): Sample[] {
  if (!/^[1-9]\d*$/.test(pid)) throw new Error(`zookeeper.service's MainPID is ${JSON.stringify(pid)}: no member JVM runs`);
  const rules = parseExporterRules(readFileSync(join(ROOT, ZOOKEEPER_RULES), "utf8"), ZOOKEEPER_RULES);
  for (const pattern of rules.includeObjectNames) {
    if (pattern.includes("'")) throw new Error(`${ZOOKEEPER_RULES}: ${pattern} cannot be passed in single quotes`);
  }
  onMember(`cat > ${PROBE_ON_NODE} && chmod 0644 ${PROBE_ON_NODE}`, readFileSync(PROBE, "utf8"));
  const patterns = rules.includeObjectNames.map((pattern) => `'${pattern}'`).join(" ");
  // The member JVM's own java binary, not whichever `java` the login's PATH finds first.
  const output = onMember(`java=$(sudo readlink -e /proc/${pid}/exe) && sudo -u zookeeper "$java" -XX:-UsePerfData ${PROBE_ON_NODE} ${pid} ${patterns}`);
  return publishedByAgent("kafka-zookeeper-member", "zookeeper", exportedSamples(rules, parseProbeOutput(output)));
}
