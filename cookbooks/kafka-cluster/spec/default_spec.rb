require_relative '../../spec_helper'
require_relative '../libraries/config_rules'
require_relative '../libraries/helpers'
require_relative 'support/data_volume'
require 'tempfile'

# tls: nil runs a plaintext node; a directory runs TLS with that directory's key material.
def kafka_run(properties, sha512: nil, kraft: nil, step_into: [], tls: nil)
  ChefSpec::SoloRunner.new(step_into: step_into) do |node|
    node.normal['kafka-cluster']['tls']['enabled'] = !tls.nil?
    node.normal['kafka-cluster']['tls']['source_dir'] = tls if tls
    properties.each { |key, value| node.normal['kafka-cluster']['config']['properties'][key] = value }
    node.normal['kafka-cluster']['sha512'] = sha512 if sha512
    (kraft || {}).each { |key, value| node.normal['kafka-cluster'][key] = value }
    yield node if block_given?
  end.converge('kafka-cluster::default')
end

BROKER_2 = {
  'broker.id' => 2,
  'zookeeper.connect' => '10.0.16.5:2181,10.0.32.6:2181,10.0.16.7:2181/kafka',
  'listeners' => 'PLAINTEXT://10.0.32.6:9092',
  'advertised.listeners' => 'PLAINTEXT://10.0.32.6:9092',
}.freeze

