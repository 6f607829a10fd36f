require 'digest'
require 'json'
require 'openssl'
require 'socket'
require 'timeout'

module KafkaCluster
  # Small pure functions the recipe uses, kept here so they are unit-tested on their own.
  module Helpers
    module_function

    def release_name(scala_version, version)
      "kafka_#{scala_version}-#{version}"
    end

    def tarball_urls(mirrors, scala_version, version)
      mirrors.map { |base| "#{base.chomp('/')}/#{version}/#{release_name(scala_version, version)}.tgz" }
    end

    def sha512_matches?(path, expected_hex)
      Digest::SHA512.file(path).hexdigest.casecmp?(expected_hex.to_s)
    end

    # The broker ids in zookeeper-shell's answer to `ls /brokers/ids`: its last line, like [1, 2, 3].
    def registered_broker_ids(output)
      list = output.lines.map(&:strip).reverse.find { |line| line.start_with?('[') && line.end_with?(']') }
      list.to_s.delete('[] ').split(',').map(&:to_i)
    end

    # What a health check's tool said: its output, or its errors when it printed nothing. A run
    # that hangs past its timeout is one failed attempt, not the end of the check.
    def tool_answer
      result = yield
      result.stdout.to_s.empty? ? result.stderr.to_s : result.stdout.to_s
    rescue Mixlib::ShellOut::CommandTimeout => e
      "timed out: #{e.message.lines.first.to_s.strip}"
    end

    # The broker ids in kafka-broker-api-versions.sh's answer: one header line per live broker,
    # like `10.0.16.5:9092 (id: 1 rack: us-west-2a isFenced: false) -> (`.
    def api_versions_broker_ids(output)
      output.scan(/\(id: (\d+) rack:/).flatten.map(&:to_i)
    end

    # The quorum leader's id in kafka-metadata-quorum.sh's `describe --status`; nil when there is
    # none yet (-1) or no answer.
    def quorum_leader_id(output)
      id = output[/^LeaderId:\s+(-?\d+)\s*$/, 1]
      id && id.to_i >= 0 ? id.to_i : nil
    end

    # A Kafka Uuid as text: 16 bytes in unpadded base64url.
    def cluster_id?(value)
      value.to_s.match?(/\A[A-Za-z0-9_-]{21}[AQgw]\z/)
    end

    # kafka-storage.sh format --initial-controllers: id@host:port:directory-id, comma-separated,
    # each directory id a Kafka Uuid.
    def initial_controllers?(value)
      voters = value.to_s.split(',', -1)
      return false if voters.empty?
      voters.all? do |voter|
        id, rest = voter.split('@', 2)
        host_port, _, directory_id = rest.to_s.rpartition(':')
        id.to_s.match?(/\A\d+\z/) && host_port.match?(/\A[^:@,\s]+:\d+\z/) && cluster_id?(directory_id)
      end
    end

    # One value of a Java properties file such as meta.properties; nil when the file or key is absent.
    def meta_property(path, key)
      return unless ::File.exist?(path)
      line = ::File.readlines(path).map(&:strip).find { |candidate| candidate.start_with?("#{key}=") }
      line&.split('=', 2)&.last
    end

    # The host of the first listener, e.g. 10.0.16.5 from PLAINTEXT://10.0.16.5:9092,CONTROLLER://...
    def listener_host(listeners)
      listeners.to_s.split(',').first.to_s[%r{://([^:/]+):\d+}, 1]
    end

    # Mount points from /proc/self/mountinfo's text, each with its source device and filesystem
    # type: { '/data/kafka' => { source: '/dev/nvme1n1', fstype: 'xfs' } }. A path mounted over
    # twice keeps the later, visible mount.
    def mounts(mountinfo)
      mountinfo.each_line.with_object({}) do |line, table|
        fields, rest = line.split(' - ', 2)
        point = fields.to_s.split(' ')[4]
        fstype, source = rest.to_s.split(' ')
        next if point.nil? || fstype.nil?
        # The kernel writes space, tab, newline and backslash in octal.
        table[point.gsub(/\\([0-7]{3})/) { Regexp.last_match(1).to_i(8).chr }] = { source: source, fstype: fstype }
      end
    end

    def read_mounts(path = '/proc/self/mountinfo')
      mounts(::File.read(path))
    end

    # The device a filesystem label names (mkfs's -L), resolved; nil when no filesystem has it.
    def label_device(label, by_label = '/dev/disk/by-label')
      ::File.realpath("#{by_label}/#{label}")
    rescue SystemCallError
      nil
    end

    # The directories that must each be a mount point of their own: the data directory, and any
    # log directory outside it.
    def mount_roots(data_dir, log_dirs)
      root = data_dir.chomp('/')
      [root] + log_dirs.map { |dir| dir.chomp('/') }.reject { |dir| dir == root || dir.start_with?("#{root}/") }
    end

    # Why the broker must not start on these directories, or nil when each is a mounted volume
    # and the data directory is the data volume's (when its label can be found). A directory that
    # is no mount point lies on another filesystem, mostly the root volume's: Kafka would find it
    # empty and start afresh there, and in KRaft mode format it.
    def data_volume_problem(data_dir, log_dirs, mounts, volume_device, label = 'kafka-data')
      where = mounts.find { |_, mount| volume_device && resolve(mount[:source]) == volume_device }&.first
      data_root = data_dir.chomp('/')
      if where && mounts.key?(data_root) && resolve(mounts[data_root][:source]) != volume_device
        return "kafka-cluster: log.dirs #{data_root} is mounted from #{mounts[data_root][:source]}, not from the data volume (labelled #{label}), " \
               "which is mounted at #{where}: set kafka.dataPath (node['kafka-cluster']['data_dir']) back to #{where}, " \
               'or move the volume as docs/kafka.md "Disks and log files" describes'
      end
      root = mount_roots(data_dir, log_dirs).find { |dir| dir.empty? || !mounts.key?(dir) }
      return if root.nil?
      root = '/' if root.empty?
      holder = mounts.keys.select { |point| point == '/' || root.start_with?("#{point}/") }.max_by(&:length) || '/'
      hint = if where
               "the data volume is mounted at #{where}: set kafka.dataPath (node['kafka-cluster']['data_dir']) back to #{where}"
             else
               "no filesystem labelled #{label} is mounted: mount the data volume at #{root} (the node's setup does it at first boot, from /etc/fstab) " \
                 'or set kafka.dataPath back to the path it is mounted at'
             end
      "kafka-cluster: log.dirs #{root} is not a mount point but a directory of the filesystem at #{holder}, where Kafka would start on an empty log; " \
        "#{hint}, or move the volume as docs/kafka.md \"Disks and log files\" describes"
    end

    def resolve(path)
      ::File.realpath(path.to_s)
    rescue SystemCallError
      path
    end

    # The data section's size in bytes in xfs_info's report (`data = bsize=4096 blocks=26214400, ...`);
    # nil when the report has no such line.
    def xfs_data_bytes(report)
      match = report.to_s.match(/^data\s+=.*?\bbsize=(\d+)\s+blocks=(\d+)/)
      match && match[1].to_i * match[2].to_i
    end

    # Kafka 4 logs through Log4j 2 (config/log4j2.yaml); Kafka 3 through reload4j, Log4j 1.2's syntax.
    def log4j2?(version)
      version.to_s.split('.').first.to_i >= 4
    end

    # Files in the log directory no bound covers any more: the hourly files of Kafka's own
    # configuration (server.log.2026-12-05-13; Kafka 4.0.0 also wrote stage-change.log.<hour>),
    # and GC logs beyond the count the JVM now keeps.
    def stale_log_files(log_dir, gc_log_name, gc_files)
      hourly = ::Dir.glob("#{log_dir}/*.log.[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]-[0-9][0-9]")
      gc = ::Dir.glob("#{log_dir}/#{gc_log_name}.*").select { |file| file[/\.(\d+)\z/, 1].to_i >= gc_files && file =~ /\.\d+\z/ }
      (hourly + gc).sort
    end

    # Kafka's own log files: each one's appender name in Kafka's Log4j 1 and Log4j 2 configurations.
    LOG_FILES = [
      { file: 'server.log', log4j1: 'kafkaAppender', log4j2: 'KafkaAppender' },
      { file: 'state-change.log', log4j1: 'stateChangeAppender', log4j2: 'StateChangeAppender' },
      { file: 'kafka-request.log', log4j1: 'requestAppender', log4j2: 'RequestAppender' },
      { file: 'log-cleaner.log', log4j1: 'cleanerAppender', log4j2: 'CleanerAppender' },
      { file: 'controller.log', log4j1: 'controllerAppender', log4j2: 'ControllerAppender' },
      { file: 'kafka-authorizer.log', log4j1: 'authorizerAppender', log4j2: 'AuthorizerAppender' },
    ].freeze

    # The loggers Kafka's own configuration sends to a file of their own, as that release names
    # them: Kafka 4.1 moved the log cleaner to org.apache.kafka.storage.internals.log, and Kafka 4
    # has no ZooKeeper-mode controller.
    def file_loggers(version)
      to = ->(file) { LOG_FILES.find { |entry| entry[:file] == file } }
      cleaner = if log4j2?(version)
                  %w(LogCleaner LogCleaner$CleanerThread Cleaner).map { |name| "org.apache.kafka.storage.internals.log.#{name}" }
                else
                  %w(kafka.log.LogCleaner)
                end
      loggers = [
        ['kafka.request.logger', 'WARN', 'kafka-request.log'],
        ['kafka.network.RequestChannel$', 'WARN', 'kafka-request.log'],
        ['org.apache.kafka.controller', 'INFO', 'controller.log'],
      ]
      loggers << ['kafka.controller', 'TRACE', 'controller.log'] unless log4j2?(version)
      loggers += cleaner.map { |name| [name, 'INFO', 'log-cleaner.log'] }
      loggers << ['state.change.logger', 'INFO', 'state-change.log']
      loggers << ['kafka.authorizer.logger', 'INFO', 'kafka-authorizer.log']
      loggers.map { |name, level, file| to.call(file).merge(name: name, level: level) }
    end

    # host:port of the listener of that name in a listeners value; nil when there is none.
    def listener_address(listeners, name)
      entry = listeners.to_s.split(',').map(&:strip).find { |candidate| candidate.upcase.start_with?("#{name.to_s.upcase}://") }
      entry && entry.split('://', 2).last
    end

    # What the broker's TLS adds to server.properties: PEM stores built from the node's key
    # material, client certificates required and checked against the address they connect to, the
    # certificate's CN as the principal, and (past the migration's middle stage) an authorizer that
    # refuses whatever no ACL allows. ZooKeeper mode reaches ZooKeeper over TLS with the same key
    # and protects Kafka's znodes with ACLs naming that certificate.
    def tls_properties(dir:, kraft:, authorizer:, zookeeper_tls:, super_users:, zookeeper_acl: zookeeper_tls)
      stores = { 'keystore' => "#{dir}/keystore.pem", 'truststore' => "#{dir}/truststore.pem" }
      properties = {}
      stores.each do |store, path|
        properties["ssl.#{store}.type"] = 'PEM'
        properties["ssl.#{store}.location"] = path
      end
      properties['ssl.client.auth'] = 'required'
      properties['ssl.endpoint.identification.algorithm'] = 'https'
      # RFC 2253 order, as Java names a certificate's subject: CN=kafka-broker,O=<project>-<environment>.
      properties['ssl.principal.mapping.rules'] = 'RULE:^CN=([^,]+),.*$/$1/,DEFAULT'
      if authorizer
        properties['authorizer.class.name'] = kraft ? ConfigRules::STANDARD_AUTHORIZER : ConfigRules::ACL_AUTHORIZER
        properties['allow.everyone.if.no.acl.found'] = false
        properties['super.users'] = super_users.map { |user| "User:#{user}" }.join(';')
      end
      properties.merge!(zookeeper_tls_properties(dir)) if !kraft && zookeeper_tls
      properties['zookeeper.set.acl'] = true if !kraft && zookeeper_tls && zookeeper_acl
      properties
    end

    # ZooKeeper's TLS client settings, as server.properties and zookeeper-shell's -zk-tls-config-file take them.
    def zookeeper_tls_properties(dir)
      {
        'zookeeper.ssl.client.enable' => true,
        'zookeeper.clientCnxnSocket' => 'org.apache.zookeeper.ClientCnxnSocketNetty',
        'zookeeper.ssl.keystore.type' => 'PEM',
        'zookeeper.ssl.keystore.location' => "#{dir}/keystore.pem",
        'zookeeper.ssl.truststore.type' => 'PEM',
        'zookeeper.ssl.truststore.location' => "#{dir}/truststore.pem",
      }
    end

    # An admin client's settings for the TLS listener with this node's key (principal kafka-broker).
    def tls_client_properties(dir)
      {
        'security.protocol' => 'SSL',
        'ssl.keystore.type' => 'PEM',
        'ssl.keystore.location' => "#{dir}/keystore.pem",
        'ssl.truststore.type' => 'PEM',
        'ssl.truststore.location' => "#{dir}/truststore.pem",
      }
    end

    # The security protocol of a listener name: listener.security.protocol.map's, or Kafka's
    # default map when the file sets none (a name that is itself a protocol).
    def listener_protocol(properties, name)
      ConfigRules.protocol_map(properties['listener.security.protocol.map'])[name.to_s.strip.upcase]
    end

    # An admin client's settings for a listener of that protocol: this node's key for SSL, and
    # security.protocol said outright otherwise, so a file never speaks TLS to a plaintext port.
    def client_properties(protocol, dir, base = {})
      return tls_client_properties(dir).merge(base) if protocol == 'SSL'
      base.merge('security.protocol' => protocol || 'PLAINTEXT')
    end

    # The node's key material in source_dir; the run stops, naming the first missing file.
    TLS_FILES = %w(node.key node.crt ca.crt).freeze
    def tls_material(source_dir)
      TLS_FILES.each_with_object({}) do |name, material|
        path = "#{source_dir}/#{name}"
        unless ::File.file?(path)
          raise "kafka-cluster: #{path} is missing: the node's TLS key material is written before its first Chef run (docs/tls.md); " \
                "run the node's bootstrap again, or set node['kafka-cluster']['tls']['enabled'] false for a plaintext lab"
        end
        material[name] = ::File.read(path)
      end
    end

    def pem_join(*parts)
      parts.map { |part| part.to_s.strip + "\n" }.join
    end

    # The migration's middle stage on a node still running plaintext only: the plaintext listener
    # to keep brokers on among themselves this roll (its peers have no TLS listener yet), or nil
    # when inter-broker traffic may move to TLS (the node already runs a TLS listener, or is new).
    def migration_inter_broker(running_text, new_properties)
      return if running_text.nil?
      running = ConfigRules.parse(running_text)
      running_map = ConfigRules.protocol_map(running['listener.security.protocol.map'])
      running_protocols = ConfigRules.endpoints(running['listeners']).reject { |endpoint| endpoint[:error] }.map { |endpoint| running_map[endpoint[:name]] }
      return if running_protocols.include?('SSL')
      new_map = ConfigRules.protocol_map(new_properties['listener.security.protocol.map'])
      ConfigRules.endpoints(new_properties['listeners']).find { |endpoint| new_map[endpoint[:name]] == 'PLAINTEXT' }&.fetch(:name)
    end

    # Why the new listeners must not replace the running ones in one roll, or nil. A running
    # plaintext-only node switched straight to TLS-only cuts off its clients and, mid-roll, the
    # brokers not yet restarted: the move goes through kafka.security "migrating" first.
    def plaintext_cut_problem(running_text, new_properties, path)
      return if running_text.nil?
      running = ConfigRules.parse(running_text)
      protocols = lambda do |props|
        map = ConfigRules.protocol_map(props['listener.security.protocol.map'])
        controller = ConfigRules.list(props['controller.listener.names']).map(&:upcase)
        ConfigRules.endpoints(props['listeners']).reject { |endpoint| endpoint[:error] || controller.include?(endpoint[:name]) }.map { |endpoint| map[endpoint[:name]] }
      end
      was = protocols.call(running)
      now = protocols.call(new_properties.transform_keys(&:to_s).transform_values(&:to_s))
      return if now.include?('PLAINTEXT') || !was.include?('PLAINTEXT')
      unless was.include?('SSL')
        return "kafka-cluster: #{path} runs a plaintext listener (#{running['listeners']}) and the new configuration has none (#{new_properties['listeners']}): " \
               'switching in one roll cuts off clients and the brokers not yet restarted; set kafka.security "migrating" first and deploy, ' \
               'then "tls" (docs/tls.md, "Moving a running plaintext cluster to TLS"); nothing was changed'
      end
      # Kafka's inter-broker default is PLAINTEXT (security.inter.broker.protocol).
      inter_broker = running['inter.broker.listener.name'].to_s.strip
      inter_broker = running['security.inter.broker.protocol'].to_s.strip if inter_broker.empty?
      inter_broker = 'PLAINTEXT' if inter_broker.empty?
      if listener_protocol(running, inter_broker) == 'PLAINTEXT'
        return "kafka-cluster: #{path} still has brokers replicating over plaintext (inter.broker.listener.name #{inter_broker}) and the new configuration " \
               "has no plaintext listener (#{new_properties['listeners']}): restarted, this broker would drop the port its peers replicate to; converge " \
               'again with kafka.security "migrating" first, which moves brokers to TLS among themselves, then "tls" ' \
               '(docs/tls.md, "Moving a running plaintext cluster to TLS"); nothing was changed'
      end
      zookeeper_plaintext = !running['zookeeper.connect'].to_s.empty? && running['zookeeper.ssl.client.enable'].to_s != 'true'
      return unless zookeeper_plaintext && new_properties['zookeeper.ssl.client.enable'].to_s == 'true'
      # The "tls" deploy closes ZooKeeper's plaintext port between nodes before its roll: every broker
      # must already be on the TLS port, which the middle stage's second converge moves it to.
      "kafka-cluster: #{path} still reaches ZooKeeper in plaintext (zookeeper.connect #{running['zookeeper.connect']}) while the \"tls\" stage closes that port " \
        'between nodes: the brokers not yet restarted would lose ZooKeeper; converge again with kafka.security "migrating" first, which moves ' \
        'brokers to the TLS port once every member serves it, then "tls" (docs/tls.md, "Moving a running plaintext cluster to TLS"); nothing was changed'
    end

    # controller.listener.names in order, as Kafka reads them (upper case).
    def controller_names(properties)
      ConfigRules.list(properties['controller.listener.names']).map(&:upcase)
    end

    QUORUM_KEYS = %w(controller.quorum.voters controller.quorum.bootstrap.servers).freeze

    # The migration's middle stage on a node whose running file does not name the TLS controller
    # listener yet: what keeps it reaching the controllers as it does now for this roll (the
    # plaintext controller listener first, the quorum at the plaintext port), or nil when it may
    # move (it runs that listener already, or is new). Kafka reaches the voters and bootstrap
    # servers with the first controller listener's protocol, and a static voter set names one
    # address per voter: the move waits until every controller serves the TLS listener.
    # The node about to move (its running file names the TLS listener, not first) moves only once
    # every controller of the new quorum answers a TLS handshake there: `not_serving` gets those
    # endpoints and returns the ones that do not, after a converge that stopped part-way through
    # the first roll. Returns [held, reason] or nil.
    def migration_controller(running_text, new_properties, tls_port:, plaintext_port:, not_serving: ->(_endpoints) { [] })
      return if running_text.nil?
      names = ConfigRules.list(new_properties['controller.listener.names'])
      return if names.size < 2
      running_names = controller_names(ConfigRules.parse(running_text))
      return if running_names.first == names.first.upcase
      if running_names.include?(names.first.upcase)
        waiting = not_serving.call(quorum_endpoints(new_properties))
        return if waiting.empty?
        reason = "#{waiting.join(', ')} #{waiting.size == 1 ? 'does' : 'do'} not serve the TLS controller listener yet"
      else
        reason = 'it does not name the TLS controller listener yet'
      end
      held = { 'controller.listener.names' => (names.drop(1) + names.take(1)).join(',') }
      QUORUM_KEYS.each do |key|
        next if new_properties[key].to_s.empty?
        held[key] = ConfigRules.list(new_properties[key]).map { |entry| entry.sub(/:#{tls_port}\z/, ":#{plaintext_port}") }.join(',')
      end
      [held, reason]
    end

    # The host:port of every voter or bootstrap server the properties name.
    def quorum_endpoints(properties)
      QUORUM_KEYS.flat_map { |key| ConfigRules.list(properties[key]) }.map { |entry| entry.sub(/\A\d+@/, '') }
    end

    # The endpoints that do not complete a TLS handshake with this node's certificate (material:
    # tls_material's files) and a certificate for their address from the platform CA, as
    # "host:port (why)".
    def not_serving_tls(endpoints, material)
      endpoints.filter_map do |endpoint|
        host, port = endpoint.rpartition(':').values_at(0, 2)
        error = tls_handshake_error(host, port.to_i, material)
        "#{endpoint} (#{error})" if error
      end
    end

    def tls_handshake_error(host, port, material)
      store = OpenSSL::X509::Store.new
      store.add_cert(OpenSSL::X509::Certificate.new(material['ca.crt']))
      context = OpenSSL::SSL::SSLContext.new
      context.cert = OpenSSL::X509::Certificate.new(material['node.crt'])
      context.key = OpenSSL::PKey.read(material['node.key'])
      context.cert_store = store
      context.verify_mode = OpenSSL::SSL::VERIFY_PEER
      Timeout.timeout(10) do
        Socket.tcp(host, port, connect_timeout: 3) do |socket|
          ssl = OpenSSL::SSL::SSLSocket.new(socket, context)
          ssl.sync_close = true
          ssl.connect
          ssl.post_connection_check(host)
          ssl.close
        end
      end
      nil
    rescue SystemCallError, IOError, SocketError, OpenSSL::SSL::SSLError, Timeout::Error => e
      "#{e.class}: #{e.message}"
    end

    # The controller listener the health checks and the workstation's tools ask: one every
    # controller serves throughout the current stage. That is the plaintext one while the node
    # has one (the migration's middle stage keeps it on every controller until "tls"), else the first.
    def check_controller_name(properties)
      names = controller_names(properties)
      names.find { |name| listener_protocol(properties, name) == 'PLAINTEXT' } || names.first
    end

    # Why the new controller listeners must not replace the running ones in one roll, or nil. A
    # node reaches the controllers (and a controller is reached by its peers) on the first
    # controller listener it runs: restarted without that listener and protocol, it and the nodes
    # not yet restarted reach each other no more, so the roll stops at its first controller. The
    # move goes through kafka.security "migrating" and one more converge.
    def controller_cut_problem(running_text, new_properties, path)
      return if running_text.nil?
      running = ConfigRules.parse(running_text)
      name = controller_names(running).first
      return if name.nil?
      protocol = listener_protocol(running, name)
      now = new_properties.transform_keys(&:to_s).transform_values(&:to_s)
      return if controller_names(now).include?(name) && listener_protocol(now, name) == protocol
      quorum = QUORUM_KEYS.map { |key| running[key] }.find { |value| !value.to_s.empty? }
      "kafka-cluster: #{path} reaches the controllers on #{protocol} listener #{name} (#{quorum}) and the new configuration has no #{protocol} controller " \
        "listener #{name} (controller.listener.names #{now['controller.listener.names']}): restarted, this node and the nodes not yet restarted would not " \
        'reach each other; the controller listener moves through kafka.security "migrating" and one more converge before "tls" ' \
        '(docs/tls.md, "Moving a running plaintext cluster to TLS"); nothing was changed'
    end

    # Which of a voter's own controller listeners (NAME://host:port) the voter set in describe
    # --status's CurrentVoters does not list yet: nil without an answer, [] once it lists them all
    # or when the node is no voter. A dynamic quorum's voter sends the leader its listeners
    # (UpdateRaftVoter) after a restart; the voter set is what the other nodes reach it by.
    def voter_listeners_missing(output, id, listeners)
      list = output.to_s[/^CurrentVoters:\s+(\[.*\])\s*$/, 1]
      return if list.nil?
      voter = JSON.parse(list).find { |entry| entry['id'] == id }
      return [] if voter.nil?
      known = Array(voter['endpoints']).map(&:upcase)
      listeners.reject { |listener| known.include?(listener.upcase) }
    rescue JSON::ParserError
      nil
    end

    # server.properties lines, sorted so the file only changes when a value does.
    def properties_lines(properties)
      properties.sort_by { |key, _| key.to_s }.map { |key, value| "#{key}=#{value}" }
    end
  end
end
