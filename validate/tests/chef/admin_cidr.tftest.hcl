# admin_cidr feeds an IPv4-only rule: Terraform must refuse an IPv6 block, 0.0.0.0/0 and any
# block wider than /16, at plan.

run "accepts_an_ipv4_block" {
  command = plan
  variables {
    admin_cidr = "203.0.113.7/32"
  }
}

run "refuses_an_ipv6_block" {
  command = plan
  variables {
    admin_cidr = "2001:db8::/64"
  }
  expect_failures = [var.admin_cidr]
}

run "refuses_the_whole_internet" {
  command = plan
  variables {
    admin_cidr = "0.0.0.0/0"
  }
  expect_failures = [var.admin_cidr]
}

run "accepts_the_widest_block_allowed" {
  command = plan
  variables {
    admin_cidr = "198.51.0.0/16"
  }
}

run "refuses_a_block_wider_than_a_slash_16" {
  command = plan
  variables {
    admin_cidr = "198.50.0.0/15"
  }
  expect_failures = [var.admin_cidr]
}

run "refuses_a_whole_provider_range" {
  command = plan
  variables {
    admin_cidr = "52.0.0.0/8"
  }
  expect_failures = [var.admin_cidr]
}
