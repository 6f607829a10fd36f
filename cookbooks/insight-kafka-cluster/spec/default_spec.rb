require_relative '../../spec_helper'
require_relative '../../zookeeper-cluster/libraries/helpers'

# No Chef server here: the members report no quorum TLS stage unless an example says otherwise.
RSpec.configure do |config|
  config.before { allow(ZookeeperCluster::Helpers).to receive(:reported_quorum_tls).and_return({}) }
end
require_relative '../../kafka-cluster/spec/support/data_volume'
require_relative '../libraries/volume'
require_relative '../../kafka-cluster/libraries/config_rules'
require 'tmpdir'

# The node's key material as the platform writes it before the first run (opaque here).
TLS_SOURCE = Dir.mktmpdir('platform-tls').tap do |dir|
  %w(node.key node.crt ca.crt).each { |name| File.write("#{dir}/#{name}", "-----BEGIN #{name}-----\n") }
end

# Examples about something else run the plaintext lab; those about TLS pass security: 'tls'.
def cluster_run(ensemble, address:, zone: 'us-west-2b', rack: nil, install_kafka: true, node_id: nil, zookeeper_volume_id: nil, security: 'plaintext')
  runner = ChefSpec::SoloRunner.new do |node|
    node.override['insight-kafka-cluster']['security'] = security if security
    node.normal['kafka-cluster']['tls']['source_dir'] = TLS_SOURCE
    node.normal['insight-kafka-cluster']['zookeeper_volume_id'] = zookeeper_volume_id if zookeeper_volume_id
    node.automatic['ipaddress'] = address
    node.automatic['ec2'] = { 'placement_availability_zone' => zone } if zone
    node.normal['insight-kafka-cluster']['rack'] = rack if rack
    node.normal['insight-kafka-cluster']['node_id'] = node_id if node_id
    node.override['insight-kafka-cluster']['install_kafka'] = install_kafka
  end
  allow_any_instance_of(Chef::Recipe).to receive(:data_bag_item).with('zoo_bag', 'zookeeper')
                                                                .and_return('id' => 'zookeeper', '_default' => ensemble)
  runner.converge('insight-kafka-cluster::default')
end

THREE = %w(10.0.16.5 10.0.32.6 10.0.16.7).freeze
FIVE = %w(10.0.16.5 10.0.32.6 10.0.16.7 10.0.32.8 10.0.16.9).freeze

# A member of a new ensemble with no data yet, whatever this machine holds or can reach.
RSpec.shared_context 'a new ZooKeeper member' do
  before do
    allow(ZookeeperCluster::Helpers).to receive(:wait_until_serving).and_return('follower')
    allow(ZookeeperCluster::Helpers).to receive(:live_membership).and_return(nil)
    allow(ZookeeperCluster::Helpers).to receive(:read_text).and_return(nil)
    allow(ZookeeperCluster::Helpers).to receive(:serving_peers).and_return([])
    allow(ZookeeperCluster::Helpers).to receive(:data?).and_return(false)
    # TLS_SOURCE's files are opaque; zookeeper-cluster parses the certificate for its subject.
    allow(ZookeeperCluster::Helpers).to receive(:platform_tls).and_return(key: 'key', cert: 'cert', ca: 'ca', subject: 'CN=kafka-broker,O=insight-prod')
  end
end

