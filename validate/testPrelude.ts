// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** A cross-stack reference as cdktf writes it: an output of another stack's state. */
const REMOTE_OUTPUT = /data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g;

/**
 * The value a test gives another stack's output. Policies must be JSON objects (the provider
 * checks them at plan), ARNs look like ARNs; everything else is a string naming its output, so
 * a script that embeds it shows where each value came from.
 */
export function remoteOutputMock(key: string): string {
  if (/json$/.test(key)) return '{"Version":"2012-10-17","Statement":[]}';
  if (/arn$/.test(key)) return `arn:aws:s3:::mock-${key.length}`;
  return `mock-${key}`;
}

/** What a test gives each operator variable a stack declares. */
const VARIABLE_MOCKS: Readonly<Record<string, string>> = {
  admin_cidr: "203.0.113.7/32",
  key_pair_name: "mock-key-pair",
  // Checked with fileexists(): any file of the scratch copy will do.
  deployer_private_key_path: "cdk.tf.json",
};

/**
 * The top of every `terraform test` file of a stack: the AWS provider mocked (values computed
 * at plan, so expressions evaluate), every other stack's outputs this stack reads given mock
 * values, and every declared variable a valid value. Test files hold only their runs.
 */
export function testPrelude(stack: Json): string {
  const outputs = new Map<string, Set<string>>();
  for (const match of JSON.stringify(stack).matchAll(REMOTE_OUTPUT)) {
    const keys = outputs.get(match[1]) ?? new Set<string>();
    keys.add(match[2]);
    outputs.set(match[1], keys);
  }
  const lines = ['mock_provider "aws" {', "  override_during = plan", '  source          = "./tests/mocks"', "}", ""];
  for (const name of Object.keys(stack.data?.terraform_remote_state ?? {}).sort()) {
    lines.push("override_data {", `  target = data.terraform_remote_state.${name}`, "  override_during = plan", "  values = {", "    outputs = {");
    for (const key of [...(outputs.get(name) ?? [])].sort()) lines.push(`      ${JSON.stringify(key)} = ${JSON.stringify(remoteOutputMock(key))}`);
    lines.push("    }", "  }", "}", "");
  }
  const variables = Object.keys(stack.variable ?? {}).sort();
  if (variables.length > 0) {
    lines.push("variables {");
    for (const name of variables) {
      const value = VARIABLE_MOCKS[name];
      if (value === undefined) throw new Error(`variable ${name}: validate has no test value for it (add one to VARIABLE_MOCKS)`);
      lines.push(`  ${name} = ${JSON.stringify(value)}`);
    }
    lines.push("}", "");
  }
  return lines.join("\n");
}

/** A test value for an attribute of a resource of this stack, named after it. */
export function resourceAttributeMock(address: string, attribute: string): string {
  return `mock-${address}.${attribute}`;
}
