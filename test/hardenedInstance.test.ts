import { createHash } from "node:crypto";
import { HardenedInstance } from "../constructs/HardenedInstance";
import { escapeTerraformTemplate, unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { OperatorVariables } from "../constructs/OperatorVariables";
import { architectureOf, CANONICAL_OWNER_ID } from "../constructs/ubuntuAmi";
import { PlatformStack } from "../stacks/PlatformStack";
import { configFrom, dataOf, onlyResource, resourceStartingWith, synthJson, testApp, userDataOf, type Json } from "./helpers";

const SCRIPT = [
  "#!/usr/bin/env bash",
  'echo "${HOME}" "${#ARRAY[@]}" "$((1 + 2))" "%{not-a-directive}" "$${already-doubled}"',
  "printf '%s\\n' done",
  "",
].join("\n");

function instanceStack(props: Partial<ConstructorParameters<typeof HardenedInstance>[2]> = {}): Json {
  const stack = new PlatformStack(testApp(), "test", { config: configFrom() });
  new HardenedInstance(stack, "node", {
    name: "insight-dev-node",
    ubuntuRelease: "24.04",
    instanceType: "m7i.large",
    subnetId: "subnet-1",
    securityGroupIds: ["sg-1"],
    userData: SCRIPT,
    onUserDataChange: "replace",
    policies: { "read-data": '{"Version":"2012-10-17","Statement":[]}' },
    ...props,
  });
  return synthJson(stack);
}

describe("HardenedInstance", () => {
  // Built in each test, not once for the file: a mutation run credits a mutant's kill only to
  // the tests that ran the code (see jest.mutation.config.js).
  const json = (): Json => instanceStack();
  const instance = (): Json => onlyResource(json(), "aws_instance");

  it("requires IMDSv2 tokens with a hop limit of 1", () => {
    expect(instance().metadata_options).toMatchObject({ http_tokens: "required", http_endpoint: "enabled", http_put_response_hop_limit: 1 });
  });

  it("has an encrypted gp3 root volume", () => {
    expect(instance().root_block_device).toMatchObject({ encrypted: true, volume_type: "gp3", volume_size: 20 });
  });

  it("tags its root volume through root_block_device, never volume_tags, which would fight an attached aws_ebs_volume's tags", () => {
    expect(instance().root_block_device.tags).toEqual({ Name: "insight-dev-node" });
    expect(instance().volume_tags).toBeUndefined();
  });

  it("never leaves a changed script to the provider's stop and start, which runs nothing: it replaces or ignores", () => {
    expect(instance().user_data_replace_on_change).toBe(true);
    expect(instance().lifecycle.ignore_changes).toEqual(["ami", "ebs_optimized"]);
    const keeps = onlyResource(instanceStack({ onUserDataChange: "ignore" }), "aws_instance");
    expect(keeps.user_data_replace_on_change).toBe(false);
    expect(keeps.lifecycle.ignore_changes).toEqual(["ami", "user_data_base64", "ebs_optimized"]);
  });

  it("states ebs_optimized = true, and ignores it on a running instance (force-new; EC2 reports false for one launched without it)", () => {
    expect(instance().ebs_optimized).toBe(true);
    expect(instance().lifecycle.ignore_changes).toContain("ebs_optimized");
  });

  it("boots only once every inline policy of its role exists, so its first AWS calls are not refused", () => {
    const withTwo = instanceStack({ policies: { "read-data": '{"Statement":[]}', "read-key": '{"Statement":[]}' } });
    const policyNames = Object.keys(withTwo.resource.aws_iam_role_policy);
    expect(policyNames).toHaveLength(2);
    expect([...onlyResource(withTwo, "aws_instance").depends_on].sort()).toEqual(policyNames.map((name) => `aws_iam_role_policy.${name}`).sort());
  });

  it("gets no public IP unless asked", () => {
    expect(instance().associate_public_ip_address).toBe(false);
  });

  it("runs as its own role holding only the policies given", () => {
    expect(onlyResource(json(), "aws_iam_instance_profile").role).toMatch(/^\$\{aws_iam_role\.node_role_[0-9A-F]{8}\.name\}$/);
    expect(onlyResource(json(), "aws_iam_role").name).toBe("insight-dev-node");
    expect(Object.keys(json().resource.aws_iam_role_policy)).toHaveLength(1);
    expect(json().resource.aws_iam_role_policy_attachment).toBeUndefined();
  });

  it("boots Canonical's newest Ubuntu image for the release and architecture, never a fixed AMI id", () => {
    const ami = dataOf(json(), "aws_ami")["ubuntu-2404-amd64"];
    expect(ami.owners).toEqual([CANONICAL_OWNER_ID]);
    expect(ami.most_recent).toBe(true);
    expect(ami.filter).toContainEqual({ name: "name", values: ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"] });
    expect(instance().ami).toBe("${data.aws_ami.ubuntu-2404-amd64.id}");
    expect(instance().lifecycle.ignore_changes).toContain("ami");
  });

  it("looks up 22.04 images under their own name family, and arm64 images for Graviton types", () => {
    const graviton = instanceStack({ ubuntuRelease: "22.04", instanceType: "m7g.large" });
    expect(dataOf(graviton, "aws_ami")["ubuntu-2204-arm64"].filter).toContainEqual({
      name: "name",
      values: ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-*"],
    });
    expect(architectureOf("c7gn.xlarge")).toBe("arm64");
    expect(architectureOf("m7i-flex.large")).toBe("amd64");
    expect(architectureOf("g5.xlarge")).toBe("amd64");
  });

  it("delivers the rendered script byte for byte: Terraform's unescaping of user_data gives back the script", () => {
    const synthesized = json();
    const node = onlyResource(synthesized, "aws_instance");
    expect(node.user_data).toBeUndefined();
    expect(node.user_data_base64).toMatch(/^\$\{base64gzip\(local\.node_user_data_[0-9A-F]{8}\)\}$/);
    expect(userDataOf(synthesized, node)).not.toContain('"${HOME}"');
    expect(unescapeTerraformTemplate(userDataOf(synthesized, node))).toBe(SCRIPT);
  });

  it("keeps cdktf token references live inside user data", () => {
    const stack = new PlatformStack(testApp(), "test", { config: configFrom() });
    const other = new HardenedInstance(stack, "other", { name: "other", ubuntuRelease: "24.04", instanceType: "t3.micro", subnetId: "s", securityGroupIds: [], onUserDataChange: "ignore" });
    const script = `MASTER=${other.privateIp}\necho "\${MASTER}"\n`;
    new HardenedInstance(stack, "user", { name: "user", ubuntuRelease: "24.04", instanceType: "t3.micro", subnetId: "s", securityGroupIds: [], userData: script, onUserDataChange: "ignore" });
    const synthesized = synthJson(stack);
    const userData = userDataOf(synthesized, resourceStartingWith(synthesized, "aws_instance", "user_instance_"));
    expect(userData).toMatch(/^MASTER=\$\{aws_instance\.other_instance_[0-9A-F]{8}\.private_ip\}\necho "\$\$\{MASTER\}"\n$/);
  });

  it("refuses user data larger than EC2 accepts, naming the instance", () => {
    // Hex digits of hashes: about half a byte of entropy per character, so gzip halves them at best.
    const incompressible = (chars: number): string =>
      Array.from({ length: Math.ceil(chars / 128) }, (_unused, index) => createHash("sha512").update(String(index)).digest("hex")).join("").slice(0, chars);
    expect(() => instanceStack({ userData: incompressible(40_000) })).toThrow(/^insight-dev-node: user data is 2\d{4} bytes gzipped; EC2 accepts at most 16384, and synth keeps 1024 of them for Terraform's compressor$/);
    // What counts is the size EC2 receives: a long script that compresses well is fine.
    expect(() => instanceStack({ userData: "# a comment line that repeats\n".repeat(2000) })).not.toThrow();
  });

  it("escapes every directive and interpolation in a script, not only the first", () => {
    const script = 'echo "%{a}" "${b}"\necho "%{c}" "${d}"\n';
    expect(escapeTerraformTemplate(script)).toBe('echo "%%{a}" "$${b}"\necho "%%{c}" "$${d}"\n');
    expect(unescapeTerraformTemplate(escapeTerraformTemplate(script))).toBe(script);
  });

  it("looks up images owned by Canonical's AWS account, 099720109477", () => {
    expect(dataOf(json(), "aws_ami")["ubuntu-2404-amd64"].owners).toEqual(["099720109477"]);
  });

  it("escapes only what Terraform would interpolate", () => {
    expect(escapeTerraformTemplate("a ${b} %{c} $d ${TfToken[TOKEN.1]}")).toBe("a $${b} %%{c} $d ${TfToken[TOKEN.1]}");
  });
});

describe("OperatorVariables", () => {
  const variablesJson = (): Json => {
    const stack = new PlatformStack(testApp(), "vars", { config: configFrom() });
    OperatorVariables.adminCidr(stack);
    OperatorVariables.keyPairName(stack);
    OperatorVariables.deployerPrivateKeyPath(stack);
    return synthJson(stack).variable as Json;
  };

  it("declares the per-operator values as Terraform variables with no defaults baked in", () => {
    const variables = variablesJson();
    expect(Object.keys(variables).sort()).toEqual(["admin_cidr", "deployer_private_key_path", "key_pair_name"]);
    expect(Object.values(variables).every((v) => v.default === undefined)).toBe(true);
  });

  it("validates admin_cidr as an IPv4 CIDR that is never the whole internet", () => {
    const variables = variablesJson();
    const [validation] = variables.admin_cidr.validation as Json[];
    expect(validation.error_message).toBe('admin_cidr: "${var.admin_cidr}" must be an IPv4 CIDR block such as 203.0.113.7/32 (IPv6 is not supported), and never 0.0.0.0/0.');
    expect(validation.condition).toContain("can(cidrhost(var.admin_cidr, 0))");
    expect(validation.condition).toContain('!contains(["0.0.0.0/0"], var.admin_cidr)');
  });

  it("rejects an IPv6 block for admin_cidr at plan, which would otherwise reach cidr_ipv4 and fail at apply", () => {
    const variables = variablesJson();
    const condition = (variables.admin_cidr.validation as Json[])[0].condition as string;
    // The pattern Terraform's regex() applies; RE2 and JavaScript agree on this one. It sits in
    // an HCL string literal, where a backslash would start an escape HCL does not know.
    const pattern = /can\(regex\("(.*?)", var\.admin_cidr\)\)/.exec(condition)?.[1] ?? "";
    expect(pattern).not.toBe("");
    expect(pattern).not.toContain("\\");
    const ipv4 = new RegExp(pattern);
    expect(ipv4.test("203.0.113.7/32")).toBe(true);
    expect(ipv4.test("10.0.0.0/8")).toBe(true);
    expect(ipv4.test("2001:db8::/32")).toBe(false);
    expect(ipv4.test("::/0")).toBe(false);
    expect(ipv4.test("203.0.113.7/32 ")).toBe(false);
  });

  it("refuses at plan an IPv4 admin_cidr wider than /16, in one message naming the field, the value and the bound", () => {
    const rules = variablesJson().admin_cidr.validation as Json[];
    const bound = rules.find((rule) => String(rule.error_message).includes("wider than"));
    expect(bound?.error_message).toBe('admin_cidr: "${var.admin_cidr}" is wider than /16; use a prefix of /16 to /32, such as your public IP as 203.0.113.7/32.');
    // The condition's shape is "not IPv4 syntax, or an allowed prefix"; its two patterns are
    // RE2 and JavaScript alike, so the rule is evaluated here as Terraform would.
    const condition = String(bound?.condition);
    const shape = /^\$\{\(!can\(regex\("([^"]*)", var\.admin_cidr\)\) \|\| can\(regex\("([^"]*)", var\.admin_cidr\)\)\)\}$/.exec(condition);
    expect(shape).not.toBeNull();
    const [ipv4, prefix] = [new RegExp(shape?.[1] ?? ""), new RegExp(shape?.[2] ?? "")];
    const accepted = (cidr: string): boolean => !ipv4.test(cidr) || prefix.test(cidr);
    for (const cidr of ["203.0.113.7/32", "198.51.100.0/24", "198.51.0.0/16", "10.20.0.0/30"]) expect([cidr, accepted(cidr)]).toEqual([cidr, true]);
    for (const cidr of ["198.50.0.0/15", "52.0.0.0/8", "0.0.0.0/1", "10.0.0.0/08", "10.0.0.0/016", "0.0.0.0/0"]) expect([cidr, accepted(cidr)]).toEqual([cidr, false]);
    // An IPv6 block is the first rule's to refuse, with its own message, not a second one here.
    expect(accepted("2001:db8::/64")).toBe(true);
  });

  it("checks that the deployer's private key file exists, without ever reading it into the JSON", () => {
    const variables = variablesJson();
    expect(variables.deployer_private_key_path.validation[0].condition).toBe("${fileexists(var.deployer_private_key_path)}");
  });
});
