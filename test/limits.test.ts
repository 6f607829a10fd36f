/**
 * Every limit the platform enforces at synth, at its exact boundary: at the limit it passes, one
 * past it fails with a message naming the field, the value and the rule.
 *
 * Boundaries tested elsewhere, where the rest of their rule is tested (not repeated here):
 * - test/config.test.ts: project length 20/21; CIDR prefix /16 and /28 against /15 and /29;
 *   S3 bucket names 3 and 63 against 2 and 64 characters; network.azCount 2/1; kafka.nodes 1/0;
 *   the quorum sizes 7/9, odd and at least 1; min.insync.replicas below the replication factor;
 *   node ids below 1000 with dedicated controllers (999/1000); security group ids of 17/18 hex
 *   digits; the quorum derived from 3 nodes or fewer.
 * - test/guardrails.test.ts: IAM role name 64/65 and name_prefix 38/39; SSM parameter names of
 *   962/963 characters after the ARN prefix and 15/16 levels.
 * Limits Terraform checks at plan (key_pair_name's 1-255 characters and admin_cidr in
 * constructs/OperatorVariables.ts, enough availability zones in NetworkStack) are not synth's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { TerraformStack, Testing } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { ConfigError } from "../config/ConfigError";
import { loadConfig } from "../config/loadConfig";
import { HardenedInstance, MAX_USER_DATA_BYTES } from "../constructs/HardenedInstance";
import { KafkaProvisionScripts } from "../constructs/kafkaProvisionScripts";
import { tarGz } from "../constructs/tarGz";
import { awsApiLimits } from "../guardrails/rules/awsApiLimits";

/** The problems loadConfig reports for these flags; [] when the config is valid. */
function problems(...argv: string[]): readonly string[] {
  try {
    loadConfig({ argv, env: {} });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

const hex = (digits: number): string => "ab".repeat(64).padEnd(digits, "c").slice(0, digits);
const NAME_RULE = "must be 1-20 lowercase letters, digits or hyphens, starting with a letter";
const CHEF_NAME_RULE = "must be lowercase letters, digits, _ or -, starting with a letter";
const CHECKSUM_RULE = "is not a sha256 or sha512 hex digest (or empty to use the publisher's metadata)";
const SHA512_RULE = "is not a sha512 hex digest (128 lowercase hex characters)";

describe("config limits: at the limit synth goes on, one past it the config is refused", () => {
  // [limit, flags at the limit, flags one past it, the one problem one past it]
  test.each<[string, string[], string[], string]>([
    ["environment is at most 20 characters", ["--environment", "e".repeat(20)], ["--environment", "e".repeat(21)], `environment: "${"e".repeat(21)}" ${NAME_RULE}`],
    ["project is at least 1 character", ["--project", "p"], ["--project", ""], `project: "" ${NAME_RULE}`],
    ["environment is at least 1 character", ["--environment", "e"], ["--environment", ""], `environment: "" ${NAME_RULE}`],
    [
      "the data bucket prefix is at most 37 characters (project and environment 30 together)",
      ["--project", "p".repeat(15), "--environment", "e".repeat(15)],
      ["--project", "p".repeat(16), "--environment", "e".repeat(15)],
      `environment: "${"e".repeat(15)}" with project "${"p".repeat(16)}" makes the data bucket prefix "${"p".repeat(16)}-${"e".repeat(15)}-data-" 38 characters; S3 accepts at most 37 (keep project and environment to 30 characters together)`,
    ],
    [
      "a subnet list has no more entries than network.azCount",
      ["--network.publicSubnetCidrs", "10.0.0.0/24,10.0.1.0/24,10.0.2.0/24"],
      ["--network.publicSubnetCidrs", "10.0.0.0/24,10.0.1.0/24,10.0.2.0/24,10.0.3.0/24"],
      'network.publicSubnetCidrs: ["10.0.0.0/24","10.0.1.0/24","10.0.2.0/24","10.0.3.0/24"] has 4 entries but network.azCount is 3 (one subnet per AZ)',
    ],
    [
      "the Chef server is 15.10.53 or later, whose user-create takes flags and the password on stdin",
      ["--chef.serverVersion", "15.10.53"],
      ["--chef.serverVersion", "15.10.52"],
      'chef.serverVersion: "15.10.52" must be 15.10.53 or later: the setup creates the admin user with flags (its password on stdin), which older servers\' user-create does not take',
    ],
    [
      "flow logs are kept at least 1 day",
      ["--network.flowLogRetentionDays", "1"],
      ["--network.flowLogRetentionDays", "0"],
      "network.flowLogRetentionDays: 0 must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ],
    [
      "flow logs are kept at most 3653 days",
      ["--network.flowLogRetentionDays", "3653"],
      ["--network.flowLogRetentionDays", "3654"],
      "network.flowLogRetentionDays: 3654 must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ],
    ["noncurrent versions are kept at least 1 day", ["--storage.noncurrentVersionExpirationDays", "1"], ["--storage.noncurrentVersionExpirationDays", "0"], "storage.noncurrentVersionExpirationDays: 0 must be at least 1"],
    ["chef.organization is at most 64 characters", ["--chef.organization", "o".repeat(64)], ["--chef.organization", "o".repeat(65)], `chef.organization: "${"o".repeat(65)}" ${CHEF_NAME_RULE}`],
    ["chef.organization is at least 1 character", ["--chef.organization", "o"], ["--chef.organization", ""], `chef.organization: "" ${CHEF_NAME_RULE}`],
    ["chef.adminUser is at most 64 characters", ["--chef.adminUser", "a".repeat(64)], ["--chef.adminUser", "a".repeat(65)], `chef.adminUser: "${"a".repeat(65)}" ${CHEF_NAME_RULE}`],
    ["chef.adminUser is at least 1 character", ["--chef.adminUser", "a"], ["--chef.adminUser", ""], `chef.adminUser: "" ${CHEF_NAME_RULE}`],
    ["a sha256 package checksum is 64 hex digits, not 65", ["--chef.serverPackageChecksum", hex(64)], ["--chef.serverPackageChecksum", hex(65)], `chef.serverPackageChecksum: "${hex(65)}" ${CHECKSUM_RULE}`],
    ["a sha256 package checksum is 64 hex digits, not 63", ["--chef.serverPackageChecksum", hex(64)], ["--chef.serverPackageChecksum", hex(63)], `chef.serverPackageChecksum: "${hex(63)}" ${CHECKSUM_RULE}`],
    ["a sha512 package checksum is 128 hex digits, not 129", ["--chef.workstationPackageChecksum", hex(128)], ["--chef.workstationPackageChecksum", hex(129)], `chef.workstationPackageChecksum: "${hex(129)}" ${CHECKSUM_RULE}`],
    ["a sha512 package checksum is 128 hex digits, not 127", ["--chef.workstationPackageChecksum", hex(128)], ["--chef.workstationPackageChecksum", hex(127)], `chef.workstationPackageChecksum: "${hex(127)}" ${CHECKSUM_RULE}`],
    ...(["kafka.sha512", "kafka.zookeeperSha512", "spark.sha512"] as const).flatMap((field): Array<[string, string[], string[], string]> => [
      [`${field} is 128 hex digits, not 129`, [`--${field}`, hex(128)], [`--${field}`, hex(129)], `${field}: "${hex(129)}" ${SHA512_RULE}`],
      [`${field} is 128 hex digits, not 127`, [`--${field}`, hex(128)], [`--${field}`, hex(127)], `${field}: "${hex(127)}" ${SHA512_RULE}`],
    ]),
    ["kafka.heapMb is at least 256", ["--kafka.heapMb", "256"], ["--kafka.heapMb", "255"], "kafka.heapMb: 255 must be at least 256"],
    ["kafka.zookeeperHeapMb is at least 128", ["--kafka.zookeeperHeapMb", "128"], ["--kafka.zookeeperHeapMb", "127"], "kafka.zookeeperHeapMb: 127 must be at least 128"],
    ["kafka.dataVolumeGiB is at least 1", ["--kafka.dataVolumeGiB", "1"], ["--kafka.dataVolumeGiB", "0"], "kafka.dataVolumeGiB: 0 must be at least 1"],
    ["kafka.numPartitions is at least 1", ["--kafka.numPartitions", "1"], ["--kafka.numPartitions", "0"], "kafka.numPartitions: 0 must be at least 1"],
    ["spark.workers is at least 1", ["--spark.workers", "1"], ["--spark.workers", "0"], "spark.workers: 0 must be at least 1"],
    [
      "the replication factor is at most kafka.nodes",
      ["--kafka.replicationFactor", "3"],
      ["--kafka.replicationFactor", "4"],
      "kafka.replicationFactor: 4 exceeds kafka.nodes 3 (a partition cannot have more replicas than brokers)",
    ],
    [
      "the ZooKeeper ensemble is at most kafka.nodes",
      ["--kafka.nodes", "5", "--kafka.zookeeperNodes", "5"],
      ["--kafka.nodes", "4", "--kafka.zookeeperNodes", "5"],
      "kafka.zookeeperNodes: 5 exceeds kafka.nodes 4 (the ensemble runs on the first brokers)",
    ],
    [
      "the controller quorum is at most kafka.nodes when the brokers hold it",
      ["--kafka.mode", "kraft", "--kafka.nodes", "5", "--kafka.controllerNodes", "5"],
      ["--kafka.mode", "kraft", "--kafka.nodes", "4", "--kafka.controllerNodes", "5"],
      "kafka.controllerNodes: 5 exceeds kafka.nodes 4 (the controllers are the first brokers unless kafka.dedicatedControllers is true)",
    ],
    [
      "the controller quorum is at most 7",
      ["--kafka.mode", "kraft", "--kafka.nodes", "31", "--kafka.controllerNodes", "7"],
      ["--kafka.mode", "kraft", "--kafka.nodes", "31", "--kafka.controllerNodes", "9"],
      "kafka.controllerNodes: 9 must be at most 7: every write waits for a majority of the controller quorum (3 or 5 is the usual size)",
    ],
    [
      "a client security group id has at least 8 hex digits",
      ["--kafka.clientSecurityGroupIds", "sg-01234567"],
      ["--kafka.clientSecurityGroupIds", "sg-0123456"],
      'kafka.clientSecurityGroupIds[0]: "sg-0123456" is not a security group id like sg-0123456789abcdef0',
    ],
  ])("%s", (_limit, atLimit, pastLimit, problem) => {
    expect(problems(...atLimit)).toEqual([]);
    expect(problems(...pastLimit)).toEqual([problem]);
  });
});

describe("aws-api-limits: at the API's limit synth goes on, one past it the guardrail reports", () => {
  /** The guardrail's messages for what `add` puts in an otherwise empty stack. */
  const reported = (add: (stack: TerraformStack, value: string) => void, value: string): string[] => {
    const stack = new TerraformStack(Testing.app(), "limits");
    add(stack, value);
    return awsApiLimits(stack).map((violation) => violation.message);
  };
  const tooLong = (what: string, value: string, max: number): string => `${what} ${JSON.stringify(value)} is ${value.length} characters; AWS accepts at most ${max}`;

  // [what, the API's limit, puts a resource with that text in a stack]
  test.each<[string, number, (stack: TerraformStack, value: string) => void]>([
    ["aws_security_group name", 255, (stack, value) => new SecurityGroup(stack, "group", { name: value })],
    ["aws_security_group description", 255, (stack, value) => new SecurityGroup(stack, "group", { description: value })],
    ["aws_security_group ingress rule description", 255, (stack, value) => new SecurityGroup(stack, "group", { ingress: [{ fromPort: 22, toPort: 22, protocol: "tcp", cidrBlocks: ["10.0.0.0/8"], description: value }] })],
    ["aws_default_security_group egress rule description", 255, (stack, value) => new DefaultSecurityGroup(stack, "group", { egress: [{ fromPort: 0, toPort: 0, protocol: "-1", cidrBlocks: ["10.0.0.0/8"], description: value }] })],
    ["aws_vpc_security_group_ingress_rule description", 255, (stack, value) => new VpcSecurityGroupIngressRule(stack, "rule", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 22, toPort: 22, referencedSecurityGroupId: "sg-2", description: value })],
    ["aws_vpc_security_group_egress_rule description", 255, (stack, value) => new VpcSecurityGroupEgressRule(stack, "rule", { securityGroupId: "sg-1", ipProtocol: "-1", cidrIpv4: "10.0.0.0/8", description: value })],
    ["aws_security_group_rule description", 255, (stack, value) => new SecurityGroupRule(stack, "rule", { type: "ingress", securityGroupId: "sg-1", protocol: "tcp", fromPort: 22, toPort: 22, sourceSecurityGroupId: "sg-2", description: value })],
    ["aws_iam_instance_profile name", 128, (stack, value) => new IamInstanceProfile(stack, "profile", { name: value })],
    ["aws_iam_instance_profile name_prefix", 102, (stack, value) => new IamInstanceProfile(stack, "profile", { namePrefix: value })],
    ["aws_iam_role_policy name", 128, (stack, value) => new IamRolePolicy(stack, "policy", { role: "r", name: value, policy: "{}" })],
    ["aws_iam_role_policy name_prefix", 102, (stack, value) => new IamRolePolicy(stack, "policy", { role: "r", namePrefix: value, policy: "{}" })],
    ["aws_s3_bucket bucket_prefix", 37, (stack, value) => new S3Bucket(stack, "bucket", { bucketPrefix: value })],
    ["aws_s3_bucket bucket", 63, (stack, value) => new S3Bucket(stack, "bucket", { bucket: value })],
  ])("%s: %i characters pass, one more is refused", (what, max, add) => {
    expect(reported(add, "a".repeat(max))).toEqual([]);
    expect(reported(add, "a".repeat(max + 1))).toEqual([tooLong(what, "a".repeat(max + 1), max)]);
  });

  test.each<[string, (value: string) => Record<string, string>, string, number]>([
    ["tag key", (value) => ({ [value]: "v" }), "tag key", 128],
    ["tag value", (value) => ({ Long: value }), 'tag "Long" value', 256],
  ])("a %s: the API's limit passes, one more character is refused, on a resource and on a root volume", (_what, tags, what, max) => {
    const onResource = (stack: TerraformStack, value: string) => new SecurityGroup(stack, "group", { tags: tags(value) });
    const onRootVolume = (stack: TerraformStack, value: string) =>
      new Instance(stack, "instance", { ami: "ami-12345678", instanceType: "t3.micro", rootBlockDevice: { encrypted: true, tags: tags(value) } });
    const past = "k".repeat(max + 1);
    expect(reported(onResource, "k".repeat(max))).toEqual([]);
    expect(reported(onResource, past)).toEqual([tooLong(what, past, max)]);
    expect(reported(onRootVolume, "k".repeat(max))).toEqual([]);
    expect(reported(onRootVolume, past)).toEqual([tooLong(`root_block_device ${what}`, past, max)]);
  });

  it("a provider default tag value: 256 characters pass, 257 are refused", () => {
    const withDefault = (stack: TerraformStack, value: string) => new AwsProvider(stack, "aws", { region: "us-west-2", defaultTags: [{ tags: { Long: value } }] });
    expect(reported(withDefault, "v".repeat(256))).toEqual([]);
    expect(reported(withDefault, "v".repeat(257))).toEqual([tooLong('default tag "Long" value', "v".repeat(257), 256)]);
  });

  // Each printable ASCII character, alone in a text: exactly the documented set passes.
  const printable = Array.from({ length: 0x7f - 0x20 }, (_v, index) => String.fromCharCode(0x20 + index));
  const refusedOf = (add: (stack: TerraformStack, value: string) => void, pattern: RegExp): string[] =>
    printable.filter((character) => reported(add, `a${character}b`).some((message) => pattern.test(message)));

  it("EC2 descriptions take exactly a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* of printable ASCII", () => {
    const description = (stack: TerraformStack, value: string) => new VpcSecurityGroupIngressRule(stack, "rule", { securityGroupId: "sg-1", ipProtocol: "-1", referencedSecurityGroupId: "sg-2", description: value });
    expect(refusedOf(description, /has characters AWS refuses: EC2 accepts only/).join("")).toBe("\"%'<>?\\^`|~");
  });

  it("IAM names take exactly letters, digits and +=,.@_- of printable ASCII", () => {
    const role = (stack: TerraformStack, value: string) => new IamRole(stack, "role", { name: value, assumeRolePolicy: "{}" });
    expect(refusedOf(role, /has characters AWS refuses: IAM names take/).join("")).toBe(" !\"#$%&'()*/:;<>?[\\]^`{|}~");
  });

  it("SSM parameter names take exactly letters, digits, _.- and / of printable ASCII", () => {
    const parameter = (stack: TerraformStack, value: string) => new SsmParameter(stack, "parameter", { name: `/x/${value}`, type: "String", value: "v" });
    expect(refusedOf(parameter, /has characters SSM refuses/).join("")).toBe(" !\"#$%&'()*+,:;<=>?@[\\]^`{|}~");
  });

  it("an SSM name without a leading slash gets one in its ARN: 961 characters pass, 962 are refused", () => {
    const parameter = (stack: TerraformStack, value: string) => new SsmParameter(stack, "parameter", { name: value, type: "String", value: "v" });
    expect(reported(parameter, "n".repeat(961))).toEqual([]);
    expect(reported(parameter, "n".repeat(962))).toEqual([`SSM parameter name "${"n".repeat(962)}" is 962 characters; SSM accepts at most 961 after the ARN prefix`]);
    // With the slash its own, the name may be one longer.
    expect(reported(parameter, `/${"n".repeat(961)}`)).toEqual([]);
  });
});

describe("user data: the gzipped script's budget, at the byte", () => {
  const BUDGET = MAX_USER_DATA_BYTES - 1024;

  /** A seeded generator (mulberry32): the same letters on every run, with no repeats gzip could use. */
  const randomLetters = (count: number, seed: number): string => {
    const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let state = seed;
    let text = "";
    for (let index = 0; index < count; index++) {
      state = (state + 0x6d2b79f5) | 0;
      let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
      mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
      text += letters[((mixed ^ (mixed >>> 14)) >>> 0) % letters.length];
    }
    return text;
  };
  const noise = randomLetters(30_000, 21);
  const scriptOf = (length: number): string => `#!/usr/bin/env bash\n# ${noise.slice(0, length)}\n`;
  /** A script whose gzip (as synth measures it) is exactly `bytes` long. */
  const scriptGzippingTo = (bytes: number): string => {
    let low = 0;
    let high = noise.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (gzipSync(scriptOf(middle)).length < bytes) low = middle + 1;
      else high = middle;
    }
    const script = scriptOf(low);
    if (gzipSync(script).length !== bytes) throw new Error(`no script gzips to exactly ${bytes} bytes`);
    return script;
  };
  const instanceWith = (userData: string): HardenedInstance =>
    new HardenedInstance(new TerraformStack(Testing.app(), "limits"), "node", {
      name: "insight-dev-node",
      ubuntuRelease: "24.04",
      instanceType: "m7i.large",
      subnetId: "subnet-1",
      securityGroupIds: ["sg-1"],
      userData,
      onUserDataChange: "replace",
    });

  it(`takes a script that gzips to exactly the budget (${MAX_USER_DATA_BYTES} - 1024 bytes) and refuses one byte more, naming the instance`, () => {
    const atBudget = scriptGzippingTo(BUDGET);
    const overBudget = scriptGzippingTo(BUDGET + 1);
    // The scripts are larger than EC2's limit before gzip: only the gzipped size counts.
    expect(atBudget.length).toBeGreaterThan(MAX_USER_DATA_BYTES);
    expect(gunzipSync(gzipSync(atBudget)).toString()).toBe(atBudget);
    expect(instanceWith(atBudget).userDataScript).toBe(atBudget);
    expect(() => instanceWith(overBudget)).toThrow(
      new Error(`insight-dev-node: user data is ${BUDGET + 1} bytes gzipped; EC2 accepts at most ${MAX_USER_DATA_BYTES}, and synth keeps 1024 of them for Terraform's compressor`),
    );
  });
});

describe("data bag names", () => {
  it("take one character, and refuse none", () => {
    const scripts = new KafkaProvisionScripts(loadConfig({ argv: [], env: {} }));
    expect(() => scripts.uploadDataBag({ bag: "z", id: "k", json: "{}" })).not.toThrow();
    expect(() => scripts.uploadDataBag({ bag: "", id: "kraft", json: "{}" })).toThrow(new Error('data bag name "" may hold only letters, digits, _ and -'));
    expect(() => scripts.uploadDataBag({ bag: "kafka_bag", id: "", json: "{}" })).toThrow(new Error('data bag name "" may hold only letters, digits, _ and -'));
  });
});

describe("the cookbook archive's ustar names", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "limits-tar-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** The names GNU tar reads from the archive. */
  const namesIn = (archive: Buffer): string[] => {
    const listing = spawnSync("tar", ["-tzf", "-"], { input: archive, encoding: "utf8" });
    if (listing.status !== 0) throw new Error(`tar -t failed: ${listing.stderr}`);
    return listing.stdout.split("\n").filter((line) => line !== "");
  };
  const file = (path: string): void => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), "x");
  };

  it("keep a 100-byte name whole and refuse a 101-byte name with no directory to split off", () => {
    file("n".repeat(100));
    expect(namesIn(tarGz(root))).toEqual(["n".repeat(100)]);
    file("m".repeat(101));
    expect(() => tarGz(root)).toThrow(new Error(`path too long for a tar archive: ${"m".repeat(101)}`));
  });

  it("split off a directory prefix of up to 155 bytes, and refuse 156", () => {
    const directory = "d".repeat(155);
    file(`${directory}/${"f".repeat(100)}`);
    expect(namesIn(tarGz(root))).toEqual([`${directory}/`, `${directory}/${"f".repeat(100)}`]);
    rmSync(join(root, directory), { recursive: true });
    // A slash at byte 156 is one too far: the split falls back to the slash before it.
    const nested = `${"x".repeat(60)}/${"y".repeat(95)}`;
    file(`${nested}/z`);
    expect(namesIn(tarGz(root))).toEqual([`${"x".repeat(60)}/`, `${nested}/`, `${nested}/z`]);
    rmSync(join(root, "x".repeat(60)), { recursive: true });
    file(`${"e".repeat(156)}/f`);
    expect(() => tarGz(root)).toThrow(new Error(`path too long for a tar archive: ${"e".repeat(156)}/`));
  });

  it("count the prefix's 155 in bytes, not characters: a 156-byte prefix of 78 two-byte letters is refused, not cut short", () => {
    file(`${"é".repeat(77)}d/f`);
    expect(namesIn(tarGz(root))).toEqual([`${"é".repeat(77)}d/`, `${"é".repeat(77)}d/f`]);
    rmSync(join(root, `${"é".repeat(77)}d`), { recursive: true });
    file(`${"é".repeat(78)}/f`);
    expect(() => tarGz(root)).toThrow(new Error(`path too long for a tar archive: ${"é".repeat(78)}/`));
  });

  it("keep a 100-byte name after the prefix and refuse 101", () => {
    file(`d/${"f".repeat(100)}`);
    expect(namesIn(tarGz(root))).toEqual(["d/", `d/${"f".repeat(100)}`]);
    file(`d/${"g".repeat(101)}`);
    expect(() => tarGz(root)).toThrow(new Error(`path too long for a tar archive: d/${"g".repeat(101)}`));
  });
});
