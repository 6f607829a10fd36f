# Grows the XFS filesystem mounted at a path to the size of its device, online, once the device
# is larger (EBS grows a volume in place; the filesystem on it stays at its old size until grown).
# Counts as updated only when it grew something, so a run on a full-size volume changes nothing.
provides :kafka_cluster_filesystem
unified_mode true

property :path, String, name_property: true
# Smaller differences are left alone: XFS may not use the last blocks of a device.
property :threshold_mb, Integer, default: 64

default_action :grow

action :grow do
  mount = KafkaCluster::Helpers.read_mounts[new_resource.path]
  raise "kafka-cluster: #{new_resource.path} is not a mount point; its filesystem cannot be grown" if mount.nil?
  if mount[:fstype] == 'xfs'
    device_bytes = Integer(shell_out!('blockdev', '--getsize64', mount[:source]).stdout.strip)
    report = shell_out!('xfs_info', new_resource.path).stdout
    filesystem_bytes = KafkaCluster::Helpers.xfs_data_bytes(report)
    raise "kafka-cluster: cannot read the size of the filesystem at #{new_resource.path} from xfs_info (#{report.lines.first.to_s.strip})" if filesystem_bytes.nil?
    gib = ->(bytes) { format('%.1f GiB', bytes / 1024.0**3) }
    if device_bytes - filesystem_bytes >= new_resource.threshold_mb * 1024**2
      converge_by("grow the filesystem at #{new_resource.path} from #{gib.call(filesystem_bytes)} to its device's #{gib.call(device_bytes)}") do
        shell_out!('xfs_growfs', '-d', new_resource.path)
      end
    end
  else
    Chef::Log.warn("kafka-cluster: the filesystem at #{new_resource.path} is #{mount[:fstype]}, not xfs; grow it by hand after growing its volume")
  end
end
