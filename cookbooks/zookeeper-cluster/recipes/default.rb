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

data_dir = zk['data_dir']
previous_data_dir = ZookeeperCluster::Helpers.previous_dir_with_data(data_dir, zk['previous_data_dirs'])
data_plan = ZookeeperCluster::Helpers.data_plan(data_dir, zk['previous_data_dirs'])
client_port = zk['config']['clientPort']
conf_dir = zk['conf_dir']
static_file = "#{conf_dir}/zoo.cfg"
initial_dynamic_file = "#{conf_dir}/zoo.cfg.dynamic"
read_text = ->(path) { ZookeeperCluster::Helpers.read_text(path) }
tls_enabled = zk['tls']['enabled']
# Read before anything changes: a node whose bootstrap wrote no certificate stops here.
tls = tls_enabled ? ZookeeperCluster::Helpers.platform_tls(zk['tls']['source_dir']) : nil
tls_dir = "#{conf_dir}/tls"
keystore = "#{tls_dir}/keystore.pem"
truststore = "#{tls_dir}/truststore.pem"
client_tls_config = "#{conf_dir}/zkcli-tls.properties"
existing_static = read_text.call(static_file)
# Decided from what the member runs, before anything changes: a plaintext quorum asked for
# sslQuorum stops here, and one that accepts both keeps accepting both for one more converge.
if tls_enabled
  running_settings = ZookeeperCluster::Helpers.properties(existing_static)
  ssl_quorum, port_unification, quorum_note = ZookeeperCluster::Helpers.quorum_tls_stage(running_settings, zk['tls']['ssl_quorum'], zk['tls']['port_unification'], static_file)
  closing = ssl_quorum && !port_unification && running_settings && running_settings['portUnification'].to_s == 'true' && ensemble.size > 1
  # A member with no zoo.cfg yet (a replaced instance) joins with the attributes' stage: it too
  # must accept plaintext while a running member reports opening plaintext connections. A new
  # ensemble's members report nothing yet.
  arriving = ssl_quorum && !port_unification && running_settings.nil? && ensemble.size > 1
  if closing || arriving
    # Plaintext quorum connections close only once every other member opens TLS ones: after a
    # roll that stopped part-way, a member still on plaintext could reach no member that closed.
    opening_plaintext = ZookeeperCluster::Helpers.peers_opening_plaintext(ensemble, myid, ZookeeperCluster::Helpers.reported_quorum_tls(node.chef_environment))
    # Only a report of plaintext holds a newcomer back: a new ensemble's members report nothing yet.
    opening_plaintext.reject! { |entry| entry.end_with?('(nothing reported)', '(the search failed)') } if arriving
    unless opening_plaintext.empty?
      port_unification = true
      quorum_note = "zookeeper-cluster: #{static_file} keeps accepting plaintext quorum connections this run: #{opening_plaintext.join(', ')} " \
                    "#{opening_plaintext.size == 1 ? 'has' : 'have'} not reported running sslQuorum; converge again once every member ran with it " \
                    '(docs/tls.md, "ZooKeeper")'
    end
  end
  # Saved with the node only if this run succeeds, restart and health checks included: what the
  # other members read before they close plaintext.
  stage = 'plaintext'
  stage = 'both' if port_unification
  stage = 'ssl_quorum' if ssl_quorum
  node.default['zookeeper-cluster']['quorum_tls'] = { 'address' => ensemble[myid - 1], 'stage' => stage }
end
Chef::Log.warn(quorum_note) if quorum_note
# Other members are asked over the secure port with tls: between members only it is open. In the
# first roll onto quorum TLS (both accepted, plaintext opened) members not yet restarted have no
# secure port, and the plaintext one is still open between them.
peer_port = tls_enabled && !(port_unification && !ssl_quorum) ? zk['tls']['secure_client_port'] : client_port
own_line = ZookeeperCluster::Helpers.dynamic_line(myid, ensemble[myid - 1], zk['quorum_port'], zk['election_port'], client_port)
new_lines = ZookeeperCluster::Helpers.dynamic_lines(ensemble, zk['quorum_port'], zk['election_port'], client_port)
membership_plan, dynamic_servers = ZookeeperCluster::Helpers.membership_plan(existing_static, read_text, myid, own_line, new_lines, client_port) do
  ensemble.size > 1 ? ZookeeperCluster::Helpers.live_membership(ensemble, myid, peer_port, tls) : nil