describe 'kafka-cluster::default' do
  include_context 'a mounted data volume'
  cached(:chef_run) { kafka_run(BROKER_2) }
  let(:tarball) { "#{Chef::Config[:file_cache_path]}/kafka_2.13-3.9.1.tgz" }

  it 'installs OpenJDK 17 headless and sets the kernel settings Kafka needs' do
    expect(chef_run).to install_package('openjdk-17-jre-headless')
    expect(chef_run).to apply_sysctl('vm.swappiness').with(value: '1')
    expect(chef_run).to apply_sysctl('vm.max_map_count').with(value: '262144')
  end

  it 'downloads Kafka 3.9.1 for Scala 2.13 from the mirror, then the archive, pinned by sha512' do
    expect(chef_run).to create_remote_file(tarball).with(
      source: %w(https://dlcdn.apache.org/kafka/3.9.1/kafka_2.13-3.9.1.tgz https://archive.apache.org/dist/kafka/3.9.1/kafka_2.13-3.9.1.tgz)
    )
    expect(chef_run.node['kafka-cluster']['sha512']).to eq(
      '1ea204ba73411737a275429ca976d440f007ff0957b90b19be41dc5a4bae52617267769be9f0b5791714d0b3c4c760605bd426faea39edd90763585523fa2cfe'
    )
    allow(Chef::Log).to receive(:error)
    Tempfile.create('kafka') do |file|
      file.write('not the release')
      file.flush
      expect(chef_run.remote_file(tarball).verifications.first.verify(file.path)).to be(false)
    end
    expect(Chef::Log).to have_received(:error).with(/the download of kafka_2\.13-3\.9\.1\.tgz does not have the pinned sha512 1ea204ba/)
  end

  it 'extracts into a versioned directory and links current to it' do
    expect(chef_run).to extract_archive_file(tarball).with(destination: '/opt/kafka/kafka_2.13-3.9.1', strip_components: 1)
    expect(chef_run).to create_link('/opt/kafka/current').with(to: '/opt/kafka/kafka_2.13-3.9.1')
  end

  it 'gives the broker user its data and log directories' do
    expect(chef_run).to create_user('kafka').with(system: true, shell: '/usr/sbin/nologin')
    %w(/data/kafka /var/log/kafka).each do |dir|
      expect(chef_run).to create_directory(dir).with(owner: 'kafka', group: 'kafka', mode: '0750')
    end
  end

  it 'renders server.properties with the identity, listeners, ZooKeeper chroot and data path' do
    expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
      expect(content).to include(
        "broker.id=2\n",
        "listeners=PLAINTEXT://10.0.32.6:9092\n",
        "advertised.listeners=PLAINTEXT://10.0.32.6:9092\n",
        "zookeeper.connect=10.0.16.5:2181,10.0.32.6:2181,10.0.16.7:2181/kafka\n",
        "log.dirs=/data/kafka\n"
      )
    }
  end

  it 'defaults to a durable 3-node configuration with the original workload partitions' do
    expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
      expect(content).to include(
        "num.partitions=40\n", "default.replication.factor=3\n", "min.insync.replicas=2\n",
        "offsets.topic.replication.factor=3\n", "transaction.state.log.replication.factor=3\n",
        "unclean.leader.election.enable=false\n", "auto.create.topics.enable=false\n"
      )
    }
  end

  it 'restarts the broker when server.properties changes' do
    expect(chef_run.template('/etc/kafka/server.properties')).to notify('service[kafka]').to(:restart).delayed
  end

  it 'runs under systemd with a fixed heap and enough open files, enabled and started' do
    expect(chef_run).to enable_systemd_unit('kafka.service')
    service = chef_run.systemd_unit('kafka.service').content['Service']
    expect(service).to include('User' => 'kafka', 'LimitNOFILE' => '100000')
    expect(service['ExecStart']).to eq('/opt/kafka/current/bin/kafka-server-start.sh /etc/kafka/server.properties')
    # Quoted, or systemd would keep only -Xms2048m and ignore -Xmx2048m.
    expect(service['Environment']).to include('"KAFKA_HEAP_OPTS=-Xms2048m -Xmx2048m"')
    expect(service['Environment'].select { |assignment| assignment.include?(' ') }).to all(start_with('"').and(end_with('"')))
    expect(chef_run).to start_service('kafka')
  end

  it 'waits for the data volume\'s mount and counts the JVM\'s exit on SIGTERM (143) as a clean stop' do
    unit = chef_run.systemd_unit('kafka.service').content
    expect(unit['Unit']['RequiresMountsFor']).to eq('/data/kafka')
    expect(unit['Service']['SuccessExitStatus']).to eq('143')
  end

  it 'ends by checking that the broker registered in ZooKeeper' do
    expect(chef_run).to check_kafka_cluster_registered('broker 2 is registered in ZooKeeper')
      .with(broker_id: 2, attempts: 36, mode: 'zookeeper', bin_dir: '/opt/kafka/current/bin', zookeeper_connect: BROKER_2['zookeeper.connect'])
  end

  it 'formats nothing and asks no controller quorum: that is KRaft mode' do
    expect(chef_run.find_resources(:execute).map(&:name).grep(/format/)).to eq([])
    expect(chef_run.find_resources(:kafka_cluster_quorum)).to eq([])
    expect(chef_run).not_to create_file('/etc/kafka/tools.properties')
  end

  it 'checks the broker again right after a restart, not only before the delayed restart runs' do
    check = chef_run.find_resource(:kafka_cluster_registered, 'broker 2 is registered in ZooKeeper after its restart')
    expect(check).to do_nothing
    expect(check).to subscribe_to('service[kafka]').on(:check).immediately
  end

  it 'reads the registered broker ids from the last line zookeeper-shell prints' do
    expect(KafkaCluster::Helpers.registered_broker_ids("Connecting to zk\nWATCHER::\n[1, 2, 3]\n")).to eq([1, 2, 3])
    expect(KafkaCluster::Helpers.registered_broker_ids("Connecting to zk\n[]\n")).to eq([])
    expect(KafkaCluster::Helpers.registered_broker_ids('Node does not exist: /brokers/ids')).to eq([])
  end

  it 'keeps a download whose sha512 is the pinned one' do
    release_sha512 = Digest::SHA512.hexdigest('release')
    run = kafka_run(BROKER_2, sha512: release_sha512)
    Tempfile.create('kafka') do |file|
      file.write('release')
      file.flush
      expect(run.remote_file(tarball).verifications.first.verify(file.path)).to be(true)
    end
  end

  it 'refuses a checksum that is not a sha512 in hex' do
    expect { kafka_run(BROKER_2, sha512: 'ab' * 32) }
      .to raise_error(RuntimeError, /\['sha512'\] "#{'ab' * 32}" is not the sha512 hex of kafka_2\.13-3\.9\.1\.tgz/)
  end

  context 'the Prometheus JMX exporter for the node\'s CloudWatch agent' do
    let(:jar) { '/opt/jmx-exporter/jmx_prometheus_javaagent-1.6.0.jar' }

    it "installs the java agent pinned by sha256 and Kafka's rules, which the agent reads again when they change, without restarting Kafka" do
      expect(chef_run).to install_jmx_exporter_javaagent('/etc/kafka/jmx_exporter.yaml').with(
        rules_cookbook: 'kafka-cluster',
        version: '1.6.0',
        sha256: 'a95983fd96e865d2bcdf911cc500e7c82808c27ab9fd226bf96732b6c3d8c46e',
        urls: %w(https://repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/%{version}/jmx_prometheus_javaagent-%{version}.jar
                 https://github.com/prometheus/jmx_exporter/releases/download/%{version}/jmx_prometheus_javaagent-%{version}.jar),
        dir: '/opt/jmx-exporter'
      )
      expect(chef_run.jmx_exporter_javaagent('/etc/kafka/jmx_exporter.yaml')).not_to notify('service[kafka]')
      expect(File).to exist(File.join(__dir__, '..', 'files', 'default', 'jmx_exporter.yaml'))
    end

    it 'runs it in the broker\'s JVM through KAFKA_OPTS, serving on loopback only' do
      expect(chef_run.systemd_unit('kafka.service').content['Service']['Environment'])
        .to include(%("KAFKA_OPTS=-javaagent:#{jar}=127.0.0.1:9404:/etc/kafka/jmx_exporter.yaml"))
    end

    it 'restarts Kafka when the flag changes (a new version), through the unit the converge rolls one node at a time' do
      expect(chef_run.systemd_unit('kafka.service')).to notify('service[kafka]').to(:restart).delayed
    end

    it 'leaves the JVM alone when turned off' do
      run = kafka_run(BROKER_2) { |node| node.normal['kafka-cluster']['jmx_exporter']['enabled'] = false }
      expect(run.systemd_unit('kafka.service').content['Service']['Environment'].join).not_to include('KAFKA_OPTS')
      expect(run).not_to install_jmx_exporter_javaagent('/etc/kafka/jmx_exporter.yaml')
    end

    it 'refuses a checksum that is not a sha256 in hex, naming its attribute' do
      expect { kafka_run(BROKER_2) { |node| node.normal['kafka-cluster']['jmx_exporter']['sha256'] = 'ab' * 64 } }
        .to raise_error(RuntimeError, /\Akafka-cluster: node\['kafka-cluster'\]\['jmx_exporter'\]\['sha256'\] "#{'ab' * 64}" is not a sha256 hex/)
    end
  end

  it 'refuses to run without the identity the wrapper provides' do
    expect { kafka_run(BROKER_2.merge('broker.id' => nil)) }
      .to raise_error(RuntimeError, /\['broker\.id'\] is not set; the wrapper cookbook sets it/)
  end
end

describe KafkaCluster::Helpers do
  it 'sorts properties so the file changes only when a value does' do
    expect(described_class.properties_lines('b' => 1, 'a' => 'x')).to eq(%w(a=x b=1))
  end
end

describe 'kafka_cluster_registered' do
  include_context 'a mounted data volume'
  def checked_run(zookeeper_answer)
    allow_any_instance_of(Chef::Provider).to receive(:sleep)
    allow_any_instance_of(Chef::Provider).to receive(:shell_out)
      .with('/opt/kafka/current/bin/zookeeper-shell.sh', BROKER_2['zookeeper.connect'], 'ls', '/brokers/ids',
            environment: { 'LOG_DIR' => '/var/log/kafka' }, timeout: 90)
      .and_return(double(stdout: zookeeper_answer))
    ChefSpec::SoloRunner.new(step_into: ['kafka_cluster_registered']) do |node|
      node.normal['kafka-cluster']['tls']['enabled'] = false
      BROKER_2.each { |key, value| node.normal['kafka-cluster']['config']['properties'][key] = value }
      node.normal['kafka-cluster']['health_retries'] = 3
    end.converge('kafka-cluster::default')
  end

  it 'passes once the broker id is among those registered, changing nothing' do
    expect { checked_run("Connecting\n[1, 2, 3]\n") }.not_to raise_error
  end

  it 'fails the run, naming the broker and what is registered, when the broker never registers' do
    expect { checked_run("Connecting\n[1, 3]\n") }
      .to raise_error(/broker 2 did not register in ZooKeeper .* after 3 attempts; registered: 1, 3/)
  end
end

CLUSTER_ID = 'MkU3OEVBNTcwNTJENDM2Qg'.freeze
VOTERS = '1@10.0.16.5:9093,2@10.0.32.6:9093,3@10.0.48.7:9093'.freeze
KRAFT = { 'mode' => 'kraft', 'cluster_id' => CLUSTER_ID }.freeze
DEDICATED_VOTERS = '1001@10.0.16.5:9093,1002@10.0.32.6:9093,1003@10.0.48.7:9093'.freeze

# What insight-kafka-cluster gives a KRaft node; `roles` and `listeners` differ per kind of node.
def kraft_properties(node_id, address, roles)
  listeners = []
  listeners << "PLAINTEXT://#{address}:9092" if roles.include?('broker')
  listeners << "CONTROLLER://#{address}:9093" if roles.include?('controller')
  {
    'node.id' => node_id,
    'process.roles' => roles.join(','),
    'controller.quorum.voters' => VOTERS,
    'controller.listener.names' => 'CONTROLLER',
    'listener.security.protocol.map' => 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'listeners' => listeners.join(','),
  }
end

COMBINED_2 = kraft_properties(2, '10.0.32.6', %w(broker controller)).freeze

describe 'kafka-cluster::default in KRaft mode' do
  include_context 'a mounted data volume'
  context 'on a combined broker and controller' do
    cached(:chef_run) { kafka_run(COMBINED_2, kraft: KRAFT) }
    let(:format) { chef_run.execute("format /data/kafka for KRaft cluster #{CLUSTER_ID}") }

    it 'renders the KRaft identity and quorum, and none of ZooKeeper\'s settings' do
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
        expect(content).to include(
          "node.id=2\n", "process.roles=broker,controller\n", "controller.quorum.voters=#{VOTERS}\n",
          "controller.listener.names=CONTROLLER\n", "listeners=PLAINTEXT://10.0.32.6:9092,CONTROLLER://10.0.32.6:9093\n",
          "log.dirs=/data/kafka\n"
        )
        expect(content).not_to match(/^(zookeeper\.|broker\.id=)/)
      }
    end

    it 'formats the log directory with the cluster id as the kafka user, once, after writing server.properties' do
      expect(chef_run).to run_execute("format /data/kafka for KRaft cluster #{CLUSTER_ID}").with(
        command: ['/opt/kafka/current/bin/kafka-storage.sh', 'format', "--cluster-id=#{CLUSTER_ID}", '--config', '/etc/kafka/server.properties', '--ignore-formatted'],
        user: 'kafka', environment: { 'LOG_DIR' => '/var/log/kafka' }
      )
      names = chef_run.resource_collection.map(&:to_s)
      expect(names.index("execute[#{format.name}]")).to be > names.index('template[/etc/kafka/server.properties]')
      expect(names.index("execute[#{format.name}]")).to be < names.index('service[kafka]')
    end

    it 'downloads Kafka 4 from the same mirrors' do
      run = kafka_run(COMBINED_2, kraft: KRAFT.merge('version' => '4.3.1'))
      expect(run).to create_remote_file("#{Chef::Config[:file_cache_path]}/kafka_2.13-4.3.1.tgz")
        .with(source: %w(https://dlcdn.apache.org/kafka/4.3.1/kafka_2.13-4.3.1.tgz https://archive.apache.org/dist/kafka/4.3.1/kafka_2.13-4.3.1.tgz))
    end

    it 'checks through its controller listener that the quorum has a leader, then that the broker serves with its id' do
      expect(chef_run).to check_kafka_cluster_quorum('the controller quorum has a leader, seen from node 2').with(
        metadata_quorum: '/opt/kafka/current/bin/kafka-metadata-quorum.sh', endpoint: ['--bootstrap-controller', '10.0.32.6:9093'], attempts: 60
      )
      expect(chef_run).to check_kafka_cluster_registered('broker 2 is registered with the controllers')
        .with(broker_id: 2, mode: 'kraft', bootstrap_server: '10.0.32.6:9092')
    end

    it 'checks both again right after a restart, so the converge rolls on only once the node is back' do
      ['the controller quorum has a leader, seen from node 2', 'broker 2 is registered with the controllers'].each do |name|
        type = name.start_with?('broker') ? :kafka_cluster_registered : :kafka_cluster_quorum
        check = chef_run.find_resource(type, "#{name} after its restart")
        expect(check).to do_nothing
        expect(check).to subscribe_to('service[kafka]').on(:check).immediately
      end
    end

    it 'gives the health checks\' clients short timeouts, so one slow call never outlasts the check' do
      expect(chef_run).to create_file('/etc/kafka/tools.properties').with(
        content: "default.api.timeout.ms=10000\nrequest.timeout.ms=5000\n", owner: 'root', group: 'kafka', mode: '0640'
      )
      expect(chef_run).to create_file('/etc/kafka/controller-tools.properties').with(
        content: "default.api.timeout.ms=10000\nrequest.timeout.ms=5000\nsecurity.protocol=PLAINTEXT\n", owner: 'root', group: 'kafka', mode: '0640'
      )
      expect(chef_run).to check_kafka_cluster_quorum('the controller quorum has a leader, seen from node 2').with(command_config: '/etc/kafka/controller-tools.properties')
    end

    it 'names its roles in the unit' do
      expect(chef_run.systemd_unit('kafka.service').content['Unit']['Description']).to eq('Apache Kafka (KRaft broker and controller)')
    end
  end

  context 'on a broker that is not a controller' do
    cached(:chef_run) { kafka_run(kraft_properties(4, '10.0.16.8', %w(broker)), kraft: KRAFT) }

    it 'asks the quorum through its own broker listener' do
      expect(chef_run).to check_kafka_cluster_quorum('the controller quorum has a leader, seen from node 4')
        .with(endpoint: ['--bootstrap-server', '10.0.16.8:9092'])
      expect(chef_run).to check_kafka_cluster_registered('broker 4 is registered with the controllers')
    end
  end

  context 'on a dedicated controller' do
    # Kafka refuses a controller missing from the voters it is given.
    cached(:chef_run) { kafka_run(kraft_properties(1001, '10.0.16.5', %w(controller)).merge('controller.quorum.voters' => DEDICATED_VOTERS), kraft: KRAFT) }

    it 'checks the quorum only: no broker registers from here' do
      expect(chef_run).to check_kafka_cluster_quorum('the controller quorum has a leader, seen from node 1001')
        .with(endpoint: ['--bootstrap-controller', '10.0.16.5:9093'])
      expect(chef_run.find_resources(:kafka_cluster_registered)).to eq([])
    end
  end

  context 'with a log directory already formatted' do
    it 'never formats it again (a re-converge, a reboot or a replaced instance on the same volume)' do
      Dir.mktmpdir do |dir|
        File.write("#{dir}/meta.properties", "cluster.id=#{CLUSTER_ID}\nnode.id=2\nversion=1\n")
        run = kafka_run(COMBINED_2, kraft: KRAFT.merge('data_dir' => dir))
        expect(run).not_to run_execute("format #{dir} for KRaft cluster #{CLUSTER_ID}")
      end
    end

    it 'stops before changing anything when the directory belongs to another cluster' do
      Dir.mktmpdir do |dir|
        File.write("#{dir}/meta.properties", "cluster.id=AAAAAAAAAAAAAAAAAAAAAQ\nnode.id=2\n")
        expect { kafka_run(COMBINED_2, kraft: KRAFT.merge('data_dir' => dir)) }.to raise_error(
          RuntimeError, %r{#{dir}/meta\.properties belongs to cluster AAAAAAAAAAAAAAAAAAAAAQ, not this cluster's #{CLUSTER_ID}}
        )
      end
    end
  end

  it 'refuses a cluster id that is not 22 base64url characters' do
    expect { kafka_run(COMBINED_2, kraft: KRAFT.merge('cluster_id' => 'not-a-cluster-id')) }
      .to raise_error(RuntimeError, /\['cluster_id'\] "not-a-cluster-id" is not a Kafka cluster id/)
    expect { kafka_run(COMBINED_2, kraft: KRAFT.merge('cluster_id' => nil)) }.to raise_error(RuntimeError, /\['cluster_id'\] nil is not/)
  end

  it 'refuses to run without the KRaft identity the wrapper provides' do
    expect { kafka_run(COMBINED_2.merge('controller.quorum.voters' => nil), kraft: KRAFT) }
      .to raise_error(RuntimeError, /\['controller\.quorum\.voters'\] is not set; the wrapper cookbook sets it/)
  end

  it 'refuses a mode it does not know' do
    expect { kafka_run(COMBINED_2, kraft: { 'mode' => 'kraf' }) }.to raise_error(RuntimeError, /\['mode'\] "kraf" is not 'zookeeper' or 'kraft'/)
  end
end

# A dynamic (KIP-853) quorum: the wrapper gives controller.quorum.bootstrap.servers instead of the voters.
BOOTSTRAP_SERVERS = '10.0.16.5:9093,10.0.32.6:9093,10.0.48.7:9093'.freeze
INITIAL_CONTROLLERS = '1@10.0.16.5:9093:K90IZ-0DRNazJ49kCZ1EMQ,2@10.0.32.6:9093:aUARLskQTCW4qCZDtS_cwA,3@10.0.48.7:9093:2ggvsS4kQb-fSJ_-zC_Ang'.freeze
def dynamic_properties(node_id, address, roles)
  kraft_properties(node_id, address, roles).reject { |key, _| key == 'controller.quorum.voters' }.merge('controller.quorum.bootstrap.servers' => BOOTSTRAP_SERVERS)
end

describe 'kafka-cluster::default with a dynamic KRaft quorum' do
  include_context 'a mounted data volume'
  let(:storage) { '/opt/kafka/current/bin/kafka-storage.sh' }
  let(:base) { [storage, 'format', "--cluster-id=#{CLUSTER_ID}", '--config', '/etc/kafka/server.properties', '--ignore-formatted'] }

  context 'on an initial controller of a cluster being created' do
    cached(:chef_run) { kafka_run(dynamic_properties(2, '10.0.32.6', %w(broker controller)), kraft: KRAFT.merge('initial_controllers' => INITIAL_CONTROLLERS)) }

    it 'renders the bootstrap servers and no static voters' do
      expect(chef_run).to render_file('/etc/kafka/server.properties').with_content { |content|
        expect(content).to include("controller.quorum.bootstrap.servers=#{BOOTSTRAP_SERVERS}\n", "process.roles=broker,controller\n")
        expect(content).not_to include('controller.quorum.voters')
      }
    end

    it 'formats once with every initial controller and its directory id, the same on each of them' do
      expect(chef_run).to run_execute("format /data/kafka for KRaft cluster #{CLUSTER_ID}")
        .with(command: base + ["--initial-controllers=#{INITIAL_CONTROLLERS}"], user: 'kafka')
    end
  end

  context 'on a broker, or a controller joining a running quorum' do
    cached(:chef_run) { kafka_run(dynamic_properties(4, '10.0.16.8', %w(broker controller)), kraft: KRAFT) }

    it 'formats with no initial controllers: it starts as an observer until it is added' do
      expect(chef_run).to run_execute("format /data/kafka for KRaft cluster #{CLUSTER_ID}").with(command: base + ['--no-initial-controllers'])
    end
  end

  it 'formats a static quorum\'s node exactly as before: no dynamic quorum flag' do
    run = kafka_run(COMBINED_2, kraft: KRAFT)
    expect(run).to run_execute("format /data/kafka for KRaft cluster #{CLUSTER_ID}").with(command: base)
  end

  it 'never formats a node that holds meta.properties again, initial controller or not' do
    Dir.mktmpdir do |dir|
      File.write("#{dir}/meta.properties", "cluster.id=#{CLUSTER_ID}\nnode.id=2\ndirectory.id=aUARLskQTCW4qCZDtS_cwA\nversion=1\n")
      run = kafka_run(dynamic_properties(2, '10.0.32.6', %w(broker controller)), kraft: KRAFT.merge('data_dir' => dir, 'initial_controllers' => INITIAL_CONTROLLERS))
      expect(run).not_to run_execute("format #{dir} for KRaft cluster #{CLUSTER_ID}")
    end
  end

  it 'refuses both the static voters and the bootstrap servers, and initial controllers it cannot format with' do
    expect { kafka_run(dynamic_properties(2, '10.0.32.6', %w(controller)).merge('controller.quorum.voters' => VOTERS), kraft: KRAFT) }
      .to raise_error(RuntimeError, /sets both controller\.quorum\.voters and controller\.quorum\.bootstrap\.servers/)
    expect { kafka_run(dynamic_properties(2, '10.0.32.6', %w(controller)), kraft: KRAFT.merge('initial_controllers' => '1@10.0.16.5:9093')) }
      .to raise_error(RuntimeError, /\['initial_controllers'\] "1@10\.0\.16\.5:9093" is not id@host:port:directory-id/)
    expect { kafka_run(COMBINED_2, kraft: KRAFT.merge('initial_controllers' => INITIAL_CONTROLLERS)) }
      .to raise_error(RuntimeError, /is not for a static quorum: controller\.quorum\.voters fixes its voters/)
  end

  it 'reads --initial-controllers as kafka-storage.sh does: id@host:port:directory-id, comma-separated' do
    expect(KafkaCluster::Helpers.initial_controllers?(INITIAL_CONTROLLERS)).to be(true)
    expect(KafkaCluster::Helpers.initial_controllers?('1@10.0.16.5:9093:K90IZ-0DRNazJ49kCZ1EMQ,')).to be(false)
    expect(KafkaCluster::Helpers.initial_controllers?('x@10.0.16.5:9093:K90IZ-0DRNazJ49kCZ1EMQ')).to be(false)
    expect(KafkaCluster::Helpers.initial_controllers?('')).to be(false)
  end
end

describe 'kafka_cluster_quorum' do
  include_context 'a mounted data volume'
  # Each answer is one attempt's: a string is what the tool printed, :timeout a run that hung.
  def quorum_run(*answers)
    allow_any_instance_of(Chef::Provider).to receive(:sleep)
    allow_any_instance_of(Chef::Provider).to receive(:shell_out).and_call_original
    attempts = answers.map do |answer|
      -> { answer == :timeout ? raise(Mixlib::ShellOut::CommandTimeout, 'Command timed out after 90s') : double(stdout: answer, stderr: '') }
    end
    allow_any_instance_of(Chef::Provider).to receive(:shell_out)
      .with('/opt/kafka/current/bin/kafka-metadata-quorum.sh', '--bootstrap-controller', '10.0.32.6:9093',
            '--command-config', '/etc/kafka/controller-tools.properties', 'describe', '--status',
            environment: { 'LOG_DIR' => '/var/log/kafka' }, timeout: 90) { (attempts.size > 1 ? attempts.shift : attempts.first).call }
    kafka_run(COMBINED_2, kraft: KRAFT, step_into: ['kafka_cluster_quorum']) do |node|
      node.normal['kafka-cluster']['quorum_retries'] = 2
      # Formatted already: the format would run the real tool.
      node.normal['kafka-cluster']['data_dir'] = Dir.mktmpdir.tap { |dir| File.write("#{dir}/meta.properties", "cluster.id=#{CLUSTER_ID}\n") }
    end
  end

  it 'passes once the quorum reports a leader' do
    expect { quorum_run("ClusterId:              #{CLUSTER_ID}\nLeaderId:               3\nLeaderEpoch:            7\n") }.not_to raise_error
  end

  it 'fails the run with what the tool said last when no leader is elected' do
    expect { quorum_run("ClusterId:              #{CLUSTER_ID}\nLeaderId:               -1\n") }
      .to raise_error(/no controller quorum leader seen through --bootstrap-controller 10\.0\.32\.6:9093 after 2 attempts \(last answer: LeaderId:\s+-1\)/)
  end

  it 'counts a run of the tool that hangs as one failed attempt, and goes on trying' do
    expect { quorum_run(:timeout, "LeaderId:               1\n") }.not_to raise_error
    expect { quorum_run(:timeout) }.to raise_error(/after 2 attempts \(last answer: timed out: Command timed out after 90s\)/)
  end
end

describe KafkaCluster::Helpers do
  it 'reads the leader from kafka-metadata-quorum describe --status, and none while it is -1' do
    expect(described_class.quorum_leader_id("ClusterId:              x\nLeaderId:               1002\nLeaderEpoch:            3\n")).to eq(1002)
    expect(described_class.quorum_leader_id("LeaderId:               -1\n")).to be_nil
    expect(described_class.quorum_leader_id('org.apache.kafka.common.errors.TimeoutException: Timed out')).to be_nil
  end

  it 'reads the live broker ids from kafka-broker-api-versions' do
    output = "10.0.16.5:9092 (id: 1 rack: us-west-2a isFenced: false) -> (\n\tProduce(0): 0 to 13 [usable: 13],\n)\n" \
             "10.0.32.6:9092 (id: 2 rack: us-west-2b isFenced: false) -> (\n)\n"
    expect(described_class.api_versions_broker_ids(output)).to eq([1, 2])
    expect(described_class.api_versions_broker_ids('Connection to node -1 could not be established')).to eq([])
  end

  it 'takes only a 16-byte Kafka Uuid as a cluster id' do
    expect(described_class.cluster_id?(CLUSTER_ID)).to be(true)
    expect(described_class.cluster_id?('-' + CLUSTER_ID[1..])).to be(true)
    expect(described_class.cluster_id?(CLUSTER_ID[0..-2])).to be(false)
    # 22 characters whose last one carries bits beyond the 16 bytes: not what Kafka prints.
    expect(described_class.cluster_id?(CLUSTER_ID[0..-2] + 'B')).to be(false)
    # Standard base64's / and + are not base64url.
    expect(described_class.cluster_id?('MkU3OEVBNTcwNTJENDM2/g')).to be(false)
  end

  it 'reads a key of meta.properties, and nothing from a directory never formatted' do
    Dir.mktmpdir do |dir|
      File.write("#{dir}/meta.properties", "#\n#Thu Nov 26\nnode.id=2\ncluster.id=#{CLUSTER_ID}\n")
      expect(described_class.meta_property("#{dir}/meta.properties", 'cluster.id')).to eq(CLUSTER_ID)
      expect(described_class.meta_property("#{dir}/absent.properties", 'cluster.id')).to be_nil
    end
  end
end

describe 'kafka_cluster_registered in KRaft mode' do
  include_context 'a mounted data volume'
  def registered_run(answer)
    allow_any_instance_of(Chef::Provider).to receive(:sleep)
    allow_any_instance_of(Chef::Provider).to receive(:shell_out).and_call_original
    allow_any_instance_of(Chef::Provider).to receive(:shell_out)
      .with('/opt/kafka/current/bin/kafka-broker-api-versions.sh', '--bootstrap-server', '10.0.16.8:9092',
            '--command-config', '/etc/kafka/tools.properties', environment: { 'LOG_DIR' => '/var/log/kafka' }, timeout: 90)
      .and_return(double(stdout: answer))
    kafka_run(kraft_properties(4, '10.0.16.8', %w(broker)), kraft: KRAFT, step_into: ['kafka_cluster_registered']) do |node|
      node.normal['kafka-cluster']['health_retries'] = 2
      node.normal['kafka-cluster']['data_dir'] = Dir.mktmpdir.tap { |dir| File.write("#{dir}/meta.properties", "cluster.id=#{CLUSTER_ID}\n") }
    end
  end

  it 'passes once the broker answers with its own id' do
    expect { registered_run("10.0.16.8:9092 (id: 4 rack: us-west-2a isFenced: false) -> (\n)\n") }.not_to raise_error
  end

  it 'fails the run, naming the broker and who answered, when it never does' do
    expect { registered_run("10.0.16.5:9092 (id: 1 rack: us-west-2a isFenced: false) -> (\n)\n") }
      .to raise_error(/broker 4 did not register with the controllers \(asked through 10\.0\.16\.8:9092\) after 2 attempts; registered: 1/)
  end
end

# Disks and log files: the data volume check, the filesystem grown to its device, Kafka's own logs bounded.
ROOT_FS = { source: '/dev/root', fstype: 'ext4' }.freeze
DATA_FS = { source: '/dev/nvme1n1', fstype: 'xfs' }.freeze

def mount_table(table)
  allow(KafkaCluster::Helpers).to receive(:read_mounts).and_return(table)
  allow(KafkaCluster::Helpers).to receive(:label_device).with('kafka-data').and_return(table.key(DATA_FS) && DATA_FS[:source])
end

describe 'kafka-cluster::default on its data volume' do
  before { mount_table('/' => ROOT_FS, '/data/kafka' => DATA_FS) }

  context 'mounted at the data directory' do
    cached(:chef_run) { kafka_run(BROKER_2) }

    it 'runs, and its unit refuses to start the broker unless the directory is still a mount point' do
      unit = chef_run.systemd_unit('kafka.service').content
      expect(unit['Unit']['RequiresMountsFor']).to eq('/data/kafka')
      expect(unit['Service']['ExecStartPre']).to eq(['/usr/bin/mountpoint /data/kafka'])
    end

    it 'keeps its filesystem grown to the volume' do
      expect(chef_run).to grow_kafka_cluster_filesystem('/data/kafka').with(threshold_mb: 64)
    end
  end

  it 'stops before changing anything when the data directory moved off the volume (kafka.dataPath changed on a running node)' do
    error = nil
    expect { kafka_run(BROKER_2) { |node| node.normal['kafka-cluster']['data_dir'] = '/data/new' } }.to raise_error(RuntimeError) { |raised| error = raised }
    expect(error.message).to eq(
      'kafka-cluster: log.dirs /data/new is not a mount point but a directory of the filesystem at /, where Kafka would start on an empty log; ' \
      "the data volume is mounted at /data/kafka: set kafka.dataPath (node['kafka-cluster']['data_dir']) back to /data/kafka, " \
      'or move the volume as docs/kafka.md "Disks and log files" describes'
    )
    # Raised while the recipe compiles: no resource, server.properties and the unit included, ran.
    expect(error.backtrace.grep(/cookbook_compiler/)).not_to be_empty
    expect(error.backtrace.grep(%r{chef/runner\.rb})).to be_empty
  end

  it 'stops a KRaft node too, before its log directory is formatted on the root volume' do
    expect { kafka_run(COMBINED_2, kraft: KRAFT.merge('data_dir' => '/data/new')) }
      .to raise_error(RuntimeError, %r{log\.dirs /data/new is not a mount point.*set kafka\.dataPath .* back to /data/kafka})
  end

  it 'says to mount the volume when none is mounted' do
    mount_table('/' => ROOT_FS)
    expect { kafka_run(BROKER_2) }.to raise_error(RuntimeError, %r{log\.dirs /data/kafka is not a mount point.*no filesystem labelled kafka-data is mounted: mount the data volume at /data/kafka})
  end

  it 'refuses a data directory that is another filesystem\'s mount point, not the data volume\'s' do
    mount_table('/' => ROOT_FS, '/data/kafka' => DATA_FS, '/boot/efi' => { source: '/dev/nvme0n1p15', fstype: 'vfat' })
    expect { kafka_run(BROKER_2) { |node| node.normal['kafka-cluster']['data_dir'] = '/boot/efi' } }.to raise_error(
      RuntimeError, %r{log\.dirs /boot/efi is mounted from /dev/nvme0n1p15, not from the data volume \(labelled kafka-data\), which is mounted at /data/kafka: set kafka\.dataPath .* back to /data/kafka}
    )
  end

  it 'accepts log directories inside the data volume, and refuses one beside it on the root volume' do
    inside = kafka_run(BROKER_2.merge('log.dirs' => '/data/kafka/a,/data/kafka/b'))
    expect(inside.systemd_unit('kafka.service').content['Unit']['RequiresMountsFor']).to eq('/data/kafka')
    expect { kafka_run(BROKER_2.merge('log.dirs' => '/data/kafka,/var/lib/kafka')) }.to raise_error(RuntimeError, %r{log\.dirs /var/lib/kafka is not a mount point})
  end
end

describe 'kafka_cluster_filesystem' do
  XFS_INFO = <<~REPORT.freeze
    meta-data=/dev/nvme1n1           isize=512    agcount=4, agsize=6553600 blks
             =                       sectsz=512   attr=2, projid32bit=1
             =                       crc=1        finobt=1, sparse=1, rmapbt=0
             =                       reflink=1    bigtime=0 inobtcount=0
    data     =                       bsize=4096   blocks=26214400, imaxpct=25
             =                       sunit=0      swidth=0 blks
    naming   =version 2              bsize=4096   ascii-ci=0, ftype=1
    log      =internal log           bsize=4096   blocks=12800, version=2
             =                       sectsz=512   sunit=0 blks, lazy-count=1
    realtime =none                   extsz=4096   blocks=0, rtextents=0
  REPORT
  GIB = 1024**3

  def grown_run(device_bytes, fstype: 'xfs')
    mount_table('/' => ROOT_FS, '/data/kafka' => DATA_FS.merge(fstype: fstype))
    allow_any_instance_of(Chef::Provider).to receive(:shell_out!).and_call_original
    allow_any_instance_of(Chef::Provider).to receive(:shell_out!).with('blockdev', '--getsize64', '/dev/nvme1n1').and_return(double(stdout: "#{device_bytes}\n"))
    allow_any_instance_of(Chef::Provider).to receive(:shell_out!).with('xfs_info', '/data/kafka').and_return(double(stdout: XFS_INFO))
    allow_any_instance_of(Chef::Provider).to receive(:shell_out!).with('xfs_growfs', '-d', '/data/kafka').and_return(double(stdout: ''))
    kafka_run(BROKER_2, step_into: ['kafka_cluster_filesystem'])
  end

  def grows?(run)
    run.find_resource(:kafka_cluster_filesystem, '/data/kafka').updated_by_last_action?
  end

  it 'grows the filesystem online once its volume was grown (100 GiB filesystem on a 150 GiB device)' do
    run = grown_run(150 * GIB)
    expect(grows?(run)).to be(true)
  end

  it 'changes nothing when the filesystem already fills its device' do
    run = grown_run(100 * GIB)
    expect(grows?(run)).to be(false)
  end

  it 'leaves alone the few blocks at the end XFS does not use' do
    expect(grows?(grown_run(100 * GIB + 1024**2))).to be(false)
  end

  it 'only warns about a filesystem it does not know how to grow' do
    allow(Chef::Log).to receive(:warn)
    run = grown_run(150 * GIB, fstype: 'ext4')
    expect(grows?(run)).to be(false)
    expect(Chef::Log).to have_received(:warn).with(%r{/data/kafka is ext4, not xfs; grow it by hand})
  end
end

describe 'kafka-cluster::default log files' do
  include_context 'a mounted data volume'

  context 'with Kafka 3.9.1 (reload4j)' do
    cached(:chef_run) { kafka_run(BROKER_2) }

    it 'rolls each of Kafka\'s files at 100 MB and keeps 4 old copies' do
      expect(chef_run).to render_file('/etc/kafka/log4j.properties').with_content { |content|
        %w(server state-change kafka-request log-cleaner controller kafka-authorizer).each do |name|
          appender = content[%r{^log4j\.appender\.(\w+)\.File=/var/log/kafka/#{name}\.log$}, 1]
          expect(appender).not_to be_nil, "no appender writes #{name}.log"
          expect(content).to include(
            "log4j.appender.#{appender}=org.apache.log4j.RollingFileAppender\n",
            "log4j.appender.#{appender}.MaxFileSize=100MB\n", "log4j.appender.#{appender}.MaxBackupIndex=4\n"
          )
        end
        expect(content).not_to include('DailyRollingFileAppender')
        expect(content).to include("log4j.rootLogger=INFO, stdout, kafkaAppender\n", "log4j.logger.kafka.log.LogCleaner=INFO, cleanerAppender\n",
                                   "log4j.logger.kafka.controller=TRACE, controllerAppender\n", "log4j.logger.state.change.logger=INFO, stateChangeAppender\n")
      }
      expect(chef_run).not_to render_file('/etc/kafka/log4j2.yaml')
    end

    it 'points the broker at that file and bounds its GC log, restarting it when the file changes' do
      environment = chef_run.systemd_unit('kafka.service').content['Service']['Environment']
      expect(environment).to include('KAFKA_LOG4J_OPTS=-Dlog4j.configuration=file:/etc/kafka/log4j.properties', 'LOG_DIR=/var/log/kafka',
                                     'KAFKA_GC_LOG_OPTS=-Xlog:gc*:file=/var/log/kafka/kafkaServer-gc.log:time,tags:filecount=5,filesize=20M')
      expect(chef_run.template('/etc/kafka/log4j.properties')).to notify('service[kafka]').to(:restart).delayed
    end
  end

  context 'with Kafka 4.3.1 (Log4j 2)' do
    cached(:chef_run) { kafka_run(COMBINED_2, kraft: KRAFT.merge('version' => '4.3.1', 'data_dir' => Dir.mktmpdir.tap { |dir| File.write("#{dir}/meta.properties", "cluster.id=#{CLUSTER_ID}\n") })) }

    it 'rolls each of Kafka\'s files at 100 MB and keeps 4 old copies, in a Log4j 2 YAML file' do
      expect(chef_run).to render_file('/etc/kafka/log4j2.yaml').with_content { |content|
        config = YAML.safe_load(content)['Configuration']
        files = config['Appenders']['RollingFile']
        expect(files.map { |appender| appender['fileName'] }).to match_array(
          %w(server state-change kafka-request log-cleaner controller kafka-authorizer).map { |name| "/var/log/kafka/#{name}.log" }
        )
        files.each do |appender|
          expect(appender).to include('filePattern' => "#{appender['fileName']}.%i",
                                      'Policies' => { 'SizeBasedTriggeringPolicy' => { 'size' => '100 MB' } },
                                      'DefaultRolloverStrategy' => { 'max' => 4, 'fileIndex' => 'min' })
        end
        expect(config['Loggers']['Root']['AppenderRef']).to eq([{ 'ref' => 'STDOUT' }, { 'ref' => 'KafkaAppender' }])
        cleaner = config['Loggers']['Logger'].select { |logger| logger.dig('AppenderRef', 'ref') == 'CleanerAppender' }.map { |logger| logger['name'] }
        expect(cleaner).to eq(%w(LogCleaner LogCleaner$CleanerThread Cleaner).map { |name| "org.apache.kafka.storage.internals.log.#{name}" })
        expect(config['Loggers']['Logger'].map { |logger| logger['name'] }).not_to include('kafka.controller', 'kafka.log.LogCleaner')
      }
      expect(chef_run).not_to render_file('/etc/kafka/log4j.properties')
    end

    it 'points the broker at the Log4j 2 file' do
      environment = chef_run.systemd_unit('kafka.service').content['Service']['Environment']
      expect(environment).to include('KAFKA_LOG4J_OPTS=-Dlog4j2.configurationFile=/etc/kafka/log4j2.yaml')
      expect(chef_run.template('/etc/kafka/log4j2.yaml')).to notify('service[kafka]').to(:restart).delayed
    end
  end

  it 'deletes the hourly files of Kafka\'s own configuration and GC logs beyond the count, nothing else' do
    Dir.mktmpdir do |dir|
      kept = %w(server.log server.log.1 controller.log.4 kafkaServer-gc.log kafkaServer-gc.log.0 kafkaServer-gc.log.4 kafkaServer.out)
      stale = %w(server.log.2026-12-05-13 stage-change.log.2026-01-02-03 kafkaServer-gc.log.5 kafkaServer-gc.log.9)
      (kept + stale).each { |name| File.write("#{dir}/#{name}", '') }
      run = kafka_run(BROKER_2) { |node| node.normal['kafka-cluster']['log_dir'] = dir }
      stale.each { |name| expect(run).to delete_file("#{dir}/#{name}") }
      expect(run.find_resources(:file).select { |resource| resource.action == [:delete] }.map(&:name)).to match_array(stale.map { |name| "#{dir}/#{name}" })
    end
  end

  it 'refuses a log bound that is not a whole number of at least 1' do
    expect { kafka_run(BROKER_2) { |node| node.normal['kafka-cluster']['log_file_backups'] = 0 } }
      .to raise_error(RuntimeError, /\['log_file_backups'\] 0 is not a whole number of at least 1/)
  end
end

describe KafkaCluster::Helpers do
  it 'reads mount points, their device and filesystem from /proc/self/mountinfo, escapes decoded' do
    mountinfo = <<~INFO
      26 1 259:1 / / rw,relatime shared:1 - ext4 /dev/root rw,discard,errors=remount-ro
      31 26 259:4 / /data/kafka rw,noatime shared:17 - xfs /dev/nvme1n1 rw,attr2,inode64,logbufs=8,noquota
      32 26 0:30 / /mnt/with\\040space rw shared:18 - tmpfs tmpfs rw
    INFO
    expect(described_class.mounts(mountinfo)).to eq(
      '/' => { source: '/dev/root', fstype: 'ext4' },
      '/data/kafka' => { source: '/dev/nvme1n1', fstype: 'xfs' },
      '/mnt/with space' => { source: 'tmpfs', fstype: 'tmpfs' }
    )
  end

  it 'finds the device a filesystem label names, and none for a label no filesystem has' do
    Dir.mktmpdir do |dir|
      File.write("#{dir}/nvme1n1", '')
      File.symlink("#{dir}/nvme1n1", "#{dir}/kafka-data")
      expect(described_class.label_device('kafka-data', dir)).to eq(File.realpath("#{dir}/nvme1n1"))
      expect(described_class.label_device('other', dir)).to be_nil
    end
  end

  it 'takes a data directory mounted from the labelled volume, wherever else that volume is also mounted' do
    table = { '/' => ROOT_FS, '/srv/bind' => DATA_FS, '/data/kafka' => DATA_FS }
    expect(described_class.data_volume_problem('/data/kafka', ['/data/kafka'], table, '/dev/nvme1n1')).to be_nil
    expect(described_class.data_volume_problem('/data/kafka', ['/data/kafka'], table, nil)).to be_nil
  end

  it 'reads the data section\'s size from xfs_info' do
    expect(described_class.xfs_data_bytes(XFS_INFO)).to eq(4096 * 26_214_400)
    expect(described_class.xfs_data_bytes('xfs_info: /data/kafka is not a mounted XFS filesystem')).to be_nil
  end

  it 'tells Kafka 4\'s Log4j 2 from Kafka 3\'s reload4j by the major version' do
    expect(described_class.log4j2?('3.9.1')).to be(false)
    expect(described_class.log4j2?('4.3.1')).to be(true)
    expect(described_class.log4j2?('10.0.0')).to be(true)
  end
end
