module InsightKafkaCluster
  # This node's place in the ZooKeeper ensemble read from the data bag.
  module Ensemble
    module_function

    # The 1-based position of `address` in the ensemble: ZooKeeper's myid and Kafka's broker.id.
    # Unlike the original's last IP octet, positions never collide across subnets.
    def position(ensemble, address, source)
      unless ensemble.is_a?(Array) && !ensemble.empty?
        raise "insight-kafka-cluster: #{source} has no list of ensemble addresses"
      end
      if ensemble.size.even?
        raise "insight-kafka-cluster: #{source} lists #{ensemble.size} members; a ZooKeeper ensemble must have an odd number"
      end
      if ensemble.uniq.size != ensemble.size
        raise "insight-kafka-cluster: #{source} lists an address twice (#{ensemble.join(', ')})"
      end
      index = ensemble.index(address)
      raise "insight-kafka-cluster: this node (#{address}) is not in #{source} (#{ensemble.join(', ')})" if index.nil?
      index + 1
    end

    # zookeeper.connect: every member on the client port, under the cluster's chroot.
    def connect_string(ensemble, client_port, chroot)
      ensemble.map { |address| "#{address}:#{client_port}" }.join(',') + chroot
    end
  end
end
