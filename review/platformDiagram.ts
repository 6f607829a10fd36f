import { refName } from "./findings";
import { coversEverything } from "./internetRanges";
import type { Json, SynthesizedPlatform } from "./synthesizedPlatform";

/** One instance as the diagram shows it. */
interface InstanceNode {
  readonly id: string;
  readonly stack: string;
  readonly label: string;
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
 * The platform as a Graphviz graph, drawn from the synthesized Terraform alone: the VPC with its
 * subnets per AZ, NAT gateways and S3 endpoint; each stack's instances as a group, labelled with
 * type, AZ and subnet; security-group rules as edges labelled with their ports; the data bucket;
 * and the operator, whose one way in is SSH to the workstation.
 */
export function platformDot(platform: SynthesizedPlatform): string {
  const lines: string[] = [
    "digraph platform {",
    `  graph [${FONT}, fontsize=12, rankdir=LR, compound=true, newrank=true, nodesep=0.3, ranksep=0.8, labelloc=t, label="Kafka + Spark platform (generated from cdktf.out by npm run diagram)"];`,
    `  node [${FONT}, fontsize=10, shape=box, style="rounded,filled", fillcolor=white, color="#555555"];`,
    `  edge [${FONT}, fontsize=9, color="#555555", fontcolor="#333333"];`,
  ];
  const network = platform.network ?? {};
  const vpc = Object.values((network.resource?.aws_vpc ?? {}) as Json)[0] as Json | undefined;
  const subnets = Object.entries((network.resource?.aws_subnet ?? {}) as Json).sort(([a], [b]) => byText(a, b));
  const azOf = (subnetName: string): number => Number(/-(\d+)$/.exec(subnetName)?.[1] ?? 0);
  const azCount = Math.max(0, ...subnets.map(([name]) => azOf(name) + 1));
  const instances = instanceNodes(platform, azOf);
  const groupHome = new Map<string, string>();

  lines.push(`  operator [label="operator\\n(admin_cidr)", shape=oval, fillcolor="#f4f6f7"];`);
  lines.push(`  internet [label="internet\\n(packages, releases)", shape=oval, fillcolor="#f4f6f7"];`);
  lines.push(`  subgraph cluster_vpc {`, `    label="VPC ${String(vpc?.cidr_block ?? "")}"; style="rounded"; color="#2e86c1";`);
  const rows = Array.from({ length: azCount }, (_unused, az) => {
    const cidr = (kind: string): string => String(subnets.find(([name]) => name === `${kind}-subnet-${az}`)?.[1].cidr_block ?? "-");
    return `<TR><TD>AZ ${az + 1}</TD><TD>${cidr("public")}</TD><TD>${cidr("private")}</TD></TR>`;
  });
  lines.push(
    `    subnets [shape=plain, label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="6"><TR><TD><B>zone</B></TD><TD><B>public subnet</B></TD><TD><B>private subnet</B></TD></TR>${rows.join("")}</TABLE>>];`,
  );
  const nats = Object.keys((network.resource?.aws_nat_gateway ?? {}) as Json).length;
  if (nats > 0) lines.push(`    nat [label="NAT gateway${nats > 1 ? ` ×${nats}` : ""}\\n(public subnet${nats > 1 ? "s" : ""})"];`);
  const endpoint = Object.values((network.resource?.aws_vpc_endpoint ?? {}) as Json)[0] as Json | undefined;
  if (endpoint) lines.push(`    s3endpoint [label="S3 gateway endpoint"];`);

  for (const stack of [...new Set(instances.map((node) => node.stack))].sort()) {
    lines.push(`    subgraph cluster_${stack} {`, `      label="${stack}"; style="rounded,filled"; fillcolor="${STACK_COLOURS[stack] ?? "#f8f9f9"}"; color="#aaaaaa";`);
    for (const node of instances.filter((each) => each.stack === stack)) {
      lines.push(`      "${node.id}" [label="${node.label}"${node.public ? ', penwidth=2, color="#c0392b"' : ""}];`);
      for (const group of node.groups) if (!groupHome.has(group)) groupHome.set(group, node.id);
    }
    lines.push("    }");
  }
  lines.push("  }");

  const bucket = Object.values((platform.storage?.resource?.aws_s3_bucket ?? {}) as Json)[0] as Json | undefined;
  if (bucket) lines.push(`  bucket [label="S3 data bucket\\n(${bucketTraits(platform.storage ?? {}).join(", ")})", shape=cylinder, fillcolor="#fef9e7"];`);

  const ranges = new Set<string>();
  // Security-group rules, merged per source and target group, ports sorted.
  const edges = new Map<string, { from: string; to: string; fromGroup?: string; toGroup: string; ports: Set<string>; among: boolean }>();
  for (const stackJson of Object.values(platform)) {
    for (const rule of Object.values((stackJson.resource?.aws_vpc_security_group_ingress_rule ?? {}) as Json) as Json[]) {
      const target = groupHome.get(refName(rule.security_group_id));
      if (!target) continue;
      const sourceGroup = rule.referenced_security_group_id ? refName(rule.referenced_security_group_id) : undefined;
      const cidr = rule.cidr_ipv4 ?? rule.cidr_ipv6;
      // Every range that may connect is drawn: the operator's admin_cidr, and any other as a node of its own.
      const from = sourceGroup ? groupHome.get(sourceGroup) : String(cidr ?? "").includes("admin_cidr") ? "operator" : cidr !== undefined ? `range ${String(cidr)}` : undefined;
      if (!from) continue;
      if (from.startsWith("range ")) ranges.add(String(cidr));
      const key = `${from}->${target}`;
      const entry = edges.get(key) ?? { from, to: target, fromGroup: sourceGroup, toGroup: refName(rule.security_group_id), ports: new Set<string>(), among: sourceGroup === refName(rule.security_group_id) };
      entry.ports.add(rule.from_port === rule.to_port ? String(rule.from_port) : `${rule.from_port}-${rule.to_port}`);
      edges.set(key, entry);
    }
  }
  // An edge ends on a stack's group when the rule's security group holds the whole stack (Kafka,
  // Spark), and on the instance when it holds only that one (the Chef server, the workstation).
  const clusterOf = (id: string, group: string | undefined): string | undefined => {
    const node = instances.find((each) => each.id === id);
    if (!node || group === undefined) return undefined;
    const stack = instances.filter((each) => each.stack === node.stack);
    return stack.length > 1 && stack.every((each) => each.groups.includes(group)) ? `cluster_${node.stack}` : undefined;
  };
  for (const edge of [...edges.values()].sort((a, b) => byText(`${a.from}${a.to}`, `${b.from}${b.to}`))) {
    const ports = [...edge.ports].sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).join(", ");
    if (edge.among) {
      lines.push(`  "${edge.from}" -> "${edge.to}" [label="${ports}\\namong members", dir=both, style=dashed];`);
      continue;
    }
    const tail = clusterOf(edge.from, edge.fromGroup);
    const head = clusterOf(edge.to, edge.toGroup);
    const attributes = [`label="${edge.from === "operator" && ports === "22" ? "SSH " : ""}${ports}"`, ...(tail ? [`ltail=${tail}`] : []), ...(head ? [`lhead=${head}`] : [])];
    if (edge.from === "operator" || edge.from.startsWith("range ")) attributes.push('color="#c0392b"', "penwidth=2");
    lines.push(`  "${edge.from}" -> "${edge.to}" [${attributes.join(", ")}];`);
  }
  if (bucket && endpoint) {
    for (const stack of [...new Set(instances.filter((node) => node.readsBucket).map((node) => node.stack))].sort()) {
      const first = instances.find((node) => node.stack === stack && node.readsBucket) as InstanceNode;
      const tail = instances.filter((node) => node.stack === stack).length > 1 ? `, ltail=cluster_${stack}` : "";
      lines.push(`  "${first.id}" -> s3endpoint [label="reads (instance role)"${tail}];`);
    }
    lines.push(`  s3endpoint -> bucket [label="443"];`);
  }
  for (const range of [...ranges].sort(byText)) {
    const internet = coversEverything([range], range.includes(":") ? 6 : 4);
    lines.push(`  "range ${range}" [label="${range}${internet ? "\\n(the whole internet)" : ""}", shape=oval, fillcolor="#fdedec", color="#c0392b"];`);
  }
  if (nats > 0) lines.push(`  nat -> internet [label="${egressLabel(platform)}"];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** What the bucket's own configuration resources make it, as the synthesized JSON says. */
function bucketTraits(storage: Json): string[] {
  const first = (type: string): Json | undefined => Object.values((storage.resource?.[type] ?? {}) as Json)[0] as Json | undefined;
  const block = first("aws_s3_bucket_public_access_block");
  const traits = [
    first("aws_s3_bucket_server_side_encryption_configuration") ? "encrypted" : "NOT encrypted by default",
    block && ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"].every((flag) => block[flag] === true) ? "public access blocked" : "public access NOT blocked",
    first("aws_s3_bucket_versioning")?.versioning_configuration?.status === "Enabled" ? "versioned" : "NOT versioned",
  ];
  return traits;
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
        label: `${name_}\\n${String(instance.instance_type)} · AZ ${azOf(subnet) + 1} · ${subnet.split("-")[0]}`,
        groups: ((instance.vpc_security_group_ids ?? []) as string[]).map(refName),
        public: instance.associate_public_ip_address === true,
        readsBucket: /data-bucket/.test(policies),
      });
    }
  }
  return nodes;
}
