require_relative '../../spec_helper'
require_relative '../libraries/helpers'
require 'tempfile'

def kafka_run(properties, sha512: nil)
  ChefSpec::SoloRunner.new do |node|
    properties.each { |key, value| node.normal['kafka-cluster']['config']['properties'][key] = value }
    node.normal['kafka-cluster']['sha512'] = sha512 if sha512
  end.converge('kafka-cluster::default')
end

BROKER_2 = {
  'broker.id' => 2,
  'zookeeper.connect' => '10.0.16.5:2181,10.0.32.6:2181,10.0.16.7:2181/kafka',
  'listeners' => 'PLAINTEXT://10.0.32.6:9092',
  'advertised.listeners' => 'PLAINTEXT://10.0.32.6:9092',
}.freeze

describe 'kafka-cluster::default' do
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
      .with(broker_id: 2, attempts: 36, zookeeper_shell: '/opt/kafka/current/bin/zookeeper-shell.sh')
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
  def checked_run(zookeeper_answer)
    allow_any_instance_of(Chef::Provider).to receive(:sleep)
    allow_any_instance_of(Chef::Provider).to receive(:shell_out)
      .with('/opt/kafka/current/bin/zookeeper-shell.sh', BROKER_2['zookeeper.connect'], 'ls', '/brokers/ids')
      .and_return(double(stdout: zookeeper_answer))
    ChefSpec::SoloRunner.new(step_into: ['kafka_cluster_registered']) do |node|
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
