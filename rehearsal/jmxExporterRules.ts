/**
 * The Prometheus JMX exporter's rules, applied as the exporter applies them (JmxCollector and
 * JmxMBeanPropertyCache in prometheus/jmx_exporter 1.6.0), for where its jar cannot be fetched:
 * the rehearsal reads a ZooKeeper member's beans over JMX (jmx/JmxProbe.java) and turns them into
 * the samples the exporter would serve with the cookbook's own rules file. Only the keys the
 * platform's rules files use are modelled; a file with any other key is refused, not half-read.
 * Left out, since no rule here can reach them: composite, tabular and date attributes (every
 * pattern here ends in `><>Attribute`, a simple attribute), the `_objectname` label the exporter
 * adds to tell apart samples with equal names and labels, and quoted object name values.
 */
import { parse } from "yaml";

/** One readable attribute of a bean, as JmxProbe prints it. */
export interface BeanAttribute {
  readonly domain: string;
  /** ObjectName.getKeyPropertyListString(): the properties in the order they were registered. */
  readonly keyProperties: string;
  readonly attribute: string;
  readonly type: "number" | "boolean" | "string";
  /** The value as Java prints it. */
  readonly value: string;
}

/** One sample the exporter would serve. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Rule {
  readonly pattern: RegExp;
  readonly name: string;
  readonly value?: string;
  readonly labels: ReadonlyArray<readonly [string, string]>;
}

export interface ExporterRules {
  readonly lowercaseOutputName: boolean;
  readonly lowercaseOutputLabelNames: boolean;
  /** The object name patterns the exporter queries: only their beans are read. */
  readonly includeObjectNames: readonly string[];
  readonly rules: readonly Rule[];
}

const TOP_LEVEL_KEYS = new Set(["lowercaseOutputName", "lowercaseOutputLabelNames", "includeObjectNames", "rules"]);
const RULE_KEYS = new Set(["pattern", "name", "type", "value", "labels", "help"]);

