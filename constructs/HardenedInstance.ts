import { gzipSync } from "node:zlib";
import { Fn, TerraformLocal, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import type { UbuntuRelease } from "../config/PlatformConfig";
import { escapeTerraformTemplate } from "./escapeTerraformTemplate";
import { architectureOf, ubuntuAmi } from "./ubuntuAmi";

/** See HardenedInstanceProps.onUserDataChange. */
export type UserDataChange = "replace" | "ignore";

/** EC2 refuses user data above 16 KiB (before base64; gzipped, that is the compressed size). */
export const MAX_USER_DATA_BYTES = 16384;
/**
 * What synth lets a script gzip to: Terraform's compressor (Go's, at its default level) may do a
 * little worse than zlib here, so a KiB is kept in hand.
 */
const USER_DATA_GZIP_BUDGET = MAX_USER_DATA_BYTES - 1024;

export interface HardenedInstanceProps {
  /** Name tag, and the name of the instance's IAM role and profile. */
  readonly name: string;
  /** Ubuntu LTS release of the AMI. */
  readonly ubuntuRelease: UbuntuRelease;
  /** EC2 instance type; its CPU architecture picks the AMI. */
  readonly instanceType: string;
  readonly subnetId: string;
  readonly securityGroupIds: string[];
  /**
   * Bash script run once at first boot, exactly as rendered. It travels gzipped (cloud-init
   * unpacks it), so a script may exceed EC2's 16 KiB as long as it compresses below it.
   * @default no user data
   */
  readonly userData?: string;
  /**
   * What a later change of the user data does. EC2 runs user data only at first boot, and the
   * provider's default for a changed script is to stop and start the instance, which runs
   * nothing and, for a cluster, stops every member at once. So: `replace` an instance that holds
   * no state, and `ignore` the change on one that does (a replacement gets the new script; what
   * must change on a running instance reaches it another way). Required, so every instance kind
   * states its choice.
   */
  readonly onUserDataChange: UserDataChange;
  /** Inline policies of the instance role, by name: least privilege, nothing attached by default. @default {} */
  readonly policies?: Readonly<Record<string, string>>;
  /** @default 20 */
  readonly rootVolumeGiB?: number;
  /** Only the operator's entry point should have one. @default false */
  readonly associatePublicIpAddress?: boolean;
  /** EC2 key pair authorized for the `ubuntu` user. @default none */
  readonly keyName?: string;
  /** What must exist before the instance boots, besides its role's policies (which it always waits for). @default none */
  readonly dependsOn?: readonly ITerraformDependable[];
}

/**
 * An Ubuntu LTS instance that meets the platform's guardrails by construction: Canonical's AMI
 * found by a data source, IMDSv2 only, encrypted gp3 root volume, its own least-privilege
 * instance role, and user data that Terraform passes through untouched.
 */
export class HardenedInstance extends Construct {
  /** Its Name tag, and its role's and profile's name. */
  readonly name: string;
  readonly instance: Instance;
  readonly role: IamRole;
  /** The script as rendered, before escaping for Terraform: what the instance must receive. */
  readonly userDataScript?: string;
  /** The escaped script, which Terraform gzips into the instance's user_data_base64. */
  readonly userDataLocal?: TerraformLocal;

  constructor(scope: Construct, id: string, props: HardenedInstanceProps) {
    super(scope, id);
    this.name = props.name;
    this.userDataScript = props.userData;
    // Terraform references are still placeholders here; the addresses that replace them are shorter.
    const userDataBytes = props.userData === undefined ? 0 : gzipSync(props.userData).length;
    if (userDataBytes > USER_DATA_GZIP_BUDGET) {
      throw new Error(
        `${props.name}: user data is ${userDataBytes} bytes gzipped; EC2 accepts at most ${MAX_USER_DATA_BYTES}, and synth keeps ${MAX_USER_DATA_BYTES - USER_DATA_GZIP_BUDGET} of them for Terraform's compressor`,
      );
    }

    const trust = new DataAwsIamPolicyDocument(this, "trust", {
      statement: [{ actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }] }],
    });
    this.role = new IamRole(this, "role", { name: props.name, assumeRolePolicy: trust.json });
    const policies = Object.entries(props.policies ?? {}).map(
      ([policyName, policy]) => new IamRolePolicy(this, `policy-${policyName}`, { role: this.role.id, name: policyName, policy }),
    );
    const profile = new IamInstanceProfile(this, "profile", { name: props.name, role: this.role.name });

    // The script is a Terraform local, a plain string in which Terraform interpolates only the
    // references left live by the escaping; cdktf cannot pass such a string to a function directly.
    this.userDataLocal = props.userData === undefined ? undefined : new TerraformLocal(this, "user_data", escapeTerraformTemplate(props.userData));
    const ami = ubuntuAmi(this, props.ubuntuRelease, architectureOf(props.instanceType));
    this.instance = new Instance(this, "instance", {
      ami: ami.id,
      instanceType: props.instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: props.securityGroupIds,
      iamInstanceProfile: profile.name,
      associatePublicIpAddress: props.associatePublicIpAddress ?? false,
      keyName: props.keyName,
      monitoring: true,
      // Every type the platform launches (t3, m7i and their Nitro kin) is EBS-optimized by
      // default; stating it keeps a type that is not from launching without it.
      ebsOptimized: true,
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "disabled",
      },
      rootBlockDevice: {
        volumeType: "gp3",
        volumeSize: props.rootVolumeGiB ?? 20,
        encrypted: true,
        deleteOnTermination: true,
        // Tags the root volume only: volume_tags would also claim the tags of an aws_ebs_volume
        // attached to the instance, and the two would rewrite each other on every apply.
        tags: { Name: props.name },
      },
      userDataBase64: this.userDataLocal === undefined ? undefined : Fn.base64gzip(this.userDataLocal.asString),
      userDataReplaceOnChange: props.userData === undefined ? undefined : props.onUserDataChange === "replace",
      tags: { Name: props.name },
      // The profile names only the role: without this, the first boot can run before the role's
      // policies exist, and its first AWS calls are refused.
      dependsOn: [...policies, ...(props.dependsOn ?? [])],
      // A newer Ubuntu image must not replace running nodes on the next deploy. Nor may
      // ebs_optimized, which is force-new: EC2 reports false for an instance launched without
      // the flag, even on a type that is EBS-optimized by default, so stating it would replace
      // every node launched before it was stated, for no change in how the node uses EBS.
      lifecycle: { ignoreChanges: [...(props.onUserDataChange === "ignore" ? ["ami", "user_data_base64"] : ["ami"]), "ebs_optimized"] },
    });
  }

  get privateIp(): string {
    return this.instance.privateIp;
  }
}
