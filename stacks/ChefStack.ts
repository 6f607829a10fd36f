import { createHash } from "node:crypto";
import { join } from "node:path";
import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import type { Subnet } from "@cdktf/provider-aws/lib/subnet";
import type { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { chefPackages, knifeConfigPath } from "../constructs/chefPackages";
import { chefRepoDigests, chefRepoRolesJson } from "../constructs/chefRepo";
import { declareKafkaSecurity } from "../guardrails/rules/kafkaTls";
import { HardenedInstance } from "../constructs/HardenedInstance";
import { InstanceConnectEndpoint } from "../constructs/instanceConnectEndpoint";
import { operatorAccessPolicy } from "../constructs/operatorAccessPolicy";
import { kafkaNodeRole } from "../constructs/kafkaNodeRole";
import { OperatorVariables } from "../constructs/OperatorVariables";
import { ADMIN_TLS_DIR, pkiContext, pkiParameters, SPARK_KEY_ALIAS_SUFFIX } from "../constructs/pki";
import { PlatformKey, ssmParameterKeyStatement, SSM_READER_ACTIONS, SSM_WRITER_ACTIONS, waitFor } from "../constructs/platformKey";
import { ServiceLogGroups } from "../constructs/monitoring/ServiceLogGroups";
import { renderScript } from "../constructs/renderScript";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import { hostKeysPath } from "../constructs/hostKeys";
import { SPARK_JOBS_KEY_FILE } from "../constructs/sparkJobsIdentity";
import { ssmParameterArn } from "../constructs/ssmParameterArn";
import { tarGz } from "../constructs/tarGz";
import { allowInternetEgress, allowTcp, securityGroup } from "../constructs/securityGroupRules";
import { architectureOf } from "../constructs/ubuntuAmi";
import { NodeMonitoring } from "../constructs/monitoring/NodeMonitoring";
import { type WorkstationAccess } from "../constructs/workstationScript";
import { PlatformStack, type PlatformStackProps } from "./PlatformStack";

/** The bootstrap key parameter's value until the workstation publishes its key: not a key, so nodes accept nothing. */
export const BOOTSTRAP_KEY_PLACEHOLDER = "none: the Chef workstation publishes its bootstrap public key here when it boots";
/** The jobs key parameter's value until the workstation publishes its key: not a key, so the Spark master accepts nothing. */
export const JOBS_KEY_PLACEHOLDER = "none: the Chef workstation publishes its Spark jobs public key here when it boots";

/** The same in both access modes: the outputs reference lists one description per output. */
const WORKSTATION_SSH_DESCRIPTION = "Log in to the workstation (through the tunnel, with the endpoint); knife is configured in ~/chef-repo";

/** Where the repository's cookbooks are read from at synth. */
export const COOKBOOKS_DIR = join(__dirname, "..", "cookbooks");

export interface ChefStackProps extends PlatformStackProps {
  readonly network: {
    readonly vpc: Vpc;
    readonly publicSubnets: readonly Subnet[];
    readonly privateSubnets: readonly Subnet[];
    readonly workstationSecurityGroup: SecurityGroup;
  };
  /** The data bucket, which also carries the cookbooks archive to the workstation. */
  readonly dataBucket: S3Bucket;
  /** The ARN of the key the data bucket encrypts new objects under. */
  readonly dataKeyArn: string;
}

/**
 * The Chef control plane: a Chef Infra (or Cinc) Server in a private subnet and a workstation
 * that is the operator's single SSH entry point, by a public address or through an EC2 Instance
 * Connect Endpoint (chef.operatorAccess). Both install themselves from user data; the
 * server hands its keys to the workstation through SSM SecureStrings that only their roles can
 * write and read, and the workstation uploads this repository's cookbooks and role.
 */
export class ChefStack extends PlatformStack {
  readonly server: HardenedInstance;
  readonly workstation: HardenedInstance;
  /** Where Terraform's deploy-time steps reach the workstation's sshd: its public address, or the operator's tunnel. */
  readonly workstationAccess: WorkstationAccess;
  /** Cluster stacks allow their nodes in on 443 (chef-client) by adding rules to this group. */
  readonly serverSecurityGroup: SecurityGroup;
  /** `https://<server private DNS>/organizations/<org>` */
  readonly serverUrl: string;
  /** SSM parameter holding the workstation's bootstrap public key, which nodes authorize. */
  readonly bootstrapKeyParameter: string;
  /** SSM parameter holding the workstation's private address, the only one nodes accept the bootstrap key from. */
  readonly bootstrapKeySourceParameter: string;
  /** IAM policy JSON that lets a node read the bootstrap public key. */
  readonly readBootstrapKeyPolicyJson: string;
  /**
   * SSM parameter holding the workstation's Spark jobs public key: the Spark master accepts it for
   * spark-jobs, a user without sudo, so submitting a job needs no root identity.
   */
  readonly jobsKeyParameter: string;
  /** IAM policy JSON that lets the Spark master read the jobs public key and the workstation's address. */
  readonly readJobsKeyPolicyJson: string;
  /** Changes whenever a cookbook or the generated role changes; provisioners key re-runs on it. */
  readonly chefRepoHash: string;
  /** Encrypts the admin key: only the server may encrypt with it and only the workstation decrypt. */
  readonly adminKeyEncryption: PlatformKey;
  /**
   * The Chef server's log group, and the provisioning group every node of the platform ships its
   * setup logs to: this is the first stack with nodes, deployed before the Spark and Kafka stacks.
   */
  readonly logGroups: ServiceLogGroups;

  constructor(scope: Construct, id: string, props: ChefStackProps) {
    super(scope, id, props);
    const { config } = props;
    const chef = config.chef;
    const { vpc, publicSubnets, privateSubnets, workstationSecurityGroup } = props.network;
    const packages = chefPackages(chef, chef.serverUbuntuRelease, chef.workstationUbuntuRelease);

    const keyPairName = OperatorVariables.keyPairName(this);
    const throughEndpoint = chef.operatorAccess === "instance-connect-endpoint";
    // Without a public address the workstation lives beside the server, and the endpoint with it.
    const workstationSubnet = throughEndpoint ? privateSubnets[0] : publicSubnets[0];
    const endpoint = throughEndpoint
      ? new InstanceConnectEndpoint(this, "instance-connect-endpoint", {
          name: this.resourceName("operator-access"),
          vpcId: vpc.id,
          subnetId: workstationSubnet.id,
          workstationSecurityGroup,
        })
      : undefined;
    if (!throughEndpoint) {
      new VpcSecurityGroupIngressRule(this, "workstation-ssh-from-admin", {
        securityGroupId: workstationSecurityGroup.id,
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: OperatorVariables.adminCidr(this).stringValue,
        // EC2 refuses an apostrophe here: descriptions take only a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*
        description: "SSH from the operator network (admin_cidr) only",
      });
    }

    this.serverSecurityGroup = securityGroup(this, "server-security-group", {
      name: this.resourceName("chef-server"),
      vpcId: vpc.id,
      description: "Chef Infra Server: HTTPS from the workstation and cluster nodes",
    });
    allowTcp(this, "server-https-from-workstation", this.serverSecurityGroup, {
      port: 443,
      from: workstationSecurityGroup,
      description: "knife from the workstation",
    });
    allowTcp(this, "server-ssh-from-workstation", this.serverSecurityGroup, {
      port: 22,
      from: workstationSecurityGroup,
      description: "SSH from the workstation only",
    });
    allowInternetEgress(this, "server-egress", this.serverSecurityGroup);

    // One path per deployment, so several deployments can share an account. The server publishes
    // its admin key under its own instance id, so a server deployed again (after a destroy, or a
    // replacement) never hands the workstation the key of the one before it.
    const parameterPath = `/${config.project}/${config.environment}/chef`;
    this.bootstrapKeyParameter = `${parameterPath}/bootstrap-public-key`;
    this.bootstrapKeySourceParameter = `${parameterPath}/bootstrap-key-source`;
    this.jobsKeyParameter = `${parameterPath}/jobs-public-key`;
    // Terraform owns the key parameters, so destroying the chef stack removes them and nodes forget
    // the keys they kept (their lookup drops its copy when the parameter is gone). The workstation
    // writes each value at boot; Terraform keeps only the placeholder it created.
    const publicKeyParameter = (id: string, name: string, placeholder: string, description: string): SsmParameter =>
      new SsmParameter(this, id, { name, type: "String", value: placeholder, description, lifecycle: { ignoreChanges: ["value"] } });
    const bootstrapKey = publicKeyParameter(
      "bootstrap-public-key",
      this.bootstrapKeyParameter,
      BOOTSTRAP_KEY_PLACEHOLDER,
      "The Chef workstation's public bootstrap key, which every node accepts for ubuntu",
    );
    const jobsKey = publicKeyParameter(
      "jobs-public-key",
      this.jobsKeyParameter,
      JOBS_KEY_PLACEHOLDER,
      "The Chef workstation's public Spark jobs key, which the Spark master accepts for spark-jobs",
    );
    const parameterArn = (name: string): string => ssmParameterArn(this, config.region, name);
    type Statement = { sid: string; effect?: "Allow" | "Deny"; actions: string[]; resources: string[]; condition?: Array<{ test: string; variable: string; values: string[] }> };
    const policy = (policyId: string, statements: Statement[]): string =>
      new DataAwsIamPolicyDocument(this, policyId, { statement: statements }).json;
    this.readBootstrapKeyPolicyJson = policy("read-bootstrap-key", [
      // GetParameters: the lookup reads the key and the address in one call. GetParameter: the
      // lookup of Kafka nodes set up before it, which keep running theirs (no from=).
      { sid: "ReadBootstrapKey", actions: ["ssm:GetParameter", "ssm:GetParameters"], resources: [parameterArn(this.bootstrapKeyParameter), parameterArn(this.bootstrapKeySourceParameter)] },
    ]);
    this.readJobsKeyPolicyJson = policy("read-jobs-key", [
      { sid: "ReadJobsKey", actions: ["ssm:GetParameters"], resources: [parameterArn(this.jobsKeyParameter), parameterArn(this.bootstrapKeySourceParameter)] },
    ]);

    // The repository's cookbooks and the generated role travel to the workstation through the
    // bucket. The archive is built in-process and inline (about 15 KB), which keeps synth fast.
    const cookbooks = tarGz(COOKBOOKS_DIR);
    const cookbooksKey = "chef-repo/cookbooks.tar.gz";
    const rolesKey = "chef-repo/roles.json";
    const rolesJson = chefRepoRolesJson([kafkaNodeRole(config)]);
    const cookbooksObject = new S3Object(this, "cookbooks-object", {
      bucket: props.dataBucket.bucket,
      key: cookbooksKey,
      contentBase64: cookbooks.toString("base64"),
      contentType: "application/gzip",
    });
    const rolesObject = new S3Object(this, "roles-object", {
      bucket: props.dataBucket.bucket,
      key: rolesKey,
      content: rolesJson,
      contentType: "application/json",
    });
    declareKafkaSecurity(rolesObject, config.kafka.security);
    this.chefRepoHash = createHash("sha256").update(cookbooks).update(rolesJson).digest("hex");
    // Whoever may write the bucket must not decide what runs as root on the nodes: the files'
    // digests travel apart from them, in a parameter only Terraform writes, and the workstation
    // refuses files that do not match. A String, not in the user data: a cookbook change then
    // re-runs the converge instead of replacing the workstation.
    const chefRepoDigestParameter = `${parameterPath}/chef-repo-sha256`;
    const chefRepoDigest = new SsmParameter(this, "chef-repo-sha256", {
      name: chefRepoDigestParameter,
      type: "String",
      value: chefRepoDigests(cookbooks, rolesJson),
      description: "sha256 of chef-repo/cookbooks.tar.gz and chef-repo/roles.json, which the workstation checks before uploading them",
    });
    const readRepoPolicy = policy("workstation-read-chef-repo", [
      { sid: "ReadChefRepo", actions: ["s3:GetObject"], resources: [`${props.dataBucket.arn}/chef-repo/*`] },
      { sid: "ReadChefRepoDigests", actions: ["ssm:GetParameter"], resources: [parameterArn(chefRepoDigestParameter)] },
      // The data key's own policy lets it decrypt only through S3, for this bucket.
      { sid: "DecryptChefRepo", actions: ["kms:Decrypt"], resources: [props.dataKeyArn] },
    ]);

    const common = {
      region: config.region,
      organization: chef.organization,
      adminUser: chef.adminUser,
      licenceEnv: packages.licenceEnv,
    };

    // The admin key's own KMS key. Its policy names the server's parameter, which carries the
    // instance id, so it is set once the server exists, as the IAM grant below is.
    this.adminKeyEncryption = new PlatformKey(this, "admin-key-encryption", {
      alias: this.resourceName("chef-admin-key"),
      description: `The Chef admin key of ${this.resourceName("chef-server")} in SSM`,
      deletionWindowInDays: 7,
    });

    this.logGroups = new ServiceLogGroups(this, "log-groups", { config, services: ["provisioning", "chef-server"], purpose: "chef" });

    const serverMonitoring = new NodeMonitoring(this, "server-monitoring", {
      config,
      nodeName: this.resourceName("chef-server"),
      kind: "chef-server",
      architecture: architectureOf(chef.serverInstanceType),
      options: { chefServerLogDir: chef.flavor === "cinc" ? "/var/log/cinc-project" : "/var/log/opscode" },
    });
    this.server = new HardenedInstance(this, "server", {
      name: this.resourceName("chef-server"),
      ubuntuRelease: chef.serverUbuntuRelease,
      instanceType: chef.serverInstanceType,
      subnetId: privateSubnets[0].id,
      securityGroupIds: [this.serverSecurityGroup.id],
      rootVolumeGiB: 50,
      // A new server release gets a new server: its keys land under its own instance id, the
      // workstation follows it, and the Kafka stack bootstraps its nodes again.
      onUserDataChange: "replace",
      // Operators log in from the workstation with its bootstrap key, as on every node.
      policies: { "read-bootstrap-key": this.readBootstrapKeyPolicyJson, "cloudwatch-agent": serverMonitoring.policyJson },
      dependsOn: serverMonitoring.parameters,
      userData: renderScript("chef-server", {
        ...common,
        ...serverMonitoring.scriptContext,
        setupCommand: SETUP_COMMAND,
        package: packages.server,
        serverCtl: packages.serverCtl,
        serverConfigFile: packages.serverConfigFile,
        keysParameterPath: parameterPath,
        adminKeyKmsKey: this.adminKeyEncryption.arn,
        acceptBootstrapKeyFrom: this.bootstrapKeyParameter,
        bootstrapKeySource: this.bootstrapKeySourceParameter,
        apiWaitAttempts: 15,
      }),
    });
    serverMonitoring.attach(this.server);
    const adminKeyParameter = `${parameterPath}/${this.server.instance.id}/admin-key`;
    // The TLS certificate the server presents, which the workstation trusts as published here.
    const serverCertParameter = `${parameterPath}/${this.server.instance.id}/certificate`;
    // Granted after the instance exists, since it names it; the server retries its publication.
    new IamRolePolicy(this, "server-publish-admin-key", {
      role: this.server.role.id,
      name: "publish-admin-key",
      policy: policy("server-publish-keys", [
        { sid: "PublishAdminKey", actions: ["ssm:PutParameter", "ssm:GetParameter"], resources: [parameterArn(adminKeyParameter)] },
        { sid: "PublishCertificate", actions: ["ssm:PutParameter", "ssm:GetParameter"], resources: [parameterArn(serverCertParameter)] },
      ]),
    });
    const serverFqdn = this.server.instance.privateDns;
    this.serverUrl = `https://${serverFqdn}/organizations/${chef.organization}`;

    // The platform's CA: the workstation makes it at its first boot, keeps it, and signs with it.
    const pki = pkiParameters(config);
    const workstationKeysPolicy = policy("workstation-keys", [
      { sid: "ReadAdminKey", actions: ["ssm:GetParameter"], resources: [parameterArn(adminKeyParameter)] },
      { sid: "ReadServerCertificate", actions: ["ssm:GetParameter"], resources: [parameterArn(serverCertParameter)] },
      { sid: "PublishSshKeys", actions: ["ssm:PutParameter", "ssm:GetParameter"], resources: [parameterArn(this.bootstrapKeyParameter), parameterArn(this.jobsKeyParameter)] },
      // Each Kafka node's SSH host keys, as the node published them: what knife and ssh trust.
      { sid: "ReadHostKeys", actions: ["ssm:GetParameter"], resources: [parameterArn(`${hostKeysPath(config)}/*`)] },
      { sid: "KeepCertificateAuthority", actions: ["ssm:PutParameter", "ssm:GetParameter"], resources: [parameterArn(pki.caKey), parameterArn(pki.caCert)] },
      // Spark's client identity: made here, read by Spark's roles (whose key policy lets this role encrypt it).
      { sid: "KeepSparkClientIdentity", actions: ["ssm:PutParameter", "ssm:GetParameter"], resources: [parameterArn(pki.sparkKey), parameterArn(pki.sparkCert)] },
      // The setup only ever creates these (put without overwrite); a role that could replace them
      // could swap the CA or Spark's key under every node. Spark's certificate is renewed in place.
      {
        sid: "NeverReplaceKeysOrCaCertificate",
        effect: "Deny",
        actions: ["ssm:PutParameter"],
        resources: [parameterArn(pki.caKey), parameterArn(pki.caCert), parameterArn(pki.sparkKey)],
        condition: [{ test: "StringEquals", variable: "ssm:Overwrite", values: ["true"] }],
      },
    ]);
    const workstationMonitoring = new NodeMonitoring(this, "workstation-monitoring", {
      config,
      nodeName: this.resourceName("chef-workstation"),
      kind: "chef-workstation",
      architecture: architectureOf(chef.workstationInstanceType),
    });
    this.workstation = new HardenedInstance(this, "workstation", {
      name: this.resourceName("chef-workstation"),
      ubuntuRelease: chef.workstationUbuntuRelease,
      instanceType: chef.workstationInstanceType,
      subnetId: workstationSubnet.id,
      securityGroupIds: [workstationSecurityGroup.id],
      associatePublicIpAddress: !throughEndpoint,
      // Holds nothing that is not rebuilt at boot: a replaced server or a new release gets a
      // fresh workstation, and nodes read its new bootstrap key at each login.
      onUserDataChange: "replace",
      keyName: keyPairName.stringValue,
      // Its first write would make Terraform's create of the parameter fail; its first upload
      // needs the chef repo and its digests in place.
      dependsOn: [bootstrapKey, jobsKey, cookbooksObject, rolesObject, chefRepoDigest, ...workstationMonitoring.parameters],
      policies: { "chef-keys": workstationKeysPolicy, "read-chef-repo": readRepoPolicy, "cloudwatch-agent": workstationMonitoring.policyJson },
      userData: renderScript("chef-workstation", {
        ...common,
        ...workstationMonitoring.scriptContext,
        setupCommand: SETUP_COMMAND,
        workstationSetup: true,
        package: packages.workstation,
        knifeConfig: knifeConfigPath(chef),
        serverFqdn,
        adminKeyParameter,
        serverCertParameter,
        bootstrapKeyParameter: this.bootstrapKeyParameter,
        jobsKeyParameter: this.jobsKeyParameter,
        jobsKeyFile: SPARK_JOBS_KEY_FILE,
        repoBucket: props.dataBucket.bucket,
        cookbooksKey,
        rolesKey,
        chefRepoDigestParameter,
        keyWaitAttempts: 40,
        pki: pkiContext(config),
        caKeyKmsKey: this.adminKeyEncryption.arn,
        adminTlsDir: ADMIN_TLS_DIR,
        sparkKeyParameter: pki.sparkKey,
        sparkCertParameter: pki.sparkCert,
        // By alias: the Spark stack, which owns the key, is built after this one.
        sparkKmsKey: `alias/${this.resourceName(SPARK_KEY_ALIAS_SUFFIX)}`,
      }),
    });

    workstationMonitoring.attach(this.workstation);

    // The bootstrap key works from the workstation's address only (sshd's from=, which the nodes'
    // lookup adds): Terraform keeps the address, so a replaced workstation's new one is in place
    // before any later stack's step connects from it.
    new SsmParameter(this, "bootstrap-key-source", {
      name: this.bootstrapKeySourceParameter,
      type: "String",
      value: this.workstation.instance.privateIp,
      description: "The Chef workstation's private address: nodes accept its bootstrap key from there only",
    });

    const adminKeyArn = parameterArn(adminKeyParameter);
    const adminKeyPolicy = this.adminKeyEncryption.allow([
      ssmParameterKeyStatement("ServerPublishesAdminKey", config.region, adminKeyArn, [this.server.role.arn], SSM_WRITER_ACTIONS),
      ssmParameterKeyStatement("WorkstationReadsAdminKey", config.region, adminKeyArn, [this.workstation.role.arn], SSM_READER_ACTIONS),
      ssmParameterKeyStatement("WorkstationKeepsCaKey", config.region, parameterArn(pki.caKey), [this.workstation.role.arn], SSM_WRITER_ACTIONS),
    ]);
    // The workstation's first read of the admin key must find the key policy in place.
    waitFor(this.workstation.instance, adminKeyPolicy);
    for (const node of [this.server, this.workstation]) this.logGroups.before(node.instance);

    const workstationId = this.workstation.instance.id;
    const operators = operatorAccessPolicy(this, "operator-access", {
      name: this.resourceName("workstation-operators"),
      instanceArn: this.workstation.instance.arn,
      privateIp: this.workstation.instance.privateIp,
      osUser: "ubuntu",
      endpointArn: endpoint?.endpoint.arn,
    });
    new TerraformOutput(this, "operator_policy_arn", { value: operators.arn, description: "Attach to the roles of the operators who may log in to the workstation (and to nothing else)" });
    // Ubuntu's images carry EC2 Instance Connect's sshd hook: a key pushed to the instance works for
    // 60 seconds, so an operator's login needs no long-lived key (through the endpoint, no tunnel).
    new TerraformOutput(this, "workstation_ssh_short_lived_key", {
      description: "Log in with a key the AWS CLI makes and EC2 accepts for 60 seconds: no key file to keep",
      value: `aws ec2-instance-connect ssh --region ${config.region} --instance-id ${workstationId} --os-user ubuntu --connection-type ${throughEndpoint ? "eice" : "direct"}`,
    });
    if (throughEndpoint) {
      this.workstationAccess = { host: "127.0.0.1", port: chef.tunnelPort, instanceId: workstationId };
      new TerraformOutput(this, "workstation_tunnel", {
        description: "Run in a terminal of its own and leave it running while you deploy or destroy the kafka stack, or log in to the workstation",
        // 15 of the endpoint's 20 connections: Terraform's 10 steps at once, and a few logins.
        value: `aws ec2-instance-connect open-tunnel --region ${config.region} --instance-id ${workstationId} --local-port ${chef.tunnelPort} --max-websocket-connections 15`,
      });
      new TerraformOutput(this, "workstation_ssh", {
        description: WORKSTATION_SSH_DESCRIPTION,
        value: `ssh -i <your key_pair_name private key> -p ${chef.tunnelPort} -o HostKeyAlias=${workstationId} ubuntu@127.0.0.1`,
      });
    } else {
      this.workstationAccess = { host: this.workstation.instance.publicIp, port: 22, instanceId: workstationId };
      new TerraformOutput(this, "workstation_public_ip", { value: this.workstation.instance.publicIp, description: "The workstation, the one host reachable from outside (SSH from admin_cidr only)" });
      new TerraformOutput(this, "workstation_ssh", {
        description: WORKSTATION_SSH_DESCRIPTION,
        value: `ssh -i <your key_pair_name private key> ubuntu@${this.workstation.instance.publicIp}`,
      });
    }
    new TerraformOutput(this, "chef_server_url", { value: this.serverUrl, description: "The Chef server's organization URL, reachable inside the VPC only" });
  }
}
