require_relative '../../spec_helper'
require_relative '../libraries/config_rules'
require_relative '../libraries/helpers'
require_relative 'support/data_volume'
require 'tmpdir'

# The node's key material as the platform writes it before the first run (the content is opaque here).
TLS_SOURCE = Dir.mktmpdir('platform-tls').tap do |dir|
  File.write("#{dir}/node.key", "-----BEGIN PRIVATE KEY-----\nbm9kZS1rZXk=\n-----END PRIVATE KEY-----\n")
  File.write("#{dir}/node.crt", "-----BEGIN CERTIFICATE-----\nbm9kZS1jZXJ0\n-----END CERTIFICATE-----\n")
  File.write("#{dir}/ca.crt", "-----BEGIN CERTIFICATE-----\nY2EtY2VydA==\n-----END CERTIFICATE-----\n")
end

TLS_VOTERS = '1@10.0.16.5:9093,2@10.0.32.6:9093,3@10.0.48.7:9093'.freeze
TLS_KRAFT = { 'mode' => 'kraft', 'cluster_id' => 'MkU3OEVBNTcwNTJENDM2Qg' }.freeze

def tls_run(properties, kraft: nil, tls: TLS_SOURCE, migrating: false, conf_dir: nil, version: nil, zookeeper_client: false)
  ChefSpec::SoloRunner.new do |node|
    node.normal['kafka-cluster']['tls']['enabled'] = !tls.nil?
    node.normal['kafka-cluster']['tls']['source_dir'] = tls if tls
    node.normal['kafka-cluster']['tls']['migrating'] = migrating
    node.normal['kafka-cluster']['tls']['zookeeper_client'] = zookeeper_client
    node.normal['kafka-cluster']['conf_dir'] = conf_dir if conf_dir
    node.normal['kafka-cluster']['version'] = version if version
    properties.each { |key, value| node.normal['kafka-cluster']['config']['properties'][key] = value }
    (kraft || {}).each { |key, value| node.normal['kafka-cluster'][key] = value }
  end.converge('kafka-cluster::default')
end

# What insight-kafka-cluster gives each kind of node with kafka.security "tls".
ZK_TLS_BROKER = {
  'broker.id' => 2,
  'zookeeper.connect' => '10.0.16.5:2182,10.0.32.6:2182,10.0.16.7:2182/kafka',
  'listeners' => 'TLS://10.0.32.6:9094',
  'advertised.listeners' => 'TLS://10.0.32.6:9094',
  'listener.security.protocol.map' => 'TLS:SSL',
  'inter.broker.listener.name' => 'TLS',
}.freeze

def kraft_tls_properties(node_id, address, roles)
  broker = roles.include?('broker')
  properties = {
    'node.id' => node_id,
    'process.roles' => roles.join(','),
    'controller.quorum.voters' => TLS_VOTERS,
    'controller.listener.names' => 'CONTROLLER',
    'listener.security.protocol.map' => 'TLS:SSL,CONTROLLER:SSL',
    'listeners' => [("TLS://#{address}:9094" if broker), ("CONTROLLER://#{address}:9093" if roles.include?('controller'))].compact.join(','),
  }
  properties.merge!('advertised.listeners' => "TLS://#{address}:9094", 'inter.broker.listener.name' => 'TLS') if broker
  properties
end

def rendered(run, path = '/etc/kafka/server.properties')
  content = nil
  expect(run).to render_file(path).with_content { |text| content = text }
  content
end

SSL_LINES = [
  "ssl.client.auth=required\n", "ssl.keystore.type=PEM\n", "ssl.keystore.location=/etc/kafka/tls/keystore.pem\n",
  "ssl.truststore.type=PEM\n", "ssl.truststore.location=/etc/kafka/tls/truststore.pem\n",
  "ssl.endpoint.identification.algorithm=https\n", "ssl.principal.mapping.rules=RULE:^CN=([^,]+),.*$/$1/,DEFAULT\n",
  "allow.everyone.if.no.acl.found=false\n", "super.users=User:kafka-broker;User:kafka-admin\n"
].freeze

