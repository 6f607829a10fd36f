/** An IPv4 CIDR block as numbers, for containment and overlap checks. */
export interface Ipv4Block {
  readonly first: number;
  readonly last: number;
  readonly prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; undefined when it is not IPv4 CIDR syntax. */
export function parseIpv4Cidr(text: string): Ipv4Block | undefined {
  const match = CIDR.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  const address = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  return { first, last: first + size - 1, prefix };
}

/** True when the address part has host bits set, e.g. 10.0.0.1/24. */
export function hasHostBits(text: string): boolean {
  const block = parseIpv4Cidr(text);
  return block !== undefined && formatIpv4(block.first) !== text.split("/")[0];
}

export function networkAddressOf(text: string): string {
  const block = parseIpv4Cidr(text);
  if (!block) throw new Error(`not a CIDR: ${text}`);
  return `${formatIpv4(block.first)}/${block.prefix}`;
}

export function contains(outer: Ipv4Block, inner: Ipv4Block): boolean {
  return inner.first >= outer.first && inner.last <= outer.last;
}

export function overlaps(a: Ipv4Block, b: Ipv4Block): boolean {
  return a.first <= b.last && b.first <= a.last;
}

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}
