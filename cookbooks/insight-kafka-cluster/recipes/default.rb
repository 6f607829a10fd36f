#
# Cookbook:: insight-kafka-cluster
# Recipe:: default
#
# ZooKeeper mode: reads the ensemble from data bag zoo_bag/zookeeper (key: this node's chef
# environment). A node in it runs a ZooKeeper member whose myid is its position; every broker
# connects to the whole ensemble. KRaft mode: reads the cluster id and the controllers from data
# bag kafka_bag/kraft; a node listed there is a controller, and every node but a dedicated
# controller is a broker. A static quorum's nodes get controller.quorum.voters; a dynamic
# quorum's get controller.quorum.bootstrap.servers, and while the cluster is being created its
# initial controllers are formatted with each one's directory id from the bag. The broker's id,
# its rack and whether it is a broker at all come from the bootstrap. Then runs zookeeper-cluster
# (on members, with its data on the member's own volume when the node knows one: recipe
# zookeeper_volume) and kafka-cluster.

settings = node['insight-kafka-cluster']
environment = node.chef_environment
address = settings['address'] || node['ipaddress']
mode = settings['mode']
raise "insight-kafka-cluster: node['insight-kafka-cluster']['mode'] #{mode.inspect} is not 'zookeeper' or 'kraft'" unless %w(zookeeper kraft).include?(mode)
kraft = mode == 'kraft'
node_id = settings['node_id']
broker = kraft ? settings['broker'] : true
security = settings['security']
unless %w(tls plaintext migrating).include?(security)
  raise "insight-kafka-cluster: node['insight-kafka-cluster']['security'] #{security.inspect} is not 'tls', 'plaintext' or 'migrating'"
end
tls = security != 'plaintext'
# Both cookbooks build their TLS from the node's key material unless the platform chose plaintext.
node.default['kafka-cluster']['tls']['enabled'] = tls
node.default['kafka-cluster']['tls']['migrating'] = security == 'migrating'
node.default['zookeeper-cluster']['tls']['enabled'] = tls
# ZooKeeper's quorum moves in its three rolling restarts, one per deploy (docs/tls.md): while
# migrating, members open the secure client port and accept TLS and plaintext quorum connections
# but still open plaintext ones; with tls they open TLS ones, and zookeeper-cluster keeps
# accepting plaintext for one more converge on a member that ran the first stage.
node.default['zookeeper-cluster']['tls']['ssl_quorum'] = security == 'tls'
node.default['zookeeper-cluster']['tls']['port_unification'] = true if security == 'migrating'
plaintext_listener = "PLAINTEXT://#{address}:#{settings['kafka_port']}"
tls_listener = "TLS://#{address}:#{settings['tls_port']}"
listener = { 'tls' => tls_listener, 'plaintext' => plaintext_listener, 'migrating' => "#{plaintext_listener},#{tls_listener}" }[security]
broker_map = { 'tls' => 'TLS:SSL', 'plaintext' => 'PLAINTEXT:PLAINTEXT', 'migrating' => 'PLAINTEXT:PLAINTEXT,TLS:SSL' }[security]
inter_broker = tls ? 'TLS' : 'PLAINTEXT'
# KRaft's controllers: CONTROLLER (plaintext) and CONTROLLER_TLS on a port of its own. Every
# node reaches them with its first controller listener's protocol, so 'migrating' adds the TLS
# one beside the plaintext one and names it first with the quorum at its port: kafka-cluster
# holds a node still on plaintext back for one roll (docs/tls.md). 'tls' drops the plaintext one.
controller_names = { 'tls' => %w(CONTROLLER_TLS), 'plaintext' => %w(CONTROLLER), 'migrating' => %w(CONTROLLER_TLS CONTROLLER) }[security]
controller_ports = { 'CONTROLLER' => settings['controller_port'], 'CONTROLLER_TLS' => settings['controller_tls_port'] }
controller_map = controller_names.map { |name| "#{name}:#{name == 'CONTROLLER' ? 'PLAINTEXT' : 'SSL'}" }.join(',')
quorum_port = controller_ports[controller_names.first]
properties = node.default['kafka-cluster']['config']['properties']
node.default['kafka-cluster']['mode'] = mode

if kraft
  source = "data bag #{settings['kraft_data_bag']}/#{settings['kraft_data_bag_item']}['#{environment}']"
  entry = data_bag_item(settings['kraft_data_bag'], settings['kraft_data_bag_item'])[environment]
  controllers = InsightKafkaCluster::ControllerQuorum.controllers(entry, source)
  raise "insight-kafka-cluster: this node (#{address}) has no node_id; the bootstrap gives every node one" if node_id.nil?
  mine = controllers.find { |controller| controller['address'] == address }
  if mine && mine['id'] != node_id
    raise "insight-kafka-cluster: #{source} lists this node (#{address}) as controller #{mine['id']}, but its node_id is #{node_id}"
  end
  roles = [('broker' if broker), ('controller' if mine)].compact
  raise "insight-kafka-cluster: node #{node_id} (#{address}) is not a broker and not among the controllers in #{source}" if roles.empty?
  controller_listener = controller_names.reverse.map { |name| "#{name}://#{address}:#{controller_ports[name]}" }.join(',')
  node.default['kafka-cluster']['cluster_id'] = entry['cluster_id']
  node.default['kafka-cluster']['controller_port'] = settings['controller_port']
  node.default['kafka-cluster']['tls']['controller_port'] = settings['controller_tls_port']
  properties['node.id'] = node_id
  properties['process.roles'] = roles.join(',')
  if InsightKafkaCluster::ControllerQuorum.dynamic?(entry)
    properties['controller.quorum.bootstrap.servers'] = InsightKafkaCluster::ControllerQuorum.bootstrap_servers(controllers, quorum_port)
    if mine && InsightKafkaCluster::ControllerQuorum.bootstrapping?(entry)
      node.default['kafka-cluster']['initial_controllers'] = InsightKafkaCluster::ControllerQuorum.initial_controllers(controllers, quorum_port)
    end
  else
    properties['controller.quorum.voters'] = InsightKafkaCluster::ControllerQuorum.voters(controllers, quorum_port)
  end
  properties['controller.listener.names'] = controller_names.join(',')
  properties['listener.security.protocol.map'] = "#{broker_map},#{controller_map}"
  properties['listeners'] = [(listener if broker), (controller_listener if mine)].compact.join(',')
  if broker
    properties['advertised.listeners'] = listener
    properties['inter.broker.listener.name'] = inter_broker
  end
  node.default['kafka-cluster']['service_after'] = %w(network-online.target)
