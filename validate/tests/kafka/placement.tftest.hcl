# Several Kafka nodes moved to other subnets in one apply (network.azCount, the subnets) must stop
# the plan: Terraform would destroy every one of them before creating any. EC2 is asked where each
# node runs now; here its answers are overridden. node-0 and node-1 exist in every layout.

run "new_cluster_plans" {
  command = plan
}

run "nodes_in_place_plan" {
  command = plan
  override_data {
    target          = data.aws_instances.placed-node-0
    override_during = plan
    values          = { ids = ["i-0"] }
  }
  override_data {
    target          = data.aws_instances.placed-here-node-0
    override_during = plan
    values          = { ids = ["i-0"] }
  }
  override_data {
    target          = data.aws_instances.placed-node-1
    override_during = plan
    values          = { ids = ["i-1"] }
  }
  override_data {
    target          = data.aws_instances.placed-here-node-1
    override_during = plan
    values          = { ids = ["i-1"] }
  }
}

run "one_node_moving_plans" {
  command = plan
  override_data {
    target          = data.aws_instances.placed-node-1
    override_during = plan
    values          = { ids = ["i-1"] }
  }
}

# expect-error: REFUSED: 2 Kafka nodes would move to other subnets in one apply
run "two_nodes_moving_are_refused" {
  command = plan
  override_data {
    target          = data.aws_instances.placed-node-0
    override_during = plan
    values          = { ids = ["i-0"] }
  }
  override_data {
    target          = data.aws_instances.placed-node-1
    override_during = plan
    values          = { ids = ["i-1"] }
  }
}
