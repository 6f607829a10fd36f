#
# Cookbook:: kafka-cluster
# Recipe:: default
#
# Installs one Kafka node: Java, a service user, kernel settings, the verified release in a
# versioned directory with a `current` link, server.properties and a systemd service restarted on
# change. In ZooKeeper mode the run ends once the broker registered in ZooKeeper. In KRaft mode
# the log directories are formatted with the cluster's id once (never again: a directory holding
# meta.properties is left alone), and the run ends once the controller quorum has a leader and,
# on a broker, once the broker is serving with its id.

kafka = node['kafka-cluster']
mode = kafka['mode']
raise "kafka-cluster: node['kafka-cluster']['mode'] #{mode.inspect} is not 'zookeeper' or 'kraft'" unless %w(zookeeper kraft).include?(mode)
kraft = mode == 'kraft'
props = kafka['config']['properties'].to_h
# ZooKeeper's settings mean nothing to a KRaft node; Kafka 4 would only warn about them.
props.reject! { |key, _| key.start_with?('zookeeper.') } if kraft
# A KRaft quorum is static (controller.quorum.voters, fixed at format) or dynamic (KIP-853:
# controller.quorum.bootstrap.servers, voters added and removed at run time); never both.
dynamic_quorum = kraft && !props['controller.quorum.bootstrap.servers'].to_s.empty?
if dynamic_quorum && !props['controller.quorum.voters'].to_s.empty?
  raise "kafka-cluster: node['kafka-cluster']['config']['properties'] sets both controller.quorum.voters and controller.quorum.bootstrap.servers; " \
        'a static quorum has only the first, a dynamic quorum only the second'
end
quorum_key = dynamic_quorum ? 'controller.quorum.bootstrap.servers' : 'controller.quorum.voters'
required = kraft ? ['node.id', 'process.roles', quorum_key, 'controller.listener.names', 'listeners'] : %w(broker.id zookeeper.connect listeners)
required.each do |key|
  raise "kafka-cluster: node['kafka-cluster']['config']['properties']['#{key}'] is not set; the wrapper cookbook sets it" if props[key].to_s.empty?
end
initial_controllers = kafka['initial_controllers'].to_s
unless initial_controllers.empty? || (dynamic_quorum && KafkaCluster::Helpers.initial_controllers?(initial_controllers))
  raise "kafka-cluster: node['kafka-cluster']['initial_controllers'] #{initial_controllers.inspect} is not " \
        "#{dynamic_quorum ? 'id@host:port:directory-id,... (as kafka-storage.sh format --initial-controllers takes it)' : 'for a static quorum: controller.quorum.voters fixes its voters'}"
end
props['log.dirs'] ||= kafka['data_dir']
log_dirs = props['log.dirs'].to_s.split(',').map(&:strip)
roles = props['process.roles'].to_s.split(',').map(&:strip)
# Checked before anything changes: a broker never starts on a log directory that is not its own
# mounted volume. A changed data_dir on a running node names an empty directory on the root
# volume while the data volume stays mounted at the old path; Kafka would start empty there.
mount_roots = KafkaCluster::Helpers.mount_roots(kafka['data_dir'], log_dirs)
volume_problem = KafkaCluster::Helpers.data_volume_problem(kafka['data_dir'], log_dirs, KafkaCluster::Helpers.read_mounts,
                                                           KafkaCluster::Helpers.label_device(kafka['data_volume_label']), kafka['data_volume_label'])
raise volume_problem if volume_problem
%w(log_file_max_mb log_file_backups gc_log_file_max_mb gc_log_files grow_threshold_mb).each do |key|
  raise "kafka-cluster: node['kafka-cluster']['#{key}'] #{kafka[key].inspect} is not a whole number of at least 1" unless kafka[key].is_a?(Integer) && kafka[key] >= 1
