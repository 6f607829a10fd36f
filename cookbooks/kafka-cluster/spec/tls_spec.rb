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

TLS_VOTERS = '1@10.0.16.5:9095,2@10.0.32.6:9095,3@10.0.48.7:9095'.freeze
TLS_KRAFT = { 'mode' => 'kraft', 'cluster_id' => 'MkU3OEVBNTcwNTJENDM2Qg' }.freeze

def tls_run(properties, kraft: nil, tls: TLS_SOURCE, migrating: false, conf_dir: nil, version: nil, zookeeper_client: false, step_into: [])
  ChefSpec::SoloRunner.new(step_into: step_into) do |node|
    node.normal['kafka-cluster']['tls']['enabled'] = !tls.nil?
    node.normal['kafka-cluster']['tls']['source_dir'] = tls if tls
    node.normal['kafka-cluster']['tls']['migrating'] = migrating
    node.normal['kafka-cluster']['tls']['zookeeper_client'] = zookeeper_client
    node.normal['kafka-cluster']['conf_dir'] = conf_dir if conf_dir
    node.normal['kafka-cluster']['version'] = version if version
    properties.each { |key, value| node.normal['kafka-cluster']['config']['properties'][key] = value }
    (kraft || {}).each { |key, value| node.normal['kafka-cluster'][key] = value }
    yield node if block_given?
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
    'controller.listener.names' => 'CONTROLLER_TLS',
    'listener.security.protocol.map' => 'TLS:SSL,CONTROLLER_TLS:SSL',
    'listeners' => [("TLS://#{address}:9094" if broker), ("CONTROLLER_TLS://#{address}:9095" if roles.include?('controller'))].compact.join(','),
  }
  properties.merge!('advertised.listeners' => "TLS://#{address}:9094", 'inter.broker.listener.name' => 'TLS') if broker
  properties
end

