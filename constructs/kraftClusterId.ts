import { Fn, TerraformLocal } from "cdktf";
import type { Construct } from "constructs";
import { TerraformData } from "./TerraformData";

/** The base64url alphabet, in Kafka's Uuid.toString order (RFC 4648 section 5). */
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * A KRaft cluster id made by Terraform itself, with no provider: a `terraform_data` resource keeps
 * one `uuid()` in the state (ignore_changes, so it never changes after the first apply), and the
 * returned expression spells its 16 bytes the way Kafka's `Uuid` does: unpadded base64url, 22
 * characters. Every 3 hex digits (12 bits) give 2 characters; the last byte gives the 22nd
 * character with 4 zero bits, so it is one of A, Q, g, w. The first byte's top bit is cleared so
 * the id never starts with "-" or "_": Kafka's own generator refuses a leading "-", which command
 * lines would read as an option. That leaves 127 random bits. The expression is a local, so the
 * rest of the stack refers to it by name (cdktf mangles raw expressions nested in its functions).
 */
export function kraftClusterId(scope: Construct, id: string): string {
  return kafkaUuid(scope, id);
}

/**
 * A KRaft controller's metadata directory id, made the same way as the cluster id: a dynamic
 * quorum's initial controllers are formatted with `--initial-controllers id@host:port:<directory
 * id>,...`, and every one of them must be given the same list, so the ids are fixed before any
 * node is formatted and kept in the state for the cluster's life.
 */
export function kraftDirectoryId(scope: Construct, id: string): string {
  return kafkaUuid(scope, id);
}

function kafkaUuid(scope: Construct, id: string): string {
  const uuid = new TerraformData(scope, id, {
    input: { uuid: Fn.uuid() },
    lifecycle: { ignoreChanges: ["input"] },
  });
  const hex = `replace(${uuid.fqn}.output.uuid, "-", "")`;
  const twelveBits = (index: string): string => `parseint(substr(${hex}, ${index} * 3, 3), 16) % (${index} == 0 ? 2048 : 4096)`;
  const lastByte = `parseint(substr(${hex}, 30, 2), 16)`;
  const char = (position: string): string => `substr("${BASE64URL}", ${position}, 1)`;
  const clusterId = new TerraformLocal(
    scope,
    `${id}-text`,
    `\${join("", concat(` +
      `[for i in range(10) : format("%s%s", ${char(`floor(${twelveBits("i")} / 64)`)}, ${char(`${twelveBits("i")} % 64`)})], ` +
      `[${char(`floor(${lastByte} / 4)`)}, ${char(`${lastByte} % 4 * 16`)}]))}`,
  );
  return clusterId.asString;
}