describe 'insight-kafka-cluster::default' do
  include_context 'a mounted data volume'
  include_context 'a new ZooKeeper member'

  context 'on the second node of three' do
    cached(:chef_run) { cluster_run(THREE, address: '10.0.32.6') }

    it 'is ZooKeeper member 2, a new ensemble starting with every member in its dynamic file' do
      expect(chef_run).to create_file('/var/lib/zookeeper/myid').with(content: "2\n")
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg.dynamic').with_content { |content|
        expect(content.lines.grep(/^server\./).size).to eq(3)
        expect(content).to include("server.2=10.0.32.6:2888:3888:participant;2181\n")
      }
    end

    it 'stops no ZooKeeper: it is a member' do
      expect(chef_run).not_to stop_service('zookeeper')
    end

    it 'is broker 2 listening on its private IP, connected to every member under /kafka, in its AZ' do
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
        expect(content).to include(
          "broker.id=2\n",
          "listeners=PLAINTEXT://10.0.32.6:9092\n",
          "advertised.listeners=PLAINTEXT://10.0.32.6:9092\n",
          "zookeeper.connect=10.0.16.5:2181,10.0.32.6:2181,10.0.16.7:2181/kafka\n",
          "broker.rack=us-west-2b\n"
        )
      }
    end

    it 'starts the broker after ZooKeeper' do
      expect(chef_run.systemd_unit('kafka.service').content['Unit']['After']).to eq('network-online.target zookeeper.service')
    end
  end

  context 'on a single node' do
    cached(:chef_run) { cluster_run(%w(10.0.16.5), address: '10.0.16.5') }

    it 'is member and broker 1' do
      expect(chef_run).to create_file('/var/lib/zookeeper/myid').with(content: "1\n")
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content(%r{^zookeeper\.connect=10\.0\.16\.5:2181/kafka$})
    end
  end

  context 'on the last node of five' do
    cached(:chef_run) { cluster_run(FIVE, address: '10.0.16.9') }

    it 'is member and broker 5 with five servers' do
      expect(chef_run).to create_file('/var/lib/zookeeper/myid').with(content: "5\n")
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content(/^broker\.id=5$/)
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg.dynamic').with_content(/^server\.5=10\.0\.16\.9:2888:3888:participant;2181$/)
    end
  end

  context 'on a fourth broker, outside a three-member ensemble' do
    cached(:chef_run) { cluster_run(THREE, address: '10.0.48.4', node_id: 4) }

    it 'runs no ZooKeeper member: it is only a client of the ensemble' do
      expect(chef_run).not_to create_file('/var/lib/zookeeper/myid')
      expect(chef_run).not_to render_file('/etc/zookeeper/zoo.cfg')
      expect(chef_run).not_to create_systemd_unit('zookeeper.service')
    end

    it 'stops and disables a member it ran before the workstation removed it from the ensemble' do
      expect(chef_run).to include_recipe('zookeeper-cluster::retired')
      expect(chef_run.service('zookeeper').action).to eq(%i(stop disable))
    end

    it 'is broker 4, the id its bootstrap gave it, connected to the three members' do
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
        expect(content).to include("broker.id=4\n", "zookeeper.connect=10.0.16.5:2181,10.0.32.6:2181,10.0.16.7:2181/kafka\n", "listeners=PLAINTEXT://10.0.48.4:9092\n")
      }
    end

    it 'starts its broker without waiting for a ZooKeeper unit it does not have' do
      expect(chef_run.systemd_unit('kafka.service').content['Unit']['After']).to eq('network-online.target')
    end
  end

  it 'takes the broker id its bootstrap gave an ensemble member' do
    run = cluster_run(THREE, address: '10.0.32.6', node_id: 2)
    expect(run).to create_file('/var/lib/zookeeper/myid').with(content: "2\n")
    expect(run).to render_file('/etc/kafka/server.properties').with_content(/^broker\.id=2$/)
  end

  it 'stops with one clear message when this node is not in the data bag and has no id' do
    expect { cluster_run(THREE, address: '10.0.48.4') }.to raise_error(
      RuntimeError,
      "insight-kafka-cluster: this node (10.0.48.4) is not in data bag zoo_bag/zookeeper['_default'] (10.0.16.5, 10.0.32.6, 10.0.16.7) " \
      'and has no node_id; the bootstrap gives every broker one'
    )
  end

  it 'stops with one clear message on an even ensemble' do
    expect { cluster_run(%w(10.0.16.5 10.0.32.6), address: '10.0.16.5') }.to raise_error(
      RuntimeError,
      "insight-kafka-cluster: data bag zoo_bag/zookeeper['_default'] lists 2 members; a ZooKeeper ensemble must have an odd number"
    )
  end

  it 'stops when the data bag has no list for this environment' do
    expect { cluster_run(nil, address: '10.0.16.5') }.to raise_error(
      RuntimeError, "insight-kafka-cluster: data bag zoo_bag/zookeeper['_default'] has no list of ensemble addresses"
    )
  end

  it 'stops when an address is listed twice' do
    expect { cluster_run(%w(10.0.16.5 10.0.16.5 10.0.16.7), address: '10.0.16.5') }
      .to raise_error(RuntimeError, /lists an address twice/)
  end

  context 'when Kafka is switched off (the local rehearsal, which cannot fetch it)' do
    cached(:chef_run) { cluster_run(THREE, address: '10.0.16.5', install_kafka: false) }

    it 'runs the ZooKeeper member and writes nothing of the broker' do
      expect(chef_run).to create_file('/var/lib/zookeeper/myid').with(content: "1\n")
      expect(chef_run).not_to render_file('/etc/kafka/server.properties')
      expect(chef_run).not_to create_systemd_unit('kafka.service')
    end
  end

  context 'rack awareness' do
    it 'takes the rack the bootstrap gave the node over what Ohai reports' do
      run = cluster_run(THREE, address: '10.0.16.5', zone: 'us-west-2b', rack: 'us-west-2a')
      expect(run).to render_file('/etc/kafka/server.properties').with_content("broker.rack=us-west-2a\n")
    end

    it 'stops a broker that has no rack, which would break rack-aware topic creation for the whole cluster' do
      expect { cluster_run(THREE, address: '10.0.16.5', zone: nil) }
        .to raise_error(RuntimeError, /broker 1 has no rack/)
    end

    it 'needs no rack when Kafka is switched off' do
      expect { cluster_run(THREE, address: '10.0.16.5', zone: nil, install_kafka: false) }.not_to raise_error
    end
  end
end

# The example item the repository ships is the shape the recipe reads: a dynamic quorum, as the
# stack generates it. KRAFT_ENTRY is the same item as the upload rewrites it for a running static
# quorum (no quorum key, no directory ids).
SHIPPED_ENTRY = JSON.parse(File.read(File.expand_path('../../../databags/kafka_bag/kraft.json', __dir__)))['_default'].freeze
KRAFT_ENTRY = SHIPPED_ENTRY.reject { |key, _| key == 'quorum' }
                           .merge('controllers' => SHIPPED_ENTRY['controllers'].map { |controller| controller.reject { |key, _| key == 'directory_id' } }).freeze
VOTERS = '1@10.0.16.5:9093,2@10.0.32.6:9093,3@10.0.48.7:9093'.freeze

