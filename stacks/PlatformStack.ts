import { Aspects, LocalBackend, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { PlatformConfig } from "../config/PlatformConfig";
import { Guardrails } from "../guardrails/Guardrails";
import { ProviderLock } from "./ProviderLock";

export interface PlatformStackProps {
  /** The validated platform config. */
  readonly config: PlatformConfig;
}

/** The Terraform (or OpenTofu) releases that can deploy the stacks: S3-native state locking came in 1.10. */
export const MINIMUM_TERRAFORM_VERSION = ">= 1.10";

/** The tags every resource carries, applied through the AWS provider's default_tags. */
export function platformTags(config: PlatformConfig): Record<string, string> {
  return { Project: config.project, Environment: config.environment, ManagedBy: "cdktf" };
}

/**
 * Where a stack keeps its state without a shared backend: `terraform.<stack>.tfstate` in the
 * project's root, written relative to the stack's directory (`cdktf.out/stacks/<stack>`) where
 * Terraform runs. cdktf's default is an absolute path of the machine that synthesized, so JSON
 * made in CI could not be applied from another checkout. Stacks that read another stack's
 * outputs run in a sibling directory, so the same relative path finds its state.
 */
export function localStatePath(stackId: string): string {
  return `../../../terraform.${stackId}.tfstate`;
}

/**
 * What every stack of the platform shares: the AWS provider with default tags and its lock, the
 * optional shared S3 state backend, and the guardrails that run on each synth.
 */
export class PlatformStack extends TerraformStack {
  readonly config: PlatformConfig;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    this.config = props.config;
    new AwsProvider(this, "aws", {
      region: props.config.region,
      defaultTags: [{ tags: platformTags(props.config) }],
    });
    new ProviderLock(this);
    const state = props.config.state;
    if (state.bucket !== "") {
      const backend = new S3Backend(this, {
        bucket: state.bucket,
        key: `${props.config.project}/${props.config.environment}/${id}.tfstate`,
        region: state.region || props.config.region,
        encrypt: true,
      });
      // S3-native state locking (Terraform >= 1.10); cdktf 0.21's S3Backend predates the option.
      backend.addOverride("use_lockfile", true);
    } else {
      new LocalBackend(this, { path: localStatePath(id) });
    }
    // The shared S3 backend locks with use_lockfile, which Terraform and OpenTofu read from 1.10.
    this.addOverride("terraform.required_version", MINIMUM_TERRAFORM_VERSION);
    Aspects.of(this).add(new Guardrails());
  }

  /** A name unique to this deployment, for resources that need one: `insight-dev-<suffix>`. */
  resourceName(suffix: string): string {
    return `${this.config.project}-${this.config.environment}-${suffix}`;
  }
}