end
broker = !kraft || roles.include?('broker')
cluster_id = kafka['cluster_id'].to_s
if kraft
  unless KafkaCluster::Helpers.cluster_id?(cluster_id)
    raise "kafka-cluster: node['kafka-cluster']['cluster_id'] #{kafka['cluster_id'].inspect} is not a Kafka cluster id " \
          '(22 base64url characters, as kafka-storage.sh random-uuid prints)'
  end
  # Checked before anything changes: a data volume from another cluster is never started or reformatted.
  log_dirs.each do |dir|
    found = KafkaCluster::Helpers.meta_property("#{dir}/meta.properties", 'cluster.id')
    next if found.nil? || found == cluster_id
    raise "kafka-cluster: #{dir}/meta.properties belongs to cluster #{found}, not this cluster's #{cluster_id}; " \
          'this data volume was formatted for another cluster: attach the right one, or empty the directory to start this node afresh'
  end
end

tls = kafka['tls']
tls_dir = tls['dir']
tls_material = nil
# ZooKeeper mode reaches ZooKeeper over TLS past the middle stage, and within it once the wrapper
# found every member serving its TLS port.
zookeeper_tls = !kraft && tls['enabled'] && (!tls['migrating'] || tls['zookeeper_client'] == true)
if tls['enabled']
  # Read before anything changes: a node without its key material stops here, naming the file.
  tls_material = KafkaCluster::Helpers.tls_material(tls['source_dir'])
  # The wrapper's own settings win: only what it leaves unset comes from here.
  props = KafkaCluster::Helpers.tls_properties(
    dir: tls_dir, kraft: kraft, authorizer: !tls['migrating'], zookeeper_tls: zookeeper_tls, zookeeper_acl: !tls['migrating'],
    super_users: tls['super_users'].to_a
  ).transform_keys(&:to_s).merge(props)
end
server_properties = "#{kafka['conf_dir']}/server.properties"
running_properties = ::File.exist?(server_properties) ? ::File.read(server_properties) : nil
if tls['enabled'] && tls['migrating'] && broker
  # Brokers reach each other on the listener the others advertise: the first roll of the middle
  # stage adds the TLS listener and keeps inter-broker traffic where it was; a second converge,
  # once every broker has the listener, moves it (docs/tls.md).
  keep = KafkaCluster::Helpers.migration_inter_broker(running_properties, props)
  if keep
    props['inter.broker.listener.name'] = keep
    Chef::Log.warn("kafka-cluster: #{server_properties} has no TLS listener yet: this roll adds it and keeps brokers on #{keep} among themselves; " \
                   'converge again once every broker has it to move them to TLS (docs/tls.md, "Moving a running plaintext cluster to TLS")')
  end
end
if tls['enabled'] && tls['migrating'] && kraft
  # Kafka reaches the controllers with its first controller listener's protocol: the first roll
  # of the middle stage adds the TLS controller listener and keeps every node on the plaintext
  # one; a second converge, once every controller serves both, moves them (docs/tls.md).
  held, reason = KafkaCluster::Helpers.migration_controller(
    running_properties, props, tls_port: tls['controller_port'], plaintext_port: kafka['controller_port'],
                               not_serving: ->(endpoints) { KafkaCluster::Helpers.not_serving_tls(endpoints, tls_material) }
  )
  if held
    props.merge!(held)
    Chef::Log.warn("kafka-cluster: #{server_properties}: #{reason}: this roll keeps this node on the controllers' " \
                   "#{held['controller.listener.names'].split(',').first} listener; converge again once every controller serves both to move it " \
                   '(docs/tls.md, "Moving a running plaintext cluster to TLS")')
  end
end
# Checked before anything changes: Kafka would refuse these at start, one broker into the roll.
config_problems = KafkaCluster::ConfigRules.problems(props, version: kafka['version'])
raise "kafka-cluster: #{server_properties} would not start Kafka #{kafka['version']}: #{config_problems.join('; ')}" unless config_problems.empty?
cut = KafkaCluster::Helpers.plaintext_cut_problem(running_properties, props, server_properties)
cut ||= KafkaCluster::Helpers.controller_cut_problem(running_properties, props, server_properties) if kraft
raise cut if cut

