import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where the keys of one test run are made. */
const keyDir = mkdtempSync(join(tmpdir(), "ssh-keys-"));

/**
 * A real SSH host key made by ssh-keygen, as `<type> <base64>` (what a node publishes and a
 * known_hosts line holds after its address): scripts that pin keys must meet keys sshd would
 * present, not strings shaped like them.
 */
export function realHostKey(name: string, type: "ed25519" | "ecdsa" | "rsa" = "ed25519"): string {
  const file = join(keyDir, name);
  execFileSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", `root@${name}`, "-f", file]);
  return readFileSync(`${file}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
}

/**
 * Real host keys by name, each made by ssh-keygen the first time a test reads it: only the script
 * tests read them, and `npm test`'s quick tier should not pay for keys it never uses.
 */
export function hostKeysOnFirstUse<Name extends string>(types: Readonly<Record<Name, "ed25519" | "ecdsa" | "rsa">>): Readonly<Record<Name, string>> {
  const keys = {} as Record<Name, string>;
  for (const name of Object.keys(types) as Name[]) {
    let made: string | undefined;
    Object.defineProperty(keys, name, { enumerable: true, get: () => (made ??= realHostKey(name, types[name])) });
  }
  return keys;
}
