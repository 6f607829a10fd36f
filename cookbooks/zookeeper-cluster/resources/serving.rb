# Fails the run unless this ensemble member answers `srvr` with a Mode within the timeout. A
# check changes nothing, so it never counts as an updated resource: a converge with nothing to
# change reports 0 updated.
provides :zookeeper_cluster_serving
unified_mode true

property :port, Integer, required: true
property :timeout, Integer, required: true
property :myid, Integer

default_action :check

action :check do
  mode = ZookeeperCluster::Helpers.wait_until_serving('127.0.0.1', new_resource.port, new_resource.timeout)
  Chef::Log.info("ZooKeeper member #{new_resource.myid} is serving as #{mode}")
end
