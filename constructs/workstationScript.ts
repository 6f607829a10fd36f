import { Fn, type ITerraformDependable, type SSHProvisionerConnection } from "cdktf";
import type { Construct } from "constructs";
import { Resource as NullResource } from "@cdktf/provider-null/lib/resource";
import { escapeTerraformTemplate } from "./escapeTerraformTemplate";

export interface WorkstationConnection {
  /** The workstation's public IP. */
  readonly host: string;
  /** Path of the deployer's private key on the machine running Terraform; read at apply time only. */
  readonly privateKeyPath: string;
}

export interface WorkstationScriptProps {
  readonly workstation: WorkstationConnection;
  /** A rendered bash script; it reaches the workstation byte for byte. */
  readonly script: string;
  /** The script runs again whenever one of these values changes. */
  readonly triggers: Readonly<Record<string, string>>;
  /** Steps, and resources such as the security-group rules the script's connections need, that must exist first. @default none */
  readonly after?: readonly ITerraformDependable[];
}

/**
 * One deploy-time step that Terraform runs on the workstation over SSH: a null_resource named
 * `id` that copies a rendered script there and runs it. The deployer's key is read with file()
 * when Terraform applies, so it is in neither the JSON nor the state.
 */
export function workstationScript(scope: Construct, id: string, props: WorkstationScriptProps): NullResource {
  const connection: SSHProvisionerConnection = {
    type: "ssh",
    host: props.workstation.host,
    user: "ubuntu",
    privateKey: Fn.file(props.workstation.privateKeyPath),
    timeout: "10m",
  };
  const destination = `/tmp/platform-${id}.sh`;
  return new NullResource(scope, id, {
    triggers: { ...props.triggers },
    dependsOn: [...(props.after ?? [])],
    connection,
    provisioners: [
      { type: "file", content: escapeTerraformTemplate(props.script), destination },
      { type: "remote-exec", inline: [`bash ${destination}`] },
    ],
  });
}
