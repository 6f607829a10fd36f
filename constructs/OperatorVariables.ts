import { Fn, Op, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";

/** The widest admin_cidr accepted: /16 (see the validation below for why). */
export const ADMIN_CIDR_WIDEST_PREFIX = 16;
// The pattern has no backslash: cdktf writes it into an HCL string, where "\." is no escape.
const IPV4_CIDR = "^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$";
// The prefixes /16 to /32, each written as Terraform's regex() must see it (two digits, no zero padding).
const ADMIN_CIDR_PREFIXES = Array.from({ length: 33 - ADMIN_CIDR_WIDEST_PREFIX }, (_, i) => ADMIN_CIDR_WIDEST_PREFIX + i).join("|");

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
    variable.addValidation({
      condition: Op.and(
        Op.and(Fn.can(Fn.cidrhost(variable.stringValue, 0)), Fn.can(Fn.regex(IPV4_CIDR, variable.stringValue))),
        Op.not(Fn.contains(["0.0.0.0/0"], variable.stringValue)),
      ),
      errorMessage: `admin_cidr: "${variable.stringValue}" must be an IPv4 CIDR block such as 203.0.113.7/32 (IPv6 is not supported), and never 0.0.0.0/0.`,
    });
    // SSH reaches the one host that holds the fleet's keys: a block wider than an organisation's
    // own range (an ISP's, a cloud region's) lets strangers knock. /16 is the widest block AWS
    // gives a single VPC, and still leaves room for an office's or a VPN's egress range.
    // Only an IPv4 block is checked here; anything else is the rule above's to refuse.
    variable.addValidation({
      condition: Op.or(Op.not(Fn.can(Fn.regex(IPV4_CIDR, variable.stringValue))), Fn.can(Fn.regex(`/(${ADMIN_CIDR_PREFIXES})$`, variable.stringValue))),
      errorMessage: `admin_cidr: "${variable.stringValue}" is wider than /${ADMIN_CIDR_WIDEST_PREFIX}; use a prefix of /${ADMIN_CIDR_WIDEST_PREFIX} to /32, such as your public IP as 203.0.113.7/32.`,
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
