/**
 * Memory of an EC2 instance type in MiB, as AWS's instance type tables list it, for the families
 * whose sizes follow one rule; undefined for any other (the check that uses it is then skipped,
 * never guessed). Synth has no AWS API to ask.
 */
export function instanceMemoryMiB(instanceType: string): number | undefined {
  const [family, size] = instanceType.split(".");
  if (family === undefined || size === undefined) return undefined;
  const burstable = BURSTABLE_GIB[size];
  if (/^t(3|3a|4g)$/.test(family)) return burstable === undefined ? undefined : burstable * 1024;
  // m, c and r families since their 5th generation: GiB per vCPU is fixed by the letter.
  const match = /^([mcr])[5-8][a-z]*$/.exec(family);
  if (!match) return undefined;
  const vcpus = size === "medium" ? 1 : size === "large" ? 2 : size === "xlarge" ? 4 : /^(\d+)xlarge$/.test(size) ? 4 * Number(size.slice(0, -6)) : undefined;
  if (vcpus === undefined) return undefined;
  return vcpus * GIB_PER_VCPU[match[1]] * 1024;
}

const GIB_PER_VCPU: Record<string, number> = { m: 4, c: 2, r: 8 };

/** t3, t3a and t4g share one size table. */
const BURSTABLE_GIB: Record<string, number> = { nano: 0.5, micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, "2xlarge": 32 };
