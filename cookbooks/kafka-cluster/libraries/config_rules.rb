module KafkaCluster
  # Kafka's own start-up checks of a node's listener and security settings, as KafkaConfig's
  # validateValues (3.9 and 4.x), the listener parsing before it and DefaultSslEngineFactory
  # apply them: a server.properties that breaks one makes the broker exit at start, mid-roll.
  # problems(properties) lists each broken rule in one line; an empty list passes.
  module ConfigRules
    module_function

    PROTOCOLS = %w(PLAINTEXT SSL SASL_PLAINTEXT SASL_SSL).freeze
    DEFAULT_MAP = PROTOCOLS.map { |protocol| [protocol, protocol] }.to_h.freeze
    ACL_AUTHORIZER = 'kafka.security.authorizer.AclAuthorizer'.freeze
    STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'.freeze

    # server.properties text as a Hash (comments and blank lines skipped).
    def parse(text)
      text.to_s.each_line.with_object({}) do |line, properties|
        line = line.strip
        next if line.empty? || line.start_with?('#', '!')
        key, value = line.split('=', 2)
        properties[key.strip] = value.to_s.strip
      end
    end

    def list(value)
      value.to_s.split(',').map(&:strip).reject(&:empty?)
    end

    # NAME://host:port entries; an entry that does not parse gives { error: entry }.
    def endpoints(value)
      list(value).map do |entry|
        match = entry.match(%r{\A([A-Za-z0-9_.-]+)://(\[[0-9A-Fa-f:.]+\]|[^:\[\]]*):(\d+)\z})
        match ? { name: match[1].upcase, host: match[2], port: match[3].to_i } : { error: entry }
      end
    end

    def protocol_map(value)
      return DEFAULT_MAP if value.to_s.strip.empty?
      list(value).map { |pair| pair.split(':', 2).map { |part| part.to_s.strip.upcase } }.to_h
    end

    def problems(properties, version: '3.9.1')
      props = properties.transform_keys(&:to_s).transform_values(&:to_s)
      found = []
      roles = list(props['process.roles'])
      kraft = !roles.empty?
      broker = !kraft || roles.include?('broker')
      controller = roles.include?('controller')
      listeners = endpoints(props['listeners'].to_s.empty? ? 'PLAINTEXT://:9092' : props['listeners'])
      advertised_given = !props['advertised.listeners'].to_s.empty?
      advertised = advertised_given ? endpoints(props['advertised.listeners']) : listeners
      found.concat((listeners + advertised).map { |endpoint| endpoint[:error] }.compact.uniq.map { |entry| "listener #{entry} is not NAME://host:port" })
      listeners = listeners.reject { |endpoint| endpoint[:error] }
      advertised = advertised.reject { |endpoint| endpoint[:error] }
      map = protocol_map(props['listener.security.protocol.map'])
      map.each { |name, protocol| found << "listener.security.protocol.map gives #{name} the unknown security protocol #{protocol}" unless PROTOCOLS.include?(protocol) }
      [['listeners', listeners], ['advertised.listeners', advertised]].each do |key, entries|
        names = entries.map { |endpoint| endpoint[:name] }
        names.select { |name| names.count(name) > 1 }.uniq.each { |name| found << "#{key} names listener #{name} more than once: each listener must have a different name" }
        names.reject { |name| map.key?(name) }.uniq.each { |name| found << "#{key}: no security protocol defined for listener #{name} in listener.security.protocol.map" }
      end
      ports = listeners.map { |endpoint| endpoint[:port] }.reject(&:zero?)
      ports.select { |port| ports.count(port) > 1 }.uniq.each { |port| found << "listeners use port #{port} more than once: each listener must have a different port" }

      controller_names = list(props['controller.listener.names']).map(&:upcase)
      if !props['inter.broker.listener.name'].to_s.empty? && !props['security.inter.broker.protocol'].to_s.empty?
        found << 'inter.broker.listener.name and security.inter.broker.protocol must not both be set'
      end
      # Unset, the inter-broker listener is the one named after security.inter.broker.protocol (PLAINTEXT).
      inter_broker = [props['inter.broker.listener.name'], props['security.inter.broker.protocol'], 'PLAINTEXT'].find { |name| !name.to_s.empty? }.upcase
      listener_names = listeners.map { |endpoint| endpoint[:name] }
      # Without advertised.listeners a KRaft node advertises its listeners minus the controller's.
      advertised_broker = advertised.reject { |endpoint| controller_names.include?(endpoint[:name]) }
      advertised_controller = listeners.select { |endpoint| controller_names.include?(endpoint[:name]) }

      if kraft
        unknown = roles - %w(broker controller)
        found << "process.roles #{props['process.roles']} holds #{unknown.join(', ')}; only broker and controller exist" unless unknown.empty?
        found << 'node.id must be set when process.roles is (KRaft mode)' if props['node.id'].to_s.empty?
        if props['controller.quorum.voters'].to_s.empty? && props['controller.quorum.bootstrap.servers'].to_s.empty?
          found << 'either controller.quorum.bootstrap.servers or controller.quorum.voters must list the controllers'
        end
        voter_ids = list(props['controller.quorum.voters']).map { |voter| voter.split('@', 2).first }
        found.concat(quorum_problems(props, roles, controller_names, listeners))
        found << 'controller.listener.names must not be empty in KRaft mode' if controller_names.empty?
        controller_names.reject { |name| map.key?(name) }.each { |name| found << "controller listener #{name} defined in controller.listener.names not found in listener.security.protocol.map" }
        if controller && !voter_ids.empty? && !voter_ids.include?(props['node.id'])
          found << "node #{props['node.id']} has the controller role but is not among controller.quorum.voters #{props['controller.quorum.voters']}"
        end
        if roles == %w(broker)
          found << "node #{props['node.id']} is only a broker but is among controller.quorum.voters" if voter_ids.include?(props['node.id'])
          found << 'controller.listener.names must not contain a value appearing in listeners on a KRaft broker-only node' unless advertised_controller.empty?
        end
        if controller
          found << 'controller.listener.names must contain at least one value appearing in listeners on a KRaft controller' if advertised_controller.empty?
          found << 'controller.listener.names must only contain values appearing in listeners on a KRaft controller' unless (controller_names - listener_names).empty?
        end
        if roles == %w(controller)
          found << 'listeners must only contain controller listeners from controller.listener.names on a KRaft controller-only node' unless advertised_controller.size == listeners.size
          if !props['inter.broker.listener.name'].to_s.empty? && controller_names.include?(inter_broker)
            found << 'controller.listener.names must not contain an explicitly set inter.broker.listener.name on a KRaft controller-only node'
          end
        end
        advertised.select { |endpoint| controller_names.include?(endpoint[:name]) && advertised_given && roles.include?('broker') }.each do |endpoint|
          found << "advertised.listeners must not advertise the controller listener #{endpoint[:name]}"
        end
      else
        found << "controller.listener.names must be empty when not running in KRaft mode: #{props['controller.listener.names']}" unless controller_names.empty?
        found << 'zookeeper.connect must be set in ZooKeeper mode' if props['zookeeper.connect'].to_s.empty?
      end

      if broker
        advertised_broker_names = advertised_broker.map { |endpoint| endpoint[:name] }
        found << 'there must be at least one broker advertised listener' if advertised_broker_names.empty?
        unless advertised_broker_names.include?(inter_broker)
          found << "inter.broker.listener.name #{inter_broker} must be a listener name defined in advertised.listeners (#{advertised_broker_names.join(',')})"
        end
        extra = advertised_broker_names - listener_names
        found << "advertised.listeners names #{extra.join(',')} that listeners does not" unless extra.empty?
      end
      (advertised_broker + advertised_controller).select { |endpoint| endpoint[:host] == '0.0.0.0' }.each do |endpoint|
        found << "advertised listener #{endpoint[:name]} cannot use the nonroutable meta-address 0.0.0.0"
      end

      found.concat(ssl_problems(props, map, listeners))
      found.concat(authorizer_problems(props, kraft, version))
      found.concat(zookeeper_tls_problems(props)) unless kraft
      found
    end

    # QuorumConfig.parseVoterConnections and parseBootstrapServers: {id}@{host}:{port} and
    # {host}:{port}, a voter's host routable. KafkaConfig splits controller.listener.names at commas
    # and trims nothing, so a name with a space matches no listener. Beyond Kafka's own checks: a
    # static voter set holds one address per voter, which every node reaches with its own first
    # controller listener's protocol (RaftManager's network client), so a controller's own entry
    # is the port of its first controller listener, or its peers speak to the wrong listener.
    def quorum_problems(props, roles, controller_names, listeners)
      found = props['controller.listener.names'].to_s.split(',').reject { |name| name == name.strip }.map do |name|
        "controller.listener.names entry '#{name}' has spaces around it: Kafka splits the value at commas only, so it names no listener"
      end
      voters = list(props['controller.quorum.voters'])
      voters.reject { |voter| voter.match?(/\A\d+@[^@:\s]+:\d+\z/) }.each do |voter|
        found << "controller.quorum.voters entry #{voter} is not {id}@{host}:{port}"
      end
      voters.select { |voter| voter.match?(/@0\.0\.0\.0:/) }.each { |voter| found << "controller.quorum.voters entry #{voter} is not routable" }
      list(props['controller.quorum.bootstrap.servers']).reject { |server| server.match?(/\A[^@:\s]+:\d+\z/) }.each do |server|
        found << "controller.quorum.bootstrap.servers entry #{server} is not {host}:{port}"
      end
      own = voters.find { |voter| voter.split('@', 2).first == props['node.id'].to_s }
      first = listeners.find { |endpoint| endpoint[:name] == controller_names.first }
      if roles.include?('controller') && own && first && own[/:(\d+)\z/, 1].to_i != first[:port]
        found << "controller.quorum.voters lists node #{props['node.id']} as #{own}, but its first controller listener #{first[:name]} is on port #{first[:port]}: " \
                 'the other nodes reach it at that address with that listener\'s protocol'
      end
      found
    end

    # DefaultSslEngineFactory: a PEM store file takes no store password; ssl.client.auth is one of three.
    def ssl_problems(props, map, listeners)
      found = []
      auth = props['ssl.client.auth'].to_s
      found << "ssl.client.auth #{auth} is not none, requested or required" unless auth.empty? || %w(none requested required).include?(auth.downcase)
      %w(keystore truststore).each do |store|
        next unless props["ssl.#{store}.type"].to_s.casecmp?('PEM') && !props["ssl.#{store}.password"].to_s.empty?
        found << "ssl.#{store}.password cannot be set with a PEM #{store} (ssl.#{store}.type=PEM)"
      end
      ssl = listeners.select { |endpoint| %w(SSL SASL_SSL).include?(map[endpoint[:name]]) }
      if !ssl.empty? && props['ssl.keystore.location'].to_s.empty? && props['ssl.keystore.key'].to_s.empty?
        found << "listener #{ssl.first[:name]} is SSL but ssl.keystore.location is not set: the broker has no certificate to present"
      end
      found
    end

    # StandardAuthorizer reads ACLs from the KRaft metadata log; AclAuthorizer, from ZooKeeper, left with Kafka 4.
    def authorizer_problems(props, kraft, version)
      authorizer = props['authorizer.class.name'].to_s
      return [] if authorizer.empty?
      if kraft && authorizer == ACL_AUTHORIZER
        ["authorizer.class.name #{ACL_AUTHORIZER} keeps ACLs in ZooKeeper; a KRaft node uses #{STANDARD_AUTHORIZER}"]
      elsif !kraft && authorizer == STANDARD_AUTHORIZER
        ["authorizer.class.name #{STANDARD_AUTHORIZER} needs KRaft metadata; a ZooKeeper-mode broker uses #{ACL_AUTHORIZER}"]
      elsif version.to_s.split('.').first.to_i >= 4 && authorizer == ACL_AUTHORIZER
        ["authorizer.class.name #{ACL_AUTHORIZER} does not exist in Kafka #{version}"]
      else
        []
      end
    end

    # ZooKeeper's client speaks TLS only through its Netty socket.
    def zookeeper_tls_problems(props)
      return [] unless props['zookeeper.ssl.client.enable'].to_s == 'true'
      found = []
      found << 'zookeeper.ssl.client.enable=true needs zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty' unless props['zookeeper.clientCnxnSocket'] == 'org.apache.zookeeper.ClientCnxnSocketNetty'
      found << 'zookeeper.ssl.client.enable=true but zookeeper.ssl.truststore.location is not set' if props['zookeeper.ssl.truststore.location'].to_s.empty?
      found
    end
  end
end
