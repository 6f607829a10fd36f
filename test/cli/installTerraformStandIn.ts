import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { transformFileSync } from "@swc/core";

/** Writes terraformStandIn.ts, compiled, as the executable `<bin>/terraform`, for a PATH that puts bin first. */
export function installTerraformStandIn(bin: string): void {
  const standIn = transformFileSync(join(__dirname, "terraformStandIn.ts"), { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" }, sourceMaps: false }).code;
  writeFileSync(join(bin, "terraform"), `#!${process.execPath}\n${standIn}`);
  chmodSync(join(bin, "terraform"), 0o755);
}
