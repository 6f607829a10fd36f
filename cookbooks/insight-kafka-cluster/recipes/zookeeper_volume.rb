#
# Cookbook:: insight-kafka-cluster
# Recipe:: zookeeper_volume
#
# A ZooKeeper ensemble member's own EBS volume, node['insight-kafka-cluster']['zookeeper_volume_id']:
# waits for its device, formats it only when blank, mounts it (fstab by UUID) and points
# zookeeper-cluster's data_dir into it. On a new member the user data has mounted it already and
# nothing changes; on a member that ran before the volume existed, zookeeper-cluster then moves
# the data from the root volume into it (stop, move, start). Everything here runs at compile time:
# zookeeper-cluster decides at compile time whether the member's data is in data_dir, must move
# there, or is new, and must see the mounted volume, not the empty directory beneath it.

require 'shellwords'

settings = node['insight-kafka-cluster']
volume_id = settings['zookeeper_volume_id']
volume_settings = settings['zookeeper_volume']
mount_point = volume_settings['mount_point']
unless InsightKafkaCluster::Volume.volume_id?(volume_id)
  raise "insight-kafka-cluster: node['insight-kafka-cluster']['zookeeper_volume_id'] #{volume_id.inspect} is not an EBS volume id (vol- and hex digits)"
end
device = InsightKafkaCluster::Volume.device(volume_id)

unless InsightKafkaCluster::Volume.wait_for_device(device, volume_settings['wait_attempts'], volume_settings['wait_seconds'])
  raise "insight-kafka-cluster: ZooKeeper's volume #{volume_id} did not appear as #{device} within " \
        "#{volume_settings['wait_attempts'] * volume_settings['wait_seconds']} s: check that it is attached to this instance " \
        '(terraform apply attaches it), then converge again; ZooKeeper was left as it was'
end
problem = InsightKafkaCluster::Volume.content_problem(InsightKafkaCluster::Volume.probe(device), volume_id, device)
raise problem if problem

# udevadm settle: the mount below finds the new filesystem by its UUID, which udev links only
# once it has seen the format.
execute "format ZooKeeper's volume #{volume_id}" do
  command "mkfs.xfs -q -L #{Shellwords.escape(volume_settings['label'])} #{Shellwords.escape(device)} && udevadm settle"
  only_if { InsightKafkaCluster::Volume.probe(device).empty? }
  compile_time true
end

directory mount_point do
  mode '0755'
  compile_time true
end

# nofail, as the user data writes it: a missing volume must not stop the boot, only ZooKeeper,
# whose unit requires the mount (below).
mount mount_point do
  device(lazy { InsightKafkaCluster::Volume.uuid(device) })
  device_type :uuid
  fstype 'xfs'
  options %w(defaults noatime nofail)
  pass 2
  action [:mount, :enable]
  compile_time true
end

unless InsightKafkaCluster::Volume.mounted_from?(mount_point, device)
  raise "insight-kafka-cluster: #{mount_point} is not mounted from ZooKeeper's volume #{volume_id} (#{device}); " \
        "ZooKeeper's data is not moved onto it: see /etc/fstab and `findmnt #{mount_point}`"
end

node.default['zookeeper-cluster']['data_dir'] = ::File.join(mount_point, 'data')

# At boot, ZooKeeper starts only once its volume is mounted.
directory '/etc/systemd/system/zookeeper.service.d' do
  mode '0755'
end

file '/etc/systemd/system/zookeeper.service.d/zookeeper-volume.conf' do
  content "[Unit]\nRequiresMountsFor=#{mount_point}\n"
  mode '0644'
  notifies :run, 'execute[reload systemd for zookeeper-volume.conf]', :immediately
end

execute 'reload systemd for zookeeper-volume.conf' do
  command %w(systemctl daemon-reload)
  action :nothing
end
