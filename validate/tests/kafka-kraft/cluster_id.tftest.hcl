# The KRaft cluster id, computed by Terraform from the stored uuid(), in Kafka's Uuid text form:
# 16 bytes as unpadded base64url (Buffer.from(hex, "hex").toString("base64url") gives the same).

run "spells_the_uuid_as_kafka_does" {
  command = plan
  override_resource {
    target          = terraform_data.cluster-id
    override_during = plan
    values = {
      output = { uuid = "00112233-4455-6677-8899-aabbccddeeff" }
    }
  }
  assert {
    condition     = output.kafka_cluster_id == "ABEiM0RVZneImaq7zN3u_w"
    error_message = "cluster id ${output.kafka_cluster_id} is not base64url of 00112233445566778899aabbccddeeff"
  }
}

run "never_starts_with_a_dash" {
  command = plan
  override_resource {
    target          = terraform_data.cluster-id
    override_during = plan
    values = {
      output = { uuid = "fbffffff-ffff-ffff-ffff-ffffffffffff" }
    }
  }
  assert {
    # fb... would spell "-___..."; with the first bit cleared, 7b... spells "e___...".
    condition     = output.kafka_cluster_id == "e____________________w"
    error_message = "cluster id ${output.kafka_cluster_id} should be e____________________w"
  }
}
