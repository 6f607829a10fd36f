import { readFileSync } from "node:fs";
import { join } from "node:path";
import { planRolePolicy, READ_ACTIONS, STATE_READ_ACTIONS } from "../review/planRolePolicy";
import { synthesizeWorkingTree } from "../review/synthesizeWorkingTree";
import type { Json, SynthesizedPlatform } from "../review/synthesizedPlatform";

const ACCOUNT = "111122223333";
const STATE_BUCKET = "acme-terraform-state";
const DOCS = readFileSync(join(__dirname, "..", "docs", "ci-review.md"), "utf8");

/** A fenced block of docs/ci-review.md by its info string. */
function docsBlock(info: string): string {
  const block = new RegExp("```" + info + "\\n([\\s\\S]*?)```").exec(DOCS)?.[1];
  if (block === undefined) throw new Error(`docs/ci-review.md has no ${info} block`);
  return block;
}

/** IAM's wildcard match: `*` any run of characters, `?` one. */
function matches(pattern: string, value: string): boolean {
  return new RegExp(`^${pattern.split("").map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("")}$`).test(value);
}

const list = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? (value as string[]) : [value as string]);

/** Whether a statement applies to the request: action, resource (or NotResource) and its String conditions. */
function applies(statement: Json, action: string, resource: string, context: Record<string, string>): boolean {
  if (!list(statement.Action).some((pattern) => matches(pattern, action))) return false;
  if (statement.NotResource !== undefined ? list(statement.NotResource).some((pattern) => matches(pattern, resource)) : !list(statement.Resource).some((pattern) => matches(pattern, resource))) return false;
  return Object.entries((statement.Condition as Json | undefined) ?? {}).every(([operator, keys]) =>
    Object.entries(keys as Json).every(([key, values]) => {
      // A key the request does not carry matches no positive operator.
      if (!(key in context)) return false;
      if (operator === "StringLike") return list(values).some((pattern) => matches(pattern, context[key]));
      if (operator === "StringEquals") return list(values).includes(context[key]);
      throw new Error(`the test cannot evaluate ${operator}`);
    }),
  );
}

/** IAM's evaluation within one identity policy: an explicit deny wins, then an allow, else the implicit deny. */
function decide(policy: Json, action: string, resource: string, context: Record<string, string> = {}): "allowed" | "denied" | "not allowed" {
  const statements = policy.Statement as Json[];
  if (statements.some((statement) => statement.Effect === "Deny" && applies(statement, action, resource, context))) return "denied";
  return statements.some((statement) => statement.Effect === "Allow" && applies(statement, action, resource, context)) ? "allowed" : "not allowed";
}

/** Every resource and data source type the stacks synthesize, data sources as `data.<type>`. */
function synthesizedTypes(platform: SynthesizedPlatform): Set<string> {
  return new Set(Object.values(platform).flatMap((stack) => [...Object.keys(stack.resource ?? {}), ...Object.keys(stack.data ?? {}).map((type) => `data.${type}`)]));
}

const named = (platform: SynthesizedPlatform, type: string, attribute: string): string[] =>
  Object.values(platform).flatMap((stack) => Object.values((stack.resource?.[type] as Json | undefined) ?? {}).map((resource) => String((resource as Json)[attribute])));