release = KafkaCluster::Helpers.release_name(kafka['scala_version'], kafka['version'])
unless kafka['sha512'].to_s =~ /\A\h{128}\z/
  raise "kafka-cluster: node['kafka-cluster']['sha512'] #{kafka['sha512'].inspect} is not the sha512 hex of #{release}.tgz"
end
release_dir = "#{kafka['install_dir']}/#{release}"
tarball = "#{Chef::Config[:file_cache_path]}/#{release}.tgz"
expected_sha512 = kafka['sha512']

package kafka['java_package']

kafka['sysctl'].each do |key, setting|
  sysctl key do
    value setting
  end
end

group kafka['group'] do
  system true
end

user kafka['user'] do
  group kafka['group']
  system true
  shell '/usr/sbin/nologin'
  home kafka['install_dir']
  manage_home false
end

directory kafka['install_dir'] do
  mode '0755'
end

remote_file tarball do
  source(*KafkaCluster::Helpers.tarball_urls(kafka['mirrors'], kafka['scala_version'], kafka['version']))
  mode '0644'
  # remote_file's own checksum is SHA-256; Apache publishes SHA-512, so verify that before use.
  verify do |path|
    next true if KafkaCluster::Helpers.sha512_matches?(path, expected_sha512)
    Chef::Log.error("kafka-cluster: the download of #{release}.tgz does not have the pinned sha512 #{expected_sha512}; " \
                    "it is damaged, or node['kafka-cluster']['sha512'] belongs to another release")
    false
  end
  retries 3
  retry_delay 10
  not_if { ::File.exist?("#{release_dir}/bin/kafka-server-start.sh") }
end

archive_file tarball do
  destination release_dir
  strip_components 1
  owner 'root'
  group 'root'
  overwrite :auto
  not_if { ::File.exist?("#{release_dir}/bin/kafka-server-start.sh") }
end

link "#{kafka['install_dir']}/current" do
  to release_dir
  notifies :restart, 'service[kafka]', :delayed
end

[kafka['data_dir'], kafka['log_dir']].each do |dir|
  directory dir do
    owner kafka['user']
    group kafka['group']
    mode '0750'
    recursive true
  end
end

# A volume EC2 grew (kafka.dataVolumeGiB) is only usable once its filesystem is grown too.
mount_roots.each do |dir|
  kafka_cluster_filesystem dir do
    threshold_mb kafka['grow_threshold_mb']
  end
end

directory kafka['conf_dir'] do
  mode '0755'
end

# Kafka's own logs roll by size and keep a fixed count; Kafka 3 reads Log4j 1.2 properties
# (reload4j), Kafka 4 a Log4j 2 file. The unit points the broker at the one its version reads.
log4j2 = KafkaCluster::Helpers.log4j2?(kafka['version'])
log_config = "#{kafka['conf_dir']}/#{log4j2 ? 'log4j2.yaml' : 'log4j.properties'}"
template log_config do
  source log4j2 ? 'log4j2.yaml.erb' : 'log4j.properties.erb'
  owner 'root'
  group kafka['group']
  mode '0640'
  variables(
    log_dir: kafka['log_dir'],
    appenders: KafkaCluster::Helpers::LOG_FILES,
    loggers: KafkaCluster::Helpers.file_loggers(kafka['version']),
    max_file_mb: kafka['log_file_max_mb'],
    backups: kafka['log_file_backups']
  )
  notifies :restart, 'service[kafka]', :delayed
end

# What earlier configurations left behind and no bound covers: Kafka's default hourly files,
# never deleted, and GC logs beyond today's count.
gc_log_name = 'kafkaServer-gc.log'
KafkaCluster::Helpers.stale_log_files(kafka['log_dir'], gc_log_name, kafka['gc_log_files']).each do |stale|
  file stale do
    action :delete
  end
