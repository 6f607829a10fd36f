#
# Cookbook:: zookeeper-cluster
# Recipe:: retired
#
# A node that is no longer an ensemble member (the workstation removed it with reconfig -remove
# before this run): its member is stopped and never started again by a boot or a converge. Its
# configuration goes too, so that if the node is ever a member again it joins afresh, from the
# running ensemble's membership, not from the one it left. Its data stays (ZooKeeper syncs a
# returning member from the leader).

zk = node['zookeeper-cluster']

service 'zookeeper' do
  action [:stop, :disable]
  only_if { ::File.exist?('/etc/systemd/system/zookeeper.service') }
end

Dir.glob(::File.join(zk['conf_dir'], 'zoo.cfg*')).sort.each do |path|
  file path do
    action :delete
  end
end

# The service user's copies of the node's key and the client configuration that names them: a
# member that comes back builds them again.
file ::File.join(zk['conf_dir'], 'zkcli-tls.properties') do
  action :delete
end

directory ::File.join(zk['conf_dir'], 'tls') do
  recursive true
  action :delete
end
