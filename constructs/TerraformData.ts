import { anyToHclTerraform, anyToTerraform, type DataConfig, hashMapper, hashMapperHcl, TerraformResource } from "cdktf";
import type { Construct } from "constructs";

/**
 * Terraform's built-in `terraform_data` resource, as cdktf's `DataResource` writes it (same JSON),
 * without the check cdktf attaches to every `DataResource`: it runs `terraform version` once per
 * resource while synthesizing. That made synth fail on a machine without Terraform (synth needs
 * none) and cost a process start per Kafka node (about 2 s of a 31-broker synth). Terraform itself
 * enforces its version floor at deploy, from the stacks' `required_version`.
 */
export class TerraformData extends TerraformResource {
  private readonly inputValue?: DataConfig["input"];
  private readonly triggersReplaceValue?: DataConfig["triggersReplace"];

  constructor(scope: Construct, id: string, config: DataConfig = {}) {
    super(scope, id, {
      terraformResourceType: "terraform_data",
      terraformGeneratorMetadata: { providerName: "terraform" },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach,
    });
    this.inputValue = config.input;
    this.triggersReplaceValue = config.triggersReplace;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return {
      input: hashMapper(anyToTerraform)(this.inputValue),
      triggers_replace: hashMapper(anyToTerraform)(this.triggersReplaceValue),
    };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return {
      input: hashMapperHcl(anyToHclTerraform)(this.inputValue),
      triggers_replace: hashMapperHcl(anyToHclTerraform)(this.triggersReplaceValue),
    };
  }
}
