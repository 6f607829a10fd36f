# What the mocked AWS provider returns for values the provider itself checks at plan time.
mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

mock_data "aws_availability_zones" {
  defaults = {
    names = ["mock-zone-a", "mock-zone-b", "mock-zone-c", "mock-zone-d", "mock-zone-e", "mock-zone-f"]
  }
}

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}

# No instance runs yet: a new cluster. Tests that need running nodes override it.
mock_data "aws_instances" {
  defaults = {
    ids = []
  }
}
