# admin_cidr feeds an IPv4-only rule: Terraform must refuse an IPv6 block, and 0.0.0.0/0, at plan.

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
