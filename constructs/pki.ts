import type { PlatformConfig } from "../config/PlatformConfig";
import { SETUP_COMMAND } from "./setupCommand";

/**
 * The platform's own certificate authority and the certificates it signs (mutual TLS for Kafka
 * and ZooKeeper). The CA's key is made on the workstation at its first boot and kept in SSM as a
 * SecureString under the Chef CMK; no key ever passes through Terraform, its state or user data.
 */

/** Where every Kafka node keeps its key, its certificate and the CA's certificate. */
export const NODE_TLS_DIR = "/etc/platform/tls";
/** The common name every Kafka node's certificate carries: brokers share one DN and differ by SAN. */
export const BROKER_COMMON_NAME = "kafka-broker";
/** The workstation's own client identity, a super user of the cluster. */
export const ADMIN_COMMON_NAME = "kafka-admin";
/** Spark's client identity. */
export const SPARK_COMMON_NAME = "spark";
/** Where the workstation keeps the kafka-admin identity and the CA's certificate. */
export const ADMIN_TLS_DIR = "/home/ubuntu/.platform/tls";

/** Validity of a leaf certificate, and how many days before its end a converge renews it. */
export const LEAF_CERTIFICATE_DAYS = 365;
export const RENEW_WITHIN_DAYS = 60;
/** Validity of the CA's own certificate: ten years, rotated by hand (docs/tls.md). */
export const CA_CERTIFICATE_DAYS = 3650;
/** RSA key size of the CA and every leaf. */
export const KEY_BITS = 3072;

/** The SSM parameters of the platform's PKI, all under `/<project>/<environment>/`. */
export interface PkiParameters {
  /** SecureString, Chef CMK: the CA's private key. Only the workstation reads or writes it. */
  readonly caKey: string;
  /** String: the CA's certificate. */
  readonly caCert: string;
  /** SecureString, Spark CMK: the `spark` client key. The workstation writes it, Spark's roles read it. */
  readonly sparkKey: string;
  /** String: the `spark` client certificate. */
  readonly sparkCert: string;
}

export function pkiParameters(config: Pick<PlatformConfig, "project" | "environment">): PkiParameters {
  const root = `/${config.project}/${config.environment}`;
  return {
    caKey: `${root}/pki/ca-key`,
    caCert: `${root}/pki/ca-cert`,
    sparkKey: `${root}/kafka/clients/${SPARK_COMMON_NAME}/key`,
    sparkCert: `${root}/kafka/clients/${SPARK_COMMON_NAME}/cert`,
  };
}

/** The organization every certificate names: one per deployment, so two deployments never trust each other's nodes. */
export function pkiOrganization(config: Pick<PlatformConfig, "project" | "environment">): string {
  return `${config.project}-${config.environment}`;
}

/** The context the shared bash's PKI section (`{{#if pki}}` in common.sh.hbs) renders from. */
export function pkiContext(config: Pick<PlatformConfig, "project" | "environment" | "region">): Record<string, unknown> {
  const parameters = pkiParameters(config);
  return {
    region: config.region,
    caKeyParameter: parameters.caKey,
    caCertParameter: parameters.caCert,
    organization: pkiOrganization(config),
    brokerCommonName: BROKER_COMMON_NAME,
    nodeDir: NODE_TLS_DIR,
    days: LEAF_CERTIFICATE_DAYS,
    renewDays: RENEW_WITHIN_DAYS,
    caDays: CA_CERTIFICATE_DAYS,
    keyBits: KEY_BITS,
    setupCommand: SETUP_COMMAND,
  };
}