def kraft_run(entry, address:, node_id:, broker: true, zone: 'us-west-2b', security: 'plaintext')
  runner = ChefSpec::SoloRunner.new do |node|
    node.override['insight-kafka-cluster']['security'] = security if security
    node.normal['kafka-cluster']['tls']['source_dir'] = TLS_SOURCE
    node.automatic['ipaddress'] = address
    node.automatic['ec2'] = { 'placement_availability_zone' => zone } if zone
    node.override['insight-kafka-cluster']['mode'] = 'kraft'
    node.normal['insight-kafka-cluster']['node_id'] = node_id
    node.normal['insight-kafka-cluster']['broker'] = broker
  end
  allow_any_instance_of(Chef::Recipe).to receive(:data_bag_item).with('kafka_bag', 'kraft').and_return('id' => 'kraft', '_default' => entry)
  runner.converge('insight-kafka-cluster::default')
end

describe 'insight-kafka-cluster::default in KRaft mode' do
  include_context 'a mounted data volume'
  context 'on the second of three combined brokers and controllers' do
    cached(:chef_run) { kraft_run(KRAFT_ENTRY, address: '10.0.32.6', node_id: 2) }

    it 'is broker and controller 2 with the whole quorum as voters, from the data bag' do
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
        expect(content).to include(
          "node.id=2\n", "process.roles=broker,controller\n", "controller.quorum.voters=#{VOTERS}\n",
          "listeners=PLAINTEXT://10.0.32.6:9092,CONTROLLER://10.0.32.6:9093\n", "advertised.listeners=PLAINTEXT://10.0.32.6:9092\n",
          "controller.listener.names=CONTROLLER\n", "inter.broker.listener.name=PLAINTEXT\n", "broker.rack=us-west-2b\n"
        )
      }
    end

    it 'formats its storage with the cluster id from the data bag' do
      expect(chef_run).to run_execute('format /data/kafka for KRaft cluster MkU3OEVBNTcwNTJENDM2Qg')
    end

    it 'runs no ZooKeeper at all' do
      expect(chef_run).not_to create_systemd_unit('zookeeper.service')
      expect(chef_run.systemd_unit('kafka.service').content['Unit']['After']).to eq('network-online.target')
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content| expect(content).not_to include('zookeeper') }
    end
  end

  context 'on a fourth node, a broker only' do
    cached(:chef_run) { kraft_run(KRAFT_ENTRY, address: '10.0.16.8', node_id: 4) }

    it 'is broker 4 that knows the voters but listens as a broker only' do
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
        expect(content).to include("node.id=4\n", "process.roles=broker\n", "controller.quorum.voters=#{VOTERS}\n", "listeners=PLAINTEXT://10.0.16.8:9092\n")
      }
    end
  end

  context 'on a dedicated controller' do
    cached(:chef_run) do
      entry = KRAFT_ENTRY.merge('controllers' => [1001, 1002, 1003].zip(%w(10.0.16.5 10.0.32.6 10.0.48.7)).map { |id, ip| { 'id' => id, 'address' => ip } })
      kraft_run(entry, address: '10.0.48.7', node_id: 1003, broker: false, zone: nil)
    end

    it 'is controller 1003 only: no broker listener, no rack, no advertised broker' do
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
        expect(content).to include("node.id=1003\n", "process.roles=controller\n", "listeners=CONTROLLER://10.0.48.7:9093\n")
        expect(content).not_to match(/^(broker\.rack|advertised\.listeners|inter\.broker\.listener\.name)=/)
      }
    end
  end

  it 'stops when the data bag lists this node as another controller' do
    expect { kraft_run(KRAFT_ENTRY, address: '10.0.32.6', node_id: 5) }.to raise_error(
      RuntimeError, "insight-kafka-cluster: data bag kafka_bag/kraft['_default'] lists this node (10.0.32.6) as controller 2, but its node_id is 5"
    )
  end

  it 'stops a node that is neither a broker nor a listed controller' do
    expect { kraft_run(KRAFT_ENTRY, address: '10.0.16.8', node_id: 1004, broker: false) }
      .to raise_error(RuntimeError, /node 1004 \(10\.0\.16\.8\) is not a broker and not among the controllers/)
  end

  it 'stops a node without the id its bootstrap gives it' do
    expect { kraft_run(KRAFT_ENTRY, address: '10.0.16.5', node_id: nil) }.to raise_error(RuntimeError, /this node \(10\.0\.16\.5\) has no node_id/)
  end

  it 'stops on a data bag without a cluster id, or with an even quorum, or a controller listed twice' do
    expect { kraft_run(KRAFT_ENTRY.merge('cluster_id' => ''), address: '10.0.16.5', node_id: 1) }.to raise_error(RuntimeError, /has no cluster_id/)
    expect { kraft_run(KRAFT_ENTRY.merge('controllers' => KRAFT_ENTRY['controllers'].first(2)), address: '10.0.16.5', node_id: 1) }
      .to raise_error(RuntimeError, /lists 2 controllers; a controller quorum must have an odd number/)
    twice = KRAFT_ENTRY['controllers'].first(2) + [{ 'id' => 3, 'address' => '10.0.16.5' }]
    expect { kraft_run(KRAFT_ENTRY.merge('controllers' => twice), address: '10.0.16.5', node_id: 1) }
      .to raise_error(RuntimeError, /lists a controller address twice/)
    expect { kraft_run(nil, address: '10.0.16.5', node_id: 1) }.to raise_error(RuntimeError, /has no list of controllers/)
  end
end

