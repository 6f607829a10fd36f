import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chefPackages, knifeConfigPath } from "../constructs/chefPackages";
import { chefRepoDigests, chefRepoRolesJson } from "../constructs/chefRepo";
import { kafkaNodeRole } from "../constructs/kafkaNodeRole";
import { pkiContext, pkiParameters } from "../constructs/pki";
import { ConfigError } from "../config/ConfigError";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { renderScript } from "../constructs/renderScript";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import { execFileSync, spawnSync } from "node:child_process";
import { tarGz } from "../constructs/tarGz";
import { COOKBOOKS_DIR, BOOTSTRAP_KEY_PLACEHOLDER, JOBS_KEY_PLACEHOLDER } from "../stacks/ChefStack";
import { configFrom, dataOf, platformStackJson, resourceNamed, resourcesOf, resourceStartingWith, userDataOf, type Json } from "./helpers";
import { runBash, shellcheck, stubCalls as calls } from "./shell";
import { COMMON_STUBS, opensslStub, CURL_STUB, python3Stub, SSHD_STUB } from "./stubs";
import { describeScripts } from "./tiers";

const chefJson = (...flags: string[]): Json => platformStackJson("chef", ...flags);

const ingress = (json: Json): Record<string, Json> => resourcesOf(json, "aws_vpc_security_group_ingress_rule");

