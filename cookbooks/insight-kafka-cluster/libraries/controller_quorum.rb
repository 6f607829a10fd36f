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
      controllers = entry['controllers'].map { |controller| { 'id' => Integer(controller['id']), 'address' => controller['address'].to_s } }
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
  end
end
