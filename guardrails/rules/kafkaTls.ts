import type { IConstruct } from "constructs";
import type { TerraformStack } from "cdktf";
import { resourcesOfType } from "../resourceConfig";
import type { Violation } from "../Violation";

export const KAFKA_TLS = "kafka-tls";
const METADATA_KEY = "platform:kafka-security";

/** Records on the object that carries the Chef roles which kafka.security the config chose. */
export function declareKafkaSecurity(rolesObject: IConstruct, security: string): void {
  rolesObject.node.addMetadata(METADATA_KEY, { security });
}

type Attributes = Record<string, Record<string, unknown> | undefined>;

/** What in one role's attributes gives Kafka a plaintext listener; empty when nothing does. */
function plaintextSettings(attributes: Attributes): string[] {
  const found: string[] = [];
  const security = attributes["insight-kafka-cluster"]?.security;
  if (security === "plaintext" || security === "migrating") found.push(`insight-kafka-cluster.security "${security}"`);
  const kafka = attributes["kafka-cluster"] as { tls?: { enabled?: unknown }; config?: { properties?: Record<string, unknown> } } | undefined;
  if (kafka?.tls?.enabled === false) found.push("kafka-cluster.tls.enabled false");
  const properties = kafka?.config?.properties ?? {};
  for (const key of ["listeners", "advertised.listeners", "listener.security.protocol.map"]) {
    const value = properties[key];
    if (typeof value === "string" && /(^|,)\s*PLAINTEXT(:\/\/|:PLAINTEXT)|:PLAINTEXT\s*(,|$)/i.test(value)) found.push(`${key}=${value}`);
  }
  return found;
}

/**
 * No Kafka listener without TLS unless the config opted in: a synthesized Chef role whose
 * attributes give Kafka a plaintext listener fails synth while kafka.security is "tls".
 */
export function kafkaTls(stack: TerraformStack): Violation[] {
  const violations: Violation[] = [];
  for (const { resource, config } of resourcesOfType(stack, "aws_s3_object")) {
    if (typeof config.key !== "string" || !config.key.endsWith("roles.json") || typeof config.content !== "string") continue;
    let roles: Array<{ name?: string; default_attributes?: Attributes; override_attributes?: Attributes }>;
    try {
      roles = JSON.parse(config.content);
    } catch {
      continue;
    }
    const declared = resource.node.metadata.find((entry) => entry.type === METADATA_KEY)?.data as { security?: string } | undefined;
    const security = declared?.security ?? "tls";
    if (security === "plaintext" || security === "migrating") continue;
    for (const role of Array.isArray(roles) ? roles : []) {
      const settings = [...plaintextSettings(role.default_attributes ?? {}), ...plaintextSettings(role.override_attributes ?? {})];
      if (settings.length === 0) continue;
      violations.push({
        construct: resource,
        ruleId: KAFKA_TLS,
        message: `role ${role.name} gives Kafka a plaintext listener (${settings.join("; ")}) while kafka.security is "${security}": set kafka.security "plaintext" for a lab, or remove the setting`,
      });
    }
  }
  return violations;
}