describe("ChefStack", () => {
  const json = chefJson();
  const server = resourceStartingWith(json, "aws_instance", "server_instance_");
  const workstation = resourceStartingWith(json, "aws_instance", "workstation_instance_");

  it("matches the committed snapshot", () => {
    // The cookbooks archive changes with every cookbook edit; its own test checks what it holds.
    const pinned = structuredClone(json);
    pinned.resource.aws_s3_object["cookbooks-object"].content_base64 = "<cookbooks.tar.gz>";
    pinned.resource.aws_ssm_parameter["chef-repo-sha256"].value = "<sha256 of cookbooks.tar.gz> <sha256 of roles.json>";
    expect(pinned).toMatchSnapshot();
  });

  it("keeps the server in a private subnet and makes the workstation the only public entry point", () => {
    expect(server.associate_public_ip_address).toBe(false);
    expect(server.subnet_id).toMatch(/private-subnet-0id\}$/);
    expect(workstation.associate_public_ip_address).toBe(true);
    expect(workstation.subnet_id).toMatch(/public-subnet-0id\}$/);
    expect(workstation.key_name).toBe("${var.key_pair_name}");
  });

  it("runs the server on Ubuntu 22.04, the release Chef Infra Server supports", () => {
    expect(server.ami).toBe("${data.aws_ami.ubuntu-2204-amd64.id}");
  });

  it("allows SSH to the workstation only from admin_cidr, a validated Terraform variable", () => {
    expect(ingress(json)["workstation-ssh-from-admin"]).toMatchObject({ from_port: 22, to_port: 22, cidr_ipv4: "${var.admin_cidr}" });
    expect(json.variable.admin_cidr.validation[0].error_message).toMatch(/never 0\.0\.0\.0\/0/);
    expect(json.variable.admin_cidr.default).toBeUndefined();
  });

  it("opens the server only to the workstation: 443 for knife and 22 for SSH", () => {
    const serverRules = Object.values(ingress(json)).filter((rule) => rule.security_group_id === "${aws_security_group.server-security-group.id}");
    expect(serverRules.map((rule) => rule.from_port).sort()).toEqual([22, 443]);
    for (const rule of serverRules) expect(rule.referenced_security_group_id).toMatch(/workstation-security-groupid\}$/);
  });

  it("owns the bootstrap key parameter, so a destroy removes it: a placeholder first, the workstation's key after, which Terraform leaves alone", () => {
    const parameter = resourceNamed(json, "aws_ssm_parameter", "bootstrap-public-key");
    expect(parameter).toMatchObject({ name: "/insight/dev/chef/bootstrap-public-key", type: "String", value: BOOTSTRAP_KEY_PLACEHOLDER, lifecycle: { ignore_changes: ["value"] } });
    expect(BOOTSTRAP_KEY_PLACEHOLDER).not.toMatch(/^(ssh-|ecdsa-|sk-)/);
    // The workstation's first write must come after Terraform created the parameter, or the create fails.
    expect(resourceStartingWith(json, "aws_instance", "workstation").depends_on).toContain("aws_ssm_parameter.bootstrap-public-key");
  });

  it("owns the Spark jobs key parameter as it owns the bootstrap key's, and lets only the Spark master read it, with the workstation's address", () => {
    const parameter = resourceNamed(json, "aws_ssm_parameter", "jobs-public-key");
    expect(parameter).toMatchObject({ name: "/insight/dev/chef/jobs-public-key", type: "String", value: JOBS_KEY_PLACEHOLDER, lifecycle: { ignore_changes: ["value"] } });
    expect(JOBS_KEY_PLACEHOLDER).not.toMatch(/^(ssh-|ecdsa-|sk-)/);
    expect(resourceStartingWith(json, "aws_instance", "workstation").depends_on).toContain("aws_ssm_parameter.jobs-public-key");
    const document = dataOf(json, "aws_iam_policy_document")["read-jobs-key"];
    // The lookup reads both in one GetParameters call.
    expect(document.statement).toEqual([expect.objectContaining({ sid: "ReadJobsKey", actions: ["ssm:GetParameters"] })]);
    expect(document.statement[0].resources.map((arn: string) => arn.replace(/.*parameter/, ""))).toEqual(["/insight/dev/chef/jobs-public-key", "/insight/dev/chef/bootstrap-key-source"]);
    // No node of this stack reads it: the server accepts the bootstrap key alone.
    expect(Object.values(resourcesOf(json, "aws_iam_role_policy")).filter((policy) => policy.name === "read-jobs-key")).toEqual([]);
  });

  it("keeps the workstation's private address beside its bootstrap key: the only address nodes accept the key from", () => {
    const parameter = resourceNamed(json, "aws_ssm_parameter", "bootstrap-key-source");
    expect(parameter).toMatchObject({ name: "/insight/dev/chef/bootstrap-key-source", type: "String" });
    // Terraform's own value, updated with a replaced workstation before any later stack connects from it.
    expect(parameter.value).toMatch(/^\$\{aws_instance\.workstation_instance_[0-9A-F]{8}\.private_ip\}$/);
    expect(parameter.lifecycle).toBeUndefined();
  });

  it("lets only the server write its admin key and its certificate, under its own instance id, and only the workstation read them", () => {
    const documents = dataOf(json, "aws_iam_policy_document");
    const resources = (name: string, sid: string): string[] =>
      documents[name].statement.find((statement: Json) => statement.sid === sid).resources.map((arn: string) => arn.replace(/.*parameter/, ""));
    const adminKey = /^\/insight\/dev\/chef\/\$\{aws_instance\.server_instance_[0-9A-F]{8}\.id\}\/admin-key$/;
    const certificate = /^\/insight\/dev\/chef\/\$\{aws_instance\.server_instance_[0-9A-F]{8}\.id\}\/certificate$/;
    expect(documents["server-publish-keys"].statement.map((statement: Json) => statement.sid)).toEqual(["PublishAdminKey", "PublishCertificate"]);
    for (const statement of documents["server-publish-keys"].statement) expect(statement.actions).toEqual(["ssm:PutParameter", "ssm:GetParameter"]);
    expect(resources("server-publish-keys", "PublishAdminKey")).toEqual([expect.stringMatching(adminKey)]);
    // The TLS certificate it presents, beside the key: what the workstation trusts it by.
    expect(resources("server-publish-keys", "PublishCertificate")).toEqual([expect.stringMatching(certificate)]);
    expect(documents["workstation-keys"].statement.find((statement: Json) => statement.sid === "ReadServerCertificate")).toMatchObject({ actions: ["ssm:GetParameter"] });
    expect(resources("workstation-keys", "ReadServerCertificate")).toEqual([expect.stringMatching(certificate)]);
    expect(resourcesOf(json, "aws_iam_role_policy")["server-publish-admin-key"]).toMatchObject({
      role: expect.stringMatching(/aws_iam_role\.server_role_[0-9A-F]{8}\.id/),
      policy: "${data.aws_iam_policy_document.server-publish-keys.json}",
    });
    expect(documents["workstation-keys"].statement[0]).toMatchObject({ sid: "ReadAdminKey", actions: ["ssm:GetParameter"] });
    expect(resources("workstation-keys", "ReadAdminKey")).toEqual([expect.stringMatching(adminKey)]);
    expect(resources("workstation-keys", "PublishSshKeys")).toEqual(["/insight/dev/chef/bootstrap-public-key", "/insight/dev/chef/jobs-public-key"]);
    expect(documents["workstation-read-chef-repo"].statement[0].resources[0]).toMatch(/\/chef-repo\/\*$/);
  });

  it("lets the workstation alone keep the platform's CA and Spark's client identity: get and put on those four parameters only", () => {
    const documents = dataOf(json, "aws_iam_policy_document");
    const statement = (sid: string): Json => documents["workstation-keys"].statement.find((each: Json) => each.sid === sid);
    const names = (sid: string): string[] => statement(sid).resources.map((arn: string) => arn.replace(/.*:parameter/, ""));
    expect(statement("KeepCertificateAuthority").actions).toEqual(["ssm:PutParameter", "ssm:GetParameter"]);
    expect(names("KeepCertificateAuthority")).toEqual(["/insight/dev/pki/ca-key", "/insight/dev/pki/ca-cert"]);
    expect(statement("KeepSparkClientIdentity").actions).toEqual(["ssm:PutParameter", "ssm:GetParameter"]);
    expect(names("KeepSparkClientIdentity")).toEqual(["/insight/dev/kafka/clients/spark/key", "/insight/dev/kafka/clients/spark/cert"]);
    // No other policy of the stack names the CA's key: the server's role cannot read it.
    const naming = Object.entries(documents).filter(([, document]) => JSON.stringify(document.statement).includes("/pki/ca-key"));
    expect(naming.map(([name]) => name.replace(/_[0-9A-F]{8}$/, "")).sort()).toEqual(["admin-key-encryption_policy-document", "workstation-keys"]);
    // Spark's key, which its stack makes after this one, is named by its alias.
    expect(userDataOf(json, workstation)).toContain("'alias/insight-dev-spark-secret'");
  });

  it("lets the workstation create but never overwrite the CA's key and certificate and Spark's key; Spark's certificate is renewed in place", () => {
    const documents = dataOf(json, "aws_iam_policy_document");
    const deny = documents["workstation-keys"].statement.find((each: Json) => each.sid === "NeverReplaceKeysOrCaCertificate");
    expect(deny).toMatchObject({ effect: "Deny", actions: ["ssm:PutParameter"], condition: [{ test: "StringEquals", variable: "ssm:Overwrite", values: ["true"] }] });
    expect(deny.resources.map((arn: string) => arn.replace(/.*:parameter/, ""))).toEqual(["/insight/dev/pki/ca-key", "/insight/dev/pki/ca-cert", "/insight/dev/kafka/clients/spark/key"]);
    // The setup's creates send Overwrite=False, which the condition leaves allowed; only the certificate's renewal overwrites.
    const script = userDataOf(json, workstation);
    expect(script).toContain("Overwrite=False");
  });

  it("lets operators log in to the server from the workstation with its bootstrap key, as on every node", () => {
    expect(userDataOf(json, server)).toContain("BOOTSTRAP_KEY_PARAMETER='/insight/dev/chef/bootstrap-public-key'");
    expect(userDataOf(json, server)).toContain("BOOTSTRAP_KEY_SOURCE='/insight/dev/chef/bootstrap-key-source'");
    expect(unescapeTerraformTemplate(userDataOf(json, server))).toContain('\naccept_ssh_key bootstrap-key "$BOOTSTRAP_KEY_PARAMETER" "$BOOTSTRAP_KEY_SOURCE" ubuntu\n');
    const serverPolicies = Object.entries(resourcesOf(json, "aws_iam_role_policy")).filter(([, policy]) => /aws_iam_role\.server_role_/.test(policy.role));
    const readKey = serverPolicies.find(([, policy]) => policy.name === "read-bootstrap-key");
    expect(readKey?.[1].policy).toBe("${data.aws_iam_policy_document.read-bootstrap-key.json}");
    const document = dataOf(json, "aws_iam_policy_document")["read-bootstrap-key"];
    // GetParameters for the lookup's one read of both; GetParameter for Kafka nodes' older lookup.
    expect(document.statement).toEqual([expect.objectContaining({ sid: "ReadBootstrapKey", actions: ["ssm:GetParameter", "ssm:GetParameters"] })]);
    expect(document.statement[0].resources.map((arn: string) => arn.replace(/.*parameter/, ""))).toEqual(["/insight/dev/chef/bootstrap-public-key", "/insight/dev/chef/bootstrap-key-source"]);
    // The server boots once it may read the key; and its SSH port is open to the workstation only.
    // Besides its log groups and its agent's grant and configuration (which every instance waits for), only the grant.
    const monitoring = (name: string): boolean => /^aws_cloudwatch_log_group\.|^aws_iam_role_policy\.server_policy-cloudwatch-agent_|^aws_ssm_parameter\.server-monitoring_/.test(name);
    expect(server.depends_on.filter((name: string) => !monitoring(name))).toEqual([`aws_iam_role_policy.${readKey?.[0]}`]);
  });

  it("publishes no validator key and lets no role read one", () => {
    const policies = JSON.stringify(dataOf(json, "aws_iam_policy_document"));
    expect(policies).not.toContain("validator");
  });

  it("points the workstation at the admin key of the server deployed with it, so a redeploy never reads an old server's key", () => {
    expect(userDataOf(json, workstation)).toMatch(/ADMIN_KEY_PARAMETER='\/insight\/dev\/chef\/\$\{aws_instance\.server_instance_[0-9A-F]{8}\.id\}\/admin-key'/);
  });

  it("replaces the server and the workstation when their user data changes; the workstation follows a replaced server", () => {
    expect(server.user_data_replace_on_change).toBe(true);
    expect(workstation.user_data_replace_on_change).toBe(true);
    // The server's address and id are in the workstation's user data.
    expect(userDataOf(json, workstation)).toContain("${aws_instance.server_instance_");
  });

  it("ships every cookbook, reproducibly archived, and the generated role through the data bucket", () => {
    const objects = resourcesOf(json, "aws_s3_object");
    expect(objects["cookbooks-object"]).toMatchObject({ key: "chef-repo/cookbooks.tar.gz", content_type: "application/gzip" });
    const archive = Buffer.from(objects["cookbooks-object"].content_base64, "base64");
    expect(archive.equals(tarGz(COOKBOOKS_DIR))).toBe(true);
    const listing = execFileSync("tar", ["-tzf", "-"], { input: archive, encoding: "utf8" });
    for (const cookbook of ["zookeeper-cluster", "kafka-cluster", "insight-kafka-cluster"]) {
      expect(listing).toContain(`${cookbook}/metadata.rb\n`);
    }
    expect(JSON.parse(objects["roles-object"].content)[0].run_list).toEqual(["recipe[insight-kafka-cluster]"]);
  });

  it("publishes the chef repo's digests where only Terraform writes, for the workstation to check the bucket's files against", () => {
    const objects = resourcesOf(json, "aws_s3_object");
    const parameter = resourcesOf(json, "aws_ssm_parameter")["chef-repo-sha256"];
    const sha256 = (bytes: Buffer | string): string => createHash("sha256").update(bytes).digest("hex");
    expect(parameter).toMatchObject({ name: "/insight/dev/chef/chef-repo-sha256", type: "String" });
    expect(parameter.value).toBe(`${sha256(Buffer.from(objects["cookbooks-object"].content_base64, "base64"))} ${sha256(objects["roles-object"].content)}`);
    // Not in the user data: a cookbook change must re-run the converge, not replace the workstation.
    expect(userDataOf(json, workstation)).toContain("CHEF_REPO_DIGEST_PARAMETER='/insight/dev/chef/chef-repo-sha256'");
    expect(userDataOf(json, workstation)).not.toContain(parameter.value.split(" ")[0]);
    const read = dataOf(json, "aws_iam_policy_document")["workstation-read-chef-repo"].statement.find((statement: Json) => statement.sid === "ReadChefRepoDigests");
    expect(read.actions).toEqual(["ssm:GetParameter"]);
    expect(read.resources.map((arn: string) => arn.replace(/.*parameter/, ""))).toEqual(["/insight/dev/chef/chef-repo-sha256"]);
    // Its first boot finds the files and their digests in place.
    expect(workstation.depends_on).toEqual(expect.arrayContaining(["aws_ssm_parameter.chef-repo-sha256", "aws_s3_object.cookbooks-object", "aws_s3_object.roles-object"]));
    // Nothing else in the stack may write the parameter.
    const writers = Object.entries(dataOf(json, "aws_iam_policy_document")).filter(([, document]) =>
      document.statement.some((statement: Json) => statement.actions.includes("ssm:PutParameter") && statement.resources.some((arn: string) => arn.includes("chef-repo-sha256"))),
    );
    expect(writers).toEqual([]);
  });

  it("refuses at synth a role name that is not a plain file name, naming the field, the value and the rule", () => {
    const role = kafkaNodeRole(configFrom());
    expect(JSON.parse(chefRepoRolesJson([role]))).toEqual([role]);
    for (const name of ["../kafka-node", "kafka/node", "", "kafka node", ".."]) {
      expect(() => chefRepoRolesJson([{ ...role, name }])).toThrow(ConfigError);
      expect(() => chefRepoRolesJson([{ ...role, name }])).toThrow(
        `roles[0].name: ${JSON.stringify(name)} must be letters, digits, _ or - only (^[A-Za-z0-9_-]+$): it becomes a file name on the workstation`,
      );
    }
    expect(() => chefRepoRolesJson([{ ...role, name: "a/b" }])).toThrow(/^[^\n]*$/);
  });

  it("installs Cinc by default from direct .deb downloads, the workstation pinned by checksum", () => {
    const serverScript = unescapeTerraformTemplate(userDataOf(json, server));
    expect(serverScript).toContain("https://downloads.cinc.sh/files/stable/cinc-server/15.10.125/ubuntu/22.04/cinc-server-core_15.10.125-1_amd64.deb");
    expect(serverScript).toContain("CTL='cinc-server-ctl'");
    const workstationScript = unescapeTerraformTemplate(userDataOf(json, workstation));
    expect(workstationScript).toContain(
      "'https://downloads.cinc.sh/files/stable/cinc-workstation/24.12.1073/ubuntu/24.04/cinc-workstation_24.12.1073-1_amd64.deb' '433ec206251b439db3335859ae772c0aef620fef4d422b514f238e1a28cb7771'",
    );
    expect(workstationScript).not.toContain("CHEF_LICENSE");
  });

  it("points knife at the server's private DNS name, which its certificate names", () => {
    expect(userDataOf(json, workstation)).toMatch(/SERVER_URL="https:\/\/"'\$\{aws_instance\.server_instance_[0-9A-F]{8}\.private_dns\}'"\/organizations\/\$\$\{ORG\}"/);
    expect(json.output.chef_server_url.value).toMatch(/^https:\/\/\$\{aws_instance\.server_instance_[0-9A-F]{8}\.private_dns\}\/organizations\/insight$/);
  });

  it("passes Chef's licence acceptance to the tools only when the operator chose flavor chef and accepted it", () => {
    const licensed = chefJson("--chef.flavor", "chef", "--chef.acceptLicense", "true", "--chef.workstationPackageChecksum", "");
    const script = unescapeTerraformTemplate(userDataOf(licensed, resourceStartingWith(licensed, "aws_instance", "server_instance_")));
    expect(script).toContain("export CHEF_LICENSE='accept-no-persist'");
    expect(script).toContain("https://packages.chef.io/files/stable/chef-server/15.10.125/ubuntu/22.04/chef-server-core_15.10.125-1_amd64.deb");
    expect(script).toContain("CTL='chef-server-ctl'");
  });

  it("uses each flavor's own paths for the server config and knife's config", () => {
    const cinc = configFrom().chef;
    const chef = configFrom("--chef.flavor", "chef", "--chef.acceptLicense", "true", "--chef.workstationPackageChecksum", "").chef;
    expect(chefPackages(cinc, "22.04", "24.04").serverConfigFile).toBe("/etc/cinc-project/cinc-server.rb");
    expect(chefPackages(chef, "22.04", "24.04").serverConfigFile).toBe("/etc/opscode/chef-server.rb");
    expect(knifeConfigPath(cinc)).toBe("/home/ubuntu/chef-repo/.cinc/config.rb");
    expect(knifeConfigPath(chef)).toBe("/home/ubuntu/chef-repo/.chef/config.rb");
    expect(unescapeTerraformTemplate(userDataOf(json, server))).toContain("CONFIG_FILE='/etc/cinc-project/cinc-server.rb'");
    expect(unescapeTerraformTemplate(userDataOf(json, workstation))).toContain("KNIFE_DIR=$(dirname '/home/ubuntu/chef-repo/.cinc/config.rb')");
  });
});

