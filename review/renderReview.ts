import { ignoredAttributes, isUnder } from "./attributePaths";
import { planCounts, readable, type Finding, type FindingKind, type PlannedChange } from "./findings";
import { forceNewChanges } from "./forceNewAttributes";
import type { ResourceChange, StackChange } from "./resourceDiff";

/** A review: what changes between two synths, and what of it a reviewer must notice first. */
export interface Review {
  /** What was compared, e.g. `main (3f2c1a0)` and `working tree`. */
  readonly base: string;
  readonly head: string;
  readonly findings: readonly Finding[];
  readonly resources: readonly ResourceChange[];
  readonly stacks: readonly StackChange[];
  /** What the reader should know about how the review was made. @default none */
  readonly notes?: readonly string[];
  /** Which config each side was synthesized with. @default not said */
  readonly configs?: { readonly base: string; readonly head: string };
  /** What Terraform's plan would do, per resource. @default none */
  readonly plan?: readonly PlannedChange[];
}

const SECTIONS: ReadonlyArray<{ kind: FindingKind; title: string; none: string }> = [
  { kind: "security", title: "Security: access opened, widened or made public", none: "No access opened or widened." },
  { kind: "replacement", title: "Replaced or terminated", none: "Nothing is replaced or terminated." },
  { kind: "stop-start", title: "Stopped and started", none: "No instance is stopped and started." },
  { kind: "re-run", title: "Provisioner steps re-run", none: "No provisioner step runs again." },
  { kind: "data-loss", title: "Data that would be destroyed", none: "No volume or bucket is destroyed." },
  { kind: "in-place", title: "Updated in place because of the above", none: "" },
  { kind: "harmless", title: "Harmless: tags only, moves", none: "" },
];

/** Counts per finding kind, and resources per action. */
export function summarize(review: Review): Record<FindingKind, number> & { plan: { add: number; change: number; destroy: number } } {
  const count = (kind: FindingKind): number => review.findings.filter((finding) => finding.kind === kind).length;
  return {
    security: count("security"),
    replacement: count("replacement"),
    "stop-start": count("stop-start"),
    "re-run": count("re-run"),
    "data-loss": count("data-loss"),
    "in-place": count("in-place"),
    harmless: count("harmless"),
    plan: planCounts(review.plan ?? []),
  };
}

