import { isUnder } from "./attributePaths";

/** The AWS provider version the table below was read for: the stacks pin it in `terraform.required_providers`. */
export const FORCE_NEW_PROVIDER_VERSION = "6.25";

/** What every `aws_s3_bucket_*` configuration resource replaces on: the bucket it configures, and the owner check. */
const BUCKET_CONFIG = ["bucket", "expected_bucket_owner"];

/**
 * Arguments whose change makes Terraform replace the resource, for every resource type this
 * platform synthesizes (a test holds the list complete for the default, KRaft, interface-endpoint
 * and instance-connect-endpoint configs), read from the AWS provider's schemas: `ForceNew: true` in its
 * SDK resources, `RequiresReplace` plan modifiers in its framework ones (the security-group
 * rules, the bucket lifecycle configuration). An empty list means every argument is updated in
 * place. Terraform's own `terraform_data` replaces on `triggers_replace`; `null_resource` and
 * `random_id` stay for bases synthesized before `terraform_data`. A path matches an entry equal
 * to it or under it (`root_block_device.encrypted` under `root_block_device`).
 *
 * Checked against hashicorp/terraform-provider-aws as the source index holds it (no copy at the
 * v6.25.0 tag itself; the newest stored version of each file):
 * - 6.x (resource identity annotations, so 6.7 or later): internal/service/ec2/vpc_subnet.go
 *   (ipv6_native is force-new; ipv4_ipam_pool_id is no subnet argument), ebs_volume.go and
 *   internal/service/ssm/parameter.go at 0073593e7d6993ba482409f4dc35438daaa79bb3,
 *   vpc_security_group.go at 01606926a0c0ab9174aec440f976a48b0baee722, vpc_nat_gateway.go with
 *   regional NAT gateways (availability_mode and vpc_id are force-new).
 * - 5.x: ec2_instance.go on aws-sdk-go-v2 (ebs_optimized, host_id, instance_market_options,
 *   private_dns_name_options and security_groups are force-new; host_resource_group_arn and
 *   ipv6_address_count are not), vpc_.go, vpc_route_table.go at
 *   022092419b7cda11527df3c6b51cbfe1876c1722, vpc_security_group_ingress_rule.go at
 *   00a322094b4b9ade8a81b244345dbcf4b52ee8d6 (security_group_id requires replacement; so does
 *   switching a rule's source kind, cidr_ipv4 to referenced_security_group_id, which no single
 *   argument here says).
 * - @cdktf/provider-aws 21.22.1, generated from 6.25.0, for which arguments exist at all: 6.0
 *   removed aws_flow_log's log_group_name (a test holds every entry to an argument it has).
 * `npm run validate` plans a change of every argument the platform sets, and of each corrected
 * entry, with the provider it runs (the pinned one, or a local mirror's 5.100) against this table.
 * Conditional replacements stay out: aws_instance's user_data with user_data_replace_on_change
 * (the review reads that flag), its instance_type across CPU architectures (AWS answers it), an
 * aws_vpc's instance_tenancy other than dedicated to default, aws_ssm_parameter's tier from
 * Advanced to Standard.
 */
