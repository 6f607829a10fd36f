require_relative '../../spec_helper'
require_relative '../../zookeeper-cluster/libraries/helpers'

def cluster_run(ensemble, address:, zone: 'us-west-2b', rack: nil, install_kafka: true)
  runner = ChefSpec::SoloRunner.new do |node|
    node.automatic['ipaddress'] = address
    node.automatic['ec2'] = { 'placement_availability_zone' => zone } if zone
    node.normal['insight-kafka-cluster']['rack'] = rack if rack
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

  it 'stops with one clear message when this node is not in the data bag' do
    expect { cluster_run(THREE, address: '10.0.48.4') }.to raise_error(
      RuntimeError,
      "insight-kafka-cluster: this node (10.0.48.4) is not in data bag zoo_bag/zookeeper['_default'] (10.0.16.5, 10.0.32.6, 10.0.16.7)"
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
