/** Edges `from -> to` (from depends on to) of `terraform graph`'s DOT output. */
export function graphEdges(dot: string): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const match of dot.matchAll(/^\s*"([^"]+)"\s*->\s*"([^"]+)"/gm)) {
    const targets = edges.get(match[1]) ?? new Set<string>();
    targets.add(match[2]);
    edges.set(match[1], targets);
  }
  return edges;
}

function reachable(edges: Map<string, Set<string>>, from: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(edges.get(from) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(edges.get(next) ?? []));
  }
  return seen;
}

/** What the order check found: the quorum's bootstraps and the others, for the log. */
export interface BootstrapOrder {
  readonly quorum: readonly string[];
  readonly others: readonly string[];
  readonly problems: readonly string[];
}

/**
 * Reads the order from Terraform's own dependency graph (`terraform graph`; `terraform test`
 * cannot assert an order). Who is who comes from the stack's JSON: the quorum is the instances
 * whose addresses the data bag upload (`*-bag`) triggers on, the item the nodes read as their
 * quorum; a bootstrap belongs to the instance its triggers name. Every bootstrap of a node
 * outside the quorum must come, directly or not, after every bootstrap of the quorum.
 */
export function checkBootstrapOrder(dot: string, stack: { resource?: Record<string, Record<string, { triggers_replace?: unknown }>> }): BootstrapOrder {
  const edges = graphEdges(dot);
  const data = stack.resource?.terraform_data ?? {};
  const nodes = new Set(Object.keys(data).map((name) => `terraform_data.${name}`));
  const instancesOf = (address: string): string[] => [
    ...new Set([...JSON.stringify(data[address.slice("terraform_data.".length)]?.triggers_replace ?? {}).matchAll(/aws_instance\.[A-Za-z0-9_-]+/g)].map((match) => match[0])),
  ];
  const bags = [...nodes].filter((address) => /^terraform_data\.[^.]*-bag$/.test(address));
  if (bags.length !== 1) return { quorum: [], others: [], problems: [`expected one data bag upload (terraform_data.*-bag) in the graph, found ${bags.length}`] };
  const quorumInstances = new Set(instancesOf(bags[0]));
  const bootstraps = [...nodes].filter((address) => /^terraform_data\.bootstrap-/.test(address)).sort();
  const problems: string[] = [];
  const quorum: string[] = [];
  const others: string[] = [];
  for (const bootstrap of bootstraps) {
    const instances = instancesOf(bootstrap);
    if (instances.length !== 1) problems.push(`${bootstrap} refers to ${instances.length} instances, not one`);
    (instances.some((instance) => quorumInstances.has(instance)) ? quorum : others).push(bootstrap);
  }
  if (quorum.length !== quorumInstances.size) problems.push(`${quorumInstances.size} quorum members, but ${quorum.length} bootstraps of them`);
  for (const bootstrap of others) {
    const before = reachable(edges, bootstrap);
    for (const member of quorum) if (!before.has(member)) problems.push(`${bootstrap} (outside the quorum) does not wait for ${member}`);
  }
  for (const member of quorum) {
    const before = reachable(edges, member);
    for (const bootstrap of others) if (before.has(bootstrap)) problems.push(`${member} (quorum) waits for ${bootstrap}, outside the quorum`);
  }
  return { quorum, others, problems };
}
