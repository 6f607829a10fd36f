# Fails the run unless this broker's id is registered under the cluster's chroot in ZooKeeper
# within the given attempts. A check changes nothing, so it never counts as an updated resource.
provides :kafka_cluster_registered
unified_mode true

property :broker_id, Integer, required: true
property :zookeeper_connect, String, required: true
property :zookeeper_shell, String, required: true
property :attempts, Integer, default: 36
property :delay, Integer, default: 5

default_action :check

action :check do
  ids = []
  registered = (1..new_resource.attempts).any? do |attempt|
    sleep new_resource.delay if attempt > 1
    ids = KafkaCluster::Helpers.registered_broker_ids(
      shell_out(new_resource.zookeeper_shell, new_resource.zookeeper_connect, 'ls', '/brokers/ids').stdout
    )
    ids.include?(new_resource.broker_id)
  end
  unless registered
    raise "kafka-cluster: broker #{new_resource.broker_id} did not register in ZooKeeper (#{new_resource.zookeeper_connect}) " \
          "after #{new_resource.attempts} attempts; registered: #{ids.empty? ? 'none' : ids.join(', ')}. See the kafka service's journal"
  end
end