# What insight-kafka-cluster gives a KRaft node at each kafka.security stage, with a static
# (controller.quorum.voters) or dynamic (controller.quorum.bootstrap.servers) quorum of three.
KRAFT_CONTROLLERS = [[1, '10.0.16.5'], [2, '10.0.32.6'], [3, '10.0.48.7']].freeze
CONTROLLER_LISTENERS = { 'CONTROLLER' => [9093, 'PLAINTEXT'], 'CONTROLLER_TLS' => [9095, 'SSL'] }.freeze
def kraft_stage_properties(stage, node_id, address, roles, quorum: :static)
  names = { plaintext: %w(CONTROLLER), migrating: %w(CONTROLLER_TLS CONTROLLER), tls: %w(CONTROLLER_TLS) }.fetch(stage)
  brokers = { plaintext: %w(PLAINTEXT:9092), migrating: %w(PLAINTEXT:9092 TLS:9094), tls: %w(TLS:9094) }.fetch(stage).map { |listener| listener.sub(':', "://#{address}:") }
  broker_map = { plaintext: 'PLAINTEXT:PLAINTEXT', migrating: 'PLAINTEXT:PLAINTEXT,TLS:SSL', tls: 'TLS:SSL' }.fetch(stage)
  controllers = roles.include?('controller') ? names.reverse.map { |name| "#{name}://#{address}:#{CONTROLLER_LISTENERS[name][0]}" } : []
  port = CONTROLLER_LISTENERS[names.first][0]
  properties = {
    'node.id' => node_id,
    'process.roles' => roles.join(','),
    'controller.listener.names' => names.join(','),
    'listener.security.protocol.map' => ([broker_map] + names.map { |name| "#{name}:#{CONTROLLER_LISTENERS[name][1]}" }).join(','),
    'listeners' => ((roles.include?('broker') ? brokers : []) + controllers).join(','),
  }
  if quorum == :static
    properties['controller.quorum.voters'] = KRAFT_CONTROLLERS.map { |id, ip| "#{id}@#{ip}:#{port}" }.join(',')
  else
    properties['controller.quorum.bootstrap.servers'] = KRAFT_CONTROLLERS.map { |_, ip| "#{ip}:#{port}" }.join(',')
  end
  properties.merge!('advertised.listeners' => brokers.join(','), 'inter.broker.listener.name' => stage == :plaintext ? 'PLAINTEXT' : 'TLS') if roles.include?('broker')
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
        expect(content).to include("listener.security.protocol.map=TLS:SSL,CONTROLLER_TLS:SSL\n",
                                   "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n", *SSL_LINES)
        expect(content).not_to match(/^zookeeper\.|PLAINTEXT/)
      end

      it 'gives the health checks\' admin clients SSL with the node\'s own certificate' do
        expect(chef_run).to render_file('/etc/kafka/tools.properties').with_content { |content|
          expect(content).to include("security.protocol=SSL\n", "ssl.keystore.type=PEM\n", "ssl.keystore.location=/etc/kafka/tls/keystore.pem\n",
                                     "ssl.truststore.location=/etc/kafka/tls/truststore.pem\n", "request.timeout.ms=5000\n")
        }
        endpoint = roles.include?('controller') ? ['--bootstrap-controller', "#{address}:9095"] : ['--bootstrap-server', "#{address}:9094"]
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

  KRAFT_NODE_KINDS.each do |kind, (node_id, address, roles)|
    context "on a #{kind} in the migration's middle stage, first roll (a plaintext node)" do
      let(:conf_dir) { Dir.mktmpdir('kafka-conf') }
      after { FileUtils.rm_rf(conf_dir) }
      let(:chef_run) do
        running = [("PLAINTEXT://#{address}:9092" if roles.include?('broker')), ("CONTROLLER://#{address}:9093" if roles.include?('controller'))].compact.join(',')
        File.write("#{conf_dir}/server.properties", "node.id=#{node_id}\nlisteners=#{running}\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\ncontroller.listener.names=CONTROLLER\n")
        tls_run(kraft_stage_properties(:migrating, node_id, address, roles), kraft: TLS_KRAFT.merge('version' => '4.3.1'), migrating: true, conf_dir: conf_dir)
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
          expect(content).to include("node.id=#{node_id}\n", "controller.listener.names=CONTROLLER,CONTROLLER_TLS\n", "security.protocol=PLAINTEXT\n")
          expect(content).not_to include('request.timeout.ms')
        }
      end
    end
  end

  it 'gives add-controller, under TLS, server.properties with an SSL admin client on the node\'s own key' do
    run = tls_run(kraft_tls_properties(1, '10.0.16.5', %w(controller)), kraft: TLS_KRAFT.merge('version' => '4.3.1'))
    expect(run).to render_file('/etc/kafka/add-controller.properties').with_content { |content|
      expect(content).to include("node.id=1\n", "listeners=CONTROLLER_TLS://10.0.16.5:9095\n", "security.protocol=SSL\n",
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

# A running KRaft cluster's controllers move to TLS in three rolls, each node restarted while the
# others still run the roll before: from plaintext, "migrating" twice (the second converge finds
# the TLS controller listener running), then "tls". Each node starts from the server.properties
# it runs, and each roll's file is the one the next roll finds.
describe 'kafka-cluster::default moving KRaft controllers to TLS' do
  include_context 'a mounted data volume'
  let(:conf_dir) { Dir.mktmpdir('kafka-conf') }
  after { FileUtils.rm_rf(conf_dir) }
  # Every controller answers a TLS handshake on 9095 unless an example says otherwise.
  before { allow(KafkaCluster::Helpers).to receive(:not_serving_tls).and_return([]) }

  def stage_run(stage, node_id, address, roles, quorum, &block)
    tls_run(kraft_stage_properties(stage, node_id, address, roles, quorum: quorum), kraft: TLS_KRAFT, tls: stage == :plaintext ? nil : TLS_SOURCE,
                                                                                    migrating: stage == :migrating, conf_dir: conf_dir, &block)
  end

  # Converges the node at that stage and makes what it rendered the file it runs from then on.
  def roll(stage, node_id, address, roles, quorum)
    run = stage_run(stage, node_id, address, roles, quorum)
    content = rendered(run, "#{conf_dir}/server.properties")
    File.write("#{conf_dir}/server.properties", content)
    [run, KafkaCluster::ConfigRules.parse(content)]
  end

  # The rolls a node goes through, and the file it runs after each.
  def rolls(node_id, address, roles, quorum)
    %i(plaintext migrating migrating tls).map { |stage| roll(stage, node_id, address, roles, quorum) }
  end

  def quorum_value(props)
    props['controller.quorum.voters'] || props['controller.quorum.bootstrap.servers']
  end

  # Where and how a node reaches the controllers: its first controller listener's protocol, at the
  # quorum's ports.
  def reaches(props)
    name = KafkaCluster::Helpers.controller_names(props).first
    [quorum_value(props).scan(/:(\d+)(?:,|\z)/).flatten.map(&:to_i).uniq, KafkaCluster::Helpers.listener_protocol(props, name)]
  end

  # The controller listeners a controller serves: port => protocol.
  def serves(props)
    names = KafkaCluster::Helpers.controller_names(props)
    KafkaCluster::ConfigRules.endpoints(props['listeners']).select { |endpoint| names.include?(endpoint[:name]) }
                                                           .to_h { |endpoint| [endpoint[:port], KafkaCluster::Helpers.listener_protocol(props, endpoint[:name])] }
  end

  %i(static dynamic).each do |quorum|
    context "with a #{quorum} quorum" do
      KRAFT_NODE_KINDS.each do |kind, (node_id, address, roles)|
        it "rolls a #{kind} from plaintext to TLS, each file one Kafka 3.9.1 accepts, the controller listener's move held one roll" do
          allow(Chef::Log).to receive(:warn).and_call_original
          files = rolls(node_id, address, roles, quorum).map(&:last)
          files.each { |props| expect(KafkaCluster::ConfigRules.problems(props, version: '3.9.1')).to eq([]) }
          expect(files.map { |props| props['controller.listener.names'] }).to eq(%w(CONTROLLER CONTROLLER,CONTROLLER_TLS CONTROLLER_TLS,CONTROLLER CONTROLLER_TLS))
          expect(files.map { |props| reaches(props) }).to eq([[[9093], 'PLAINTEXT'], [[9093], 'PLAINTEXT'], [[9095], 'SSL'], [[9095], 'SSL']])
          expect(Chef::Log).to have_received(:warn).with(/it does not name the TLS controller listener yet: this roll keeps this node on the controllers' CONTROLLER listener/).once
          if roles.include?('controller')
            expect(files.map { |props| serves(props) }).to eq([{ 9093 => 'PLAINTEXT' }, { 9093 => 'PLAINTEXT', 9095 => 'SSL' }, { 9093 => 'PLAINTEXT', 9095 => 'SSL' }, { 9095 => 'SSL' }])
          end
          expect(files.last.values.join(' ')).not_to include('9093')
        end
      end

      # After a first roll that stopped part-way, a re-run must not move a node onto a controller
      # that does not serve the TLS listener yet.
      it 'holds a node that runs the TLS controller listener back while a controller does not answer TLS on 9095, naming it' do
        allow(Chef::Log).to receive(:warn).and_call_original
        roll(:plaintext, 2, '10.0.32.6', %w(broker controller), quorum)
        roll(:migrating, 2, '10.0.32.6', %w(broker controller), quorum)
        allow(KafkaCluster::Helpers).to receive(:not_serving_tls).with(%w(10.0.16.5:9095 10.0.32.6:9095 10.0.48.7:9095), hash_including('node.crt'))
                                                                 .and_return(['10.0.48.7:9095 (Errno::ECONNREFUSED: Connection refused)'])
        _run, props = roll(:migrating, 2, '10.0.32.6', %w(broker controller), quorum)
        expect(props['controller.listener.names']).to eq('CONTROLLER,CONTROLLER_TLS')
        expect(reaches(props)).to eq([[9093], 'PLAINTEXT'])
        expect(Chef::Log).to have_received(:warn).with(/10\.0\.48\.7:9095 \(Errno::ECONNREFUSED: Connection refused\) does not serve the TLS controller listener yet: this roll keeps this node on the controllers' CONTROLLER listener/)
        allow(KafkaCluster::Helpers).to receive(:not_serving_tls).and_return([])
        _run, props = roll(:migrating, 2, '10.0.32.6', %w(broker controller), quorum)
        expect(reaches(props)).to eq([[9095], 'SSL'])
      end

      it 'keeps every node and every controller of the roll before and after able to reach each other at each roll' do
        controller = rolls(1, '10.0.16.5', %w(controller), quorum).map(&:last)
        FileUtils.rm_f("#{conf_dir}/server.properties")
        broker = rolls(4, '10.0.16.8', %w(broker), quorum).map(&:last)
        controller.each_cons(2).with_index do |(before, after), index|
          # Restarted into this roll, a node reaches the controllers not yet restarted, and they it.
          [[after, before], [before, after], [broker[index + 1], before], [broker[index], after]].each do |node, peer|
            ports, protocol = reaches(node)
            expect(ports.map { |port| serves(peer)[port] }).to eq([protocol])
          end
        end
      end

      it 'asks the controller listener every controller serves in each stage, with client settings of its protocol' do
        asked = rolls(1, '10.0.16.5', %w(controller), quorum).map do |run, _|
          check = run.find_resource(:kafka_cluster_quorum, 'the controller quorum has a leader, seen from node 1')
          tools = nil
          expect(run).to render_file("#{conf_dir}/controller-tools.properties").with_content { |content| tools = content[/^security\.protocol=(\w+)$/, 1] }
          [check.endpoint.last, tools, check.voter_listeners]
        end
        both = quorum == :dynamic ? %w(CONTROLLER://10.0.16.5:9093 CONTROLLER_TLS://10.0.16.5:9095) : []
        expect(asked).to eq([['10.0.16.5:9093', 'PLAINTEXT', []], ['10.0.16.5:9093', 'PLAINTEXT', both], ['10.0.16.5:9093', 'PLAINTEXT', both],
                             ['10.0.16.5:9095', 'SSL', []]])
      end
    end
  end

  KRAFT_NODE_KINDS.each do |kind, (node_id, address, roles)|
    context "refusing, on a #{kind}, a jump that strands it" do
      def refused(stage, node_id, address, roles, quorum = :static)
        before = File.read("#{conf_dir}/server.properties")
        error = nil
        expect { stage_run(stage, node_id, address, roles, quorum) }.to raise_error(RuntimeError) { |raised| error = raised.message }
        expect(error.lines.size).to eq(1)
        expect(error).to include("#{conf_dir}/server.properties", 'nothing was changed')
        expect(File.read("#{conf_dir}/server.properties")).to eq(before)
        error
      end

      it 'refuses plaintext straight to tls' do
        roll(:plaintext, node_id, address, roles, :static)
        error = refused(:tls, node_id, address, roles)
        expect(error).to include('reaches the controllers on PLAINTEXT listener CONTROLLER (1@10.0.16.5:9093,') unless roles.include?('broker')
      end

      it 'refuses tls after the first roll of "migrating" alone, with either quorum' do
        %i(static dynamic).each do |quorum|
          roll(:plaintext, node_id, address, roles, quorum)
          roll(:migrating, node_id, address, roles, quorum)
          error = refused(:tls, node_id, address, roles, quorum)
          expect(error).to include('"migrating" and one more converge') unless roles.include?('broker')
        end
      end

      it 'refuses tls on a node whose running file still reaches the controllers over plaintext, its brokers on TLS already' do
        roll(:plaintext, node_id, address, roles, :static)
        props = kraft_stage_properties(:migrating, node_id, address, roles).merge('controller.listener.names' => 'CONTROLLER',
                                                                                  'controller.quorum.voters' => KRAFT_CONTROLLERS.map { |id, ip| "#{id}@#{ip}:9093" }.join(','))
        props['listeners'] = props['listeners'].split(',').reject { |listener| listener.start_with?('CONTROLLER_TLS') }.join(',')
        props['listener.security.protocol.map'] = 'PLAINTEXT:PLAINTEXT,TLS:SSL,CONTROLLER:PLAINTEXT'
        File.write("#{conf_dir}/server.properties", KafkaCluster::Helpers.properties_lines(props).join("\n") + "\n")
        expect(refused(:tls, node_id, address, roles)).to include('reaches the controllers on PLAINTEXT listener CONTROLLER')
      end

      it 'refuses plaintext on a node running the TLS controller listener' do
        %i(plaintext migrating migrating tls).each { |stage| roll(stage, node_id, address, roles, :static) }
        expect(refused(:plaintext, node_id, address, roles)).to include('reaches the controllers on SSL listener CONTROLLER_TLS (1@10.0.16.5:9095,')
      end
    end
  end

  it 'waits, on a dynamic quorum\'s controller serving both listeners, until the voter set lists both' do
    roll(:plaintext, 1, '10.0.16.5', %w(controller), :dynamic)
    roll(:migrating, 1, '10.0.16.5', %w(controller), :dynamic)
    status = lambda do |endpoints|
      "LeaderId:               2\nCurrentVoters:          [{\"id\": 1, \"directoryId\": \"K90IZ-0DRNazJ49kCZ1EMQ\", \"endpoints\": [#{endpoints}]}, " \
        "{\"id\": 2, \"directoryId\": \"aUARLskQTCW4qCZDtS_cwA\", \"endpoints\": [\"CONTROLLER://10.0.32.6:9093\"]}]\n"
    end
    allow_any_instance_of(Chef::Provider).to receive(:sleep)
    allow_any_instance_of(Chef::Provider).to receive(:shell_out).and_call_original
    answers = [status.call('"CONTROLLER://10.0.16.5:9093"'), status.call('"CONTROLLER://10.0.16.5:9093", "CONTROLLER_TLS://10.0.16.5:9095"')]
    allow_any_instance_of(Chef::Provider).to receive(:shell_out)
      .with('/opt/kafka/current/bin/kafka-metadata-quorum.sh', '--bootstrap-controller', '10.0.16.5:9093', '--command-config', "#{conf_dir}/controller-tools.properties",
            'describe', '--status', environment: { 'LOG_DIR' => '/var/log/kafka' }, timeout: 90) { double(stdout: answers.size > 1 ? answers.shift : answers.first, stderr: '') }
    data_dir = Dir.mktmpdir.tap { |dir| File.write("#{dir}/meta.properties", "cluster.id=#{TLS_KRAFT['cluster_id']}\n") }
    quorum_run = lambda do |retries|
      tls_run(kraft_stage_properties(:migrating, 1, '10.0.16.5', %w(controller), quorum: :dynamic), kraft: TLS_KRAFT, migrating: true, conf_dir: conf_dir,
                                                                                                    step_into: ['kafka_cluster_quorum']) do |node|
        node.normal['kafka-cluster']['quorum_retries'] = retries
        node.normal['kafka-cluster']['data_dir'] = data_dir
      end
    end
    expect { quorum_run.call(1) }.to raise_error(%r{the voter set does not list CONTROLLER_TLS://10\.0\.16\.5:9095 for controller 1 after 1 attempts})
    answers.unshift(status.call('"CONTROLLER://10.0.16.5:9093"'))
    expect { quorum_run.call(2) }.not_to raise_error
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
    expect(problems(combined.merge('advertised.listeners' => 'TLS://10.0.32.6:9094,CONTROLLER_TLS://10.0.32.6:9095'), version: '4.3.1'))
      .to include(/must not advertise the controller listener CONTROLLER_TLS/)
    expect(problems(controller.merge('listeners' => 'CONTROLLER_TLS://10.0.16.5:9095,TLS://10.0.16.5:9094'), version: '4.3.1'))
      .to include(/listeners must only contain controller listeners/)
    expect(problems(kraft_tls_properties(4, '10.0.16.8', %w(broker)).merge('listeners' => 'TLS://10.0.16.8:9094,CONTROLLER_TLS://10.0.16.8:9095'), version: '4.3.1'))
      .to include(/must not contain a value appearing in listeners on a KRaft broker-only node/)
    expect(problems(combined.merge('listener.security.protocol.map' => 'TLS:SSL'), version: '4.3.1')).to include(/controller listener CONTROLLER_TLS .* not found in listener\.security\.protocol\.map/)
    expect(problems(combined.merge('node.id' => 9), version: '4.3.1')).to include(/node 9 has the controller role but is not among controller\.quorum\.voters/)
    expect(problems(good.merge('controller.listener.names' => 'CONTROLLER'))).to include(/controller\.listener\.names must be empty when not running in KRaft mode/)
  end

  it 'finds a voter or bootstrap server Kafka cannot parse, a controller listener name with spaces, and a controller its peers reach on the wrong port' do
    expect(problems(controller.merge('controller.quorum.voters' => '1@10.0.16.5,2@10.0.32.6:9095'), version: '4.3.1')).to include(/entry 1@10\.0\.16\.5 is not \{id\}@\{host\}:\{port\}/)
    expect(problems(controller.merge('controller.quorum.voters' => '1@0.0.0.0:9095'), version: '4.3.1')).to include(/entry 1@0\.0\.0\.0:9095 is not routable/)
    expect(problems(controller.reject { |key, _| key == 'controller.quorum.voters' }.merge('controller.quorum.bootstrap.servers' => '10.0.16.5'), version: '4.3.1'))
      .to include(/bootstrap\.servers entry 10\.0\.16\.5 is not \{host\}:\{port\}/)
    expect(problems(controller.merge('controller.listener.names' => 'CONTROLLER_TLS, CONTROLLER', 'listener.security.protocol.map' => 'CONTROLLER_TLS:SSL,CONTROLLER:PLAINTEXT',
                                     'listeners' => 'CONTROLLER_TLS://10.0.16.5:9095,CONTROLLER://10.0.16.5:9093'), version: '4.3.1'))
      .to include(/controller\.listener\.names entry ' CONTROLLER' has spaces around it/)
    expect(problems(controller.merge('controller.quorum.voters' => TLS_VOTERS.gsub(':9095', ':9093')), version: '4.3.1'))
      .to include(/lists node 1 as 1@10\.0\.16\.5:9093, but its first controller listener CONTROLLER_TLS is on port 9095/)
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

# The probe a node makes before it moves onto the controllers' TLS listener, against a real TLS
# server on loopback that requires a client certificate, as Kafka's SSL listener does.
describe 'KafkaCluster::Helpers.not_serving_tls' do
  ca_key = OpenSSL::PKey::RSA.new(2048)
  ca = nil
  let(:ca_cert) { ca ||= TestPki.certificate('/CN=platform-ca', ca_key, '/CN=platform-ca', ca_key, 'basicConstraints' => 'CA:TRUE') }
  let(:node_key) { OpenSSL::PKey::RSA.new(2048) }
  let(:material) do
    node = TestPki.certificate('/O=insight-prod/CN=kafka-broker', node_key, '/CN=platform-ca', ca_key, 'basicConstraints' => 'CA:FALSE', 'subjectAltName' => 'IP:127.0.0.1')
    { 'node.key' => node_key.private_to_pem, 'node.crt' => node.to_pem, 'ca.crt' => ca_cert.to_pem }
  end

  # A server on a free loopback port presenting `material`'s certificate and requiring a client's.
  def serving(material)
    context = OpenSSL::SSL::SSLContext.new
    context.cert = OpenSSL::X509::Certificate.new(material['node.crt'])
    context.key = OpenSSL::PKey.read(material['node.key'])
    store = OpenSSL::X509::Store.new
    store.add_cert(OpenSSL::X509::Certificate.new(material['ca.crt']))
    context.cert_store = store
    context.verify_mode = OpenSSL::SSL::VERIFY_PEER | OpenSSL::SSL::VERIFY_FAIL_IF_NO_PEER_CERT
    tcp = TCPServer.new('127.0.0.1', 0)
    server = OpenSSL::SSL::SSLServer.new(tcp, context)
    thread = Thread.new do
      loop do
        server.accept.close
      rescue OpenSSL::SSL::SSLError, IOError
        next
      end
    end
    yield tcp.addr[1]
  ensure
    thread&.kill
    tcp&.close
  end

  it 'passes a controller that completes the handshake with the node certificate, and names one that does not listen' do
    serving(material) do |port|
      listener = TCPServer.new('127.0.0.1', 0)
      closed = listener.addr[1]
      listener.close
      expect(KafkaCluster::Helpers.not_serving_tls(["127.0.0.1:#{port}"], material)).to eq([])
      expect(KafkaCluster::Helpers.not_serving_tls(["127.0.0.1:#{port}", "127.0.0.1:#{closed}"], material))
        .to contain_exactly(start_with("127.0.0.1:#{closed} (Errno::ECONNREFUSED"))
    end
  end

  it 'names a listener whose certificate the platform CA did not sign' do
    other_key = OpenSSL::PKey::RSA.new(2048)
    stranger = TestPki.certificate('/CN=kafka-broker', other_key, '/CN=kafka-broker', other_key, 'subjectAltName' => 'IP:127.0.0.1')
    serving(material.merge('node.crt' => stranger.to_pem, 'node.key' => other_key.private_to_pem)) do |port|
      expect(KafkaCluster::Helpers.not_serving_tls(["127.0.0.1:#{port}"], material)).to contain_exactly(match(/\A127\.0\.0\.1:#{port} \(OpenSSL::SSL::SSLError: .*certificate verify failed/))
    end
  end
end
