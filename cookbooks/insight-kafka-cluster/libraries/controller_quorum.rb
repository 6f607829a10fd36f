module InsightKafkaCluster
  # The KRaft controller quorum and cluster id read from the data bag (KRaft mode).
  module ControllerQuorum
    module_function

    # The controllers, [{ 'id' => 1, 'address' => '10.0.16.5' }, ...], after checking the entry
    # holds a cluster id and a quorum a KRaft cluster can have.
    def controllers(entry, source)
      unless entry.is_a?(Hash) && entry['controllers'].is_a?(Array) && !entry['controllers'].empty?
        raise "insight-kafka-cluster: #{source} has no list of controllers"
      end
      if entry['cluster_id'].to_s.empty?
        raise "insight-kafka-cluster: #{source} has no cluster_id"
      end
      controllers = entry['controllers'].map do |controller|
        { 'id' => Integer(controller['id']), 'address' => controller['address'].to_s, 'directory_id' => controller['directory_id'].to_s }
      end
      if dynamic?(entry)
        unknown = controllers.reject { |controller| controller['directory_id'].match?(/\A[A-Za-z0-9_-]{21}[AQgw]\z/) }
        unless unknown.empty?
          raise "insight-kafka-cluster: #{source} has a dynamic quorum, but controller #{unknown.first['id']} has no directory_id " \
                "(#{unknown.first['directory_id'].inspect}); each needs a Kafka Uuid, fixed when the cluster is created"
        end
      end
      if controllers.size.even?
        raise "insight-kafka-cluster: #{source} lists #{controllers.size} controllers; a controller quorum must have an odd number"
      end
      %w(id address).each do |key|
        values = controllers.map { |controller| controller[key] }
        raise "insight-kafka-cluster: #{source} lists a controller #{key} twice (#{values.join(', ')})" if values.uniq.size != values.size
      end
      controllers
    rescue ArgumentError, TypeError
      raise "insight-kafka-cluster: #{source} has a controller without a numeric id (#{entry['controllers'].inspect})"
    end

    # controller.quorum.voters: id@address:port of every controller.
    def voters(controllers, port)
      controllers.map { |controller| "#{controller['id']}@#{controller['address']}:#{port}" }.join(',')
    end

    # A dynamic (KIP-853) quorum: the item says so. An item without the key is a static quorum's,
    # as every item was before dynamic quorums, and keeps its controller.quorum.voters.
    def dynamic?(entry)
      entry['quorum'] == 'dynamic'
    end

    # Formatted with its initial controllers only while the cluster is being created: the
    # workstation sets 'bootstrap' when no controller answers yet. A node formatted later joins
    # the running quorum instead, so an empty volume never votes under an old directory id.
    def bootstrapping?(entry)
      dynamic?(entry) && entry['bootstrap'] == true
    end

    # controller.quorum.bootstrap.servers: address:port of every controller.
    def bootstrap_servers(controllers, port)
      controllers.map { |controller| "#{controller['address']}:#{port}" }.join(',')
    end

    # kafka-storage.sh format --initial-controllers: id@address:port:directory-id of every controller.
    def initial_controllers(controllers, port)
      controllers.map { |controller| "#{controller['id']}@#{controller['address']}:#{port}:#{controller['directory_id']}" }.join(',')
    end
  end
end