/** Parses an exporter rules file; `source` names it in errors. */
export function parseExporterRules(text: string, source: string): ExporterRules {
  const raw = parse(text) as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!TOP_LEVEL_KEYS.has(key)) throw new Error(`${source}: ${key} is a key this model of the exporter does not apply`);
  }
  const includeObjectNames = raw.includeObjectNames;
  if (!Array.isArray(includeObjectNames) || includeObjectNames.length === 0 || !includeObjectNames.every((name) => typeof name === "string")) {
    throw new Error(`${source}: includeObjectNames must list object name patterns (without it the exporter reads every bean)`);
  }
  if (!Array.isArray(raw.rules) || raw.rules.length === 0) throw new Error(`${source}: rules must list at least one rule`);
  const rules = (raw.rules as Array<Record<string, unknown>>).map((rule, index): Rule => {
    const where = `${source}: rules[${index}]`;
    for (const key of Object.keys(rule)) {
      if (!RULE_KEYS.has(key)) throw new Error(`${where}: ${key} is a key this model of the exporter does not apply`);
    }
    // A rule without a name exports the bean under a generated name: none of ours relies on it.
    if (typeof rule.pattern !== "string" || typeof rule.name !== "string") throw new Error(`${where}: needs a pattern and a name`);
    // A COUNTER is served as <name>_total: only the types served under the rule's own name.
    if (rule.type !== undefined && !["GAUGE", "UNTYPED"].includes(String(rule.type))) throw new Error(`${where}: type ${String(rule.type)} is not modelled (GAUGE or UNTYPED)`);
    const labels = Object.entries((rule.labels ?? {}) as Record<string, unknown>).map(([name, value]) => [name, String(value)] as const);
    // The exporter matches the whole "<bean><attribute keys>attribute: value" string. With the u
    // flag, Java-only syntax (\Q...\E, possessive quantifiers) fails here instead of meaning
    // something else.
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^.*(?:${rule.pattern}).*$`, "u");
    } catch (error) {
      throw new Error(`${where}: pattern ${rule.pattern} is not one this model reads as Java does: ${(error as Error).message}`);
    }
    // An empty value is no value: the exporter then takes the bean's own.
    const value = rule.value === undefined || String(rule.value) === "" ? undefined : String(rule.value);
    return { pattern, name: rule.name, value, labels };
  });
  return {
    lowercaseOutputName: raw.lowercaseOutputName === true,
    lowercaseOutputLabelNames: raw.lowercaseOutputLabelNames === true,
    includeObjectNames,
    rules,
  };
}

/** JmxProbe's output: one tab-separated attribute per line. */
export function parseProbeOutput(text: string): BeanAttribute[] {
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const fields = line.split("\t");
      const [domain, keyProperties, attribute, type, value] = fields;
      if (fields.length !== 5 || !["number", "boolean", "string"].includes(type)) throw new Error(`not a line JmxProbe prints: ${line}`);
      return { domain, keyProperties, attribute, type: type as BeanAttribute["type"], value };
    });
}

/**
 * The samples the exporter serves for these attributes: only beans that one of the rules'
 * includeObjectNames names are read, and each attribute's first matching rule decides.
 */
export function exportedSamples(rules: ExporterRules, attributes: readonly BeanAttribute[]): Sample[] {
  const included = rules.includeObjectNames.map(objectNamePattern);
  return attributes.flatMap((attribute) => {
    if (!included.some((matches) => matches(attribute))) return [];
    const properties = keyPropertyList(attribute.keyProperties).map(([key, value]) => `${key}=${value}`);
    const matchName = `${attribute.domain}<${properties.join(", ")}><>${attribute.attribute}: ${attribute.value}`;
    const rule = rules.rules.find((candidate) => candidate.pattern.test(matchName));
    if (!rule) return [];
    const replace = (template: string): string => matchName.replace(rule.pattern, template);
    const value = rule.value === undefined ? beanValue(attribute) : javaDouble(replace(rule.value));
    if (value === undefined) return [];
    let name = safeName(replace(rule.name));
    if (name === "") return [];
    if (rules.lowercaseOutputName) name = name.toLowerCase();
    // Prometheus's client strips the suffixes it reserves for the types it serves.
    name = withoutReservedSuffixes(name);
    const labels: Record<string, string> = {};
    for (const [labelName, labelValue] of rule.labels) {
      let safe = safeName(replace(labelName));
      const text = replace(labelValue);
      if (safe === "" || text === "") continue;
      if (rules.lowercaseOutputLabelNames) safe = safe.toLowerCase();
      labels[safe] = text;
    }
    return [{ name, labels, value }];
  });
}

/**
 * "k1=v1,k2=v2" as the exporter splits it (a quoted value may hold commas), in order: the match
 * string joins them as "k=v" with ", ", as Java prints its LinkedHashMap.
 */
function keyPropertyList(properties: string): Array<[string, string]> {
  const property = /^([^,=:*?]+)=("(?:[^\\"]*(?:\\.)?)*"|[^,=:"]*)/;
  const pairs: Array<[string, string]> = [];
  let rest = properties;
  for (let match = property.exec(rest); match; match = property.exec(rest)) {
    pairs.push([match[1], match[2]]);
    rest = rest.slice(match[0].length);
    if (rest.startsWith(",")) rest = rest.slice(1);
  }
  return pairs;
}

/** A bean's own value: numbers as they are, booleans as 1 and 0, and no sample for a string. */
function beanValue(attribute: BeanAttribute): number | undefined {
  if (attribute.type === "number") return javaDouble(attribute.value);
  if (attribute.type === "boolean") return attribute.value === "true" ? 1 : 0;
  return undefined;
}

/** Double.valueOf's decimal forms (not hexadecimal ones, which no rule or bean here yields); undefined for anything else. */
function javaDouble(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^[+-]?(NaN|Infinity)$/.test(trimmed)) return Number(trimmed.replace(/^\+/, ""));
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$/.test(trimmed) ? Number(trimmed.replace(/[fFdD]$/, "")) : undefined;
}

function withoutReservedSuffixes(name: string): string {
  const reserved = ["_total", "_created", "_bucket", "_info"];
  let stripped = name;
  for (let suffix = reserved.find((each) => stripped.endsWith(each)); suffix; suffix = reserved.find((each) => stripped.endsWith(each))) {
    if (stripped === suffix) return "_";
    stripped = stripped.slice(0, -suffix.length);
  }
  return stripped;
}

/**
 * A JMX object name pattern (`domain:key=value,...`, `*` and `?` wildcards in the domain and in
 * values, a trailing `,*` or a lone `*` for further properties) as a test of a bean. Quoted
 * values are not modelled: none of the rules files has one.
 */
function objectNamePattern(pattern: string): (attribute: BeanAttribute) => boolean {
  const [domain, properties] = pattern.split(/:(.*)/s);
  if (properties === undefined || properties.includes('"')) throw new Error(`${pattern}: not an object name pattern this model reads`);
  const glob = (text: string) => new RegExp(`^${text.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "s");
  const parts = properties.split(",");
  const open = parts[parts.length - 1] === "*";
  const wanted = (open ? parts.slice(0, -1) : parts).map((part) => {
    const [key, value] = part.split(/=(.*)/s);
    if (value === undefined) throw new Error(`${pattern}: ${part} is not key=value`);
    return [key, glob(value)] as const;
  });
  const domainMatches = glob(domain);
  return (attribute) => {
    if (!domainMatches.test(attribute.domain)) return false;
    const beanProperties = new Map(keyPropertyList(attribute.keyProperties));
    if (!open && beanProperties.size !== wanted.length) return false;
    return wanted.every(([key, value]) => beanProperties.has(key) && value.test(beanProperties.get(key)!));
  };
}

/** Prometheus's legal name characters; a run of others (or of underscores) becomes one underscore, and a leading digit gets one. */
function safeName(name: string): string {
  return (/^\d/.test(name) ? "_" : "") + name.replace(/[^a-zA-Z0-9:_]+/g, "_").replace(/_+/g, "_");
}
