import { isUnder } from "./attributePaths";

/**
 * Arguments whose change makes Terraform replace the resource (ForceNew in the AWS, null and
 * random providers' schemas), for the resource types this platform uses. A path matches an
 * entry equal to it or under it (`root_block_device.encrypted` under `root_block_device`).
 */
export const FORCE_NEW_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_instance: [
    "ami", "availability_zone", "subnet_id", "private_ip", "key_name", "associate_public_ip_address", "placement_group",
    "tenancy", "ebs_block_device", "ephemeral_block_device", "network_interface", "root_block_device.encrypted",
    "root_block_device.kms_key_id",
  ],
  aws_ebs_volume: ["availability_zone", "encrypted", "kms_key_id", "snapshot_id", "outpost_arn"],
  aws_volume_attachment: ["device_name", "instance_id", "volume_id"],
  aws_s3_bucket: ["bucket", "bucket_prefix", "object_lock_enabled"],
  aws_vpc: ["cidr_block", "instance_tenancy"],
  aws_subnet: ["cidr_block", "availability_zone", "availability_zone_id", "vpc_id"],
  aws_security_group: ["name", "name_prefix", "description", "vpc_id"],
  aws_vpc_security_group_ingress_rule: ["security_group_id"],
  aws_vpc_security_group_egress_rule: ["security_group_id"],
  aws_nat_gateway: ["subnet_id", "allocation_id", "connectivity_type"],
  aws_eip: ["domain", "network_border_group"],
  aws_iam_role: ["name", "name_prefix"],
  aws_iam_role_policy: ["name", "name_prefix", "role"],
  aws_iam_instance_profile: ["name", "name_prefix"],
  aws_ssm_parameter: ["name"],
  aws_key_pair: ["key_name", "key_name_prefix", "public_key"],
  aws_cloudwatch_log_group: ["name", "name_prefix"],
  aws_flow_log: ["iam_role_arn", "log_destination", "log_destination_type", "traffic_type", "vpc_id", "subnet_id"],
  aws_vpc_endpoint: ["service_name", "vpc_id", "vpc_endpoint_type"],
  aws_route_table_association: ["subnet_id"],
  aws_internet_gateway_attachment: ["internet_gateway_id", "vpc_id"],
  aws_s3_object: ["bucket", "key"],
  null_resource: ["triggers"],
  // Terraform's built-in resource: a changed triggers_replace replaces it.
  terraform_data: ["triggers_replace"],
  random_id: ["byte_length", "keepers", "prefix"],
};

/** Resources whose replacement or removal destroys data that nothing rebuilds. */
export const DATA_HOLDERS: ReadonlySet<string> = new Set(["aws_ebs_volume", "aws_s3_bucket", "aws_db_instance", "aws_efs_file_system"]);

/** The force-new arguments among changed attribute paths, as Terraform would name them. */
export function forceNewChanges(type: string, paths: readonly string[], ignored: readonly string[]): string[] {
  const forceNew = FORCE_NEW_ATTRIBUTES[type] ?? [];
  const topLevel = (path: string): string => path.replace(/\[\d+\]/g, "");
  return [
    ...new Set(
      paths
        .map(topLevel)
        .filter((path) => !ignored.some((name) => isUnder(path, name)))
        .filter((path) => forceNew.some((name) => isUnder(path, name)))
        .map((path) => forceNew.find((name) => isUnder(path, name)) as string),
    ),
  ];
}