describe("the CI plan role's permissions (review/planRolePolicy.ts, shown in docs/ci-review.md)", () => {
  const platform = synthesizeWorkingTree([], { PLATFORM_STATE__BUCKET: STATE_BUCKET });
  const policy = planRolePolicy(platform, { account: ACCOUNT });
  const dataBucket = "insight-dev-data-20260101000000000000000001";
  const ssm = (name: string) => `arn:aws:ssm:us-west-2:${ACCOUNT}:parameter${name}`;

  it("grants only read actions of the types the stacks synthesize, and the state's reads", () => {
    const types = synthesizedTypes(platform);
    const allows = (policy.Statement as Json[]).filter((statement) => statement.Effect === "Allow");
    expect(allows.length).toBeGreaterThan(3);
    for (const statement of allows) {
      for (const action of list(statement.Action)) {
        expect(action).toMatch(/^[a-z0-9]+:(Describe|Get|List)[A-Za-z]+$/);
        const readOfSynthesizedType = [...types].some((type) => READ_ACTIONS[type]?.includes(action));
        const stateRead = ["ListState", "ReadState"].includes(String(statement.Sid)) && STATE_READ_ACTIONS.includes(action);
        expect({ action, granted: readOfSynthesizedType || stateRead }).toEqual({ action, granted: true });
      }
    }
    // No managed policy: ReadOnlyAccess let a plan role read parameters by path and old versions.
    const setup = DOCS.slice(DOCS.indexOf("## terraform plan in CI"), DOCS.indexOf("\n## ", DOCS.indexOf("## terraform plan in CI") + 1));
    expect(setup).toContain("aws iam put-role-policy");
    expect(setup).not.toMatch(/ReadOnlyAccess|attach-role-policy|arn:aws:iam::aws:policy\//);
  });

  it("lets a plan refresh every resource the stacks manage and read every stack's state", () => {
    for (const key of named(platform, "aws_s3_object", "key")) {
      // HeadObject is authorized as s3:GetObject.
      expect(decide(policy, "s3:GetObject", `arn:aws:s3:::${dataBucket}/${key}`)).toBe("allowed");
      expect(decide(policy, "s3:GetObjectTagging", `arn:aws:s3:::${dataBucket}/${key}`)).toBe("allowed");
    }
    for (const name of named(platform, "aws_ssm_parameter", "name")) expect(decide(policy, "ssm:GetParameter", ssm(name))).toBe("allowed");
    for (const name of named(platform, "aws_iam_role", "name")) {
      expect(decide(policy, "iam:GetRole", `arn:aws:iam::${ACCOUNT}:role/${name}`)).toBe("allowed");
      expect(decide(policy, "iam:GetRolePolicy", `arn:aws:iam::${ACCOUNT}:role/${name}`)).toBe("allowed");
    }
    for (const name of named(platform, "aws_iam_instance_profile", "name")) expect(decide(policy, "iam:GetInstanceProfile", `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`)).toBe("allowed");
    for (const action of READ_ACTIONS.aws_s3_bucket) expect(decide(policy, action, `arn:aws:s3:::${dataBucket}`)).toBe("allowed");
    expect(decide(policy, "ec2:DescribeInstanceAttribute", "*")).toBe("allowed");
    for (const stack of Object.keys(platform)) {
      expect(decide(policy, "s3:GetObject", `arn:aws:s3:::${STATE_BUCKET}/insight/dev/${stack}.tfstate`)).toBe("allowed");
    }
    expect(decide(policy, "s3:ListBucket", `arn:aws:s3:::${STATE_BUCKET}`, { "s3:prefix": "env:/" })).toBe("allowed");
  });

  it("denies decryption, reading parameters by path, other parameters, other objects, old versions and console output", () => {
    // What ReadOnlyAccess plus the old deny list let through.
    expect(decide(policy, "ssm:GetParametersByPath", ssm("/"))).toBe("denied");
    expect(decide(policy, "ssm:GetParametersByPath", ssm("/insight/dev"))).toBe("denied");
    expect(decide(policy, "s3:GetObjectVersion", `arn:aws:s3:::${dataBucket}/chef-repo/roles.json`)).toBe("denied");
    expect(decide(policy, "s3:GetObjectVersion", `arn:aws:s3:::${STATE_BUCKET}/insight/dev/chef.tfstate`)).toBe("denied");
    expect(decide(policy, "ec2:GetConsoleOutput", "arn:aws:ec2:us-west-2:111122223333:instance/i-0abc")).toBe("denied");
    expect(decide(policy, "ec2:GetConsoleScreenshot", "arn:aws:ec2:us-west-2:111122223333:instance/i-0abc")).toBe("denied");
    // The secrets, by name and under any key that could decrypt them.
    expect(decide(policy, "ssm:GetParameter", ssm("/insight/dev/chef/i-0abc/admin-key"))).toBe("denied");
    expect(decide(policy, "ssm:GetParameters", ssm("/insight/dev/spark/auth-secret"))).toBe("denied");
    expect(decide(policy, "ssm:GetParameterHistory", ssm("/insight/dev/chef/bootstrap-public-key"))).not.toBe("allowed");
    expect(decide(policy, "kms:Decrypt", `arn:aws:kms:us-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`)).toBe("denied");
    expect(decide(policy, "kms:Decrypt", `arn:aws:kms:us-west-2:${ACCOUNT}:alias/aws/ssm`)).toBe("denied");
    // The data, another project's state, the lock.
    expect(decide(policy, "s3:GetObject", `arn:aws:s3:::${dataBucket}/smart-money/input/trades.csv`)).toBe("denied");
    expect(decide(policy, "s3:GetObject", `arn:aws:s3:::${STATE_BUCKET}/other/prod/kafka.tfstate`)).toBe("denied");
    expect(decide(policy, "s3:ListBucket", `arn:aws:s3:::${STATE_BUCKET}`, { "s3:prefix": "other/" })).toBe("not allowed");
    expect(decide(policy, "s3:PutObject", `arn:aws:s3:::${STATE_BUCKET}/insight/dev/kafka.tfstate.tflock`)).toBe("not allowed");
    // Nothing that writes, and nothing outside the platform's names.
    expect(decide(policy, "ec2:TerminateInstances", "*")).toBe("not allowed");
    expect(decide(policy, "iam:GetRole", `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`)).toBe("not allowed");
    expect(decide(policy, "s3:ListBucket", "arn:aws:s3:::payroll-exports")).toBe("not allowed");
  });

  it("fails to render when the stacks synthesize a type whose reads it does not know, or keep state locally", () => {
    const withNewType: SynthesizedPlatform = { ...platform, storage: { ...platform.storage, resource: { ...platform.storage.resource, aws_sqs_queue: { q: {} } } } };
    expect(() => planRolePolicy(withNewType, { account: ACCOUNT })).toThrow("the plan role has no read actions for aws_sqs_queue");
    expect(() => planRolePolicy(synthesizeWorkingTree([], {}), { account: ACCOUNT })).toThrow("keeps its state locally");
  });

  it("reads the nodes' monitoring parameters as one prefix, which may hold Strings only", () => {
    const reads = (policy.Statement as Json[]).find((statement) => statement.Sid === "ReadPlatformParameters") as Json;
    expect(list(reads.Resource).filter((arn) => arn.includes("/monitoring/"))).toEqual([ssm("/insight/dev/monitoring/*")]);
    expect(decide(policy, "ssm:GetParameter", ssm("/insight/dev/monitoring/insight-dev-kafka-0/package"))).toBe("allowed");
    expect(decide(policy, "ssm:GetParameter", ssm("/insight/dev/monitoringx"))).toBe("denied");
    const secret = { type: "SecureString", name: "/insight/dev/monitoring/token", value: "x" };
    const withSecret: SynthesizedPlatform = { ...platform, monitoring: { ...platform.monitoring, resource: { ...platform.monitoring.resource, aws_ssm_parameter: { ...(platform.monitoring.resource as Json).aws_ssm_parameter, token: secret } } } };
    expect(() => planRolePolicy(withSecret, { account: ACCOUNT })).toThrow("/insight/dev/monitoring/token is a SecureString under /insight/dev/monitoring/: the plan role reads that prefix whole, so only String parameters may live there");
  });

  it("fits IAM's size limit for a role's inline policies", () => {
    // IAM counts a role's inline policies together, without whitespace, up to 10,240 characters.
    expect(JSON.stringify(policy).length).toBeLessThan(10_240);
  });

  it("is the policy docs/ci-review.md shows", () => {
    expect(JSON.parse(docsBlock("json plan-role-policy"))).toEqual(policy);
  });
});