describe 'insight-kafka-cluster::default when kafka.dataPath changed on a running node' do
  before do
    # The volume stays mounted where the node's setup mounted it; the role now names another path.
    allow(KafkaCluster::Helpers).to receive(:read_mounts).and_return('/' => { source: '/dev/root', fstype: 'ext4' }, '/data/kafka' => { source: '/dev/nvme1n1', fstype: 'xfs' })
    allow(KafkaCluster::Helpers).to receive(:label_device).and_return('/dev/nvme1n1')
    allow(ZookeeperCluster::Helpers).to receive(:wait_until_serving).and_return('follower')
    allow(ZookeeperCluster::Helpers).to receive(:live_membership).and_return(nil)
    allow(ZookeeperCluster::Helpers).to receive(:read_text).and_return(nil)
  end

  it 'stops the whole run while it compiles, ZooKeeper member included, naming the path the volume is mounted at' do
    error = nil
    runner = ChefSpec::SoloRunner.new do |node|
      node.override['insight-kafka-cluster']['security'] = 'plaintext'
      node.automatic['ipaddress'] = '10.0.32.6'
      node.automatic['ec2'] = { 'placement_availability_zone' => 'us-west-2b' }
      node.override['kafka-cluster']['data_dir'] = '/data/kafka2'
    end
    allow_any_instance_of(Chef::Recipe).to receive(:data_bag_item).with('zoo_bag', 'zookeeper').and_return('id' => 'zookeeper', '_default' => THREE)
    expect { runner.converge('insight-kafka-cluster::default') }.to raise_error(RuntimeError) { |raised| error = raised }
    expect(error.message).to match(%r{log\.dirs /data/kafka2 is not a mount point .* back to /data/kafka,})
    expect(error.backtrace.grep(%r{chef/runner\.rb})).to be_empty
  end
end

# What the stack generates for a new cluster: a dynamic quorum, each controller with its directory id.
DIRECTORY_IDS = %w(K90IZ-0DRNazJ49kCZ1EMQ aUARLskQTCW4qCZDtS_cwA 2ggvsS4kQb-fSJ_-zC_Ang).freeze
DYNAMIC_ENTRY = KRAFT_ENTRY.merge(
  'quorum' => 'dynamic',
  'controllers' => KRAFT_ENTRY['controllers'].each_with_index.map { |controller, index| controller.merge('directory_id' => DIRECTORY_IDS[index]) }
).freeze
INITIAL = '1@10.0.16.5:9093:K90IZ-0DRNazJ49kCZ1EMQ,2@10.0.32.6:9093:aUARLskQTCW4qCZDtS_cwA,3@10.0.48.7:9093:2ggvsS4kQb-fSJ_-zC_Ang'.freeze
FORMAT = 'format /data/kafka for KRaft cluster MkU3OEVBNTcwNTJENDM2Qg'.freeze

describe 'insight-kafka-cluster::default with a dynamic KRaft quorum' do
  include_context 'a mounted data volume'
  context 'on an initial controller while the cluster is being created' do
    cached(:chef_run) { kraft_run(DYNAMIC_ENTRY.merge('bootstrap' => true), address: '10.0.32.6', node_id: 2) }

    it 'finds the quorum through the bootstrap servers, with no static voters' do
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
        expect(content).to include("controller.quorum.bootstrap.servers=10.0.16.5:9093,10.0.32.6:9093,10.0.48.7:9093\n", "process.roles=broker,controller\n")
        expect(content).not_to include('controller.quorum.voters')
      }
    end

    it 'formats with every initial controller and the directory id the bag gives it' do
      expect(chef_run).to run_execute(FORMAT).with(command: end_with("--initial-controllers=#{INITIAL}"))
    end
  end

  it 'formats a broker of a new cluster with no initial controllers' do
    run = kraft_run(DYNAMIC_ENTRY.merge('bootstrap' => true), address: '10.0.16.8', node_id: 4)
    expect(run).to run_execute(FORMAT).with(command: end_with('--no-initial-controllers'))
  end

  it 'formats a controller of a running cluster (a new one, or one on an empty volume) to join as an observer, never with the initial voters' do
    run = kraft_run(DYNAMIC_ENTRY, address: '10.0.32.6', node_id: 2)
    expect(run).to run_execute(FORMAT).with(command: end_with('--no-initial-controllers'))
  end

  it 'keeps a static quorum\'s voters when the bag has no quorum key, as every item before dynamic quorums' do
    run = kraft_run(KRAFT_ENTRY.merge('bootstrap' => true), address: '10.0.32.6', node_id: 2)
    expect(run).to render_file('/etc/kafka/server.properties').with_content("controller.quorum.voters=#{VOTERS}\n")
    expect(run).to run_execute(FORMAT).with(command: end_with('--ignore-formatted'))
  end

  it 'reads the example item the repository ships: the dynamic quorum the stack generates' do
    expect(SHIPPED_ENTRY).to eq(DYNAMIC_ENTRY)
  end

  it 'stops on a dynamic quorum whose controller has no directory id' do
    entry = DYNAMIC_ENTRY.merge('controllers' => DYNAMIC_ENTRY['controllers'].each_with_index.map { |c, i| i == 1 ? c.merge('directory_id' => '') : c })
    expect { kraft_run(entry, address: '10.0.16.5', node_id: 1) }
      .to raise_error(RuntimeError, /has a dynamic quorum, but controller 2 has no directory_id \(""\)/)
  end
end

ZK_VOLUME = 'vol-0123456789abcdef0'.freeze
ZK_DEVICE = '/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0'.freeze

