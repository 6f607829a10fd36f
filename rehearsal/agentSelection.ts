/**
 * What a node's CloudWatch agent keeps of an exporter job's samples, read from the configuration
 * the node is given: the Prometheus scrape configuration's keep rule on the metric name, then the
 * embedded-format declarations (the job's label matcher and metric selectors). Only these samples
 * become CloudWatch metrics.
 */
import { agentConfig, prometheusConfig, type ExporterJob, type NodeKind } from "../constructs/monitoring/agentConfig";
import type { Sample } from "./jmxExporterRules";

interface ScrapeConfig {
  readonly job_name: string;
  readonly metric_relabel_configs?: ReadonlyArray<{ readonly source_labels?: readonly string[]; readonly regex?: string; readonly action?: string }>;
}

interface MetricDeclaration {
  readonly source_labels: readonly string[];
  readonly label_matcher: string;
  readonly metric_selectors: readonly string[];
}

/** The samples of `job` that the agent of a `kind` node publishes. */
export function publishedByAgent(kind: NodeKind, job: ExporterJob, samples: readonly Sample[]): Sample[] {
  const scrape = prometheusConfig(kind);
  if (scrape === undefined) throw new Error(`a ${kind} node scrapes no exporter`);
  const jobConfig = (JSON.parse(scrape) as { scrape_configs: ScrapeConfig[] }).scrape_configs.find((config) => config.job_name === job);
  if (!jobConfig) throw new Error(`a ${kind} node's agent scrapes no ${job} job`);
  const keeps = (jobConfig.metric_relabel_configs ?? []).map((relabel) => {
    if (relabel.action !== "keep" || relabel.source_labels?.join() !== "__name__" || relabel.regex === undefined) {
      throw new Error(`${job}: a relabel rule other than keep on __name__ is not modelled: ${JSON.stringify(relabel)}`);
    }
    // Prometheus anchors relabel regexes at both ends.
    return new RegExp(`^(?:${relabel.regex})$`);
  });
  const config = agentConfig(kind, { project: "rehearsal", environment: "local" }) as {
    logs: { metrics_collected?: { prometheus?: { emf_processor: { metric_declaration: MetricDeclaration[] } } } };
  };
  const declarations = config.logs.metrics_collected?.prometheus?.emf_processor.metric_declaration ?? [];
  const declared = declarations.filter((declaration) => {
    if (declaration.source_labels.join() !== "job") throw new Error(`${job}: a declaration matching ${declaration.source_labels.join()} is not modelled`);
    return new RegExp(declaration.label_matcher).test(job);
  });
  return samples.filter(
    (sample) =>
      keeps.every((keep) => keep.test(sample.name)) &&
      declared.some((declaration) => declaration.metric_selectors.some((selector) => new RegExp(selector).test(sample.name))),
  );
}
