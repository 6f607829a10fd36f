require_relative '../../spec_helper'
require_relative '../../zookeeper-cluster/libraries/helpers'

def cluster_run(ensemble, address:, zone: 'us-west-2b', rack: nil, install_kafka: true, node_id: nil)
  runner = ChefSpec::SoloRunner.new do |node|
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

describe 'insight-kafka-cluster::default' do
  before do
    allow(ZookeeperCluster::Helpers).to receive(:wait_until_serving).and_return('follower')
    # A new ensemble with no data yet, whatever this machine holds or can reach.
    allow(ZookeeperCluster::Helpers).to receive(:serving_peers).and_return([])
    allow(ZookeeperCluster::Helpers).to receive(:data?).and_return(false)
  end

  context 'on the second node of three' do
    cached(:chef_run) { cluster_run(THREE, address: '10.0.32.6') }

    it 'is ZooKeeper member 2 with every member in zoo.cfg' do
      expect(chef_run).to create_file('/var/lib/zookeeper/myid').with(content: "2\n")
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg').with_content { |content|
        expect(content.lines.grep(/^server\./).size).to eq(3)
        expect(content).to include("server.2=10.0.32.6:2888:3888\n")
      }
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
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg').with_content(/server\.5=10\.0\.16\.9:2888:3888/)
    end
  end

  context 'on a fourth broker, outside a three-member ensemble' do
    cached(:chef_run) { cluster_run(THREE, address: '10.0.48.4', node_id: 4) }

    it 'runs no ZooKeeper member: it is only a client of the ensemble' do
      expect(chef_run).not_to create_file('/var/lib/zookeeper/myid')
      expect(chef_run).not_to render_file('/etc/zookeeper/zoo.cfg')
      expect(chef_run).not_to create_systemd_unit('zookeeper.service')
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

# The example item the repository ships is the shape the recipe reads.
KRAFT_ENTRY = JSON.parse(File.read(File.expand_path('../../../databags/kafka_bag/kraft.json', __dir__)))['_default'].freeze
VOTERS = '1@10.0.16.5:9093,2@10.0.32.6:9093,3@10.0.48.7:9093'.freeze

def kraft_run(entry, address:, node_id:, broker: true, zone: 'us-west-2b')
  runner = ChefSpec::SoloRunner.new do |node|
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