export const FORCE_NEW_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  aws_instance: [
    "ami", "availability_zone", "subnet_id", "private_ip", "key_name", "associate_public_ip_address", "placement_group",
    "placement_partition_number", "tenancy", "host_id", "ipv6_addresses", "security_groups", "ebs_optimized", "ebs_block_device",
    "ephemeral_block_device", "network_interface", "launch_template", "hibernation", "enclave_options", "cpu_options",
    "instance_market_options", "private_dns_name_options", "root_block_device.encrypted", "root_block_device.kms_key_id",
  ],
  aws_ebs_volume: ["availability_zone", "encrypted", "kms_key_id", "snapshot_id", "outpost_arn", "multi_attach_enabled"],
  aws_volume_attachment: ["device_name", "instance_id", "volume_id"],
  aws_vpc: ["cidr_block", "ipv4_ipam_pool_id", "ipv4_netmask_length"],
  aws_subnet: ["cidr_block", "availability_zone", "availability_zone_id", "vpc_id", "outpost_arn", "ipv6_native"],
  aws_internet_gateway: [],
  aws_internet_gateway_attachment: ["internet_gateway_id", "vpc_id"],
  aws_eip: ["address", "customer_owned_ipv4_pool", "domain", "ipam_pool_id", "network_border_group", "public_ipv4_pool"],
  aws_nat_gateway: ["allocation_id", "availability_mode", "connectivity_type", "private_ip", "subnet_id", "vpc_id"],
  aws_route_table: ["vpc_id"],
  aws_route: ["route_table_id", "destination_cidr_block", "destination_ipv6_cidr_block", "destination_prefix_list_id"],
  aws_route_table_association: ["subnet_id", "gateway_id"],
  aws_vpc_endpoint: ["service_name", "vpc_id", "vpc_endpoint_type", "service_region", "resource_configuration_arn", "service_network_arn"],
  aws_security_group: ["name", "name_prefix", "description", "vpc_id"],
  aws_default_security_group: ["vpc_id"],
  aws_vpc_security_group_ingress_rule: ["security_group_id"],
  aws_vpc_security_group_egress_rule: ["security_group_id"],
  aws_flow_log: [
    "deliver_cross_account_role", "destination_options", "eni_id", "iam_role_arn", "log_destination", "log_destination_type", "log_format",
    "max_aggregation_interval", "subnet_id", "traffic_type", "transit_gateway_attachment_id", "transit_gateway_id", "vpc_id",
  ],
  aws_cloudwatch_log_group: ["name", "name_prefix", "log_group_class"],
  aws_iam_role: ["name", "name_prefix", "path"],
  aws_iam_role_policy: ["name", "name_prefix", "role"],
  // A changed policy document is a new default version of the same policy.
  aws_iam_policy: ["name", "name_prefix", "path", "description"],
  aws_ec2_instance_connect_endpoint: ["preserve_client_ip", "security_group_ids", "subnet_id"],
  aws_iam_instance_profile: ["name", "name_prefix", "path"],
  aws_ssm_parameter: ["name", "data_type"],
  aws_key_pair: ["key_name", "key_name_prefix", "public_key"],
  aws_s3_bucket: ["bucket", "bucket_prefix", "object_lock_enabled"],
  aws_s3_bucket_versioning: BUCKET_CONFIG,
  aws_s3_bucket_lifecycle_configuration: BUCKET_CONFIG,
  aws_s3_bucket_logging: BUCKET_CONFIG,
  aws_s3_bucket_ownership_controls: ["bucket"],
  aws_s3_bucket_policy: ["bucket"],
  aws_s3_bucket_public_access_block: ["bucket"],
  aws_s3_bucket_server_side_encryption_configuration: BUCKET_CONFIG,
  aws_s3_object: ["bucket", "key"],
  // internal/service/kms/key.go, alias.go and key_policy.go: a key policy's key_id is not
  // force-new; a changed key_id only moves the policy Terraform writes.
  aws_kms_key: ["custom_key_store_id", "customer_master_key_spec", "key_usage", "multi_region", "xks_key_id"],
  aws_kms_alias: ["name", "name_prefix"],
  aws_kms_key_policy: [],
  // internal/service/cloudwatch/metric_alarm.go (alarm_name only: everything else is one
  // PutMetricAlarm), dashboard.go, and internal/service/sns/topic.go and topic_subscription.go:
  // a new email endpoint is a new subscription, which its address must confirm again.
  aws_cloudwatch_metric_alarm: ["alarm_name"],
  aws_cloudwatch_dashboard: ["dashboard_name"],
  aws_sns_topic: ["name", "name_prefix", "fifo_topic"],
  aws_sns_topic_subscription: ["endpoint", "protocol", "topic_arn"],
  terraform_data: ["triggers_replace"],
  null_resource: ["triggers"],
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
