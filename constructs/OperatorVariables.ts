import { Fn, Op, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";

/**
 * Values that differ per operator and must not be baked into the synthesized JSON. They are
 * Terraform variables: synth needs none of them, the operator exports them as TF_VAR_* (not the
 * cdktf CLI's --var, which reaches every stack of a command, while Terraform refuses a value on
 * its command line for a variable the stack does not declare). Each stack that needs one declares
 * it through these functions, so names and rules match.
 */
export const OperatorVariables = {
  /** The only network allowed to SSH to the operator's entry point (TF_VAR_admin_cidr). */
  adminCidr(scope: Construct): TerraformVariable {
    const variable = new TerraformVariable(scope, "admin_cidr", {
      type: "string",
      description: "CIDR allowed to SSH to the Chef workstation, e.g. your public IP as 203.0.113.7/32",
    });
    // The rule it feeds is cidr_ipv4: an IPv6 block would pass cidrhost() and fail at apply.
    // The pattern has no backslash: cdktf writes it into an HCL string, where "\." is no escape.
    variable.addValidation({
      condition: Op.and(
        Op.and(Fn.can(Fn.cidrhost(variable.stringValue, 0)), Fn.can(Fn.regex("^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$", variable.stringValue))),
        Op.not(Fn.contains(["0.0.0.0/0"], variable.stringValue)),
      ),
      errorMessage: "admin_cidr must be an IPv4 CIDR block such as 203.0.113.7/32 (IPv6 is not supported), and never 0.0.0.0/0.",
    });
    return variable;
  },

  /** An existing EC2 key pair whose public key is authorized on the entry point (TF_VAR_key_pair_name). */
  keyPairName(scope: Construct): TerraformVariable {
    const variable = new TerraformVariable(scope, "key_pair_name", {
      type: "string",
      description: "Name of an EC2 key pair in the target region; its private key stays on your laptop",
    });
    variable.addValidation({
      condition: Op.and(Op.gte(Fn.lengthOf(variable.stringValue), 1), Op.lte(Fn.lengthOf(variable.stringValue), 255)),
      errorMessage: "key_pair_name must be the name of an EC2 key pair (1-255 characters).",
    });
    return variable;
  },

  /** Path of that key pair's private key on the deployer's machine; the key itself never leaves it. */
  deployerPrivateKeyPath(scope: Construct): TerraformVariable {
    const variable = new TerraformVariable(scope, "deployer_private_key_path", {
      type: "string",
      description: "Path on this machine of the private key of key_pair_name, used by provisioners to reach the workstation",
    });
    variable.addValidation({
      condition: Fn.fileexists(variable.stringValue),
      errorMessage: "deployer_private_key_path must name a readable private key file on the machine running terraform.",
    });
    return variable;
  },
};
