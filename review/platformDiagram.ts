import { refName } from "./findings";
import { coversEverything } from "./internetRanges";
import type { Json, SynthesizedPlatform } from "./synthesizedPlatform";

/** One instance as the synthesized JSON describes it. */
interface InstanceNode {
  readonly id: string;
  readonly stack: string;
  readonly name: string;
  readonly instanceType: string;
  readonly az: number;
  readonly subnet: string;
  readonly groups: readonly string[];
  readonly public: boolean;
  readonly readsBucket: boolean;
}

/**
 * Instances that differ only in their number and AZ (a stack's brokers, its workers) drawn as one
 * box: nine brokers take the room of one, and the picture stays readable at README width.
 */
interface NodeGroup {
  readonly id: string;
  readonly stack: string;
  readonly members: readonly InstanceNode[];
  readonly groups: readonly string[];
  readonly public: boolean;
  readonly readsBucket: boolean;
}

const FONT = 'fontname="Helvetica"';

/** Code-point order: the same on every machine, whatever its locale. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
const STACK_COLOURS: Readonly<Record<string, string>> = { chef: "#fdf2e9", kafka: "#eaf2fb", spark: "#eafaf1" };

/**
 * Text sizes, in SVG units. GitHub scales an SVG wider than its README column (about 800 px)
 * down to fit: the layout below keeps the drawing near that width so these stay 11 px or more.
 */
const TITLE_SIZE = 16;
const TEXT_SIZE = 14;
/** Names per line in a grouped box, so nine or ninety brokers make it taller, not wider. */
const NAMES_PER_LINE = 3;
/** Nodes outside the VPC per row above it. */
const SOURCES_PER_ROW = 2;
const RED = "#c0392b";

/**
 * Room for text: 0.6 em a character, wider than Graphviz's Helvetica estimate, so the boxes
 * still hold their text when a viewer draws it in a wider sans-serif.
 */
function textWidth(lines: readonly string[], size = TEXT_SIZE): number {
  return Math.ceil(0.6 * size * Math.max(0, ...lines.map((line) => [...line].length)));
}

/** A node's minimum width, in inches, for its label's lines: boxes add their margins, ovals their curve. */
function widthFor(label: string, shape: "box" | "oval"): string {
  const text = textWidth(label.split("\\n"));
  return `width=${((shape === "oval" ? text * 1.3 + 16 : text + 24) / 72).toFixed(2)}`;
}

/** Text as an HTML-like Graphviz label takes it. */
function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The platform as a Graphviz graph, drawn from the synthesized Terraform alone: the VPC with its
 * subnets per AZ, NAT gateways and S3 endpoint; each stack as one table of boxes, alike
 * instances in one box listing each instance's AZ, labelled with type, AZ and subnet;
 * security-group rules as edges labelled with their ports, to the whole stack or to one box;
 * the data bucket; and the operator, whose one way in is SSH to the workstation. Stacks are
 * stacked top to bottom, so a larger platform makes the picture taller, not wider.
 */
