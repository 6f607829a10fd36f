#
# Cookbook:: kafka-cluster
# Recipe:: default
#
# Installs one Kafka broker in ZooKeeper mode: Java, a service user, kernel settings, the
# verified release in a versioned directory with a `current` link, server.properties and a
# systemd service restarted on change, then checks that the broker registered in ZooKeeper.

kafka = node['kafka-cluster']
props = kafka['config']['properties'].to_h
%w(broker.id zookeeper.connect listeners).each do |required|
  raise "kafka-cluster: node['kafka-cluster']['config']['properties']['#{required}'] is not set; the wrapper cookbook sets it" if props[required].to_s.empty?
end
props['log.dirs'] ||= kafka['data_dir']

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

directory kafka['conf_dir'] do
  mode '0755'
end

template "#{kafka['conf_dir']}/server.properties" do
  source 'server.properties.erb'
  owner 'root'
  group kafka['group']
  mode '0640'
  variables(lines: KafkaCluster::Helpers.properties_lines(props))
  notifies :restart, 'service[kafka]', :delayed
end

after = kafka['service_after'].join(' ')
systemd_unit 'kafka.service' do
  content(
    'Unit' => {
      'Description' => 'Apache Kafka broker',
      'Wants' => 'network-online.target',
      'After' => after,
      # Never start on the root volume's empty directory when the data volume is not mounted yet.
      'RequiresMountsFor' => kafka['data_dir'],
    },
    'Service' => {
      'Type' => 'simple',
      'User' => kafka['user'],
      'Group' => kafka['group'],
      # Quoted: systemd splits an unquoted assignment at spaces and ignores all but the first word.
      'Environment' => [
        %("KAFKA_HEAP_OPTS=-Xms#{kafka['heap_mb']}m -Xmx#{kafka['heap_mb']}m"),
        "LOG_DIR=#{kafka['log_dir']}",
      ],
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

# The broker is healthy once its id is registered under the cluster's chroot in ZooKeeper. The
# check runs again right after the delayed restart a changed configuration queues: placed here
# alone, it would run before that restart and see the old process.
registration = {
  broker_id: props['broker.id'].to_i,
  zookeeper_connect: props['zookeeper.connect'],
  zookeeper_shell: "#{kafka['install_dir']}/current/bin/zookeeper-shell.sh",
  attempts: kafka['health_retries'],
}

kafka_cluster_registered "broker #{registration[:broker_id]} is registered in ZooKeeper" do
  registration.each { |property, value| send(property, value) }
end

kafka_cluster_registered "broker #{registration[:broker_id]} is registered in ZooKeeper after its restart" do
  registration.each { |property, value| send(property, value) }
  action :nothing
  subscribes :check, 'service[kafka]', :immediately
end
