/**
 * The names the nodes' CloudWatch agent and the platform's Terraform both use: the agent writes
 * metrics and log events under them, and Terraform creates the log groups, grants the writes
 * and alarms on the metrics. Both read them from here, so neither can drift from the other.
 */

/** One log group per service; `provisioning` holds the setup scripts' logs and cloud-init's output of every node. */
export type LogService = "kafka" | "zookeeper" | "spark-master" | "spark-worker" | "chef-server" | "chef-client" | "provisioning";

/** Every LogService, in the order the stacks create their groups. */
export const LOG_SERVICES: readonly LogService[] = ["provisioning", "chef-server", "spark-master", "spark-worker", "kafka", "zookeeper", "chef-client"];

/** The custom metric namespace of one platform, `Platform/<project>-<environment>`: alarms and the dashboard read only it. */
export function metricNamespace(project: string, environment: string): string {
  return `Platform/${project}-${environment}`;
}

/** A service's log group, `/platform/<project>-<environment>/<service>`. */
export function logGroupName(project: string, environment: string, service: LogService): string {
  return `/platform/${project}-${environment}/${service}`;
}
