import { checkBootstrapOrder } from "../validate/bootstrapOrder";
import { mirroredVersions, providerSource, providerVersionOverride, versionToUse } from "../validate/terraformSetup";
import { remoteOutputMock, testPrelude } from "../validate/testPrelude";

describe("validate's provider setup", () => {
  it("uses the mirror TERRAFORM_PROVIDER_MIRROR names, and lists its versions in both of Terraform's layouts", () => {
    const list = (): string[] => ["5.100.0", "terraform-provider-aws_6.25.0_linux_amd64.zip", "README"];
    expect(mirroredVersions("/m", "hashicorp", "aws", list)).toEqual(["6.25.0", "5.100.0"]);
    expect(() => providerSource({ TERRAFORM_PROVIDER_MIRROR: "/nowhere" }, () => false)).toThrow("TERRAFORM_PROVIDER_MIRROR=/nowhere: no such directory");
  });

  it("drops a TF_CLI_CONFIG_FILE naming a missing file, and keeps one that exists", () => {
    expect(providerSource({ TF_CLI_CONFIG_FILE: "/missing" }, () => false)).toEqual({ kind: "registry", cliConfig: "none" });
    expect(providerSource({ TF_CLI_CONFIG_FILE: "/present" }, () => true)).toEqual({ kind: "registry", cliConfig: "user" });
  });

  it("overrides the pinned version only when the mirror lacks it, with the mirror's newest", () => {
    const mirror = { kind: "mirror", path: "/m", versions: ["5.100.0", "5.99.0"] } as const;
    expect(versionToUse(mirror, "6.25.0")).toEqual({ version: "5.100.0", overridden: true });
    expect(versionToUse({ ...mirror, versions: ["6.25.0", "5.100.0"] }, "6.25.0")).toEqual({ version: "6.25.0", overridden: false });
    expect(versionToUse({ kind: "registry", cliConfig: "none" }, "6.25.0")).toBeUndefined();
    expect(JSON.parse(providerVersionOverride("5.100.0"))).toEqual({ terraform: { required_providers: { aws: { source: "hashicorp/aws", version: "5.100.0" } } } });
  });
});

describe("validate's test prelude", () => {
  it("gives every remote output the stack reads a value, policies valid JSON", () => {
    const stack = {
      data: { terraform_remote_state: { "cross-stack-reference-input-chef": {} } },
      resource: { aws_iam_role_policy: { p: { policy: "${data.terraform_remote_state.cross-stack-reference-input-chef.outputs.cross-stack-output-readjson}" } } },
      variable: { admin_cidr: {} },
    };
    const prelude = testPrelude(stack);
    expect(prelude).toContain('"cross-stack-output-readjson" = "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}"');
    expect(prelude).toContain('admin_cidr = "203.0.113.7/32"');
    expect(JSON.parse(remoteOutputMock("x-json"))).toEqual({ Version: "2012-10-17", Statement: [] });
    expect(() => testPrelude({ variable: { unknown_one: {} } })).toThrow("variable unknown_one: validate has no test value");
  });
});

describe("validate's bootstrap order check", () => {
  const stack = {
    resource: {
      terraform_data: {
        "zoo-bag": { triggers_replace: { ensemble: "${aws_instance.a.private_ip},${aws_instance.b.private_ip}" } },
        "bootstrap-a": { triggers_replace: { instance: "${aws_instance.a.id}" } },
        "bootstrap-b": { triggers_replace: { instance: "${aws_instance.b.id}" } },
        "bootstrap-c": { triggers_replace: { instance: "${aws_instance.c.id}" } },
      },
    },
  };
  const edge = (from: string, to: string): string => `  "terraform_data.${from}" -> "terraform_data.${to}";`;

  it("accepts a node outside the quorum that waits for every quorum bootstrap, also through another step", () => {
    const dot = [edge("bootstrap-a", "zoo-bag"), edge("bootstrap-b", "zoo-bag"), edge("bootstrap-c", "bootstrap-a"), edge("bootstrap-a", "bootstrap-b")].join("\n");
    expect(checkBootstrapOrder(dot, stack)).toEqual({ quorum: ["terraform_data.bootstrap-a", "terraform_data.bootstrap-b"], others: ["terraform_data.bootstrap-c"], problems: [] });
  });

  it("names the quorum bootstrap a node outside it does not wait for", () => {
    const dot = [edge("bootstrap-a", "zoo-bag"), edge("bootstrap-b", "zoo-bag"), edge("bootstrap-c", "bootstrap-a")].join("\n");
    expect(checkBootstrapOrder(dot, stack).problems).toEqual(["terraform_data.bootstrap-c (outside the quorum) does not wait for terraform_data.bootstrap-b"]);
  });
});
