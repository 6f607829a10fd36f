import { Fn, type ITerraformDependable, type SSHProvisionerConnection } from "cdktf";
import type { Construct } from "constructs";
import { TerraformData } from "./TerraformData";
import { escapeTerraformTemplate } from "./escapeTerraformTemplate";

/** Where the workstation's sshd is reached from the machine running Terraform. */
export interface WorkstationAccess {
  /** The workstation's public IP, or 127.0.0.1 where the operator's tunnel listens. */
  readonly host: string;
  /** 22, or the tunnel's local port. */
  readonly port: number;
  /** Changes only when the workstation is replaced: steps that set a workstation up re-run on it. */
  readonly instanceId: string;
}

export interface WorkstationConnection extends WorkstationAccess {
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
 * One deploy-time step that Terraform runs on the workstation over SSH: a `terraform_data`
 * resource named `id` that copies a rendered script there and runs it. Terraform's built-in
 * resource (1.4+) needs no provider, so nothing beyond the AWS provider is installed to deploy or
 * validate; a change of `triggers_replace` replaces it, and creating it runs the provisioners
 * again. The deployer's key is read with file() when Terraform applies, so it is in neither the
 * JSON nor the state.
 */
export function workstationScript(scope: Construct, id: string, props: WorkstationScriptProps): TerraformData {
  const connection: SSHProvisionerConnection = {
    type: "ssh",
    host: props.workstation.host,
    port: props.workstation.port,
    user: "ubuntu",
    privateKey: Fn.file(props.workstation.privateKeyPath),
    timeout: "10m",
  };
  const destination = `/tmp/platform-${id}.sh`;
  return new TerraformData(scope, id, {
    triggersReplace: { ...props.triggers },
    dependsOn: [...(props.after ?? [])],
    connection,
    provisioners: [
      { type: "file", content: escapeTerraformTemplate(props.script), destination },
      { type: "remote-exec", inline: [`bash ${destination}`] },
    ],
  });
}