end

if tls['enabled']
  directory tls_dir do
    owner kafka['user']
    group kafka['group']
    mode '0700'
  end

  # Kafka reads PEM stores itself (the key unencrypted PKCS#8, so no ssl.key.password); a renewed
  # certificate changes the store and restarts the broker through the same rolling converge.
  {
    'keystore.pem' => KafkaCluster::Helpers.pem_join(tls_material['node.key'], tls_material['node.crt'], tls_material['ca.crt']),
    'truststore.pem' => KafkaCluster::Helpers.pem_join(tls_material['ca.crt']),
  }.each do |name, pem|
    file "#{tls_dir}/#{name}" do
      content pem
      owner kafka['user']
      group kafka['group']
      mode '0600'
      sensitive true
      notifies :restart, 'service[kafka]', :delayed
    end
  end
end

template server_properties do
  source 'server.properties.erb'
  owner 'root'
  group kafka['group']
  mode '0640'
  variables(lines: KafkaCluster::Helpers.properties_lines(props))
  notifies :restart, 'service[kafka]', :delayed
end

tools_config = "#{kafka['conf_dir']}/tools.properties"
zookeeper_tls_config = "#{kafka['conf_dir']}/zookeeper-tls.properties"
if zookeeper_tls
  # zookeeper-shell's -zk-tls-config-file: the health check reaches ZooKeeper as the broker does.
  file zookeeper_tls_config do
    content KafkaCluster::Helpers.properties_lines(KafkaCluster::Helpers.zookeeper_tls_properties(tls_dir)).join("\n") + "\n"
    owner 'root'
    group kafka['group']
    mode '0640'
  end
end
if kraft || tls['enabled']
  # The admin clients of the health checks and of the workstation's tools (run here over SSH):
  # each call waits 60 s by default, which would make one slow attempt outlast the whole check.
  # With TLS they present this node's certificate (principal kafka-broker).
  tools = kafka['tools_properties'].to_h
  tools = KafkaCluster::Helpers.tls_client_properties(tls_dir).merge(tools) if tls['enabled']
  file tools_config do
    content KafkaCluster::Helpers.properties_lines(tools).join("\n") + "\n"
    owner 'root'
    group kafka['group']
    mode '0640'
  end
end
controller_tools_config = "#{kafka['conf_dir']}/controller-tools.properties"
add_controller_config = "#{kafka['conf_dir']}/add-controller.properties"
controller_name = KafkaCluster::Helpers.check_controller_name(props).to_s
if kraft
  # The controllers keep their plaintext listener through the migration's middle stage while the
  # brokers' TLS listener is up: the admin clients aimed at controllers speak its protocol.
  controller_client = KafkaCluster::Helpers.client_properties(
    KafkaCluster::Helpers.listener_protocol(props, controller_name), tls_dir, kafka['tools_properties'].to_h
  )
  file controller_tools_config do
    content KafkaCluster::Helpers.properties_lines(controller_client).join("\n") + "\n"
    owner 'root'
    group kafka['group']
    mode '0640'
  end
  # kafka-metadata-quorum add-controller reads one file as both the controller's configuration
  # and its admin client's settings: server.properties alone leaves that client on PLAINTEXT.
  # Without the checks' short timeouts: the call lasts until the leader commits the voter change.
  add_controller = props.merge(KafkaCluster::Helpers.client_properties(KafkaCluster::Helpers.listener_protocol(props, controller_name), tls_dir))
  file add_controller_config do
    content KafkaCluster::Helpers.properties_lines(add_controller).join("\n") + "\n"
    owner 'root'
    group kafka['group']
    mode '0640'
  end
