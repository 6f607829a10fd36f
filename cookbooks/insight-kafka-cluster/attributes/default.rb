# The seed's contract: data bag `zoo_bag`, item `zookeeper`, key = the node's chef environment,
# value = the ensemble's addresses in order.
default['insight-kafka-cluster']['data_bag'] = 'zoo_bag'
default['insight-kafka-cluster']['data_bag_item'] = 'zookeeper'
# The address this node is known by in the ensemble; nil means node['ipaddress'] (its private IP).
default['insight-kafka-cluster']['address'] = nil
default['insight-kafka-cluster']['client_port'] = 2181
default['insight-kafka-cluster']['kafka_port'] = 9092
default['insight-kafka-cluster']['chroot'] = '/kafka'
# This broker's rack (broker.rack): its availability zone, given at bootstrap. nil falls back to
# the zone Ohai reports on EC2; a broker with neither stops the run, since one broker without a
# rack makes rack-aware topic creation fail for the whole cluster.
default['insight-kafka-cluster']['rack'] = nil
# Install and start the Kafka broker. Only the local deploy rehearsal turns it off: no Kafka
# distribution can be fetched there, and it must never report a broker it did not run.
default['insight-kafka-cluster']['install_kafka'] = true