const packages = chefPackages(configFrom().chef, "22.04", "24.04");
const COMMON = {
  region: "us-west-2",
  organization: "insight",
  adminUser: "admin",
  licenceEnv: {},
};
const DEB = "pretend package";
const DEB_SHA512 = createHash("sha512").update(DEB).digest("hex");
const DEB_SHA256 = createHash("sha256").update(DEB).digest("hex");
const SERVER_INSTANCE = "i-0123456789abcdef0";
const ADMIN_KEY_PARAMETER = `/insight/dev/chef/${SERVER_INSTANCE}/admin-key`;
const ADMIN_KEY_COMMAND = "/usr/local/bin/platform-chef-admin-key";
const SERVER_CERT_PARAMETER = `/insight/dev/chef/${SERVER_INSTANCE}/certificate`;
/** A real self-signed certificate, made once, for the name the server's nginx serves. */
const SERVER_CERT = (() => {
  const dir = mkdtempSync(join(tmpdir(), "chef-server-cert-"));
  const file = join(dir, "server.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "server.key"), "-out", file, "-subj", "/CN=ip-10-0-16-5.us-west-2.compute.internal", "-days", "1"], { stdio: "pipe" });
  return { file, pem: readFileSync(file, "utf8") };
})();
const CHEF_REPO_DIGEST_PARAMETER = "/insight/dev/chef/chef-repo-sha256";
const ADMIN_KEY_KMS_KEY = "arn:aws:kms:us-west-2:111122223333:key/0f1e2d3c-chef";
const PKI = pkiParameters(configFrom());
/** What the workstation's first setup puts for the platform's CA: the key under the Chef CMK, the certificate as a String. */
const SPARK_KMS_KEY = "alias/insight-dev-spark-secret";
const CA_PUTS = `${PKI.caKey} ${ADMIN_KEY_KMS_KEY}\n${PKI.caCert} String\n${PKI.sparkKey} ${SPARK_KMS_KEY}\n${PKI.sparkCert} String\n`;

describeScripts("chef-server user data", () => {
  const script = renderScript("chef-server", {
    setupCommand: SETUP_COMMAND,
    ...COMMON,
    package: packages.server,
    serverCtl: packages.serverCtl,
    serverConfigFile: packages.serverConfigFile,
    keysParameterPath: "/insight/dev/chef",
    adminKeyKmsKey: ADMIN_KEY_KMS_KEY,
    acceptBootstrapKeyFrom: "/insight/dev/chef/bootstrap-public-key",
    bootstrapKeySource: "/insight/dev/chef/bootstrap-key-source",
    apiWaitAttempts: 4,
  });
  // A server whose API answers like erchef: FAIL_ONCE names the calls that fail on their first try.
  const stubs = {
    ...COMMON_STUBS,
    curl: CURL_STUB,
    python3: python3Stub(),
    // nginx, asked on the machine itself, presents SERVED_CERT; everything else is openssl's.
    openssl: ['if [[ $1 == s_client ]]; then [[ " $* " == *" -connect 127.0.0.1:443 "* ]] && cat "$SERVED_CERT"; exit; fi', opensslStub()].join("\n"),
    "cinc-server-ctl": [
      'state="$WORK_DIR/chef-server"; mkdir -p "$state"',
      'fail_once() { [[ " ${FAIL_ONCE:-} " == *" $1 "* && ! -f "$state/failed-$1" ]] && touch "$state/failed-$1"; }',
      "case $1 in",
      '  user-list) cat "$state/users" 2>/dev/null ;;',
      '  org-list) cat "$state/orgs" 2>/dev/null ;;',
      "  user-create)",
      // As the server's wrapper (15.10.53 on) and knife take it: one name and flags reach knife
      // unchanged, and --prompt-for-password reads the password from stdin.
      '    shift; name=$1; shift; prompt=0; email=""; file=""',
      "    while (($#)); do",
      '      case $1 in --prompt-for-password) prompt=1 ;; --email) email=$2; shift ;; --first-name|--last-name) shift ;; --filename) file=$2; shift ;;',
      '        *) echo "FATAL: knife user create takes USERNAME and flags, not $1" >&2; exit 1 ;; esac; shift',
      "    done",
      '    if ((!prompt)) || [[ -z $email || -z $file ]]; then echo "FATAL: You must either provide a password or use the --prompt-for-password (-p) option" >&2; exit 1; fi',
      '    IFS= read -r password',
      '    if fail_once user-create-404; then echo "ERROR: 404 Not Found" >&2; exit 1; fi',
      '    echo "$name" >> "$state/users"; echo "$password" > "$state/password-seen"',
      // The server created the user but its answer (with the key) never arrived.
      '    if fail_once user-create-lost; then echo "ERROR: Net::ReadTimeout" >&2; exit 1; fi',
      '    printf -- "-----BEGIN RSA PRIVATE KEY-----\\nadmin\\n-----END RSA PRIVATE KEY-----\\n" > "$file" ;;',
      "  org-create)",
      // A create that raced an earlier attempt: the list does not show it yet, the create refuses.
      '    if fail_once org-create-conflict; then echo "ERROR: 409 Conflict: Organization already exists" >&2; exit 1; fi',
      '    echo "$2" >> "$state/orgs" ;;',
      '  add-user-key) echo "$2 $3 $4" >> "$state/added-keys" ;;',
      "  *) exit 0 ;;",
      "esac",
    ].join("\n"),
    sshd: SSHD_STUB,
    systemctl: "exit 0",
    runuser: "exit 0",
  };
  const env = { DOWNLOAD_CONTENT: DEB, PUBLISHER_SHA512: DEB_SHA512, SERVED_CERT: SERVER_CERT.file };
  const first = runBash(script, { stubs, env });
  const ssmPuts = (dir: string): string => readFileSync(join(dir, "work", "ssm-puts"), "utf8");

  it("is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
  });

  it("installs the package verified against its publisher's sha512, names itself and reconfigures", () => {
    expect(first.output).toContain("Chef server https://ip-10-0-16-5.us-west-2.compute.internal/organizations/insight is ready");
    expect(first.status).toBe(0);
    expect(first.output).toContain("no pinned checksum for cinc-server-core 15.10.125: verifying against the sha512 its publisher lists");
    expect(calls(first.dir)).toContain("cinc-server-ctl reconfigure");
    // Cinc's server reads /etc/cinc-project/cinc-server.rb, not Chef's /etc/opscode/chef-server.rb.
    expect(readFileSync(join(first.dir, "root/etc/cinc-project/cinc-server.rb"), "utf8")).toBe('api_fqdn "ip-10-0-16-5.us-west-2.compute.internal"\n');
  });

  it("lets the operator in from the workstation with its bootstrap key, before the server package and all that follows", () => {
    expect(first.status).toBe(0);
    expect(readFileSync(join(first.dir, "root/etc/ssh/sshd_config.d/60-platform-bootstrap-key.conf"), "utf8")).toContain(
      "Match User ubuntu\n    AuthorizedKeysCommand /usr/local/sbin/platform-bootstrap-key %u\n    AuthorizedKeysCommandUser platform-keys\n",
    );
    expect(readFileSync(join(first.dir, "root/usr/local/sbin/platform-bootstrap-key"), "utf8")).toContain("'/insight/dev/chef/bootstrap-public-key' '/insight/dev/chef/bootstrap-key-source' 'us-west-2'");
    const log = calls(first.dir);
    expect(log.indexOf("systemctl try-reload-or-restart ssh.service")).toBeGreaterThan(-1);
    expect(log.indexOf("systemctl try-reload-or-restart ssh.service")).toBeLessThan(log.findIndex((call) => call.startsWith("apt-get ") && call.endsWith(".deb")));
  });

  it("waits for the API's /_status after reconfigure and only then creates users", () => {
    const slow = runBash(script, { stubs, env: { ...env, STATUS_FAILS: "2" } });
    expect(slow.status).toBe(0);
    const log = calls(slow.dir);
    const statusCalls = log.map((call, index) => ({ call, index })).filter(({ call }) => call.startsWith("curl") && call.includes("https://127.0.0.1/_status"));
    expect(statusCalls).toHaveLength(3);
    const reconfigure = log.indexOf("cinc-server-ctl reconfigure");
    const firstUserCall = log.findIndex((call) => call.startsWith("cinc-server-ctl user-"));
    expect(statusCalls[0].index).toBeGreaterThan(reconfigure);
    expect(firstUserCall).toBeGreaterThan(statusCalls[2].index);
  });

  it("stops with a clear message, before creating anything, when the API never serves", () => {
    const down = runBash(script, { stubs, env: { ...env, STATUS_FAILS: "99" } });
    expect(down.status).not.toBe(0);
    expect(down.output).toContain("the server's API (https://127.0.0.1/_status) did not answer after reconfigure; see 'cinc-server-ctl status' and 'cinc-server-ctl tail' here");
    expect(down.output).toContain("FAILED at step 'wait for the server's API'");
    expect(calls(down.dir).filter((call) => /user-create|org-create/.test(call))).toEqual([]);
  });

  it("retries a create the API refused and counts 'already exists' as done, making sure the admin belongs to that organization", () => {
    const flaky = runBash(script, { stubs, env: { ...env, FAIL_ONCE: "user-create-404 org-create-conflict" } });
    expect(flaky.status).toBe(0);
    expect(calls(flaky.dir).filter((call) => call.startsWith("cinc-server-ctl user-create"))).toHaveLength(2);
    expect(calls(flaky.dir)).toContain("cinc-server-ctl org-user-add insight admin --admin");
    expect(ssmPuts(flaky.dir)).toBe(`${ADMIN_KEY_PARAMETER} ${ADMIN_KEY_KMS_KEY}\n${SERVER_CERT_PARAMETER} String\n`);
  });

  it("creates the organization with its admin in one call when nothing went wrong", () => {
    expect(calls(first.dir).filter((call) => call.startsWith("cinc-server-ctl org-"))).toEqual([
      "cinc-server-ctl org-list",
      "cinc-server-ctl org-create insight Kafka and Spark platform --association_user admin --filename /dev/null",
    ]);
  });

  it("gives the admin a key of its own when a create succeeded but its answer was lost", () => {
    const lost = runBash(script, { stubs, env: { ...env, FAIL_ONCE: "user-create-lost" } });
    expect(lost.status).toBe(0);
    expect(calls(lost.dir).filter((call) => call.startsWith("cinc-server-ctl user-create"))).toHaveLength(1);
    expect(readFileSync(join(lost.dir, "work/chef-server/added-keys"), "utf8")).toMatch(/^admin --public-key-path \S+admin\.pem\.pub\n$/);
    const published = readFileSync(join(lost.dir, "work/ssm", ADMIN_KEY_PARAMETER.replace(/\//g, "_")), "utf8");
    expect(published).toContain("BEGIN PRIVATE KEY");
  });

  it("publishes the admin key, as a SecureString under the server's own instance id and the chef stack's KMS key, and its TLS certificate, as a String beside it", () => {
    expect(ssmPuts(first.dir)).toBe(`${ADMIN_KEY_PARAMETER} ${ADMIN_KEY_KMS_KEY}\n${SERVER_CERT_PARAMETER} String\n`);
    expect(script).toMatch(/put_parameter\(Name=sys\.argv\[1\], Type="SecureString", KeyId=sys\.argv\[2\]/);
    expect(readFileSync(join(first.dir, "work/ssm", ADMIN_KEY_PARAMETER.replace(/\//g, "_")), "utf8")).toContain("admin");
    const replaced = runBash(script, { stubs, env: { ...env, INSTANCE_ID: "i-0fedcba9876543210" } });
    expect(ssmPuts(replaced.dir)).toBe(`/insight/dev/chef/i-0fedcba9876543210/admin-key ${ADMIN_KEY_KMS_KEY}\n/insight/dev/chef/i-0fedcba9876543210/certificate String\n`);
  });

  it("publishes the certificate nginx presents on the server itself, the one the workstation then trusts, and again only when it changed", () => {
    expect(readFileSync(join(first.dir, "work/ssm", SERVER_CERT_PARAMETER.replace(/\//g, "_")), "utf8")).toBe(SERVER_CERT.pem);
    expect(calls(first.dir)).toContain("openssl s_client -connect 127.0.0.1:443 -servername ip-10-0-16-5.us-west-2.compute.internal");
    // Nothing served yet (nginx still starting): retried, and the setup fails naming the step.
    const silent = runBash(script, { stubs, env: { ...env, SERVED_CERT: "/nonexistent" } });
    expect(silent.status).not.toBe(0);
    expect(silent.output).toContain("FAILED at step 'publish the server's TLS certificate to SSM'");
    expect(existsSync(join(silent.dir, "work/ssm", SERVER_CERT_PARAMETER.replace(/\//g, "_")))).toBe(false);
  });

  it("keeps no validator key: the organization's goes nowhere and nothing but the admin key is published", () => {
    const orgCreate = calls(first.dir).find((call) => call.startsWith("cinc-server-ctl org-create"));
    expect(orgCreate).toMatch(/ --filename \/dev\/null$/);
    expect(script).not.toMatch(/validator-key|VALIDATOR/);
  });

  it("generates the admin password on the instance and never logs it", () => {
    const password = readFileSync(join(first.dir, "work", "chef-server", "password-seen"), "utf8").trim();
    expect(password.length).toBeGreaterThanOrEqual(40);
    expect(script).not.toContain(password);
    expect(first.output).not.toContain(password);
    expect(readFileSync(join(first.dir, "log", "chef-server.log"), "utf8")).not.toContain(password);
  });

  it("hands the admin password to user-create on stdin, never as an argument any local user could read in /proc", () => {
    const password = readFileSync(join(first.dir, "work", "chef-server", "password-seen"), "utf8").trim();
    expect(password).toMatch(/^[A-Za-z0-9+/]{44}$/);
    expect(calls(first.dir).filter((call) => call.includes(password))).toEqual([]);
    expect(calls(first.dir).filter((call) => call.startsWith("cinc-server-ctl user-create"))).toEqual([
      "cinc-server-ctl user-create admin --first-name Platform --last-name Admin --email admin@insight.invalid --prompt-for-password --filename " +
        join(first.dir, "root/var/lib/platform/chef-server/admin.pem.part"),
    ]);
    // No variable holds it either: nothing the script traces or dumps on failure can show it.
    expect(script).not.toMatch(/password=|"\$password"/);
  });

  it("changes nothing on a second run: no download, no reconfigure, no user, no key publication", () => {
    const before = calls(first.dir).length;
    const second = runBash(script, { stubs, env, dir: first.dir });
    expect(second.status).toBe(0);
    const newCalls = calls(first.dir).slice(before);
    expect(newCalls.filter((call) => /reconfigure|user-create|org-create|org-user-add|add-user-key|^dpkg |^apt-get |--output/.test(call))).toEqual([]);
    expect(ssmPuts(first.dir).trim().split("\n")).toHaveLength(2);
  });
});

describeScripts("chef-workstation user data", () => {
  const script = renderScript("chef-workstation", {
    setupCommand: SETUP_COMMAND,
    workstationSetup: true,
    ...COMMON,
    package: { ...packages.workstation, checksum: DEB_SHA256 },
    knifeConfig: knifeConfigPath(configFrom().chef),
    serverFqdn: "ip-10-0-16-5.us-west-2.compute.internal",
    adminKeyParameter: ADMIN_KEY_PARAMETER,
    serverCertParameter: SERVER_CERT_PARAMETER,
    bootstrapKeyParameter: "/insight/dev/chef/bootstrap-public-key",
    jobsKeyParameter: "/insight/dev/chef/jobs-public-key",
    jobsKeyFile: "platform_jobs",
    repoBucket: "insight-dev-data-1",
    cookbooksKey: "chef-repo/cookbooks.tar.gz",
    rolesKey: "chef-repo/roles.json",
    chefRepoDigestParameter: CHEF_REPO_DIGEST_PARAMETER,
    keyWaitAttempts: 3,
    pki: pkiContext(configFrom()),
    caKeyKmsKey: ADMIN_KEY_KMS_KEY,
    adminTlsDir: "/home/ubuntu/.platform/tls",
    sparkKeyParameter: PKI.sparkKey,
    sparkCertParameter: PKI.sparkCert,
    sparkKmsKey: SPARK_KMS_KEY,
  });
  const s3 = mkdtempSync(join(tmpdir(), "chef-repo-"));
  mkdirSync(join(s3, "chef-repo"));
  const cookbooksFixture = mkdtempSync(join(tmpdir(), "cookbooks-"));
  mkdirSync(join(cookbooksFixture, "insight-kafka-cluster"));
  writeFileSync(join(cookbooksFixture, "insight-kafka-cluster", "metadata.rb"), "name 'insight-kafka-cluster'\n");
  const cookbooksArchive = tarGz(cookbooksFixture);
  const rolesJson = JSON.stringify([{ name: "kafka-node", run_list: ["recipe[insight-kafka-cluster]"] }]);
  writeFileSync(join(s3, "chef-repo", "cookbooks.tar.gz"), cookbooksArchive);
  writeFileSync(join(s3, "chef-repo", "roles.json"), rolesJson);
  /** A run directory whose stubbed SSM holds the digests Terraform would have published. */
  const published = (digests = chefRepoDigests(cookbooksArchive, rolesJson)): string => {
    const dir = mkdtempSync(join(tmpdir(), "script-test-"));
    mkdirSync(join(dir, "work", "ssm"), { recursive: true });
    writeFileSync(join(dir, "work", "ssm", CHEF_REPO_DIGEST_PARAMETER.split("/").join("_")), digests);
    // What the server published: the certificate its nginx presents.
    writeFileSync(join(dir, "work", "ssm", SERVER_CERT_PARAMETER.split("/").join("_")), SERVER_CERT.pem);
    return dir;
  };
  /** A bucket holding these files under chef-repo/. */
  const bucket = (cookbooks: Buffer, roles: string): string => {
    const dir = mkdtempSync(join(tmpdir(), "chef-repo-"));
    mkdirSync(join(dir, "chef-repo"));
    writeFileSync(join(dir, "chef-repo", "cookbooks.tar.gz"), cookbooks);
    writeFileSync(join(dir, "chef-repo", "roles.json"), roles);
    return dir;
  };
  const stubs = {
    ...COMMON_STUBS,
    curl: CURL_STUB,
    python3: python3Stub(),
    openssl: opensslStub(),
    systemctl: "exit 0",
    "ssh-keygen": 'f=${*: -1}; echo "PRIVATE" > "$f"; echo "ssh-ed25519 AAAAC3Nza${f##*/} ${f##*/}@insight" > "$f.pub"',
    knife: [
      'config=${*: -1}; chef_dir=$(dirname "$config")',
      "case \"$1 $2\" in",
      // The first answer at the server's address, which the setup must never trust.
      '  "ssl fetch") mkdir -p "$chef_dir/trusted_certs"; echo "not the server\'s" > "$chef_dir/trusted_certs/intruder.crt" ;;',
      '  "client list") echo insight-validator ;;',
      "  *) exit 0 ;;",
      "esac",
    ].join("\n"),
  };
  const keysPublished = { S3_DIR: s3, DOWNLOAD_CONTENT: DEB, SSM_PRESET: "-----BEGIN RSA PRIVATE KEY-----\nkey\n-----END RSA PRIVATE KEY-----" };
  const first = runBash(script, { stubs, env: keysPublished, dir: published() });
  // Cinc Workstation's knife looks for .cinc/config.rb where Chef's looks for .chef/config.rb.
  const chefDir = join(first.dir, "root/home/ubuntu/chef-repo/.cinc");

  it("is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
  });

  it("configures knife for the server's private DNS name with the admin key from SSM", () => {
    expect(first.output).toContain("knife on this workstation talks to https://ip-10-0-16-5.us-west-2.compute.internal/organizations/insight");
    expect(first.status).toBe(0);
    const config = readFileSync(join(chefDir, "config.rb"), "utf8");
    expect(config).toContain('chef_server_url "https://ip-10-0-16-5.us-west-2.compute.internal/organizations/insight"\n');
    expect(config).toContain('node_name "admin"\n');
    // Bounded: a hung SSM read must not hold every knife start (and every retry of one).
    expect(config).toContain(`admin_key = IO.popen(["timeout", "30", "${ADMIN_KEY_COMMAND}"], &:read)\n`);
    // client_key has a default path (/etc/chef/client.pem) that would win over the contents in
    // the API calls that pass it explicitly (Chef::Node#save): it must be nil.
    expect(config).toContain("client_key nil\nclient_key_contents admin_key\n");
  });

  /** The environment of a run of the admin-key command: the first run's stubs, SSM answering from `workDir`. */
  const commandEnv = (workDir = join(first.dir, "work"), extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: `${join(first.dir, "bin")}:/usr/bin:/bin`,
    WORK_DIR: workDir,
    SSM_PRESET: keysPublished.SSM_PRESET,
    ...extra,
  });

  it("keeps the admin key in no file: knife reads it at each start through a command only root may change", () => {
    const command = join(first.dir, "root", ADMIN_KEY_COMMAND);
    expect(statSync(command).mode & 0o777).toBe(0o755);
    expect(readFileSync(command, "utf8")).toContain("WithDecryption=True");
    const before = readFileSync(join(first.dir, "calls.log"), "utf8").length;
    const printed = execFileSync(command, { env: commandEnv(), encoding: "utf8" });
    expect(printed.trim()).toBe(keysPublished.SSM_PRESET);
    // One decrypting read of the admin key of the server deployed with this workstation.
    const asked = readFileSync(join(first.dir, "calls.log"), "utf8").slice(before);
    expect(asked).toMatch(/^python3 -c [^]*WithDecryption=True[^]* \/insight\/dev\/chef\/i-0123456789abcdef0\/admin-key us-west-2\n$/);
    // A refused read (a role's permissions still spreading, throttling) is tried again.
    const refusedOnce = spawnSync(command, { env: commandEnv(mkdtempSync(join(tmpdir(), "ssm-")), { SSM_GET_FAILS: "1" }), encoding: "utf8" });
    expect(refusedOnce.status).toBe(0);
    expect(refusedOnce.stdout.trim()).toBe(keysPublished.SSM_PRESET);
    expect(refusedOnce.stderr).toContain("[platform-chef-admin-key] attempt 1/3 failed: ssm_get /insight/dev/chef/i-0123456789abcdef0/admin-key; retrying in 2s");
    const holders = spawnSync("grep", ["-rlF", "--", "BEGIN RSA PRIVATE KEY", join(first.dir, "root")], { encoding: "utf8" });
    expect({ status: holders.status, files: holders.stdout }).toEqual({ status: 1, files: "" });
  });

  it("knife's config, evaluated by Ruby as knife evaluates it, holds the key the command printed, and refuses to load without one", () => {
    const evaluate = (command: string): { status: number | null; output: string } => {
      const dir = mkdtempSync(join(tmpdir(), "knife-config-"));
      const config = join(dir, "config.rb");
      writeFileSync(config, readFileSync(join(chefDir, "config.rb"), "utf8").replaceAll(ADMIN_KEY_COMMAND, command));
      // chef-config instance_evals the file in its Config; this records what the file sets.
      const ruby = [
        "settings = {}",
        "config = Object.new",
        "%i[node_name client_key client_key_contents chef_server_url trusted_certs_dir cookbook_path].each { |name| config.define_singleton_method(name) { |value| settings[name] = value } }",
        "config.instance_eval(File.read(ARGV[0]), ARGV[0])",
        'print settings[:client_key].inspect, "|", settings[:client_key_contents]',
      ].join("\n");
      const result = spawnSync("ruby", ["-e", ruby, config], { env: commandEnv(), encoding: "utf8" });
      return { status: result.status, output: `${result.stdout}${result.stderr}` };
    };
    const loaded = evaluate(join(first.dir, "root", ADMIN_KEY_COMMAND));
    expect(loaded).toEqual({ status: 0, output: `nil|${keysPublished.SSM_PRESET}\n` });
    const failing = evaluate("/bin/false");
    expect(failing.status).not.toBe(0);
    expect(failing.output).toContain("no Chef admin key from /bin/false");
  });

  it("bootstraps validatorless: knife's config names no validation key and none is on the workstation", () => {
    const config = readFileSync(join(chefDir, "config.rb"), "utf8");
    // With no validation key file, knife bootstrap creates each node's client with the admin's
    // key and copies no validator to the node.
    expect(config).not.toMatch(/validation_key|validation_client_name/);
    expect(readdirSync(chefDir).filter((file) => file.endsWith(".pem"))).toEqual([]);
    expect(script).not.toMatch(/validation_key|-validator|VALIDATOR/);
  });

  it("trusts the server's certificate only as the server published it in SSM, checks it, then proves knife works with client list", () => {
    const knifeCalls = calls(first.dir).filter((call) => call.startsWith("knife "));
    expect(knifeCalls.slice(0, 2).map((call) => call.split(" --config")[0])).toEqual(["knife ssl check", "knife client list"]);
    expect(knifeCalls.filter((call) => call.startsWith("knife ssl fetch"))).toEqual([]);
    expect(readdirSync(join(chefDir, "trusted_certs"))).toEqual(["chef-server.crt"]);
    expect(readFileSync(join(chefDir, "trusted_certs", "chef-server.crt"), "utf8")).toBe(SERVER_CERT.pem);
  });

  it("creates its bootstrap and Spark jobs key pairs, two identities, and publishes only their public halves, as plain Strings", () => {
    expect(readFileSync(join(first.dir, "work", "ssm-puts"), "utf8")).toBe(`/insight/dev/chef/bootstrap-public-key String\n/insight/dev/chef/jobs-public-key String\n${CA_PUTS}`);
    const published = (name: string): string => readFileSync(join(first.dir, "work", "ssm", `_insight_dev_chef_${name}`), "utf8");
    expect(published("bootstrap-public-key")).toBe(`${readFileSync(join(first.dir, "root/home/ubuntu/.ssh/platform_bootstrap.pub"), "utf8").trim()}\n`);
    expect(published("jobs-public-key")).toBe(`${readFileSync(join(first.dir, "root/home/ubuntu/.ssh/platform_jobs.pub"), "utf8").trim()}\n`);
    expect(published("jobs-public-key")).not.toBe(published("bootstrap-public-key"));
    for (const name of ["bootstrap-public-key", "jobs-public-key"]) {
      expect(published(name)).toMatch(/^ssh-ed25519 /);
      expect(published(name)).not.toContain("PRIVATE");
    }
    expect(calls(first.dir)).toContain(`chown ubuntu:ubuntu ${join(first.dir, "root/home/ubuntu/.ssh/platform_jobs")} ${join(first.dir, "root/home/ubuntu/.ssh/platform_jobs.pub")}`);
  });

  it("retries publishing its bootstrap key while its role's permissions are not in force yet", () => {
    const refusedTwice = runBash(script, { stubs, env: { ...keysPublished, SSM_PUT_FAILS: "2" }, dir: published() });
    expect(refusedTwice.status).toBe(0);
    expect(readFileSync(join(refusedTwice.dir, "work", "ssm-puts"), "utf8")).toBe(`/insight/dev/chef/bootstrap-public-key String\n/insight/dev/chef/jobs-public-key String\n${CA_PUTS}`);
    expect(refusedTwice.output).toContain("attempt 2/8 failed: ssh_key_published platform_bootstrap /insight/dev/chef/bootstrap-public-key");
  });

  it("unpacks and uploads the cookbooks and the role", () => {
    expect(readFileSync(join(first.dir, "root/home/ubuntu/chef-repo/cookbooks/insight-kafka-cluster/metadata.rb"), "utf8")).toContain("insight-kafka-cluster");
    const knifeCalls = calls(first.dir).filter((call) => call.startsWith("knife "));
    expect(knifeCalls.some((call) => call.startsWith("knife cookbook upload --all --cookbook-path"))).toBe(true);
    expect(knifeCalls.some((call) => /^knife role from file .*\/roles\/kafka-node\.json/.test(call))).toBe(true);
  });

  it("refuses a cookbooks archive the deployment did not upload, in one line naming the step, the object and both digests, and uploads nothing", () => {
    const tampered = Buffer.concat([cookbooksArchive, Buffer.from("\n")]);
    const run = runBash(script, { stubs, env: { ...keysPublished, S3_DIR: bucket(tampered, rolesJson) }, dir: published() });
    expect(run.status).not.toBe(0);
    const [expected] = chefRepoDigests(cookbooksArchive, rolesJson).split(" ");
    const actual = createHash("sha256").update(tampered).digest("hex");
    expect(run.output).toContain(
      `step 'upload cookbooks and roles': refusing s3://insight-dev-data-1/chef-repo/cookbooks.tar.gz: its sha256 is ${actual}, the deployment published ${expected}\n`,
    );
    expect(calls(run.dir).filter((call) => /^tar |knife (cookbook upload|role from file)/.test(call))).toEqual([]);
    expect(existsSync(join(run.dir, "root/home/ubuntu/chef-repo/cookbooks"))).toBe(false);
  });

  it("refuses a role file the deployment did not upload, and uploads the right files when run again", () => {
    const rolesTampered = JSON.stringify([{ name: "kafka-node", run_list: ["recipe[backdoor]"] }]);
    const dir = published();
    const refused = runBash(script, { stubs, env: { ...keysPublished, S3_DIR: bucket(cookbooksArchive, rolesTampered) }, dir });
    expect(refused.status).not.toBe(0);
    expect(refused.output).toMatch(/step 'upload cookbooks and roles': refusing s3:\/\/insight-dev-data-1\/chef-repo\/roles\.json: its sha256 is [0-9a-f]{64}, the deployment published [0-9a-f]{64}\n/);
    expect(calls(dir).filter((call) => /knife (cookbook upload|role from file)/.test(call))).toEqual([]);
    const again = runBash(script, { stubs, env: keysPublished, dir });
    expect(again.status).toBe(0);
    expect(calls(dir).filter((call) => /knife role from file .*\/roles\/kafka-node\.json/.test(call))).toHaveLength(1);
  });

  it("refuses the files when Terraform's digests are missing", () => {
    const run = runBash(script, { stubs, env: keysPublished, dir: published("") });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("refusing s3://insight-dev-data-1/chef-repo/cookbooks.tar.gz: its sha256 is ");
    expect(run.output).toContain("the deployment published nothing\n");
  });

  it("writes no role file outside roles/, even for a role file whose digest matches", () => {
    const escaping = JSON.stringify([{ name: "../../.ssh/authorized_keys", run_list: [] }]);
    const run = runBash(script, { stubs, env: { ...keysPublished, S3_DIR: bucket(cookbooksArchive, escaping) }, dir: published(chefRepoDigests(cookbooksArchive, escaping)) });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('refusing role name "../../.ssh/authorized_keys"');
    expect(existsSync(join(run.dir, "root/home/ubuntu/.ssh/authorized_keys.json"))).toBe(false);
    expect(calls(run.dir).filter((call) => /knife role from file/.test(call))).toEqual([]);
  });

  it("never logs the keys it handles", () => {
    expect(first.output).not.toContain("BEGIN RSA PRIVATE KEY");
    expect(readFileSync(join(first.dir, "log", "chef-workstation.log"), "utf8")).not.toContain("BEGIN RSA PRIVATE KEY");
  });

  it("changes nothing on a second run: no install, no upload, no certificate fetch, no SSM write", () => {
    const before = calls(first.dir).length;
    const second = runBash(script, { stubs, env: keysPublished, dir: first.dir });
    expect(second.status).toBe(0);
    expect(second.output).toContain("are already on the server");
    const newCalls = calls(first.dir).slice(before);
    expect(newCalls.filter((call) => /^(dpkg|apt-get|ssh-keygen|tar) |knife (ssl fetch|cookbook upload|role from file)|--output/.test(call))).toEqual([]);
    // The bootstrap and jobs keys, the CA's key and certificate, Spark's client key and certificate, all from the first run.
    expect(readFileSync(join(first.dir, "work", "ssm-puts"), "utf8").trim().split("\n")).toHaveLength(6);
  });

  describe("the platform's certificate authority", () => {
    const ssmFile = (dir: string, name: string): string => join(dir, "work", "ssm", name.split("/").join("_"));
    const openssl = (...args: string[]): string => execFileSync("openssl", args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    const caKey = ssmFile(first.dir, PKI.caKey);
    const caCert = ssmFile(first.dir, PKI.caCert);

    it("is made at first boot: its key a SecureString under the Chef CMK, its certificate a String", () => {
      expect(first.output).toContain(`the platform's CA is in ${PKI.caKey} and ${PKI.caCert}`);
      expect(readFileSync(join(first.dir, "work", "ssm-puts"), "utf8")).toContain(`${PKI.caKey} ${ADMIN_KEY_KMS_KEY}\n${PKI.caCert} String\n`);
      expect(readFileSync(caKey, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(openssl("x509", "-in", caCert, "-noout", "-pubkey")).toBe(openssl("pkey", "-in", caKey, "-pubout"));
    });

    it("is a CA for its own deployment only: CA:TRUE with path length 0, signing certificates, ten years", () => {
      expect(openssl("x509", "-in", caCert, "-noout", "-subject", "-nameopt", "RFC2253").trim()).toBe("subject=CN=insight-dev platform CA,O=insight-dev");
      const extensions = openssl("x509", "-in", caCert, "-noout", "-ext", "basicConstraints,keyUsage");
      expect(extensions).toContain("CA:TRUE, pathlen:0");
      expect(extensions).toContain("Certificate Sign, CRL Sign");
      expect(openssl("verify", "-CAfile", caCert, caCert)).toContain(": OK");
      const end = Date.parse(openssl("x509", "-in", caCert, "-noout", "-enddate").replace(/^notAfter=/, ""));
      expect(Math.round((end - Date.now()) / 86_400_000)).toBe(3650);
    });

    it("never logs the CA's key, and leaves no copy of it on the workstation", () => {
      const key = readFileSync(caKey, "utf8").split("\n")[1];
      expect(first.output).not.toContain(key);
      expect(first.output).not.toContain("BEGIN PRIVATE KEY");
      expect(calls(first.dir).join("\n")).not.toContain(key);
    });

    it("makes the workstation's kafka-admin identity: a key that stays here, its certificate and the CA's, for ubuntu", () => {
      const dir = join(first.dir, "root/home/ubuntu/.platform/tls");
      expect(readdirSync(dir).sort()).toEqual(["admin.crt", "admin.key", "ca.crt"]);
      expect(statSync(join(dir, "admin.key")).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, "admin.crt")).mode & 0o777).toBe(0o644);
      expect(openssl("verify", "-CAfile", join(dir, "ca.crt"), join(dir, "admin.crt"))).toContain(": OK");
      expect(openssl("x509", "-in", join(dir, "admin.crt"), "-noout", "-subject", "-nameopt", "RFC2253").trim()).toBe("subject=CN=kafka-admin,O=insight-dev");
      const extensions = openssl("x509", "-in", join(dir, "admin.crt"), "-noout", "-ext", "extendedKeyUsage,subjectAltName");
      expect(extensions).toContain("TLS Web Client Authentication");
      expect(extensions).not.toContain("Server Authentication");
      expect(openssl("x509", "-in", join(dir, "admin.crt"), "-noout", "-pubkey")).toBe(openssl("pkey", "-in", join(dir, "admin.key"), "-pubout"));
      expect(readFileSync(join(first.dir, "work", "ssm-puts"), "utf8")).not.toContain("admin.key");
      // ~/.platform belongs to ubuntu: the bootstrap, run as ubuntu, keeps its records there.
      expect(calls(first.dir)).toContain(`install -d -m 0755 -o ubuntu -g ubuntu ${join(first.dir, "root/home/ubuntu/.platform")}`);
    });

    it("makes Spark's identity: its key a SecureString under the Spark CMK, its certificate (CN=spark, client only) a String", () => {
      const key = ssmFile(first.dir, PKI.sparkKey);
      const certificate = ssmFile(first.dir, PKI.sparkCert);
      expect(readFileSync(join(first.dir, "work", "ssm-puts"), "utf8")).toContain(`${PKI.sparkKey} ${SPARK_KMS_KEY}\n${PKI.sparkCert} String\n`);
      expect(openssl("verify", "-CAfile", caCert, certificate)).toContain(": OK");
      expect(openssl("x509", "-in", certificate, "-noout", "-subject", "-nameopt", "RFC2253").trim()).toBe("subject=CN=spark,O=insight-dev");
      expect(openssl("x509", "-in", certificate, "-noout", "-ext", "extendedKeyUsage")).toContain("TLS Web Client Authentication");
      expect(openssl("x509", "-in", certificate, "-noout", "-pubkey")).toBe(openssl("pkey", "-in", key, "-pubout"));
      expect(first.output).not.toContain(readFileSync(key, "utf8").split("\n")[1]);
    });

    it("renews Spark's certificate with 30 days left, for the same key, and keeps a current one", () => {
      const dir = published();
      expect(runBash(script, { stubs, env: keysPublished, dir }).status).toBe(0);
      const puts = (): string[] => readFileSync(join(dir, "work", "ssm-puts"), "utf8").trim().split("\n");
      const before = puts().length;
      expect(runBash(script, { stubs, env: keysPublished, dir }).status).toBe(0);
      expect(puts()).toHaveLength(before);
      const scratch = mkdtempSync(join(tmpdir(), "short-"));
      writeFileSync(join(scratch, "ca.key"), readFileSync(ssmFile(dir, PKI.caKey)));
      writeFileSync(join(scratch, "spark.key"), readFileSync(ssmFile(dir, PKI.sparkKey)));
      openssl("req", "-new", "-key", join(scratch, "spark.key"), "-subj", "/O=insight-dev/CN=spark", "-out", join(scratch, "req"));
      openssl("x509", "-req", "-in", join(scratch, "req"), "-CA", ssmFile(dir, PKI.caCert), "-CAkey", join(scratch, "ca.key"), "-days", "30", "-set_serial", "9", "-out", ssmFile(dir, PKI.sparkCert));
      const renewal = runBash(script, { stubs, env: keysPublished, dir });
      expect(renewal.status).toBe(0);
      expect(renewal.output).toContain("issued the spark certificate");
      expect(puts().slice(before)).toEqual([`${PKI.sparkCert} String`]);
      const end = Date.parse(openssl("x509", "-in", ssmFile(dir, PKI.sparkCert), "-noout", "-enddate").replace(/^notAfter=/, ""));
      expect(Math.round((end - Date.now()) / 86_400_000)).toBe(365);
    });

    it("goes on without Spark's identity while the Spark stack's key does not exist yet, saying so", () => {
      const dir = published();
      const refusingSparkKey = { ...stubs, python3: python3Stub(`if [[ $2 == *put_parameter* && $3 == ${PKI.sparkKey} ]]; then echo NotFoundException >&2; exit 1; fi`) };
      const run = runBash(script, { stubs: refusingSparkKey, env: keysPublished, dir });
      expect(run.status).toBe(0);
      expect(run.output).toContain(`Spark's client identity is not in ${PKI.sparkKey} yet (the Spark stack's KMS key ${SPARK_KMS_KEY} may not exist yet); the next converge makes it`);
    });

    /**
     * SSM as it answers after a destroy and a new deploy: the parameters named in work/undecryptable
     * (one a line) exist, but GetParameter fails as AWS fails it, run through the REAL python and
     * botocore, so the script's own handling of the error is what is tested.
     */
    const undecryptable = (dir: string, names: string[], code = "InvalidKeyId", message = "arn:aws:kms:us-west-2:111122223333:key/0f9b04ee-ab13-4f35-a2b2-d0902bfe6a1e is pending deletion. (Service: AWSKMS; Status Code: 400; Error Code: KMSInvalidStateException; Request ID: 1)") => {
      const site = join(dir, "work", "python");
      mkdirSync(site, { recursive: true });
      writeFileSync(join(site, "sitecustomize.py"), [
        "import os, botocore.client, botocore.exceptions",
        "def refuse(self, operation, params):",
        '    raise botocore.exceptions.ClientError({"Error": {"Code": os.environ["SSM_ERROR_CODE"], "Message": os.environ["SSM_ERROR_MESSAGE"]}}, operation)',
        "botocore.client.BaseClient._make_api_call = refuse",
      ].join("\n"));
      writeFileSync(join(dir, "work", "undecryptable"), `${names.join("\n")}\n`);
      const real = execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim();
      return {
        stubs: { ...stubs, python3: python3Stub(`if [[ $2 == *get_parameter* ]] && grep -qxF -- "$3" "$WORK_DIR/undecryptable"; then PYTHONPATH="$WORK_DIR/python" SSM_ERROR_CODE=${code} SSM_ERROR_MESSAGE='${message}' exec ${real} "$@"; fi`) },
        env: keysPublished,
        dir,
      };
    };

    it("stops at once when SSM holds the CA's key but cannot decrypt it, naming both parameters and the command that deletes them", () => {
      const dir = published();
      expect(runBash(script, { stubs, env: keysPublished, dir }).status).toBe(0);
      const run = runBash(script, undecryptable(dir, [PKI.caKey]));
      expect(run.status).not.toBe(0);
      const line = run.output.split("\n").find((each) => each.includes("CANNOT DECRYPT")) ?? "";
      expect(line).toContain(`CANNOT DECRYPT ${PKI.caKey}: InvalidKeyId: arn:aws:kms:us-west-2:111122223333:key/0f9b04ee-ab13-4f35-a2b2-d0902bfe6a1e is pending deletion.`);
      expect(line).toContain(`aws ssm delete-parameters --region us-west-2 --names ${PKI.caKey} ${PKI.caCert}`);
      expect(line).toContain("a new CA is made: every Kafka node gets a certificate from it at its next bootstrap or converge");
      // At once: no retry of what can never succeed, and nothing after the CA's step.
      expect(run.output).not.toMatch(/attempt 1\/8 failed: pki_ensure_ca/);
      expect(run.output).not.toContain("step: make the workstation's kafka-admin identity");
    });

    it("takes KMS's AccessDeniedException through SSM (a key that no longer exists) as undecryptable too, and retries an IAM refusal of the read itself", () => {
      const dir = published();
      expect(runBash(script, { stubs, env: keysPublished, dir }).status).toBe(0);
      const denied = runBash(script, undecryptable(dir, [PKI.caKey], "AccessDeniedException", "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access. (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: 2)"));
      expect(denied.status).not.toBe(0);
      expect(denied.output).toContain(`CANNOT DECRYPT ${PKI.caKey}: AccessDeniedException: The ciphertext refers to a customer master key that does not exist`);
      // Only after KMS kept refusing for 2 minutes (six waits of 20 s): a new role's grants may still be spreading.
      expect(calls(denied.dir).filter((call) => call === "sleep 20")).toHaveLength(6);
      // An IAM refusal of ssm:GetParameter itself (permissions still propagating) is retried instead.
      const propagating = runBash(script, undecryptable(dir, [PKI.caKey], "AccessDeniedException", "User: arn:aws:sts::111122223333:assumed-role/w/i is not authorized to perform: ssm:GetParameter"));
      expect(propagating.output).not.toContain("CANNOT DECRYPT");
      expect(propagating.output).toContain(`could not read ${PKI.caKey}`);
      expect(propagating.output).toMatch(/attempt 1\/8 failed: pki_ensure_ca/);
    });

    it("stops at once when the CA's certificate is in SSM but its key is gone, with the same command", () => {
      const dir = published();
      expect(runBash(script, { stubs, env: keysPublished, dir }).status).toBe(0);
      rmSync(ssmFile(dir, PKI.caKey));
      const run = runBash(script, { stubs, env: { S3_DIR: s3, DOWNLOAD_CONTENT: DEB }, dir });
      expect(run.status).not.toBe(0);
      expect(run.output).toContain(`${PKI.caKey} does not exist while ${PKI.caCert} holds a CA certificate, which nothing can sign for: start over by deleting \`aws ssm delete-parameters --region us-west-2 --names ${PKI.caKey} ${PKI.caCert}\``);
      expect(run.output).not.toMatch(/attempt 1\/8 failed: pki_ensure_ca/);
    });

    it("stops at once when SSM holds Spark's key but cannot decrypt it, naming Spark's key and certificate, instead of trying again at every converge", () => {
      const dir = published();
      expect(runBash(script, { stubs, env: keysPublished, dir }).status).toBe(0);
      const run = runBash(script, undecryptable(dir, [PKI.sparkKey]));
      expect(run.status).not.toBe(0);
      expect(run.output).toContain(`CANNOT DECRYPT ${PKI.sparkKey}: InvalidKeyId: `);
      expect(run.output).toContain(`aws ssm delete-parameters --region us-west-2 --names ${PKI.sparkKey} ${PKI.sparkCert}`);
      expect(run.output).toContain("a new spark key and certificate are made; Spark nodes fetch them within 15 minutes");
      expect(run.output).not.toMatch(/attempt 1\/3 failed: pki_spark_identity/);
      expect(run.output).not.toContain("the next converge makes it");
    });

    it("takes the key a racing setup stored first, and certifies that one", () => {
      const dir = published();
      const winner = mkdtempSync(join(tmpdir(), "winner-"));
      openssl("genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", join(winner, "ca.key"));
      writeFileSync(ssmFile(dir, PKI.caKey), readFileSync(join(winner, "ca.key")));
      const run = runBash(script, { stubs, env: keysPublished, dir });
      expect(run.status).toBe(0);
      expect(readFileSync(ssmFile(dir, PKI.caKey), "utf8")).toBe(readFileSync(join(winner, "ca.key"), "utf8"));
      expect(openssl("x509", "-in", ssmFile(dir, PKI.caCert), "-noout", "-pubkey")).toBe(openssl("pkey", "-in", join(winner, "ca.key"), "-pubout"));
      expect(readFileSync(join(dir, "work", "ssm-puts"), "utf8")).not.toContain(`${PKI.caKey} `);
    });

    it("refuses a certificate in SSM that does not certify the stored key", () => {
      const dir = published();
      const other = mkdtempSync(join(tmpdir(), "other-"));
      openssl("genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", join(other, "a.key"));
      writeFileSync(ssmFile(dir, PKI.caKey), readFileSync(join(other, "a.key")));
      writeFileSync(ssmFile(dir, PKI.caCert), "not a certificate\n");
      const run = runBash(script, { stubs, env: keysPublished, dir });
      expect(run.status).not.toBe(0);
      expect(run.output).toContain(`${PKI.caCert} does not certify the key in ${PKI.caKey}; see docs/tls.md on rotating the CA`);
      expect(run.output).toContain("FAILED at step 'make the platform's certificate authority'");
    });
  });

  it("stops with a clear message when the server's admin key never appears in SSM", () => {
    const waiting = runBash(script, { stubs, env: { S3_DIR: s3, DOWNLOAD_CONTENT: DEB } });
    expect(waiting.status).not.toBe(0);
    expect(waiting.output).toContain(
      `timed out waiting for SSM parameter ${ADMIN_KEY_PARAMETER}; the Chef server publishes it after its first reconfigure (see /var/log/platform/chef-server.log there)`,
    );
    expect(waiting.output).toContain("FAILED at step 'wait for the Chef server's admin key'");
  });
});
