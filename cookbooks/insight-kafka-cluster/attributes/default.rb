# The seed's contract: data bag `zoo_bag`, item `zookeeper`, key = the node's chef environment,
# value = the ensemble's addresses in order.
default['insight-kafka-cluster']['data_bag'] = 'zoo_bag'
default['insight-kafka-cluster']['data_bag_item'] = 'zookeeper'
# The address this node is known by in the ensemble; nil means node['ipaddress'] (its private IP).
default['insight-kafka-cluster']['address'] = nil
default['insight-kafka-cluster']['client_port'] = 2181
default['insight-kafka-cluster']['kafka_port'] = 9092
# 'tls' (mutual TLS on 9094, an authorizer, ZooKeeper over TLS on 2182), 'plaintext' (a lab only)
# or 'migrating' (the middle stage of moving a running plaintext cluster to TLS: both listeners,
# brokers on TLS among themselves, no authorizer yet). The platform's role sets it (kafka.security).
default['insight-kafka-cluster']['security'] = 'tls'
default['insight-kafka-cluster']['tls_port'] = 9094
default['insight-kafka-cluster']['secure_client_port'] = 2182
default['insight-kafka-cluster']['chroot'] = '/kafka'
# This broker's rack (broker.rack): its availability zone, given at bootstrap. nil falls back to
# the zone Ohai reports on EC2; a broker with neither stops the run, since one broker without a
# rack makes rack-aware topic creation fail for the whole cluster.
default['insight-kafka-cluster']['rack'] = nil
# Install and start the Kafka broker. Only the local deploy rehearsal turns it off: no Kafka
# distribution can be fetched there, and it must never report a broker it did not run.
default['insight-kafka-cluster']['install_kafka'] = true

# 'zookeeper' (the data bag above lists the ensemble) or 'kraft' (the data bag below holds the
# controllers and the cluster id). The platform's role sets it.
default['insight-kafka-cluster']['mode'] = 'zookeeper'
# KRaft mode's contract: data bag `kafka_bag`, item `kraft`, key = the node's chef environment,
# value = { "cluster_id": "<22 base64url characters>", "controllers": [{ "id": 1, "address": "10.0.16.5" }, ...] }
# for a static quorum; a dynamic quorum's adds "quorum": "dynamic", each controller's
# "directory_id" and, while the cluster is being created, "bootstrap": true.
default['insight-kafka-cluster']['kraft_data_bag'] = 'kafka_bag'
default['insight-kafka-cluster']['kraft_data_bag_item'] = 'kraft'
default['insight-kafka-cluster']['controller_port'] = 9093
# KRaft's TLS controller listener (CONTROLLER_TLS), with kafka.security 'tls' and 'migrating'.
default['insight-kafka-cluster']['controller_tls_port'] = 9095
# This node's broker.id (ZooKeeper mode) or node.id (KRaft), given at bootstrap. In ZooKeeper mode
# nil falls back to the node's position in the ensemble (nodes bootstrapped before ids were given).
default['insight-kafka-cluster']['node_id'] = nil
# KRaft mode: false only on a dedicated controller, given at bootstrap.
default['insight-kafka-cluster']['broker'] = true

# ZooKeeper mode: the EBS volume that holds an ensemble member's ZooKeeper data (vol-...), given
# at bootstrap, or recorded by the workstation on a member bootstrapped before it had one. The
# member mounts it and keeps ZooKeeper's data_dir on it, so the data outlives the instance. nil
# (a node outside EC2) leaves data_dir where zookeeper-cluster puts it, on the root volume.
default['insight-kafka-cluster']['zookeeper_volume_id'] = nil
# Where it is mounted and its filesystem's label: the same as the node's user data, which mounts
# it first on a new member (stacks/KafkaStack.ts ZOOKEEPER_VOLUME).
default['insight-kafka-cluster']['zookeeper_volume']['mount_point'] = '/var/lib/zookeeper-volume'
default['insight-kafka-cluster']['zookeeper_volume']['label'] = 'zookeeper-data'
# How long the run waits for an attached volume's device to appear: attempts x seconds.
default['insight-kafka-cluster']['zookeeper_volume']['wait_attempts'] = 24
default['insight-kafka-cluster']['zookeeper_volume']['wait_seconds'] = 5
