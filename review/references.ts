/** Types whose names cdktf runs together with the resource name in cross-stack outputs. */
const REFERENCED_TYPES = ["dataaws_iam_policy_document", "aws_security_group", "aws_s3_bucket", "aws_instance", "aws_subnet", "aws_vpc", "aws_iam_role", "aws_ssm_parameter"];
const ATTRIBUTES = ["availability_zone", "public_ip", "private_ip", "bucket", "json", "name", "arn", "id"];

/** A reference as a reader knows it: `${aws_security_group.kafka-security-group.id}` is kafka-security-group. */
export function refName(value: unknown): string {
  const text = String(value ?? "?");
  // An ARN's partition and account come from data sources read at plan: a placeholder reads better than their addresses.
  if (/^\$\{data\.aws_partition\.[A-Za-z0-9_-]+\.partition\}$/.test(text)) return "<partition>";
  if (/^\$\{data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id\}$/.test(text)) return "<account>";
  const crossStack = /cross-stack-output-([A-Za-z0-9_-]+)\}$/.exec(text);
  if (crossStack) {
    const joined = crossStack[1];
    const type = REFERENCED_TYPES.find((candidate) => joined.startsWith(candidate));
    const attribute = ATTRIBUTES.find((candidate) => joined.endsWith(candidate));
    if (type && attribute) return joined.slice(type.length, joined.length - attribute.length).replace(/_[0-9A-F]{8}$/, "");
  }
  const local = /^\$\{(?:data\.)?[a-z0-9_]+\.([A-Za-z0-9_-]+?)(?:_[0-9A-F]{8})?\.(?:id|arn|name|json)\}$/.exec(text);
  return local ? local[1] : text;
}

/** Text with every Terraform reference in it named as a reader knows it. */
export function readable(text: string): string {
  return text.replace(/\$\{[^{}]*\}/g, (reference) => refName(reference));
}