end
if kraft

  storage_tool = "#{kafka['install_dir']}/current/bin/kafka-storage.sh"
  # Once per log directory, ever: the guard looks for the meta.properties a format writes, so a
  # re-converge, a reboot or a replaced instance on the same data volume never wipes data.
  # --ignore-formatted completes a node of several directories of which only some were formatted;
  # --cluster-id=<id> keeps an id that starts with '-' from reading as a flag. A dynamic quorum
  # is formatted once with its initial controllers (each keeps the directory id it is listed
  # with, so every initial controller agrees on the voter set); any other node, and a controller
  # added later, starts with none and joins the quorum as an observer until it is added.
  format_command = [storage_tool, 'format', "--cluster-id=#{cluster_id}", '--config', "#{kafka['conf_dir']}/server.properties", '--ignore-formatted']
  if dynamic_quorum
    format_command << (initial_controllers.empty? ? '--no-initial-controllers' : "--initial-controllers=#{initial_controllers}")
  end
  execute "format #{log_dirs.join(', ')} for KRaft cluster #{cluster_id}" do
    command format_command
    user kafka['user']
    group kafka['group']
    environment('LOG_DIR' => kafka['log_dir'])
    not_if { log_dirs.all? { |dir| ::File.exist?("#{dir}/meta.properties") } }
  end
end

exporter = kafka['jmx_exporter']
exporter_opts = []
if exporter['enabled']
  exporter_rules = "#{kafka['conf_dir']}/jmx_exporter.yaml"
  # The jar's path is in the flag: a new version changes the unit, and Kafka restarts onto it.
  exporter_opts << %("KAFKA_OPTS=#{JmxExporter.javaagent_flag(exporter, exporter_rules, 'kafka-cluster')}")

  jmx_exporter_javaagent exporter_rules do
    rules_cookbook 'kafka-cluster'
    version exporter['version']
    sha256 exporter['sha256']
    urls exporter['urls']
    dir exporter['dir']
  end
end

after = kafka['service_after'].join(' ')
systemd_unit 'kafka.service' do
  content(
    'Unit' => {
      'Description' => kraft ? "Apache Kafka (KRaft #{roles.join(' and ')})" : 'Apache Kafka broker',
      'Wants' => 'network-online.target',
      'After' => after,
      # Never start on the root volume's empty directory when the data volume is not mounted yet.
      'RequiresMountsFor' => mount_roots.join(' '),
    },
    'Service' => {
      'Type' => 'simple',
      'User' => kafka['user'],
      'Group' => kafka['group'],
      # Quoted: systemd splits an unquoted assignment at spaces and ignores all but the first word.
      'Environment' => [
        %("KAFKA_HEAP_OPTS=-Xms#{kafka['heap_mb']}m -Xmx#{kafka['heap_mb']}m"),
        "LOG_DIR=#{kafka['log_dir']}",
        log4j2 ? "KAFKA_LOG4J_OPTS=-Dlog4j2.configurationFile=#{log_config}" : "KAFKA_LOG4J_OPTS=-Dlog4j.configuration=file:#{log_config}",
        # Set, it replaces kafka-run-class.sh's own GC log of 10 files of 100 MiB.
        "KAFKA_GC_LOG_OPTS=-Xlog:gc*:file=#{kafka['log_dir']}/#{gc_log_name}:time,tags:filecount=#{kafka['gc_log_files']},filesize=#{kafka['gc_log_file_max_mb']}M",
      ] + exporter_opts,
      # RequiresMountsFor waits for a mount fstab lists; this also refuses a directory fstab lost.
      'ExecStartPre' => mount_roots.map { |dir| "/usr/bin/mountpoint #{dir}" },
      'ExecStart' => "#{kafka['install_dir']}/current/bin/kafka-server-start.sh #{kafka['conf_dir']}/server.properties",
      'Restart' => 'on-failure',
      'RestartSec' => '10',
      # The JVM answers systemd's SIGTERM by exiting 128 + 15: a clean stop, not a failure.
      'SuccessExitStatus' => '143',
      'LimitNOFILE' => kafka['open_files'].to_s,
      'TimeoutStopSec' => '180',
    },
    'Install' => { 'WantedBy' => 'multi-user.target' }
  )
  action [:create, :enable]
  notifies :restart, 'service[kafka]', :delayed
