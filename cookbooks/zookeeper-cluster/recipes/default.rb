#
# Cookbook:: zookeeper-cluster
# Recipe:: default
#
# Installs one ZooKeeper ensemble member: Java, a service user, the verified release in a
# versioned directory with a `current` link, zoo.cfg and myid, and a systemd service that is
# restarted when its configuration changes and checked to be serving before the run ends.

zk = node['zookeeper-cluster']
version = zk['version']
ensemble = zk['ensemble'].to_a
myid = zk['myid']

unless zk['sha512'].to_s =~ /\A\h{128}\z/
  raise "zookeeper-cluster: node['zookeeper-cluster']['sha512'] #{zk['sha512'].inspect} is not the sha512 hex of #{ZookeeperCluster::Helpers.tarball_name(version)}"
end
raise 'zookeeper-cluster: the ensemble is empty; the wrapper cookbook sets it from the zoo_bag data bag' if ensemble.empty?
raise "zookeeper-cluster: myid #{myid.inspect} is not a position in the #{ensemble.size}-member ensemble" unless myid.is_a?(Integer) && myid.between?(1, ensemble.size)

package zk['java_package']

group zk['group'] do
  system true
end

user zk['user'] do
  group zk['group']
  system true
  shell '/usr/sbin/nologin'
  home zk['data_dir']
  manage_home false
end

release_dir = "#{zk['install_dir']}/zookeeper-#{version}"
tarball = "#{Chef::Config[:file_cache_path]}/#{ZookeeperCluster::Helpers.tarball_name(version)}"
expected_sha512 = zk['sha512']

directory zk['install_dir'] do
  mode '0755'
end

remote_file tarball do
  source(*ZookeeperCluster::Helpers.tarball_urls(zk['mirrors'], version))
  mode '0644'
  # remote_file's own checksum is SHA-256; Apache publishes SHA-512, so verify that before use.
  verify do |path|
    next true if ZookeeperCluster::Helpers.sha512_matches?(path, expected_sha512)
    Chef::Log.error("zookeeper-cluster: the download of #{::File.basename(tarball)} does not have the pinned sha512 #{expected_sha512}; " \
                    "it is damaged, or node['zookeeper-cluster']['sha512'] belongs to another release")
    false
  end
  retries 3
  retry_delay 10
  not_if { ::File.exist?("#{release_dir}/bin/zkServer.sh") }
end

archive_file tarball do
  destination release_dir
  strip_components 1
  owner 'root'
  group 'root'
  overwrite :auto
  not_if { ::File.exist?("#{release_dir}/bin/zkServer.sh") }
end

link "#{zk['install_dir']}/current" do
  to release_dir
  notifies :restart, 'service[zookeeper]', :delayed
end

[zk['data_dir'], zk['log_dir']].each do |dir|
  directory dir do
    owner zk['user']
    group zk['group']
    mode '0750'
  end
end

directory zk['conf_dir'] do
  mode '0755'
end

file "#{zk['data_dir']}/myid" do
  content "#{myid}\n"
  owner zk['user']
  group zk['group']
  mode '0640'
  notifies :restart, 'service[zookeeper]', :delayed
end

template "#{zk['conf_dir']}/zoo.cfg" do
  source 'zoo.cfg.erb'
  mode '0644'
  variables(
    settings: zk['config'].to_h.merge('dataDir' => zk['data_dir']),
    servers: ZookeeperCluster::Helpers.server_lines(ensemble, zk['quorum_port'], zk['election_port'])
  )
  notifies :restart, 'service[zookeeper]', :delayed
end

systemd_unit 'zookeeper.service' do
  content(
    'Unit' => {
      'Description' => 'Apache ZooKeeper ensemble member',
      'Wants' => 'network-online.target',
      'After' => 'network-online.target',
    },
    'Service' => {
      'Type' => 'simple',
      'User' => zk['user'],
      'Group' => zk['group'],
      # Quoted: systemd splits an unquoted assignment at spaces and ignores all but the first word.
      'Environment' => [
        "ZOO_LOG_DIR=#{zk['log_dir']}",
        %("SERVER_JVMFLAGS=-Xms#{zk['heap_mb']}m -Xmx#{zk['heap_mb']}m"),
      ],
      'ExecStart' => "#{zk['install_dir']}/current/bin/zkServer.sh start-foreground #{zk['conf_dir']}/zoo.cfg",
      'Restart' => 'on-failure',
      'RestartSec' => '5',
      # The JVM answers systemd's SIGTERM by exiting 128 + 15: a clean stop, not a failure.
      'SuccessExitStatus' => '143',
      'LimitNOFILE' => '65536',
    },
    'Install' => { 'WantedBy' => 'multi-user.target' }
  )
  action [:create, :enable]
  notifies :restart, 'service[zookeeper]', :delayed
end

service 'zookeeper' do
  action :start
end

# The health check runs again right after the delayed restart a changed configuration queues:
# a check placed here alone runs before that restart and would see the old process.
zookeeper_cluster_serving 'zookeeper is serving' do
  port zk['config']['clientPort']
  timeout zk['health_timeout']
  myid myid
end

zookeeper_cluster_serving 'zookeeper is serving after its restart' do
  port zk['config']['clientPort']
  timeout zk['health_timeout']
  myid myid
  action :nothing
  subscribes :check, 'service[zookeeper]', :immediately
end
