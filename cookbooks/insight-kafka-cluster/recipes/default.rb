#
# Cookbook:: insight-kafka-cluster
# Recipe:: default
#
# Reads the ensemble from data bag zoo_bag/zookeeper (key: this node's chef environment), sets
# this node's ZooKeeper myid and Kafka broker.id from its position in it, points the broker at
# every member, then runs zookeeper-cluster and kafka-cluster.

settings = node['insight-kafka-cluster']
environment = node.chef_environment
item = data_bag_item(settings['data_bag'], settings['data_bag_item'])
source = "data bag #{settings['data_bag']}/#{settings['data_bag_item']}['#{environment}']"
ensemble = item[environment]
address = settings['address'] || node['ipaddress']
position = InsightKafkaCluster::Ensemble.position(ensemble, address, source)

node.default['zookeeper-cluster']['ensemble'] = ensemble
node.default['zookeeper-cluster']['myid'] = position
node.default['zookeeper-cluster']['config']['clientPort'] = settings['client_port']

listener = "PLAINTEXT://#{address}:#{settings['kafka_port']}"
properties = node.default['kafka-cluster']['config']['properties']
properties['broker.id'] = position
properties['zookeeper.connect'] = InsightKafkaCluster::Ensemble.connect_string(ensemble, settings['client_port'], settings['chroot'])
properties['listeners'] = listener
properties['advertised.listeners'] = listener
# Rack awareness spreads each partition's replicas over availability zones; once one broker has
# a rack, topic creation fails unless every broker has one.
rack = [settings['rack'], node.dig('ec2', 'placement_availability_zone')].map(&:to_s).find { |value| !value.empty? }
if rack.to_s.empty? && settings['install_kafka']
  raise "insight-kafka-cluster: broker #{position} has no rack: set node['insight-kafka-cluster']['rack'] " \
        '(the bootstrap passes the instance\'s availability zone) or run on EC2, where Ohai reports it'
end
properties['broker.rack'] = rack unless rack.to_s.empty?
node.default['kafka-cluster']['service_after'] = %w(network-online.target zookeeper.service)

include_recipe 'zookeeper-cluster::default'
if settings['install_kafka']
  include_recipe 'kafka-cluster::default'
else
  Chef::Log.warn("insight-kafka-cluster: Kafka is not installed on this node (node['insight-kafka-cluster']['install_kafka'] is false)")
end
