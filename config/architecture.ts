export type CpuArchitecture = "amd64" | "arm64";

/** Graviton families carry a `g` after the generation digit (m7g, c7gn, r8gd, t4g), all but the first: a1. */
export function architectureOf(instanceType: string): CpuArchitecture {
  const family = instanceType.split(".")[0];
  if (family === "a1") return "arm64";
  const suffix = /^[a-z]+\d+([a-z-]*)$/.exec(family)?.[1] ?? "";
  return suffix.includes("g") ? "arm64" : "amd64";
}