describe 'insight-kafka-cluster::default on a ZooKeeper member with its own volume' do
  include_context 'a mounted data volume'
  let(:volume) { InsightKafkaCluster::Volume }
  before do
    allow(ZookeeperCluster::Helpers).to receive(:wait_until_serving).and_return('follower')
    allow(ZookeeperCluster::Helpers).to receive(:live_membership).and_return(nil)
    allow(ZookeeperCluster::Helpers).to receive(:read_text).and_return(nil)
    # A new ensemble, whatever this machine can reach: no other member asked over the network.
    allow(ZookeeperCluster::Helpers).to receive(:serving_peers).and_return([])
    allow(volume).to receive(:wait_for_device).and_return(true)
    allow(volume).to receive(:probe).with(ZK_DEVICE).and_return({})
    allow(volume).to receive(:mounted_from?).with('/var/lib/zookeeper-volume', ZK_DEVICE).and_return(true)
  end

  context 'whose volume is blank (a member that ran before the volume existed)' do
    cached(:chef_run) { cluster_run(THREE, address: '10.0.32.6', zookeeper_volume_id: ZK_VOLUME) }

    it 'formats the volume, mounts it from fstab by UUID, all before zookeeper-cluster decides where its data is' do
      expect(chef_run).to run_execute("format ZooKeeper's volume #{ZK_VOLUME}").with(command: "mkfs.xfs -q -L zookeeper-data #{ZK_DEVICE} && udevadm settle")
      mount = chef_run.mount('/var/lib/zookeeper-volume')
      expect(mount).to have_attributes(device_type: :uuid, fstype: 'xfs', options: %w(defaults noatime nofail), pass: 2)
      expect(mount.performed_action(:mount)).to include(compile_time: true)
      expect(mount.performed_action(:enable)).to include(compile_time: true)
      expect(chef_run.execute("format ZooKeeper's volume #{ZK_VOLUME}").performed_action(:run)).to include(compile_time: true)
      expect(volume).to have_received(:wait_for_device).with(ZK_DEVICE, 24, 5)
    end

    it "keeps ZooKeeper's data directory on the volume: zoo.cfg and myid point there" do
      expect(chef_run.node['zookeeper-cluster']['data_dir']).to eq('/var/lib/zookeeper-volume/data')
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg').with_content(%r{^dataDir=/var/lib/zookeeper-volume/data$})
      expect(chef_run).to create_file('/var/lib/zookeeper-volume/data/myid').with(content: "2\n")
    end

    it 'starts ZooKeeper at boot only once its volume is mounted' do
      expect(chef_run).to create_file('/etc/systemd/system/zookeeper.service.d/zookeeper-volume.conf')
        .with(content: "[Unit]\nRequiresMountsFor=/var/lib/zookeeper-volume\n")
      expect(chef_run.file('/etc/systemd/system/zookeeper.service.d/zookeeper-volume.conf'))
        .to notify('execute[reload systemd for zookeeper-volume.conf]').to(:run).immediately
    end
  end

  context 'whose volume holds its data already (a new member whose user data mounted it, or a replaced instance)' do
    before { allow(volume).to receive(:probe).with(ZK_DEVICE).and_return('TYPE' => 'xfs', 'UUID' => '1234-uuid', 'LABEL' => 'zookeeper-data') }
    cached(:chef_run) { cluster_run(THREE, address: '10.0.32.6', zookeeper_volume_id: ZK_VOLUME) }

    it 'never formats it again' do
      expect(chef_run).not_to run_execute("format ZooKeeper's volume #{ZK_VOLUME}")
      expect(chef_run.mount('/var/lib/zookeeper-volume').performed_action(:mount)).to include(compile_time: true)
    end
  end

  it 'stops, naming the volume and the device, when the device never appears: nothing formatted, mounted or moved' do
    allow(volume).to receive(:wait_for_device).with(ZK_DEVICE, 24, 5).and_return(false)
    expect(volume).not_to receive(:probe)
    expect { cluster_run(THREE, address: '10.0.32.6', zookeeper_volume_id: ZK_VOLUME) }.to raise_error(
      RuntimeError,
      "insight-kafka-cluster: ZooKeeper's volume #{ZK_VOLUME} did not appear as #{ZK_DEVICE} within 120 s: check that it is attached " \
      'to this instance (terraform apply attaches it), then converge again; ZooKeeper was left as it was'
    )
  end

  it 'refuses a device that holds something other than XFS, rather than formatting it' do
    allow(volume).to receive(:probe).with(ZK_DEVICE).and_return('TYPE' => 'ext4', 'UUID' => 'abcd')
    expect { cluster_run(THREE, address: '10.0.32.6', zookeeper_volume_id: ZK_VOLUME) }
      .to raise_error(RuntimeError, /ZooKeeper's volume #{ZK_VOLUME} \(#{ZK_DEVICE}\) holds a ext4 filesystem, not XFS; it is neither formatted nor mounted/)
  end

  it "stops before ZooKeeper's data moves when the mount point is not the volume's" do
    allow(volume).to receive(:mounted_from?).and_return(false)
    expect { cluster_run(THREE, address: '10.0.32.6', zookeeper_volume_id: ZK_VOLUME) }
      .to raise_error(RuntimeError, %r{/var/lib/zookeeper-volume is not mounted from ZooKeeper's volume #{ZK_VOLUME}})
  end

  it 'refuses a volume id that is not one' do
    expect { cluster_run(THREE, address: '10.0.32.6', zookeeper_volume_id: '/dev/sdg') }
      .to raise_error(RuntimeError, %r{\['zookeeper_volume_id'\] "/dev/sdg" is not an EBS volume id})
  end

  it 'mounts nothing on a broker outside the ensemble, nor on a member that has no volume (its data stays where it is)' do
    outside = cluster_run(THREE, address: '10.0.48.4', node_id: 4, zookeeper_volume_id: ZK_VOLUME)
    expect(outside.find_resource(:mount, '/var/lib/zookeeper-volume')).to be_nil
    plain = cluster_run(THREE, address: '10.0.32.6')
    expect(plain.find_resource(:mount, '/var/lib/zookeeper-volume')).to be_nil
    expect(plain).to create_file('/var/lib/zookeeper/myid')
    expect(volume).not_to have_received(:wait_for_device)
  end
end

describe InsightKafkaCluster::Volume do
  it "names a volume's device by its id, as a Nitro instance shows it" do
    expect(described_class.device('vol-0123456789abcdef0')).to eq(ZK_DEVICE)
  end

  it "reads blkid's export lines" do
    expect(described_class.parse_export("DEVNAME=/dev/nvme2n1\nUUID=1234-uuid\nTYPE=xfs\nLABEL=zookeeper-data\n"))
      .to eq('DEVNAME' => '/dev/nvme2n1', 'UUID' => '1234-uuid', 'TYPE' => 'xfs', 'LABEL' => 'zookeeper-data')
  end

  it 'takes a device blkid finds nothing on (status 2) as blank, and fails on any other error rather than format it' do
    blank = instance_double(Mixlib::ShellOut, exitstatus: 2)
    allow(blank).to receive(:run_command).and_return(blank)
    allow(Mixlib::ShellOut).to receive(:new).with('blkid', '-p', '-o', 'export', ZK_DEVICE).and_return(blank)
    expect(described_class.probe(ZK_DEVICE)).to eq({})
    broken = instance_double(Mixlib::ShellOut, exitstatus: 4)
    allow(broken).to receive(:run_command).and_return(broken)
    allow(broken).to receive(:error!).and_raise(Mixlib::ShellOut::ShellCommandFailed, 'blkid failed')
    allow(Mixlib::ShellOut).to receive(:new).with('blkid', '-p', '-o', 'export', ZK_DEVICE).and_return(broken)
    expect { described_class.probe(ZK_DEVICE) }.to raise_error(Mixlib::ShellOut::ShellCommandFailed)
  end

  it 'waits a bounded number of attempts for the device' do
    allow(::File).to receive(:exist?).and_call_original
    allow(::File).to receive(:exist?).with(ZK_DEVICE).and_return(false, false, true)
    allow(described_class).to receive(:sleep)
    expect(described_class.wait_for_device(ZK_DEVICE, 3, 5)).to be(true)
    allow(::File).to receive(:exist?).with(ZK_DEVICE).and_return(false)
    expect(described_class.wait_for_device(ZK_DEVICE, 4, 5)).to be(false)
    expect(described_class).to have_received(:sleep).with(5).exactly(5).times
  end
end

describe 'insight-kafka-cluster::default with kafka.security' do
  include_context 'a mounted data volume'
  include_context 'a new ZooKeeper member'

  def server_properties(run)
    content = nil
    expect(run).to render_file('/etc/kafka/server.properties').with_content { |text| content = text }
    content
  end

  it 'defaults to tls when the role says nothing' do
    run = cluster_run(THREE, address: '10.0.32.6', security: nil)
    expect(run.node['insight-kafka-cluster']['security']).to eq('tls')
    expect(server_properties(run)).to include("listeners=TLS://10.0.32.6:9094\n")
  end

  context 'tls, on a ZooKeeper-mode member' do
    cached(:chef_run) { cluster_run(THREE, address: '10.0.32.6', security: 'tls') }

    it 'switches TLS on in both cookbooks' do
      expect(chef_run.node['kafka-cluster']['tls']['enabled']).to be(true)
      expect(chef_run.node['zookeeper-cluster']['tls']['enabled']).to be(true)
    end

    it 'listens on TLS 9094 alone, brokers among themselves too, and reaches ZooKeeper on its TLS port' do
      content = server_properties(chef_run)
      expect(content).to include("listeners=TLS://10.0.32.6:9094\n", "advertised.listeners=TLS://10.0.32.6:9094\n", "listener.security.protocol.map=TLS:SSL\n",
                                 "inter.broker.listener.name=TLS\n", "zookeeper.connect=10.0.16.5:2182,10.0.32.6:2182,10.0.16.7:2182/kafka\n")
      expect(content).not_to include('PLAINTEXT')
      expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(content), version: '3.9.1')).to eq([])
    end
  end

  context 'tls, on a KRaft combined node' do
    cached(:chef_run) { kraft_run(KRAFT_ENTRY, address: '10.0.32.6', node_id: 2, security: 'tls') }

    it 'puts the controllers on their TLS listener, 9095, with the voters there, and Kafka accepts the result' do
      content = server_properties(chef_run)
      expect(content).to include("listeners=TLS://10.0.32.6:9094,CONTROLLER_TLS://10.0.32.6:9095\n", "listener.security.protocol.map=TLS:SSL,CONTROLLER_TLS:SSL\n",
                                 "controller.listener.names=CONTROLLER_TLS\n", "controller.quorum.voters=#{VOTERS.gsub(':9093', ':9095')}\n",
                                 "advertised.listeners=TLS://10.0.32.6:9094\n", "inter.broker.listener.name=TLS\n")
      expect(content).not_to include('9093')
      expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(content), version: chef_run.node['kafka-cluster']['version'])).to eq([])
    end
  end

  # A node with no server.properties yet gets the stage's target; kafka-cluster holds a running
  # plaintext node back for one roll (its spec).
  context 'migrating, on a new KRaft controller of a dynamic quorum being created' do
    cached(:chef_run) { kraft_run(DYNAMIC_ENTRY.merge('bootstrap' => true), address: '10.0.32.6', node_id: 2, broker: false, security: 'migrating') }

    it 'serves both controller listeners, names the TLS one first and reaches the quorum at its port' do
      content = server_properties(chef_run)
      expect(content).to include("listeners=CONTROLLER://10.0.32.6:9093,CONTROLLER_TLS://10.0.32.6:9095\n", "controller.listener.names=CONTROLLER_TLS,CONTROLLER\n",
                                 "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,TLS:SSL,CONTROLLER_TLS:SSL,CONTROLLER:PLAINTEXT\n",
                                 "controller.quorum.bootstrap.servers=10.0.16.5:9095,10.0.32.6:9095,10.0.48.7:9095\n")
      expect(chef_run.node['kafka-cluster']['initial_controllers']).to eq(INITIAL.gsub(':9093:', ':9095:'))
      expect([chef_run.node['kafka-cluster']['controller_port'], chef_run.node['kafka-cluster']['tls']['controller_port']]).to eq([9093, 9095])
      expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(content), version: chef_run.node['kafka-cluster']['version'])).to eq([])
    end
  end

  it 'gives a new KRaft broker in the middle stage both controller listener names, the TLS one first, and the voters at its port' do
    content = server_properties(kraft_run(KRAFT_ENTRY, address: '10.0.16.8', node_id: 4, security: 'migrating'))
    expect(content).to include("listeners=PLAINTEXT://10.0.16.8:9092,TLS://10.0.16.8:9094\n", "controller.listener.names=CONTROLLER_TLS,CONTROLLER\n",
                               "controller.quorum.voters=#{VOTERS.gsub(':9093', ':9095')}\n")
  end

  it 'switches TLS off in both cookbooks for a plaintext lab' do
    run = cluster_run(THREE, address: '10.0.32.6')
    expect(run.node['kafka-cluster']['tls']['enabled']).to be(false)
    expect(run.node['zookeeper-cluster']['tls']['enabled']).to be(false)
    expect(server_properties(run)).to include("listeners=PLAINTEXT://10.0.32.6:9092\n", "zookeeper.connect=10.0.16.5:2181,10.0.32.6:2181,10.0.16.7:2181/kafka\n")
    # What a plaintext broker ran before kafka.security existed: no line more, so nothing restarts.
    expect(server_properties(run)).not_to match(/^(listener\.security\.protocol\.map|inter\.broker\.listener\.name|ssl\.|authorizer)/)
  end

  # The members the wrapper asks `srvr` on 2182 with the node's certificate: `waiting` do not answer.
  def members_on_tls(waiting)
    allow(ZookeeperCluster::Helpers).to receive(:platform_tls).and_return(key: 'key', cert: 'cert', ca: 'ca', subject: 'CN=kafka-broker,O=insight-prod')
    allow(InsightKafkaCluster::Ensemble).to receive(:not_serving_tls).with(THREE, 2182, hash_including(cert: 'cert')).and_return(waiting)
  end

  it 'serves both listeners in the migration\'s middle stage, brokers still on ZooKeeper\'s plaintext port while a member does not serve TLS' do
    members_on_tls(['10.0.16.7 (Errno::ECONNREFUSED: Connection refused)'])
    allow(Chef::Log).to receive(:warn).and_call_original
    run = cluster_run(THREE, address: '10.0.32.6', security: 'migrating')
    expect(Chef::Log).to have_received(:warn).with(/stays on ZooKeeper's plaintext port this roll: 10\.0\.16\.7 \(Errno::ECONNREFUSED: Connection refused\) does not serve 2182 yet; converge again/)
    expect(run.node['kafka-cluster']['tls']['zookeeper_client']).to be(false)
    expect(run.node['kafka-cluster']['tls']['migrating']).to be(true)
    content = server_properties(run)
    expect(content).to include("listeners=PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094\n", "inter.broker.listener.name=TLS\n",
                               "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,TLS:SSL\n", "zookeeper.connect=10.0.16.5:2181,10.0.32.6:2181,10.0.16.7:2181/kafka\n")
    expect(content).not_to include('authorizer.class.name')
    expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(content))).to eq([])
  end

  it 'keeps a broker already on ZooKeeper\'s TLS port there, without asking the members, however slow one is' do
    allow(ZookeeperCluster::Helpers).to receive(:read_text).and_call_original
    allow(ZookeeperCluster::Helpers).to receive(:read_text).with('/etc/kafka/server.properties')
                                                           .and_return("zookeeper.connect=10.0.16.5:2182/kafka\nzookeeper.ssl.client.enable=true\n")
    members_on_tls(['10.0.16.7 (Errno::ETIMEDOUT: Connection timed out)'])
    content = server_properties(cluster_run(THREE, address: '10.0.32.6', security: 'migrating'))
    expect(content).to include("zookeeper.connect=10.0.16.5:2182,10.0.32.6:2182,10.0.16.7:2182/kafka\n", "zookeeper.ssl.client.enable=true\n")
    expect(InsightKafkaCluster::Ensemble).not_to have_received(:not_serving_tls)
  end

  # So that the "tls" deploy, which closes 2181 between nodes before its roll, finds no broker on it.
  it 'moves the brokers to ZooKeeper\'s TLS port within the middle stage once every member serves it, with no znode ACLs yet' do
    members_on_tls([])
    content = server_properties(cluster_run(THREE, address: '10.0.32.6', security: 'migrating'))
    expect(content).to include("zookeeper.connect=10.0.16.5:2182,10.0.32.6:2182,10.0.16.7:2182/kafka\n", "zookeeper.ssl.client.enable=true\n",
                               "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n", "listeners=PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094\n")
    expect(content).not_to match(/^(zookeeper\.set\.acl|authorizer\.class\.name)/)
    expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(content))).to eq([])
  end

  # ZooKeeper's quorum onto TLS: one of its three rolling restarts per deploy, from the zoo.cfg
  # the member runs (read before anything changes).
  context 'moving a running ZooKeeper member to quorum TLS' do
    running_cfg = lambda do |extra|
      "dataDir=/var/lib/zookeeper\nreconfigEnabled=true\nstandaloneEnabled=false\n#{extra}dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic\n"
    end
    files = lambda do |extra|
      { '/etc/zookeeper/zoo.cfg' => running_cfg.call(extra),
        '/etc/zookeeper/zoo.cfg.dynamic' => THREE.each_with_index.map { |ip, index| "server.#{index + 1}=#{ip}:2888:3888:participant;2181\n" }.join }
    end
    plaintext = files.call("skipACL=yes\n")
    both = files.call("portUnification=true\nsecureClientPort=2182\nsslQuorum=false\n")
    opening_tls = files.call("portUnification=true\nsecureClientPort=2182\nsslQuorum=true\n")

    def zoo_cfg(run)
      ZookeeperCluster::Helpers.properties(run.file('/etc/zookeeper/zoo.cfg').content)
    end

    context 'kafka.security migrating, the member running plaintext: roll 1' do
      cached(:chef_run) do
        allow(ZookeeperCluster::Helpers).to receive(:read_text) { |path| plaintext[path] }
        # This member opens 2182 only in this run.
        members_on_tls(['10.0.32.6 (Errno::ECONNREFUSED: Connection refused)'])
        cluster_run(THREE, address: '10.0.32.6', security: 'migrating')
      end

      it 'opens the secure client port and accepts both kinds of quorum connection, still opening plaintext ones' do
        expect(chef_run.node['zookeeper-cluster']['tls']['enabled']).to be(true)
        expect(zoo_cfg(chef_run)).to include('secureClientPort' => '2182', 'sslQuorum' => 'false', 'portUnification' => 'true')
      end

      it 'keeps the brokers on the plaintext client port: members not yet restarted have no secure one' do
        expect(server_properties(chef_run)).to include("zookeeper.connect=10.0.16.5:2181,10.0.32.6:2181,10.0.16.7:2181/kafka\n")
        expect(server_properties(chef_run)).not_to include('zookeeper.ssl.client.enable')
      end
    end

    context 'kafka.security tls, the member accepting both: roll 2' do
      cached(:warnings) { [] }
      cached(:chef_run) do
        allow(ZookeeperCluster::Helpers).to receive(:read_text) { |path| both[path] }
        allow(Chef::Log).to receive(:warn) { |message| warnings << message }
        cluster_run(THREE, address: '10.0.32.6', security: 'tls')
      end

      it 'opens TLS quorum connections and keeps accepting plaintext ones from members not yet restarted' do
        expect(zoo_cfg(chef_run)).to include('sslQuorum' => 'true', 'portUnification' => 'true', 'secureClientPort' => '2182')
      end

      it 'says in one line that the next converge closes plaintext quorum connections' do
        expect(warnings.grep(/zoo\.cfg runs port unification without sslQuorum/)).to contain_exactly(/the next converge closes plaintext quorum connections/)
      end
    end

    it 'closes plaintext quorum connections at the next converge: roll 3' do
      allow(ZookeeperCluster::Helpers).to receive(:read_text) { |path| opening_tls[path] }
      allow(ZookeeperCluster::Helpers).to receive(:reported_quorum_tls).and_return('10.0.16.5' => 'ssl_quorum', '10.0.16.7' => 'ssl_quorum')
      settings = zoo_cfg(cluster_run(THREE, address: '10.0.32.6', security: 'tls'))
      expect(settings).to include('sslQuorum' => 'true')
      expect(settings).not_to include('portUnification')
    end

    it 'refuses, before changing anything, a member running a plaintext quorum that kafka.security tls would switch in one roll' do
      allow(ZookeeperCluster::Helpers).to receive(:read_text) { |path| plaintext[path] }
      expect { cluster_run(THREE, address: '10.0.32.6', security: 'tls') }
        .to raise_error(RuntimeError, %r{\Azookeeper-cluster: /etc/zookeeper/zoo\.cfg runs a plaintext quorum .*kafka\.security "migrating" on the platform[^\n]*\z})
    end
  end

  it 'refuses a security setting it does not know' do
    expect { cluster_run(THREE, address: '10.0.32.6', security: 'ssl') }
      .to raise_error(RuntimeError, /\['security'\] "ssl" is not 'tls', 'plaintext' or 'migrating'/)
  end
end