end
# A member without data is either new (to a new ensemble, or joining a running one before the
# workstation adds it with reconfig) or one that lost its data (a replaced instance whose data
# was not on its kept volume, a wrong dataDir). Only the first may start empty: a member that
# lost its data and votes can form a majority with a member that missed the latest writes, and
# those acknowledged writes are gone. The tell: the running ensemble lists it as a voter, or (an
# ensemble that does not answer `conf`) the other members serve without it.
if data_plan == :initialize && ensemble.size > 1 && membership_plan != :join
  serving = membership_plan == :rejoin ? ['their membership lists it as a voter'] : ZookeeperCluster::Helpers.serving_peers(ensemble, myid, peer_port, tls)
  unless serving.empty?
    raise "zookeeper-cluster: member #{myid} has no data (no #{data_dir}/version-2) while the rest of the ensemble serves " \
          "(#{serving.join(', ')}): it would join as an empty voter, so it is not started. Put back the volume that holds its data; " \
          'or, if its data is lost for good and every other member serves, create the directory by hand ' \
          "(sudo mkdir -p #{data_dir}/version-2) and converge again: it then syncs from the leader"
  end
end

package zk['java_package']

group zk['group'] do
  system true
end

user zk['user'] do
  group zk['group']
  system true
  shell '/usr/sbin/nologin'
  # Not the data directory: usermod refuses to change the home of a user whose process runs,
  # which would fail the run that moves the data.
  home zk['home_dir']
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

directory zk['log_dir'] do
  owner zk['user']
  group zk['group']
  mode '0750'
end

directory data_dir do
  owner zk['user']
  group zk['group']
  mode '0750'
  recursive true
end

if data_plan == :move
  # One member at a time (the converge rolls through the nodes): this member leaves the quorum
  # for the move and rejoins with the same data. Never over data already in data_dir.
  # Started again by the restart at the end of the run, once: not before zoo.cfg names data_dir.
  service 'zookeeper stopped to move its data' do
    service_name 'zookeeper'
    action :stop
    notifies :restart, 'service[zookeeper]', :delayed
  end

  execute "move ZooKeeper's data from #{previous_data_dir} to #{data_dir}" do
    command ['bash', '-c', ZookeeperCluster::Helpers::MOVE_DATA_SCRIPT, 'move-zookeeper-data', previous_data_dir, data_dir]
    not_if { ZookeeperCluster::Helpers.data?(data_dir) }
    notifies :restart, 'service[zookeeper]', :delayed
  end
end

# A replaced instance creates the service user afresh, maybe with another uid than the one
# that owns the kept data; the member could then not read it.
execute "give #{data_dir} to #{zk['user']}" do
  command ['chown', '-R', "#{zk['user']}:#{zk['group']}", data_dir]
  only_if { ZookeeperCluster::Helpers.foreign_files?(data_dir, zk['user']) }
  notifies :restart, 'service[zookeeper]', :delayed
end

# Created here only for a new member of a new ensemble (a member with data has it already): with
# autocreate off, ZooKeeper itself never makes it.
directory ::File.join(data_dir, 'version-2') do
  owner zk['user']
  group zk['group']
  mode '0750'
end

# ZooKeeper writes here: each reconfig leaves a zoo.cfg.dynamic.<version> beside zoo.cfg and
# points zoo.cfg at it.
directory conf_dir do
  owner zk['user']
  group zk['group']
  mode '0755'
end

if tls_enabled
  directory tls_dir do
    owner zk['user']
    group zk['group']
    mode '0700'
  end

  # The service user's own copies: it never reads the node's key in place. A renewed
  # certificate changes them, and the member restarts with it.
  { keystore => tls[:key] + tls[:cert] + tls[:ca], truststore => tls[:ca] }.each do |path, text|
    file path do
      content text
      owner zk['user']
      group zk['group']
      mode '0600'
      sensitive true
      notifies :restart, 'service[zookeeper]', :delayed
    end
  end

  file client_tls_config do
    content ZookeeperCluster::Helpers.client_tls_properties(keystore, truststore)
    owner zk['user']
    group zk['group']
    mode '0640'
  end
else
  # The workstation's scripts take this file as the sign that the member wants TLS clients.
  file client_tls_config do
    action :delete
  end

  directory tls_dir do
    recursive true
    action :delete
  end
end

file "#{data_dir}/myid" do
  content "#{myid}\n"
  owner zk['user']
  group zk['group']
  mode '0640'
  notifies :restart, 'service[zookeeper]', :delayed
end

# The membership is written only when ZooKeeper has none here yet: a new ensemble, a member that
# joins (the running members and itself; the workstation then adds it with reconfig -add), or a
# static zoo.cfg switched to the dynamic layout (its own servers). Once it runs, the membership
# is ZooKeeper's: reconfig changes it on every member, and a converge never writes over it.
unless membership_plan == :keep
  Chef::Log.info("zookeeper-cluster: member #{myid} starts its dynamic configuration (#{membership_plan}): #{dynamic_servers.join(' ')}")
  file initial_dynamic_file do
    content dynamic_servers.map { |line| "#{line}\n" }.join
    owner zk['user']
    group zk['group']
    mode '0644'
    notifies :restart, 'service[zookeeper]', :delayed
  end
