import { readFileSync } from "node:fs";
import { join } from "node:path";
import { synthesizeWorkingTree } from "../review/synthesizeWorkingTree";
import type { Json } from "../review/synthesizedPlatform";

/** The deny policy docs/ci-review.md gives the CI plan role, with example names filled in. */
function planRoleDeny(names: Record<string, string>): Json[] {
  const text = readFileSync(join(__dirname, "..", "docs", "ci-review.md"), "utf8");
  const block = /```json plan-role-deny\n([\s\S]*?)```/.exec(text)?.[1];
  if (block === undefined) throw new Error("docs/ci-review.md has no plan-role-deny block");
  const filled = Object.entries(names).reduce((json, [name, value]) => json.split(`<${name}>`).join(value), block.replace(/^ {3}/gm, ""));
  return (JSON.parse(filled) as Json).Statement as Json[];
}

/** IAM's wildcard match: `*` any run of characters, `?` one. */
function matches(pattern: string, value: string): boolean {
  return new RegExp(`^${pattern.split("").map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("")}$`).test(value);
}

/** Whether one of the Deny statements denies the action on the resource. */
function denied(statements: readonly Json[], action: string, resource: string): boolean {
  return statements.some((statement) => {
    if (statement.Effect !== "Deny" || !(statement.Action as string[]).some((pattern) => matches(pattern, action))) return false;
    if (statement.NotResource) return !(statement.NotResource as string[]).some((pattern) => matches(pattern, resource));
    return (statement.Resource as string[]).some((pattern) => matches(pattern, resource));
  });
}

describe("the CI plan role's deny policy (docs/ci-review.md)", () => {
  const platform = synthesizeWorkingTree([], {});
  const deny = planRoleDeny({ project: "insight", "state-bucket": "team-state", "data-bucket": "insight-dev-data-123" });

  it("lets a plan refresh every object and parameter the stacks manage", () => {
    const objects = Object.values(platform.chef.resource.aws_s3_object as Json).map((object) => String(object.key));
    expect(objects.length).toBeGreaterThan(0);
    // A refresh of aws_s3_object is a HeadObject, which S3 authorizes as s3:GetObject.
    for (const key of objects) expect(denied(deny, "s3:GetObject", `arn:aws:s3:::insight-dev-data-123/${key}`)).toBe(false);
    expect(denied(deny, "s3:GetObject", "arn:aws:s3:::team-state/env:/default/terraform.chef.tfstate")).toBe(false);
    for (const parameter of Object.values(platform.chef.resource.aws_ssm_parameter as Json)) {
      expect(denied(deny, "ssm:GetParameter", `arn:aws:ssm:us-west-2:111122223333:parameter${String(parameter.name)}`)).toBe(false);
    }
  });

  it("denies the data and the secrets", () => {
    expect(denied(deny, "s3:GetObject", "arn:aws:s3:::insight-dev-data-123/trades/2026/01/01.json")).toBe(true);
    expect(denied(deny, "s3:GetObjectVersion", "arn:aws:s3:::insight-dev-data-123/spark-output/part-0")).toBe(true);
    expect(denied(deny, "ssm:GetParameter", "arn:aws:ssm:us-west-2:111122223333:parameter/insight/dev/chef/i-0abc/admin-key")).toBe(true);
    expect(denied(deny, "ssm:GetParameters", "arn:aws:ssm:us-west-2:111122223333:parameter/insight/dev/spark/auth-secret")).toBe(true);
    // A listing by path would return the secrets under it whatever the per-parameter denies say.
    expect(denied(deny, "ssm:GetParametersByPath", "arn:aws:ssm:us-west-2:111122223333:parameter/insight/dev")).toBe(true);
  });
});