/** Markdown for a pull-request comment: findings first, then every change per stack, folded. */
export function renderMarkdown(review: Review): string {
  const summary = summarize(review);
  const lines: string[] = [`## Platform review: ${review.base} → ${review.head}`, ""];
  if (review.configs) lines.push(`Config: base ${escape(review.configs.base)}; head ${escape(review.configs.head)}.`, "");
  for (const note of review.notes ?? []) lines.push(`> ${escape(note)}`, "");
  if (review.resources.length === 0 && review.stacks.length === 0) {
    lines.push("No change to the synthesized Terraform.");
    return `${lines.join("\n")}\n`;
  }
  const { add, change, destroy } = summary.plan;
  lines.push(
    `**${summary.security} security-relevant**, ${summary.replacement} replaced or terminated, ${summary["stop-start"]} stopped and started, ` +
      `${summary["re-run"]} re-run, ${summary["data-loss"]} destroying data, ${summary.harmless} harmless.`,
    "",
    `As Terraform would count it: Plan: ${add} to add, ${change} to change, ${destroy} to destroy.`,
    "",
  );
  for (const section of SECTIONS) {
    const found = review.findings.filter((finding) => finding.kind === section.kind);
    if (found.length === 0 && section.none === "") continue;
    lines.push(`### ${section.title}`, "");
    if (found.length === 0) lines.push(section.none);
    // The path starts with its stack's name: the stack is named once.
    for (const finding of found) lines.push(`- ${code(finding.path === finding.stack || finding.path.startsWith(`${finding.stack}/`) ? finding.path : `${finding.stack}: ${finding.path}`)}: ${escape(readable(finding.message))}`);
    lines.push("");
  }
  lines.push("### Every change, per stack", "");
  for (const stack of [...new Set([...review.resources.map((change) => change.stack), ...review.stacks.map((change) => change.stack)])]) {
    const changes = review.resources.filter((change) => change.stack === stack);
    const stackChange = review.stacks.find((change) => change.stack === stack);
    const count = (action: ResourceChange["action"]): number => changes.filter((change) => change.action === action).length;
    lines.push(`<details><summary><b>${stack}</b>${stackChange?.action === "add" ? " (new stack)" : stackChange?.action === "remove" ? " (stack removed)" : ""}: ${count("add")} added, ${count("remove")} removed, ${count("change")} changed</summary>`, "");
    if (changes.length > 0) {
      lines.push("| | resource | attributes |", "|---|---|---|");
      for (const change of changes) {
        const symbol = change.action === "add" ? "+" : change.action === "remove" ? "−" : "~";
        lines.push(`| ${symbol} | ${code(change.path)} <sub>${escape(change.address)}</sub> | ${escape(abbreviate(annotated(change)))} |`);
      }
      lines.push("");
    }
    if (stackChange) {
      const outputs = stackChange.outputs;
      // cdktf's cross-stack outputs follow the resources they carry: listing them is noise.
      const own = (name: string): boolean => !name.startsWith("cross-stack-output-");
      const parts = [
        ...outputs.added.filter(own).map((name) => `+${name}`),
        ...outputs.removed.filter(own).map((name) => `−${name}`),
        ...outputs.changed.filter(own).map((name) => `~${name}`),
      ];
      if (parts.length > 0) lines.push(`Outputs: ${parts.join(", ")}`, "");
      if (stackChange.providers.length > 0) lines.push(`Provider settings: ${escape(abbreviate(stackChange.providers))}`, "");
    }
    lines.push("</details>", "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** The review as JSON for tools: the same findings and changes, without the resources' bodies. */
export function renderJson(review: Review): string {
  return `${JSON.stringify(
    {
      base: review.base,
      head: review.head,
      configs: review.configs ?? null,
      notes: review.notes ?? [],
      summary: summarize(review),
      findings: review.findings,
      resources: review.resources.map(({ before: _before, after: _after, ...change }) => change),
      // replace, update, ignored and no-op kept apart, as the summary's counts are made of them.
      plan: review.plan ?? [],
      stacks: review.stacks,
    },
    null,
    2,
  )}\n`;
}

/**
 * Changed attributes as `terraform plan` shows them: a scalar's old → new value (cut short,
 * references named as a reader knows them), `# forces replacement` on a force-new argument, and
 * marks where the change has no effect now: ignored, or a provisioner's next run.
 */
function annotated(change: ResourceChange): string[] {
  const ignored = ignoredAttributes(change.after);
  const forced = new Set(forceNewChanges(change.type, change.attributes, ignored));
  return change.attributes.map((path) => {
    if (ignored.includes("all") || ignored.some((name) => isUnder(path, name))) return `${path} (ignored by lifecycle)`;
    if (path.startsWith("provisioner")) return `${path} (used at the next run)`;
    const values = `${valueAt(change.before, path)} → ${valueAt(change.after, path)}`;
    const scalar = !values.includes("{") && !values.includes("[");
    const marker = [...forced].some((name) => isUnder(path.replace(/\[\d+\]/g, ""), name)) ? " # forces replacement" : "";
    return `${path}${scalar ? `: ${values}` : ""}${marker}`;
  });
}

/** The value at an attribute path (`root_block_device[0].encrypted`), as one short line. */
function valueAt(body: unknown, path: string): string {
  const value = path
    .split(/\.|(?=\[)/)
    .reduce<unknown>((node, key) => {
      if (node === undefined || node === null) return undefined;
      const index = /^\[(\d+)\]$/.exec(key);
      return index ? (node as unknown[])[Number(index[1])] : (node as Record<string, unknown>)[key];
    }, body);
  if (value === undefined) return "(none)";
  if (typeof value === "object") return JSON.stringify(value).slice(0, 1) === "[" ? "[...]" : "{...}";
  const text = readable(typeof value === "string" ? value : JSON.stringify(value));
  // A user-data digest or a script says nothing at this width.
  return text.length > 40 ? `${JSON.stringify(text.slice(0, 37))}...` : typeof value === "string" ? JSON.stringify(text) : text;
}

function abbreviate(paths: readonly string[]): string {
  const shown = paths.slice(0, 8).join("; ");
  return paths.length > 8 ? `${shown} and ${paths.length - 8} more` : shown;
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

/** Markdown table cells and list items: no pipes, no HTML from resource values. */
function escape(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