else
  source = "data bag #{settings['data_bag']}/#{settings['data_bag_item']}['#{environment}']"
  ensemble = InsightKafkaCluster::Ensemble.members(data_bag_item(settings['data_bag'], settings['data_bag_item'])[environment], source)
  myid = InsightKafkaCluster::Ensemble.position(ensemble, address)
  # Nodes bootstrapped before ids were given are ensemble members: their id is their position.
  node_id ||= myid
  if node_id.nil?
    raise "insight-kafka-cluster: this node (#{address}) is not in #{source} (#{ensemble.join(', ')}) and has no node_id; " \
          'the bootstrap gives every broker one'
  end
  if myid
    node.default['zookeeper-cluster']['ensemble'] = ensemble
    node.default['zookeeper-cluster']['myid'] = myid
    node.default['zookeeper-cluster']['config']['clientPort'] = settings['client_port']
    # The port the brokers are given below.
    node.default['zookeeper-cluster']['tls']['secure_client_port'] = settings['secure_client_port']
  end
  properties['broker.id'] = node_id
  # With TLS, brokers reach ZooKeeper on its TLS port with their certificate. In the middle stage
  # they move there as soon as every member serves it (its first roll opens the port), so that no
  # broker still needs the plaintext port when the "tls" deploy closes it between nodes.
  zookeeper_tls = security == 'tls'
  running = ZookeeperCluster::Helpers.properties(ZookeeperCluster::Helpers.read_text("#{node['kafka-cluster']['conf_dir']}/server.properties")) || {}
  if security == 'migrating' && running['zookeeper.ssl.client.enable'] == 'true'
    # Once on the TLS port, a broker stays there: a member slow to answer must not send it back.
    zookeeper_tls = true
    node.default['kafka-cluster']['tls']['zookeeper_client'] = true
  elsif security == 'migrating'
    waiting = InsightKafkaCluster::Ensemble.not_serving_tls(ensemble, settings['secure_client_port'],
                                                          ZookeeperCluster::Helpers.platform_tls(node['kafka-cluster']['tls']['source_dir']))
    zookeeper_tls = waiting.empty?
    node.default['kafka-cluster']['tls']['zookeeper_client'] = zookeeper_tls
    unless zookeeper_tls
      Chef::Log.warn("insight-kafka-cluster: the broker stays on ZooKeeper's plaintext port this roll: #{waiting.join(', ')} " \
                     "#{waiting.size == 1 ? 'does' : 'do'} not serve #{settings['secure_client_port']} yet; converge again once every member " \
                     'does (docs/tls.md, "Moving a running plaintext cluster to TLS")')
    end
  end
  zookeeper_port = zookeeper_tls ? settings['secure_client_port'] : settings['client_port']
  properties['zookeeper.connect'] = InsightKafkaCluster::Ensemble.connect_string(ensemble, zookeeper_port, settings['chroot'])
  properties['listeners'] = listener
  properties['advertised.listeners'] = listener
  # Kafka's defaults already say this for plaintext: a plaintext cluster's file stays as it was.
  if tls
    properties['listener.security.protocol.map'] = broker_map
    properties['inter.broker.listener.name'] = inter_broker
  end
  node.default['kafka-cluster']['service_after'] = myid ? %w(network-online.target zookeeper.service) : %w(network-online.target)
end

# Rack awareness spreads each partition's replicas over availability zones; once one broker has
# a rack, topic creation fails unless every broker has one.
rack = [settings['rack'], node.dig('ec2', 'placement_availability_zone')].map(&:to_s).find { |value| !value.empty? }
if broker && rack.to_s.empty? && settings['install_kafka']
  raise "insight-kafka-cluster: broker #{node_id} has no rack: set node['insight-kafka-cluster']['rack'] " \
        '(the bootstrap passes the instance\'s availability zone) or run on EC2, where Ohai reports it'
end
properties['broker.rack'] = rack if broker && !rack.to_s.empty?

if !kraft && node['zookeeper-cluster']['myid']
  # Before zookeeper-cluster: its data_dir goes onto the member's own volume, mounted first.
  if settings['zookeeper_volume_id']
    include_recipe 'insight-kafka-cluster::zookeeper_volume'
  else
    Chef::Log.warn("insight-kafka-cluster: member #{node['zookeeper-cluster']['myid']} has no zookeeper_volume_id: " \
                   "ZooKeeper's data stays in #{node['zookeeper-cluster']['data_dir']}, on the root volume")
  end
  include_recipe 'zookeeper-cluster::default'
elsif !kraft
  # Not (or no longer) a member: one the workstation removed from the ensemble stops for good.
  include_recipe 'zookeeper-cluster::retired'
end
if settings['install_kafka']
  include_recipe 'kafka-cluster::default'
else
  Chef::Log.warn("insight-kafka-cluster: Kafka is not installed on this node (node['insight-kafka-cluster']['install_kafka'] is false)")
end
