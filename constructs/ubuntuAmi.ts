import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { architectureOf, type CpuArchitecture } from "../config/architecture";
import type { UbuntuRelease } from "../config/PlatformConfig";

export { architectureOf, type CpuArchitecture };

/** Canonical's AWS account: only images it publishes are considered. */
export const CANONICAL_OWNER_ID = "099720109477";

const CODENAMES: Record<UbuntuRelease, string> = { "22.04": "jammy", "24.04": "noble" };
// Canonical moved its image names to the gp3 root-volume family with 24.04.
const VOLUME_FAMILY: Record<UbuntuRelease, string> = { "22.04": "hvm-ssd", "24.04": "hvm-ssd-gp3" };

/**
 * The newest Canonical Ubuntu LTS server image for a release and CPU architecture, looked up at
 * plan time (never a hard-coded AMI id). One data source per stack, release and architecture.
 */
export function ubuntuAmi(scope: Construct, release: UbuntuRelease, architecture: CpuArchitecture): DataAwsAmi {
  const stack = TerraformStack.of(scope);
  const id = `ubuntu-${release.replace(".", "")}-${architecture}`;
  const existing = stack.node.tryFindChild(id);
  if (existing) return existing as DataAwsAmi;
  return new DataAwsAmi(stack, id, {
    owners: [CANONICAL_OWNER_ID],
    mostRecent: true,
    filter: [
      { name: "name", values: [`ubuntu/images/${VOLUME_FAMILY[release]}/ubuntu-${CODENAMES[release]}-${release}-${architecture}-server-*`] },
      { name: "virtualization-type", values: ["hvm"] },
      { name: "root-device-type", values: ["ebs"] },
      { name: "architecture", values: [architecture === "amd64" ? "x86_64" : "arm64"] },
    ],
  });
}
