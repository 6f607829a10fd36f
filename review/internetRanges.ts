/**
 * Whether CIDR ranges together reach every address of their family: `0.0.0.0/1` and
 * `128.0.0.0/1` are the internet as surely as `0.0.0.0/0`. Ranges that do not parse count for
 * nothing (Terraform would refuse them first).
 */
export function coversEverything(cidrs: readonly string[], family: 4 | 6): boolean {
  const bits = family === 4 ? 32 : 128;
  const intervals = cidrs
    .map((cidr) => rangeOf(cidr, family))
    .filter((range): range is [bigint, bigint] => range !== undefined)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let next = 0n;
  for (const [start, end] of intervals) {
    if (start > next) return false;
    if (end + 1n > next) next = end + 1n;
  }
  return next === 1n << BigInt(bits);
}

/** First and last address of a CIDR of the given family, as integers. */
function rangeOf(cidr: string, family: 4 | 6): [bigint, bigint] | undefined {
  const [address, prefixText] = cidr.split("/");
  const bits = family === 4 ? 32 : 128;
  const prefix = Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return undefined;
  const value = family === 4 ? ipv4(address) : ipv6(address);
  if (value === undefined) return undefined;
  const size = 1n << BigInt(bits - prefix);
  const start = (value / size) * size;
  return [start, start + size - 1n];
}

function ipv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return undefined;
  return parts.reduce((sum, part) => sum * 256n + BigInt(part), 0n);
}

function ipv6(text: string): bigint | undefined {
  const halves = text.toLowerCase().split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): string[] => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return all.reduce((sum, group) => sum * 65536n + BigInt(parseInt(group, 16)), 0n);
}
