module InsightKafkaCluster
  # The ZooKeeper ensemble read from the data bag (ZooKeeper mode).
  module Ensemble
    module_function

    # The ensemble's addresses, after checking the list is one a ZooKeeper ensemble can be.
    def members(ensemble, source)
      unless ensemble.is_a?(Array) && !ensemble.empty?
        raise "insight-kafka-cluster: #{source} has no list of ensemble addresses"
      end
      if ensemble.size.even?
        raise "insight-kafka-cluster: #{source} lists #{ensemble.size} members; a ZooKeeper ensemble must have an odd number"
      end
      if ensemble.uniq.size != ensemble.size
        raise "insight-kafka-cluster: #{source} lists an address twice (#{ensemble.join(', ')})"
      end
      ensemble
    end

    # The 1-based position of `address` in the ensemble (its myid), or nil for a broker that is
    # only a client of the ensemble. Unlike the original's last IP octet, positions never collide
    # across subnets.
    def position(ensemble, address)
      index = ensemble.index(address)
      index && index + 1
    end

    # The members not answering `srvr` on their TLS client port with this node's certificate
    # (tls: ZookeeperCluster::Helpers.platform_tls), as "address (answer)"; empty once every
    # member serves it.
    def not_serving_tls(ensemble, secure_port, tls)
      ensemble.filter_map do |address|
        answer = ZookeeperCluster::Helpers.four_letter_word(address, secure_port, 'srvr', tls)
        "#{address} (#{answer.strip.lines.first&.strip || 'no answer'})" unless answer =~ /^Mode: \w+/
      end
    end

    # zookeeper.connect: every member on the client port, under the cluster's chroot.
    def connect_string(ensemble, client_port, chroot)
      ensemble.map { |address| "#{address}:#{client_port}" }.join(',') + chroot
    end
  end
end