end

# clientPort lives in each server line (;<port>): ZooKeeper drops it from zoo.cfg on reconfig
# when the dynamic lines carry it.
static_settings = zk['config'].to_h.reject { |key, _| key == 'clientPort' }.merge(
  'dataDir' => data_dir,
  # Members are added and removed one at a time with reconfig (ZooKeeper's dynamic
  # reconfiguration); a 1-member ensemble runs as a quorum of one, so that it can grow.
  'reconfigEnabled' => true,
  'standaloneEnabled' => false
)
if tls_enabled
  static_settings.merge!(ZookeeperCluster::Helpers.tls_settings(keystore, truststore, zk['tls']['secure_client_port'], ssl_quorum, port_unification))
end
file static_file do
  content ZookeeperCluster::Helpers.static_config(
    existing_static, static_settings,
    membership_plan == :keep ? ZookeeperCluster::Helpers.properties(existing_static)['dynamicConfigFile'] : initial_dynamic_file
  )
  owner zk['user']
  group zk['group']
  mode '0644'
  notifies :restart, 'service[zookeeper]', :delayed
end

max_log_files = zk['log_max_files']
# logback caps a fixed window at 20 files; a larger count would silently keep fewer.
raise "zookeeper-cluster: node['zookeeper-cluster']['log_max_files'] #{max_log_files.inspect} is not a count from 1 to 20" unless max_log_files.is_a?(Integer) && max_log_files.between?(1, 20)
unless zk['log_max_file_size'].to_s =~ /\A\d+(KB|MB|GB)\z/
  raise "zookeeper-cluster: node['zookeeper-cluster']['log_max_file_size'] #{zk['log_max_file_size'].inspect} is not a size such as 64MB"
end

logback_config = "#{zk['conf_dir']}/logback.xml"
server_jvm_flags = ["-Xms#{zk['heap_mb']}m", "-Xmx#{zk['heap_mb']}m", '-Dzookeeper.datadir.autocreate=false', "-Dlogback.configurationFile=#{logback_config}"]
exporter = zk['jmx_exporter']
if exporter['enabled']
  exporter_rules = "#{zk['conf_dir']}/jmx_exporter.yaml"
  # The jar's path is in the flag: a new version changes the unit, and the member restarts onto it.
  server_jvm_flags << JmxExporter.javaagent_flag(exporter, exporter_rules, 'zookeeper-cluster')

  jmx_exporter_javaagent exporter_rules do
    rules_cookbook 'zookeeper-cluster'
    version exporter['version']
    sha256 exporter['sha256']
    urls exporter['urls']
    dir exporter['dir']
  end
end
server_jvm_flags << ZookeeperCluster::Helpers.jvm_flag_value('zookeeper.X509AuthenticationProvider.superUser', tls[:subject]) if tls_enabled
template logback_config do
  source 'logback.xml.erb'
  mode '0644'
  variables(log_dir: zk['log_dir'], max_files: max_log_files, max_file_size: zk['log_max_file_size'], level: zk['log_level'])
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
        # autocreate off: a member whose data directory is missing refuses to start rather than
        # start empty and vote.
        # logback.configurationFile: named, since the release's conf/ (first on the class path)
        # holds a logback.xml of its own.
        # The x509 super user: a system property only (ZooKeeper's admin guide), read at each
        # authentication. The members' own subject, which the brokers share.
        %("SERVER_JVMFLAGS=#{server_jvm_flags.join(' ')}"),
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

# Started once, by the restart queued at the end, with everything in place: a member stopped to
# move its data, and a member that joins (once it has followed the leader, ZooKeeper rewrites
# its dynamic file without it, and a restart before reconfig -add adds it could not start).
# No guard here: a guard would skip that notified restart as well.
start_at_end = data_plan == :move || membership_plan == :join
service 'zookeeper' do
  action start_at_end ? :nothing : :start
end

# The health check runs again right after the delayed restart a changed configuration queues:
# a check placed here alone runs before that restart and would see the old process.
zookeeper_cluster_serving 'zookeeper is serving' do
  port zk['config']['clientPort']
  timeout zk['health_timeout']
  myid myid
  # Not started yet: the check after its restart below is the one that counts.
  action start_at_end ? :nothing : :check
end

zookeeper_cluster_serving 'zookeeper is serving after its restart' do
  port zk['config']['clientPort']
  timeout zk['health_timeout']
  myid myid
  action :nothing
  subscribes :check, 'service[zookeeper]', :immediately
end
