# Fails the run unless this broker's id is registered within the given attempts: in ZooKeeper
# mode under the cluster's chroot in ZooKeeper, in KRaft mode among the live brokers the broker
# itself reports (a broker answers only once the controllers registered and unfenced it). A
# check changes nothing, so it never counts as an updated resource.
provides :kafka_cluster_registered
unified_mode true

property :broker_id, Integer, required: true
property :mode, String, equal_to: %w(zookeeper kraft), default: 'zookeeper'
property :bin_dir, String, required: true
# Where the tools write their own log4j output; the release directory belongs to root.
property :log_dir, String, required: true
property :zookeeper_connect, String, default: ''
property :bootstrap_server, String, default: ''
# KRaft: client settings that keep each attempt short.
property :command_config, String, default: ''
# ZooKeeper mode over TLS: zookeeper-shell's client settings (-zk-tls-config-file).
property :zookeeper_tls_config, String, default: ''
property :attempts, Integer, default: 36
property :delay, Integer, default: 5

default_action :check

action :check do
  kraft = new_resource.mode == 'kraft'
  where = kraft ? "with the controllers (asked through #{new_resource.bootstrap_server})" : "in ZooKeeper (#{new_resource.zookeeper_connect})"
  ids = []
  registered = (1..new_resource.attempts).any? do |attempt|
    sleep new_resource.delay if attempt > 1
    environment = { 'LOG_DIR' => new_resource.log_dir }
    ids = if kraft
            KafkaCluster::Helpers.api_versions_broker_ids(KafkaCluster::Helpers.tool_answer do
              shell_out("#{new_resource.bin_dir}/kafka-broker-api-versions.sh", '--bootstrap-server', new_resource.bootstrap_server,
                        '--command-config', new_resource.command_config, environment: environment, timeout: 90)
            end)
          else
            KafkaCluster::Helpers.registered_broker_ids(KafkaCluster::Helpers.tool_answer do
              tls = new_resource.zookeeper_tls_config.empty? ? [] : ['-zk-tls-config-file', new_resource.zookeeper_tls_config]
              shell_out("#{new_resource.bin_dir}/zookeeper-shell.sh", new_resource.zookeeper_connect, *tls, 'ls', '/brokers/ids',
                        environment: environment, timeout: 90)
            end)
          end
    ids.include?(new_resource.broker_id)
  end
  unless registered
    raise "kafka-cluster: broker #{new_resource.broker_id} did not register #{where} " \
          "after #{new_resource.attempts} attempts; registered: #{ids.empty? ? 'none' : ids.join(', ')}. See the kafka service's journal"
  end
end
