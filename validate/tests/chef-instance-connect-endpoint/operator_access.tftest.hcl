# chef.operatorAccess instance-connect-endpoint: the stack plans with no admin_cidr to give, the
# workstation has no public address, and the endpoint sees the workstation, not the operator.

run "plans_a_private_workstation_behind_the_endpoint" {
  command = plan

  assert {
    condition     = aws_instance.workstation_instance_33713284.associate_public_ip_address == false
    error_message = "The workstation must have no public address."
  }

  assert {
    condition     = aws_ec2_instance_connect_endpoint.instance-connect-endpoint_F2AC80A9.preserve_client_ip == false
    error_message = "The endpoint must present its own address, which the workstation's group admits."
  }

  assert {
    condition     = aws_ec2_instance_connect_endpoint.instance-connect-endpoint_F2AC80A9.subnet_id == aws_instance.workstation_instance_33713284.subnet_id
    error_message = "The endpoint must live in the workstation's subnet."
  }
}