export function platformDot(platform: SynthesizedPlatform): string {
  const lines: string[] = [
    "digraph platform {",
    `  graph [${FONT}, fontsize=${TITLE_SIZE}, rankdir=TB, newrank=true, pad=0.4, nodesep=0.4, ranksep=0.5, labelloc=t, label="Kafka + Spark platform\\n(generated from cdktf.out by npm run diagram)"];`,
    `  node [${FONT}, fontsize=${TEXT_SIZE}, shape=box, style="rounded,filled", fillcolor=white, color="#555555", margin="0.15,0.08"];`,
    `  edge [${FONT}, fontsize=${TEXT_SIZE}, color="#555555", fontcolor="#333333"];`,
  ];
  const network = platform.network ?? {};
  const vpc = Object.values((network.resource?.aws_vpc ?? {}) as Json)[0] as Json | undefined;
  const subnets = Object.entries((network.resource?.aws_subnet ?? {}) as Json).sort(([a], [b]) => byText(a, b));
  const azOf = (subnetName: string): number => Number(/-(\d+)$/.exec(subnetName)?.[1] ?? 0);
  const azCount = Math.max(0, ...subnets.map(([name]) => azOf(name) + 1));
  const boxes = nodeGroups(instanceNodes(platform, azOf));
  const stacks = [...new Set(boxes.map((box) => box.stack))].sort(byText);

  /**
   * Where an edge to or from a security group ends: the whole stack when every box of the stack
   * holds the group, else each box that does.
   */
  const endsOf = (group: string): string[] => {
    const holders = boxes.filter((box) => box.groups.includes(group));
    return [...new Set(holders.map((box) => box.stack))].flatMap((stack) => {
      const all = boxes.filter((box) => box.stack === stack);
      const held = holders.filter((box) => box.stack === stack);
      return held.length === all.length ? [`"${stack}"`] : held.map((box) => `"${stack}":"${portOf(box)}"`);
    });
  };
  // Security-group rules, merged per source and target, ports sorted.
  const edges = new Map<string, { from: string; to: string; ports: Set<string> }>();
  const rangeEdges = new Map<string, Map<string, Set<string>>>();
  for (const stackJson of Object.values(platform)) {
    for (const rule of Object.values((stackJson.resource?.aws_vpc_security_group_ingress_rule ?? {}) as Json) as Json[]) {
      const targetGroup = refName(rule.security_group_id);
      const sourceGroup = rule.referenced_security_group_id ? refName(rule.referenced_security_group_id) : undefined;
      const cidr = rule.cidr_ipv4 ?? rule.cidr_ipv6;
      const port = rule.from_port === rule.to_port ? String(rule.from_port) : `${rule.from_port}-${rule.to_port}`;
      // Every range that may connect is drawn: the operator's admin_cidr, and any other range too.
      const sources = sourceGroup ? endsOf(sourceGroup) : String(cidr ?? "").includes("admin_cidr") ? ['"entry operator"'] : [];
      for (const to of endsOf(targetGroup)) {
        if (!sourceGroup && cidr !== undefined && !String(cidr).includes("admin_cidr")) {
          const byTarget = rangeEdges.get(String(cidr)) ?? new Map<string, Set<string>>();
          byTarget.set(to, (byTarget.get(to) ?? new Set<string>()).add(port));
          rangeEdges.set(String(cidr), byTarget);
        }
        for (const from of sources) {
          const entry = edges.get(`${from}->${to}`) ?? { from, to, ports: new Set<string>() };
          entry.ports.add(port);
          edges.set(`${from}->${to}`, entry);
        }
      }
    }
  }
  // Ranges that reach the same boxes on the same ports share one node: five office ranges
  // allowed SSH are one node and one edge, not five.
  const rangeNodes = new Map<string, { ranges: string[]; targets: Map<string, Set<string>> }>();
  for (const [range, targets] of [...rangeEdges].sort(([a], [b]) => byText(a, b))) {
    const signature = JSON.stringify([...targets].map(([to, ports]) => [to, [...ports].sort(byText)]).sort());
    const node = rangeNodes.get(signature) ?? { ranges: [], targets };
    node.ranges.push(range);
    rangeNodes.set(signature, node);
  }
  // A range's edges start from a point just inside the VPC: edges from outside to a stack deep
  // inside would run around the VPC's box, and their labels would widen the picture.
  for (const { ranges, targets } of rangeNodes.values()) {
    const id = `"entry ${ranges[0]}"`;
    for (const [to, ports] of targets) edges.set(`${id}->${to}`, { from: id, to, ports });
  }

  const sortPorts = (ports: Set<string>): string => [...ports].sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).join(", ");
  // Where each outside source's edges start inside the VPC, and the source's own node.
  const entries: Array<{ source: string; entry: string; node: string }> = [];
  const oval = (id: string, label: string, colours: string): string => `    ${id} [label="${label}", shape=oval, ${widthFor(label, "oval")}, ${colours}];`;
  if ([...edges.values()].some((edge) => edge.from === '"entry operator"')) {
    entries.push({ source: "operator", entry: '"entry operator"', node: oval("operator", "operator\\n(admin_cidr)", 'fillcolor="#f4f6f7"') });
  }
  for (const { ranges } of rangeNodes.values()) {
    const label = ranges.map((range) => `${range}${coversEverything([range], range.includes(":") ? 6 : 4) ? "\\n(the whole internet)" : ""}`);
    const together = ([4, 6] as const).some((family) => coversEverything(ranges.filter((range) => range.includes(":") === (family === 6)), family));
    if (together && !label.some((line) => line.includes("whole internet"))) label.push("(together the whole internet)");
    entries.push({ source: `"range ${ranges[0]}"`, entry: `"entry ${ranges[0]}"`, node: oval(`"range ${ranges[0]}"`, label.join("\\n"), `fillcolor="#fdedec", color="${RED}"`) });
  }

  // Each NAT gateway is marked in the public subnet that holds it.
  const natAzs = (Object.values((network.resource?.aws_nat_gateway ?? {}) as Json) as Json[]).map((nat) => azOf(refName(nat.subnet_id)));
  const nats = natAzs.length;
  const cidrs = Array.from({ length: azCount }, (_unused, az) => {
    const cidr = (kind: string): string => String(subnets.find(([name]) => name === `${kind}-subnet-${az}`)?.[1].cidr_block ?? "-");
    return [`${cidr("public")}${natAzs.includes(az) ? " + NAT" : ""}`, cidr("private")];
  });
  const headings = ["zone", "public subnet", "private subnet"];
  const table = [headings, ...cidrs.map((pair, az) => [`AZ ${az + 1}`, ...pair])];
  // Bold headings run a tenth wider.
  const columnWidths = headings.map((heading, column) => Math.max(textWidth(table.slice(1).map((row) => row[column])), Math.ceil(textWidth([heading]) * 1.1)) + 14);
  const cell = (text: string, column: number): string => `<TD BORDER="1" WIDTH="${columnWidths[column]}">${text}</TD>`;
  const rows = table.slice(1).map((row) => `<TR>${row.map((text, column) => cell(html(text), column)).join("")}</TR>`);
  lines.push(
    `  subgraph cluster_vpc {`,
    `    label="VPC ${String(vpc?.cidr_block ?? "")}"; style="rounded"; color="#2e86c1";`,
    `    subnets [shape=plain, label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="6"><TR>${headings.map((text, column) => cell(`<B>${text}</B>`, column)).join("")}</TR>${rows.join("")}</TABLE>>];`,
  );
  const endpoint = Object.values((network.resource?.aws_vpc_endpoint ?? {}) as Json)[0] as Json | undefined;
  if (endpoint) lines.push(`    s3endpoint [label="S3 gateway endpoint", ${widthFor("S3 gateway endpoint", "box")}];`);

  // Traffic inside one stack (among its members, or from one of its boxes to another) is a line
  // in the stack's table, not a loop beside it that takes room and crosses its neighbours.
  const inside = new Map<string, string[]>();
  const tableOf = (end: string): string | undefined => stacks.find((stack) => end === `"${stack}"` || end.startsWith(`"${stack}":`));
  const boxName = (end: string): string => {
    const box = boxes.find((each) => end === `"${each.stack}":"${portOf(each)}"`);
    if (!box) return "members";
    return box.members.length === 1 ? box.members[0].name : `${box.members[0].name.replace(/-\d+$/, "")} ×${box.members.length}`;
  };
  for (const [key, edge] of [...edges].sort(([a], [b]) => byText(a, b))) {
    const stack = tableOf(edge.from);
    if (stack === undefined || tableOf(edge.to) !== stack) continue;
    const line = edge.from === edge.to ? `among ${boxName(edge.from)}: ${sortPorts(edge.ports)}` : `${boxName(edge.from)} → ${boxName(edge.to)}: ${sortPorts(edge.ports)}`;
    inside.set(stack, [...(inside.get(stack) ?? []), line]);
    edges.delete(key);
  }
  for (const stack of stacks) {
    const cells = boxes.filter((box) => box.stack === stack).map((box) => {
      const border = box.public ? `BORDER="2" COLOR="${RED}"` : `BORDER="1" COLOR="#555555"`;
      const label = boxLines(box);
      const align = box.members.length > 1 ? 'ALIGN="LEFT" BALIGN="LEFT" ' : "";
      return `<TR><TD PORT="${portOf(box)}" ${border} BGCOLOR="white" CELLPADDING="6" WIDTH="${textWidth(label) + 16}" ${align}>${label.map(html).join("<BR/>")}</TD></TR>`;
    });
    for (const line of inside.get(stack) ?? []) cells.push(`<TR><TD BORDER="1" STYLE="dashed" COLOR="#555555" CELLPADDING="4" WIDTH="${textWidth([line]) + 16}">${html(line)}</TD></TR>`);
    lines.push(
      `    "${stack}" [shape=plain, label=<<TABLE BORDER="1" COLOR="#aaaaaa" STYLE="rounded" BGCOLOR="${STACK_COLOURS[stack] ?? "#f8f9f9"}" CELLBORDER="0" CELLSPACING="8" CELLPADDING="2"><TR><TD><B>${html(stack)}</B></TD></TR>${cells.join("")}</TABLE>>];`,
    );
  }
  for (const { entry } of entries) lines.push(`    ${entry} [shape=point, width=0.08, color="${RED}", fillcolor="${RED}"];`);
  // The VPC's top row: its subnets (with the NAT gateways) and where outside sources come in.
  const topRow = ["subnets", ...entries.map(({ entry }) => entry)];
  lines.push(`    { rank=same; ${topRow.join("; ")}; }`);
  lines.push("  }");

  // Everything outside that reaches in, in rows of a few above the VPC, kept together in one
  // invisible box: more ranges add rows, not width.
  const outside = [...entries.map(({ source }) => source), ...(nats > 0 ? ["internet"] : [])];
  lines.push("  subgraph cluster_outside {", "    style=invis;", ...entries.map(({ node }) => node));
  if (nats > 0) lines.push(oval("internet", "internet\\n(packages, releases)", 'fillcolor="#f4f6f7"'));
  for (let start = 0; start < outside.length; start += SOURCES_PER_ROW) lines.push(`    { rank=same; ${outside.slice(start, start + SOURCES_PER_ROW).join("; ")}; }`);
  lines.push("  }");
  for (let start = SOURCES_PER_ROW; start < outside.length; start += SOURCES_PER_ROW) lines.push(`  ${outside[start - SOURCES_PER_ROW]} -> ${outside[start]} [style=invis];`);

  const bucket = Object.values((platform.storage?.resource?.aws_s3_bucket ?? {}) as Json)[0] as Json | undefined;
  const bucketLabel = `S3 data bucket\\n(${bucketTraits(platform.storage ?? {}).join(", ")})`;
  if (bucket) lines.push(`  bucket [label="${bucketLabel}", shape=cylinder, ${widthFor(bucketLabel, "box")}, fillcolor="#fef9e7"];`);

  for (const edge of [...edges.values()].sort((a, b) => byText(`${a.from}${a.to}`, `${b.from}${b.to}`))) {
    const ports = sortPorts(edge.ports);
    const attributes = [`label="${edge.from === '"entry operator"' && ports === "22" ? "SSH " : ""}${ports}"`];
    if (edge.from.startsWith('"entry ')) attributes.push(`color="${RED}"`, "penwidth=2");
    lines.push(`  ${edge.from} -> ${edge.to} [${attributes.join(", ")}];`);
  }
  if (bucket && endpoint) {
    for (const stack of stacks) {
      const all = boxes.filter((box) => box.stack === stack);
      const readers = all.filter((box) => box.readsBucket);
      const tails = readers.length === all.length ? [`"${stack}"`] : readers.map((box) => `"${stack}":"${portOf(box)}"`);
      for (const tail of tails) lines.push(`  ${tail} -> s3endpoint [label="reads (instance role)"];`);
    }
    lines.push(`  s3endpoint -> bucket [label="${requiresTls(platform.storage ?? {}) ? "HTTPS only" : "HTTP or HTTPS"}"];`);
  }
  for (const { source, entry } of entries) lines.push(`  ${source} -> ${entry} [arrowhead=none, color="${RED}", penwidth=2];`);
  // The internet above the VPC, its egress arriving at the subnets table where "+ NAT" marks the
  // gateways: the egress path takes no column of its own.
  if (nats > 0) lines.push(`  internet -> subnets [label="${egressLabel(platform)}", dir=back];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** A box's port in its stack's table: the first instance's construct name. */
function portOf(box: NodeGroup): string {
  return box.id.slice(box.id.indexOf("/") + 1);
}

/**
 * A box's lines: one instance, its name, then type, AZ and subnet; several, the role, count, type
 * and subnet, then each AZ with the instances in it, a few names per line.
 */
function boxLines(box: NodeGroup): string[] {
  const [first] = box.members;
  if (box.members.length === 1) return [first.name, `${first.instanceType} · AZ ${first.az + 1} · ${first.subnet}`];
  const lines = [`${first.name.replace(/-\d+$/, "")} ×${box.members.length} · ${first.instanceType} · ${first.subnet}`];
  for (const az of [...new Set(box.members.map((member) => member.az))].sort((a, b) => a - b)) {
    const names = box.members.filter((member) => member.az === az).map((member) => member.name);
    for (let start = 0; start < names.length; start += NAMES_PER_LINE) lines.push(`AZ ${az + 1}: ${names.slice(start, start + NAMES_PER_LINE).join(", ")}`);
  }
  return lines;
}

/** Trailing instance number, so kafka-10 sorts after kafka-9. */
function ordinal(name: string): number {
  return Number(/-(\d+)$/.exec(name)?.[1] ?? -1);
}

/** Instances alike in stack, role (the name without its number), type, subnet kind, groups and access, in one box each. */
function nodeGroups(instances: readonly InstanceNode[]): NodeGroup[] {
  const byKey = new Map<string, InstanceNode[]>();
  for (const node of instances) {
    const key = JSON.stringify([node.stack, node.name.replace(/-\d+$/, ""), node.instanceType, node.subnet, node.groups, node.public, node.readsBucket]);
    byKey.set(key, [...(byKey.get(key) ?? []), node]);
  }
  return [...byKey.values()].map((members) => {
    const sorted = [...members].sort((a, b) => ordinal(a.name) - ordinal(b.name) || byText(a.name, b.name));
    const [first] = sorted;
    return { id: first.id, stack: first.stack, members: sorted, groups: first.groups, public: first.public, readsBucket: first.readsBucket };
  });
}

/**
 * What the data bucket's own configuration resources make it, as the synthesized JSON says: those
 * naming the data bucket, not its access log bucket's.
 */
function bucketTraits(storage: Json): string[] {
  const buckets = (storage.resource?.aws_s3_bucket ?? {}) as Json;
  const dataBucket = Object.keys(buckets).find((name) => String(buckets[name]?.bucket_prefix ?? "").endsWith("-data-")) ?? Object.keys(buckets)[0];
  const first = (type: string): Json | undefined =>
    (Object.values((storage.resource?.[type] ?? {}) as Json) as Json[]).find((config) => String(config.bucket ?? "").includes(`aws_s3_bucket.${dataBucket}.`));
  const block = first("aws_s3_bucket_public_access_block");
  const traits = [
    first("aws_s3_bucket_server_side_encryption_configuration") ? "encrypted" : "NOT encrypted by default",
    block && ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"].every((flag) => block[flag] === true) ? "public access blocked" : "public access NOT blocked",
    first("aws_s3_bucket_versioning")?.versioning_configuration?.status === "Enabled" ? "versioned" : "NOT versioned",
  ];
  return traits;
}

/** Whether a policy document of the storage stack denies requests made without TLS (aws:SecureTransport false). */
function requiresTls(storage: Json): boolean {
  const documents = Object.values((storage.data?.aws_iam_policy_document ?? {}) as Json) as Json[];
  return documents.some((document) =>
    ((document.statement ?? []) as Json[]).some(
      (statement) =>
        statement.effect === "Deny" &&
        ((statement.condition ?? []) as Json[]).some((condition) => condition.variable === "aws:SecureTransport" && (condition.values as unknown[] | undefined)?.map(String).includes("false")),
    ),
  );
}

/** The egress the groups allow to the internet: all traffic, or the ports. */
function egressLabel(platform: SynthesizedPlatform): string {
  const rules = Object.values(platform).flatMap((json) => Object.values((json.resource?.aws_vpc_security_group_egress_rule ?? {}) as Json) as Json[]);
  const open = rules.filter((rule) => coversEverything([String(rule.cidr_ipv4 ?? rule.cidr_ipv6 ?? "")], rule.cidr_ipv6 !== undefined ? 6 : 4));
  if (open.length === 0) return "no egress to the internet";
  if (open.some((rule) => rule.ip_protocol === "-1")) return "egress: all traffic";
  const ports = [...new Set(open.map((rule) => (rule.from_port === rule.to_port ? String(rule.from_port) : `${rule.from_port}-${rule.to_port}`)))];
  return `egress ${ports.sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).join(", ")}`;
}

/** Every instance of every stack, with what the diagram says about it. */
function instanceNodes(platform: SynthesizedPlatform, azOf: (subnet: string) => number): InstanceNode[] {
  const nodes: InstanceNode[] = [];
  for (const [stack, json] of Object.entries(platform).sort(([a], [b]) => byText(a, b))) {
    const policiesByRole = new Map<string, string>();
    const documents = (json.data?.aws_iam_policy_document ?? {}) as Json;
    for (const policy of Object.values((json.resource?.aws_iam_role_policy ?? {}) as Json) as Json[]) {
      const text = String(policy.policy).replace(/\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}/g, (_match, name: string) => JSON.stringify(documents[name] ?? {}));
      const role = refName(policy.role);
      policiesByRole.set(role, `${policiesByRole.get(role) ?? ""}${text}`);
    }
    const profiles = (json.resource?.aws_iam_instance_profile ?? {}) as Json;
    for (const [name, instance] of Object.entries((json.resource?.aws_instance ?? {}) as Json).sort(([a], [b]) => byText(a, b)) as Array<[string, Json]>) {
      const subnet = refName(instance.subnet_id).replace(/^.*?((public|private)-subnet-\d+)$/, "$1");
      const profile = Object.entries(profiles).find(([profileName]) => String(instance.iam_instance_profile).includes(profileName))?.[1] as Json | undefined;
      const policies = profile ? policiesByRole.get(refName(profile.role)) ?? "" : "";
      const name_ = String(instance.tags?.Name ?? name).replace(/^[a-z0-9]+-[a-z0-9]+-/, "");
      nodes.push({
        id: `${stack}/${name}`,
        stack,
        name: name_,
        instanceType: String(instance.instance_type),
        az: azOf(subnet),
        subnet: subnet.split("-")[0],
        groups: ((instance.vpc_security_group_ids ?? []) as string[]).map(refName),
        public: instance.associate_public_ip_address === true,
        readsBucket: /data-bucket/.test(policies),
      });
    }
  }
  return nodes;
}