end

service 'kafka' do
  action :start
end

# Health, checked now and again right after the delayed restart a changed configuration queues:
# placed here alone, a check would run before that restart and see the old process. Only then
# does the converge script move on to the next node, so restarts roll one node at a time.
bin_dir = "#{kafka['install_dir']}/current/bin"
address = KafkaCluster::Helpers.listener_host(props['listeners'])
# The listeners the checks use: with TLS the node's TLS listener (tools.properties speaks SSL),
# even while brokers still replicate over plaintext in the migration's first roll; otherwise the
# one brokers talk to each other on. And the controller's, with its own client settings.
controller_names = props['controller.listener.names'].to_s.split(',').map { |name| name.strip.upcase }
tls_broker_listener = KafkaCluster::ConfigRules.endpoints(props['listeners']).find do |endpoint|
  !endpoint[:error] && !controller_names.include?(endpoint[:name]) && KafkaCluster::Helpers.listener_protocol(props, endpoint[:name]) == 'SSL'
end
inter_broker = props['inter.broker.listener.name'].to_s.empty? ? 'PLAINTEXT' : props['inter.broker.listener.name']
inter_broker = tls_broker_listener[:name] if tls['enabled'] && tls_broker_listener
broker_endpoint = KafkaCluster::Helpers.listener_address(props['listeners'], inter_broker) || "#{address}:#{kafka['broker_port']}"
controller_endpoint = KafkaCluster::Helpers.listener_address(props['listeners'], controller_name) || "#{address}:#{kafka['controller_port']}"
checks = []
if kraft
  # A controller asks its own controller listener; a broker-only node asks itself as a broker.
  controller = roles.include?('controller')
  quorum_endpoint = controller ? ['--bootstrap-controller', controller_endpoint] : ['--bootstrap-server', broker_endpoint]
  checks << [:kafka_cluster_quorum, "the controller quorum has a leader, seen from node #{props['node.id']}", {
    metadata_quorum: "#{bin_dir}/kafka-metadata-quorum.sh",
    endpoint: quorum_endpoint,
    command_config: controller ? controller_tools_config : tools_config,
    log_dir: kafka['log_dir'],
    attempts: kafka['quorum_retries'],
    node_id: props['node.id'].to_i,
    # While a dynamic quorum's controller runs both controller listeners, the roll moves on once
    # the voter set lists both: the next converge has the other nodes reach it on the TLS one.
    voter_listeners: dynamic_quorum && controller && controller_names.size > 1 ? KafkaCluster::ConfigRules.list(props['listeners']).select { |entry| controller_names.include?(entry.split('://').first.upcase) } : [],
  }]
end
if broker
  broker_id = (kraft ? props['node.id'] : props['broker.id']).to_i
  checks << [:kafka_cluster_registered, "broker #{broker_id} is registered #{kraft ? 'with the controllers' : 'in ZooKeeper'}", {
    broker_id: broker_id,
    mode: mode,
    bin_dir: bin_dir,
    log_dir: kafka['log_dir'],
    attempts: kafka['health_retries'],
    zookeeper_connect: props['zookeeper.connect'].to_s,
    bootstrap_server: broker_endpoint,
    command_config: kraft ? tools_config : '',
    zookeeper_tls_config: zookeeper_tls ? zookeeper_tls_config : '',
  }]
end

checks.each do |type, name, properties|
  declare_resource(type, name) do
    properties.each { |property, value| send(property, value) }
  end
  declare_resource(type, "#{name} after its restart") do
    properties.each { |property, value| send(property, value) }
    action :nothing
    subscribes :check, 'service[kafka]', :immediately
  end
end
