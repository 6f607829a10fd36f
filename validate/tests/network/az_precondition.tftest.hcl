# A region offering fewer AZs than network.azCount must stop the plan with the config's message.
# Which resource carries the check is the stack's business: validate matches the run's error by
# its message (the expect-error line), not by the resource's address.

run "plans_with_enough_zones" {
  command = plan
}

# expect-error: The config sets network.azCount to
run "refuses_too_few_zones" {
  command = plan
  override_data {
    target          = data.aws_availability_zones.zones
    override_during = plan
    values = {
      names = ["mock-zone-a"]
    }
  }
}