# Each KRaft node kind: its node id, its address and its process.roles.
KRAFT_NODE_KINDS = {
  'KRaft combined broker and controller' => [2, '10.0.32.6', %w(broker controller)],
  'KRaft broker' => [4, '10.0.16.8', %w(broker)],
  'KRaft controller' => [1, '10.0.16.5', %w(controller)],
}.freeze

describe 'kafka-cluster::default with TLS' do
  include_context 'a mounted data volume'

  context 'on a ZooKeeper-mode broker (Kafka 3.9)' do
    cached(:chef_run) { tls_run(ZK_TLS_BROKER) }

    it 'renders a server.properties Kafka 3.9 accepts: its own listener, protocol map and inter-broker rules' do
      content = rendered(chef_run)
      expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(content), version: '3.9.1')).to eq([])
    end

    it 'listens on TLS 9094 only, requires client certificates and authorizes with AclAuthorizer' do
      content = rendered(chef_run)
      expect(content).to include("listeners=TLS://10.0.32.6:9094\n", "inter.broker.listener.name=TLS\n", "listener.security.protocol.map=TLS:SSL\n",
                                 "authorizer.class.name=kafka.security.authorizer.AclAuthorizer\n", *SSL_LINES)
      expect(content).not_to match(/PLAINTEXT|ssl\.(key|keystore|truststore)\.password/)
    end

    it 'reaches ZooKeeper on its TLS port with the broker\'s certificate and sets znode ACLs' do
      expect(rendered(chef_run)).to include(
        "zookeeper.connect=10.0.16.5:2182,10.0.32.6:2182,10.0.16.7:2182/kafka\n", "zookeeper.ssl.client.enable=true\n",
        "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n", "zookeeper.ssl.keystore.type=PEM\n",
        "zookeeper.ssl.keystore.location=/etc/kafka/tls/keystore.pem\n", "zookeeper.ssl.truststore.type=PEM\n",
        "zookeeper.ssl.truststore.location=/etc/kafka/tls/truststore.pem\n", "zookeeper.set.acl=true\n"
      )
    end

    it 'builds its PEM keystore (key, certificate, CA) and truststore, the kafka user\'s alone, never logged' do
      expect(chef_run).to create_file('/etc/kafka/tls/keystore.pem').with(
        owner: 'kafka', group: 'kafka', mode: '0600', sensitive: true,
        content: File.read("#{TLS_SOURCE}/node.key") + File.read("#{TLS_SOURCE}/node.crt") + File.read("#{TLS_SOURCE}/ca.crt")
      )
      expect(chef_run).to create_file('/etc/kafka/tls/truststore.pem').with(owner: 'kafka', mode: '0600', content: File.read("#{TLS_SOURCE}/ca.crt"))
      expect(chef_run).to create_directory('/etc/kafka/tls').with(owner: 'kafka', mode: '0700')
      expect(chef_run.file('/etc/kafka/tls/keystore.pem')).to notify('service[kafka]').to(:restart).delayed
    end

    it 'gives the workstation\'s tools, run here, SSL with the node\'s own certificate' do
      expect(chef_run).to render_file('/etc/kafka/tools.properties').with_content { |content|
        expect(content).to include("security.protocol=SSL\n", "ssl.keystore.location=/etc/kafka/tls/keystore.pem\n", "ssl.truststore.type=PEM\n")
      }
    end

    it 'checks its registration through ZooKeeper\'s TLS port with the same settings' do
      expect(chef_run).to create_file('/etc/kafka/zookeeper-tls.properties').with_content(/zookeeper\.ssl\.client\.enable=true/)
      expect(chef_run).to check_kafka_cluster_registered('broker 2 is registered in ZooKeeper')
        .with(zookeeper_tls_config: '/etc/kafka/zookeeper-tls.properties', zookeeper_connect: ZK_TLS_BROKER['zookeeper.connect'])
    end
  end

  KRAFT_NODE_KINDS.each do |kind, (node_id, address, roles)|
    context "on a #{kind} (Kafka 4)" do
      cached(:chef_run) { tls_run(kraft_tls_properties(node_id, address, roles), kraft: TLS_KRAFT.merge('version' => '4.3.1')) }

      it 'renders a server.properties Kafka 4 accepts' do
        expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(rendered(chef_run)), version: '4.3.1')).to eq([])
      end

      it 'runs its controller listener on SSL too, with StandardAuthorizer, and nothing of ZooKeeper' do
        content = rendered(chef_run)
        expect(content).to include("listener.security.protocol.map=TLS:SSL,CONTROLLER:SSL\n",
                                   "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n", *SSL_LINES)
        expect(content).not_to match(/^zookeeper\.|PLAINTEXT/)
      end

      it 'gives the health checks\' admin clients SSL with the node\'s own certificate' do
        expect(chef_run).to render_file('/etc/kafka/tools.properties').with_content { |content|
          expect(content).to include("security.protocol=SSL\n", "ssl.keystore.type=PEM\n", "ssl.keystore.location=/etc/kafka/tls/keystore.pem\n",
                                     "ssl.truststore.location=/etc/kafka/tls/truststore.pem\n", "request.timeout.ms=5000\n")
        }
        endpoint = roles.include?('controller') ? ['--bootstrap-controller', "#{address}:9093"] : ['--bootstrap-server', "#{address}:9094"]
        expect(chef_run).to check_kafka_cluster_quorum("the controller quorum has a leader, seen from node #{node_id}").with(endpoint: endpoint)
        if roles.include?('broker')
          expect(chef_run).to check_kafka_cluster_registered("broker #{node_id} is registered with the controllers").with(bootstrap_server: "#{address}:9094")
        end
      end
    end
  end

  context 'in plaintext mode (a lab)' do
    cached(:chef_run) do
      tls_run({ 'broker.id' => 2, 'zookeeper.connect' => '10.0.16.5:2181/kafka', 'listeners' => 'PLAINTEXT://10.0.32.6:9092',
                'advertised.listeners' => 'PLAINTEXT://10.0.32.6:9092', 'listener.security.protocol.map' => 'PLAINTEXT:PLAINTEXT',
                'inter.broker.listener.name' => 'PLAINTEXT' }, tls: nil)
    end

    it 'renders a server.properties Kafka accepts, with no TLS, no authorizer and no key material' do
      content = rendered(chef_run)
      expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(content))).to eq([])
      expect(content).not_to match(/^(ssl\.|authorizer|zookeeper\.ssl|zookeeper\.set\.acl)/)
      expect(chef_run).not_to create_file('/etc/kafka/tls/keystore.pem')
    end
  end

  context 'in the migration\'s middle stage' do
    cached(:chef_run) do
      tls_run(ZK_TLS_BROKER.merge('zookeeper.connect' => '10.0.16.5:2181/kafka', 'listeners' => 'PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094',
                                  'advertised.listeners' => 'PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094',
                                  'listener.security.protocol.map' => 'PLAINTEXT:PLAINTEXT,TLS:SSL'), migrating: true)
    end

    it 'serves both listeners, brokers on TLS among themselves, with no authorizer yet and ZooKeeper as it was' do
      content = rendered(chef_run)
      expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(content))).to eq([])
      expect(content).to include("inter.broker.listener.name=TLS\n", "ssl.client.auth=required\n", "zookeeper.connect=10.0.16.5:2181/kafka\n")
      expect(content).not_to match(/^(authorizer|super\.users|zookeeper\.ssl|zookeeper\.set\.acl)/)
    end

    it 'reaches ZooKeeper over TLS once the wrapper found every member serving it, still setting no znode ACLs' do
      run = tls_run(ZK_TLS_BROKER.merge('listeners' => 'PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094',
                                        'advertised.listeners' => 'PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094',
                                        'listener.security.protocol.map' => 'PLAINTEXT:PLAINTEXT,TLS:SSL'), migrating: true, zookeeper_client: true)
      content = rendered(run)
      expect(content).to include("zookeeper.ssl.client.enable=true\n", "zookeeper.ssl.keystore.location=/etc/kafka/tls/keystore.pem\n",
                                 "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n")
      expect(content).not_to match(/^(authorizer|zookeeper\.set\.acl)/)
      expect(KafkaCluster::ConfigRules.problems(KafkaCluster::ConfigRules.parse(content))).to eq([])
      # The health check asks ZooKeeper the way the broker reaches it.
      expect(run).to create_file('/etc/kafka/zookeeper-tls.properties')
    end
  end

  # What insight-kafka-cluster gives KRaft nodes with kafka.security "migrating": the brokers' TLS
  # listener beside the plaintext one, the controller listener still on PLAINTEXT.
  def kraft_migrating_properties(node_id, address, roles)
    broker = roles.include?('broker')
    listeners = broker ? ["PLAINTEXT://#{address}:9092", "TLS://#{address}:9094"] : []
    properties = kraft_tls_properties(node_id, address, roles).merge(
      'listener.security.protocol.map' => 'PLAINTEXT:PLAINTEXT,TLS:SSL,CONTROLLER:PLAINTEXT',
      'listeners' => (listeners + (roles.include?('controller') ? ["CONTROLLER://#{address}:9093"] : [])).join(',')
    )
    properties['advertised.listeners'] = listeners.join(',') if broker
    properties
  end

  KRAFT_NODE_KINDS.each do |kind, (node_id, address, roles)|
    context "on a #{kind} in the migration's middle stage, first roll (a plaintext node)" do
      let(:conf_dir) { Dir.mktmpdir('kafka-conf') }
      after { FileUtils.rm_rf(conf_dir) }
      let(:chef_run) do
        running = [("PLAINTEXT://#{address}:9092" if roles.include?('broker')), ("CONTROLLER://#{address}:9093" if roles.include?('controller'))].compact.join(',')
        File.write("#{conf_dir}/server.properties", "node.id=#{node_id}\nlisteners=#{running}\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\ncontroller.listener.names=CONTROLLER\n")
        tls_run(kraft_migrating_properties(node_id, address, roles), kraft: TLS_KRAFT.merge('version' => '4.3.1'), migrating: true, conf_dir: conf_dir)
      end

      it 'asks its controller listener in PLAINTEXT and its TLS listener in SSL, never TLS to a plaintext port' do
        expect(chef_run).to render_file("#{conf_dir}/controller-tools.properties").with_content { |content|
          expect(content).to include("security.protocol=PLAINTEXT\n", "request.timeout.ms=5000\n")
          expect(content).not_to match(/^ssl\./)
        }
        expect(chef_run).to render_file("#{conf_dir}/tools.properties").with_content("security.protocol=SSL\n")
        quorum = chef_run.find_resource(:kafka_cluster_quorum, "the controller quorum has a leader, seen from node #{node_id}")
        if roles.include?('controller')
          expect([quorum.endpoint, quorum.command_config]).to eq([['--bootstrap-controller', "#{address}:9093"], "#{conf_dir}/controller-tools.properties"])
        else
          expect([quorum.endpoint, quorum.command_config]).to eq([['--bootstrap-server', "#{address}:9094"], "#{conf_dir}/tools.properties"])
        end
        if roles.include?('broker')
          expect(chef_run).to render_file("#{conf_dir}/server.properties").with_content("inter.broker.listener.name=PLAINTEXT\n")
          registered = chef_run.find_resource(:kafka_cluster_registered, "broker #{node_id} is registered with the controllers")
          expect([registered.bootstrap_server, registered.command_config]).to eq(["#{address}:9094", "#{conf_dir}/tools.properties"])
        end
      end

      it 'gives add-controller server.properties with an admin client on the controller listener\'s protocol' do
        expect(chef_run).to create_file("#{conf_dir}/add-controller.properties").with(owner: 'root', group: 'kafka', mode: '0640')
        expect(chef_run).to render_file("#{conf_dir}/add-controller.properties").with_content { |content|
          expect(content).to include("node.id=#{node_id}\n", "controller.listener.names=CONTROLLER\n", "security.protocol=PLAINTEXT\n")
          expect(content).not_to include('request.timeout.ms')
        }
      end
    end
  end

  it 'gives add-controller, under TLS, server.properties with an SSL admin client on the node\'s own key' do
    run = tls_run(kraft_tls_properties(1, '10.0.16.5', %w(controller)), kraft: TLS_KRAFT.merge('version' => '4.3.1'))
    expect(run).to render_file('/etc/kafka/add-controller.properties').with_content { |content|
      expect(content).to include("node.id=1\n", "listeners=CONTROLLER://10.0.16.5:9093\n", "security.protocol=SSL\n",
                                 "ssl.keystore.location=/etc/kafka/tls/keystore.pem\n", "ssl.truststore.location=/etc/kafka/tls/truststore.pem\n")
    }
    expect(run).to render_file('/etc/kafka/controller-tools.properties').with_content("security.protocol=SSL\n")
  end

  it 'stops before changing anything, naming the file, when the node has no key material' do
    Dir.mktmpdir do |empty|
      expect { tls_run(ZK_TLS_BROKER, tls: empty) }.to raise_error(RuntimeError, %r{\Akafka-cluster: #{empty}/node\.key is missing: })
    end
  end

  it 'refuses, before changing anything, a config Kafka would refuse at start' do
    expect { tls_run(ZK_TLS_BROKER.merge('inter.broker.listener.name' => 'PLAINTEXT')) }
      .to raise_error(RuntimeError, /would not start Kafka 3\.9\.1: inter\.broker\.listener\.name PLAINTEXT must be a listener name defined in advertised\.listeners/)
  end

  context 'on a node running plaintext' do
    let(:conf_dir) { Dir.mktmpdir('kafka-conf') }
    after { FileUtils.rm_rf(conf_dir) }
    def running(listeners, map)
      File.write("#{conf_dir}/server.properties", "broker.id=2\nlisteners=#{listeners}\nlistener.security.protocol.map=#{map}\n")
    end

    it 'refuses to switch straight to TLS, naming both listeners and the staged way' do
      running('PLAINTEXT://10.0.32.6:9092', 'PLAINTEXT:PLAINTEXT')
      expect { tls_run(ZK_TLS_BROKER, conf_dir: conf_dir) }.to raise_error(RuntimeError) { |error|
        expect(error.message.lines.size).to eq(1)
        expect(error.message).to include("#{conf_dir}/server.properties runs a plaintext listener (PLAINTEXT://10.0.32.6:9092)",
                                          'the new configuration has none (TLS://10.0.32.6:9094)', 'kafka.security "migrating"')
      }
    end

    it 'adds the TLS listener first in the middle stage, keeping brokers on plaintext among themselves until every broker has it' do
      running('PLAINTEXT://10.0.32.6:9092', 'PLAINTEXT:PLAINTEXT')
      middle = ZK_TLS_BROKER.merge('zookeeper.connect' => '10.0.16.5:2181/kafka', 'listeners' => 'PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094',
                                   'advertised.listeners' => 'PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094', 'listener.security.protocol.map' => 'PLAINTEXT:PLAINTEXT,TLS:SSL')
      allow(Chef::Log).to receive(:warn).and_call_original
      first = tls_run(middle, migrating: true, conf_dir: conf_dir)
      expect(first).to render_file("#{conf_dir}/server.properties").with_content("inter.broker.listener.name=PLAINTEXT\n")
      expect(Chef::Log).to have_received(:warn).with(/has no TLS listener yet: this roll adds it and keeps brokers on PLAINTEXT among themselves; converge again/)
      running('PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094', 'PLAINTEXT:PLAINTEXT,TLS:SSL')
      second = tls_run(middle, migrating: true, conf_dir: conf_dir)
      expect(second).to render_file("#{conf_dir}/server.properties").with_content("inter.broker.listener.name=TLS\n")
    end

    it 'refuses TLS alone while the running file still has brokers replicating over plaintext, naming the stage to run' do
      running('PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094', 'PLAINTEXT:PLAINTEXT,TLS:SSL')
      File.write("#{conf_dir}/server.properties", "inter.broker.listener.name=PLAINTEXT\n", mode: 'a')
      expect { tls_run(ZK_TLS_BROKER, conf_dir: conf_dir) }.to raise_error(RuntimeError) { |error|
        expect(error.message.lines.size).to eq(1)
        expect(error.message).to include("#{conf_dir}/server.properties still has brokers replicating over plaintext (inter.broker.listener.name PLAINTEXT)",
                                          'converge again with kafka.security "migrating"', 'nothing was changed')
      }
      expect(File.read("#{conf_dir}/server.properties")).to include("inter.broker.listener.name=PLAINTEXT\n")
    end

    it 'refuses TLS alone while the running broker still reaches ZooKeeper in plaintext, since the deploy closes that port' do
      running('PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094', 'PLAINTEXT:PLAINTEXT,TLS:SSL')
      File.write("#{conf_dir}/server.properties", "inter.broker.listener.name=TLS\nzookeeper.connect=10.0.16.5:2181/kafka\n", mode: 'a')
      expect { tls_run(ZK_TLS_BROKER, conf_dir: conf_dir) }.to raise_error(RuntimeError) { |error|
        expect(error.message.lines.size).to eq(1)
        expect(error.message).to include("#{conf_dir}/server.properties still reaches ZooKeeper in plaintext (zookeeper.connect 10.0.16.5:2181/kafka)",
                                          'converge again with kafka.security "migrating"', 'nothing was changed')
      }
      File.write("#{conf_dir}/server.properties", "zookeeper.ssl.client.enable=true\n", mode: 'a')
      expect { tls_run(ZK_TLS_BROKER, conf_dir: conf_dir) }.not_to raise_error
    end

    it 'takes the middle stage, and from there TLS alone' do
      running('PLAINTEXT://10.0.32.6:9092', 'PLAINTEXT:PLAINTEXT')
      middle = ZK_TLS_BROKER.merge('listeners' => 'PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094', 'advertised.listeners' => 'PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094',
                                   'listener.security.protocol.map' => 'PLAINTEXT:PLAINTEXT,TLS:SSL')
      expect { tls_run(middle, migrating: true, conf_dir: conf_dir) }.not_to raise_error
      running('PLAINTEXT://10.0.32.6:9092,TLS://10.0.32.6:9094', 'PLAINTEXT:PLAINTEXT,TLS:SSL')
      File.write("#{conf_dir}/server.properties", "inter.broker.listener.name=TLS\n", mode: 'a')
      expect { tls_run(ZK_TLS_BROKER, conf_dir: conf_dir) }.not_to raise_error
    end
  end
end

describe KafkaCluster::ConfigRules do
  let(:good) { ZK_TLS_BROKER.merge(KafkaCluster::Helpers.tls_properties(dir: '/etc/kafka/tls', kraft: false, authorizer: true, zookeeper_tls: true, super_users: %w(kafka-broker))) }
  let(:controller) { kraft_tls_properties(1, '10.0.16.5', %w(controller)) }
  let(:combined) do
    kraft_tls_properties(2, '10.0.32.6', %w(broker controller))
      .merge(KafkaCluster::Helpers.tls_properties(dir: '/etc/kafka/tls', kraft: true, authorizer: true, zookeeper_tls: false, super_users: %w(kafka-broker)))
  end

  def problems(properties, version: '3.9.1')
    described_class.problems(properties, version: version)
  end

  it 'passes what the cookbook renders' do
    expect(problems(good)).to eq([])
    expect(problems(combined, version: '4.3.1')).to eq([])
  end

  it 'finds each broken listener rule' do
    expect(problems(good.merge('listeners' => 'TLS://10.0.32.6:9094,TLS://10.0.32.6:9095'))).to include(/listeners names listener TLS more than once/)
    expect(problems(good.merge('listeners' => 'TLS://10.0.32.6:9094,OTHER://10.0.32.6:9094', 'listener.security.protocol.map' => 'TLS:SSL,OTHER:SSL')))
      .to include(/port 9094 more than once/)
    expect(problems(good.merge('listener.security.protocol.map' => 'PLAINTEXT:PLAINTEXT'))).to include(/no security protocol defined for listener TLS/)
    expect(problems(good.merge('advertised.listeners' => 'TLS://0.0.0.0:9094'))).to include(/0\.0\.0\.0/)
    expect(problems(good.merge('inter.broker.listener.name' => 'PLAINTEXT'))).to include(/inter\.broker\.listener\.name PLAINTEXT must be a listener name defined in advertised\.listeners/)
    expect(problems(good.merge('security.inter.broker.protocol' => 'SSL'))).to include(/must not both be set/)
    expect(problems(good.merge('listeners' => 'TLS:/10.0.32.6:9094'))).to include(%r{TLS:/10\.0\.32\.6:9094 is not NAME://host:port})
  end

  it 'finds each broken KRaft rule' do
    expect(problems(combined.merge('advertised.listeners' => 'TLS://10.0.32.6:9094,CONTROLLER://10.0.32.6:9093'), version: '4.3.1'))
      .to include(/must not advertise the controller listener CONTROLLER/)
    expect(problems(controller.merge('listeners' => 'CONTROLLER://10.0.16.5:9093,TLS://10.0.16.5:9094'), version: '4.3.1'))
      .to include(/listeners must only contain controller listeners/)
    expect(problems(kraft_tls_properties(4, '10.0.16.8', %w(broker)).merge('listeners' => 'TLS://10.0.16.8:9094,CONTROLLER://10.0.16.8:9093'), version: '4.3.1'))
      .to include(/must not contain a value appearing in listeners on a KRaft broker-only node/)
    expect(problems(combined.merge('listener.security.protocol.map' => 'TLS:SSL'), version: '4.3.1')).to include(/controller listener CONTROLLER .* not found in listener\.security\.protocol\.map/)
    expect(problems(combined.merge('node.id' => 9), version: '4.3.1')).to include(/node 9 has the controller role but is not among controller\.quorum\.voters/)
    expect(problems(good.merge('controller.listener.names' => 'CONTROLLER'))).to include(/controller\.listener\.names must be empty when not running in KRaft mode/)
  end

  it 'finds a PEM store given a password, a wrong authorizer, and ZooKeeper TLS without the Netty socket' do
    expect(problems(good.merge('ssl.keystore.password' => 'x'))).to include(/ssl\.keystore\.password cannot be set with a PEM keystore/)
    expect(problems(good.merge('ssl.client.auth' => 'always'))).to include(/ssl\.client\.auth always is not none, requested or required/)
    expect(problems(combined.merge('authorizer.class.name' => 'kafka.security.authorizer.AclAuthorizer'), version: '4.3.1')).to include(/keeps ACLs in ZooKeeper/)
    expect(problems(good.merge('authorizer.class.name' => 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'))).to include(/needs KRaft metadata/)
    expect(problems(good.reject { |key, _| key == 'zookeeper.clientCnxnSocket' })).to include(/needs zookeeper\.clientCnxnSocket/)
    expect(problems(good.reject { |key, _| key == 'ssl.keystore.location' })).to include(/listener TLS is SSL but ssl\.keystore\.location is not set/)
  end
end
