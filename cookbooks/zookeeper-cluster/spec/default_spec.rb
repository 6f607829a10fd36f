require_relative '../../spec_helper'
require 'open3'
require 'tempfile'
require 'tmpdir'
require 'fileutils'
require_relative '../libraries/helpers'

# No Chef server here: the members report no quorum TLS stage unless an example says otherwise.
RSpec.configure do |config|
  config.before { allow(ZookeeperCluster::Helpers).to receive(:reported_quorum_tls).and_return({}) }
end

ZK_TEST_SHA512 = 'ab' * 64

def zookeeper_run(ensemble:, myid:, sha512: ZK_TEST_SHA512, attributes: {})
  ChefSpec::SoloRunner.new do |node|
    node.normal['zookeeper-cluster']['sha512'] = sha512
    node.normal['zookeeper-cluster']['ensemble'] = ensemble
    node.normal['zookeeper-cluster']['myid'] = myid
    attributes.each { |key, value| node.normal['zookeeper-cluster'][key] = value }
  end.converge('zookeeper-cluster::default')
end

# Which directories hold ZooKeeper data (a version-2 directory) in the example, whatever this
# machine's own /var/lib/zookeeper holds.
def with_data_in(*dirs)
  allow(ZookeeperCluster::Helpers).to receive(:data?).and_call_original
  allow(ZookeeperCluster::Helpers).to receive(:data?) { |dir| dirs.include?(dir) }
end

# The example's files under /etc/zookeeper ({ path => text }), whatever this machine has there.
def with_files(files = {})
  allow(ZookeeperCluster::Helpers).to receive(:read_text) { |path| files[path] }
end

# What ZooKeeper 3.8 answers `conf` with, on a member of a running ensemble (its tail).
def conf_answer(*addresses)
  "serverId=1\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\npeerType=0\nmembership: \n" +
    addresses.each_with_index.map { |address, index| "server.#{index + 1}=#{address}:2888:3888:participant;0.0.0.0:2181\n" }.join +
    'version=100000004'
end

# zoo.cfg as ZooKeeper leaves it after it took over the dynamic file: its own order, no comment.
ZK_REWRITTEN = <<~CFG.freeze
  standaloneEnabled=false
  skipACL=no
  secureClientPort=2182
  serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
  ssl.clientAuth=need
  ssl.hostnameVerification=true
  ssl.keyStore.location=/etc/zookeeper/tls/keystore.pem
  ssl.keyStore.type=PEM
  ssl.trustStore.location=/etc/zookeeper/tls/truststore.pem
  ssl.trustStore.type=PEM
  authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider
  sslQuorum=true
  ssl.quorum.clientAuth=need
  ssl.quorum.hostnameVerification=true
  ssl.quorum.keyStore.location=/etc/zookeeper/tls/keystore.pem
  ssl.quorum.keyStore.type=PEM
  ssl.quorum.trustStore.location=/etc/zookeeper/tls/truststore.pem
  ssl.quorum.trustStore.type=PEM
  admin.enableServer=false
  dataDir=/var/lib/zookeeper
  tickTime=2000
  initLimit=10
  4lw.commands.whitelist=srvr,ruok,mntr,conf
  syncLimit=5
  maxClientCnxns=60
  autopurge.snapRetainCount=5
  autopurge.purgeInterval=24
  reconfigEnabled=true
  dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic.100000004
CFG

describe 'zookeeper-cluster::default' do
  before do
    allow(ZookeeperCluster::Helpers).to receive(:wait_until_serving).and_return('follower')
    allow(ZookeeperCluster::Helpers).to receive(:serving_peers).and_return([])
    allow(ZookeeperCluster::Helpers).to receive(:live_membership).and_return(nil)
    allow(ZookeeperCluster::Helpers).to receive(:platform_tls).and_return(TestPki.platform_tls)
    with_files
    with_data_in
  end

  context 'as member 2 of a 3-node ensemble' do
    cached(:chef_run) { zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2) }

    it 'installs OpenJDK 17 headless from the OS packages' do
      expect(chef_run).to install_package('openjdk-17-jre-headless')
    end

    it 'creates a system user that cannot log in' do
      expect(chef_run).to create_user('zookeeper').with(system: true, shell: '/usr/sbin/nologin')
    end

    it 'downloads 3.8.4 from the mirror, then the archive, keeping it only if its sha512 matches' do
      tarball = "#{Chef::Config[:file_cache_path]}/apache-zookeeper-3.8.4-bin.tar.gz"
      expect(chef_run).to create_remote_file(tarball).with(
        source: [
          'https://dlcdn.apache.org/zookeeper/zookeeper-3.8.4/apache-zookeeper-3.8.4-bin.tar.gz',
          'https://archive.apache.org/dist/zookeeper/zookeeper-3.8.4/apache-zookeeper-3.8.4-bin.tar.gz',
        ]
      )
      verification = chef_run.remote_file(tarball).verifications.first
      allow(Chef::Log).to receive(:error)
      Tempfile.create('zk') do |file|
        file.write('tampered')
        file.flush
        expect(verification.verify(file.path)).to be(false)
      end
      expect(Chef::Log).to have_received(:error).with(/the download of apache-zookeeper-3\.8\.4-bin\.tar\.gz does not have the pinned sha512 #{ZK_TEST_SHA512}/)
    end

    it 'extracts into a versioned directory and links current to it' do
      expect(chef_run).to extract_archive_file("#{Chef::Config[:file_cache_path]}/apache-zookeeper-3.8.4-bin.tar.gz")
        .with(destination: '/opt/zookeeper/zookeeper-3.8.4', strip_components: 1)
      expect(chef_run).to create_link('/opt/zookeeper/current').with(to: '/opt/zookeeper/zookeeper-3.8.4')
    end

    it 'owns its data and log directories' do
      %w(/var/lib/zookeeper /var/log/zookeeper).each do |dir|
        expect(chef_run).to create_directory(dir).with(owner: 'zookeeper', group: 'zookeeper', mode: '0750')
      end
    end

    it 'writes myid as its position in the ensemble' do
      expect(chef_run).to create_file('/var/lib/zookeeper/myid').with(content: "2\n")
    end

    it 'starts a new ensemble with every member in the dynamic file, and zoo.cfg pointing at it' do
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg.dynamic').with_content(
        "server.1=10.0.16.5:2888:3888:participant;2181\nserver.2=10.0.32.6:2888:3888:participant;2181\nserver.3=10.0.16.7:2888:3888:participant;2181\n"
      )
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg').with_content { |content|
        expect(content).not_to match(/^server\./)
        expect(content).not_to match(/^clientPort=/)
        expect(content).to include("admin.enableServer=false\n", "4lw.commands.whitelist=srvr,ruok,mntr,conf\n", "skipACL=no\n")
        expect(content).to include("reconfigEnabled=true\n", "standaloneEnabled=false\n", "dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic\n")
        expect(content).to include("autopurge.purgeInterval=24\n", "dataDir=/var/lib/zookeeper\n")
      }
    end

    it 'lets ZooKeeper write beside zoo.cfg: reconfig leaves zoo.cfg.dynamic.<version> there and edits zoo.cfg' do
      expect(chef_run).to create_directory('/etc/zookeeper').with(owner: 'zookeeper')
      expect(chef_run).to create_file('/etc/zookeeper/zoo.cfg').with(owner: 'zookeeper')
    end

    it 'restarts the service when zoo.cfg, its dynamic file or myid change' do
      expect(chef_run.file('/etc/zookeeper/zoo.cfg')).to notify('service[zookeeper]').to(:restart).delayed
      expect(chef_run.file('/etc/zookeeper/zoo.cfg.dynamic')).to notify('service[zookeeper]').to(:restart).delayed
      expect(chef_run.file('/var/lib/zookeeper/myid')).to notify('service[zookeeper]').to(:restart).delayed
    end

    it 'runs under systemd as the service user, enabled and started' do
      expect(chef_run).to create_systemd_unit('zookeeper.service')
      expect(chef_run).to enable_systemd_unit('zookeeper.service')
      unit = chef_run.systemd_unit('zookeeper.service').content
      expect(unit['Service']['User']).to eq('zookeeper')
      expect(unit['Service']['ExecStart']).to eq('/opt/zookeeper/current/bin/zkServer.sh start-foreground /etc/zookeeper/zoo.cfg')
      expect(chef_run).to start_service('zookeeper')
    end

    it 'counts the JVM\'s exit on SIGTERM (143) as a clean stop, so systemctl stop does not leave the unit failed' do
      expect(chef_run.systemd_unit('zookeeper.service').content['Service']['SuccessExitStatus']).to eq('143')
    end

    it 'passes the whole heap setting to the JVM: quoted, or systemd would keep only -Xms512m' do
      environment = chef_run.systemd_unit('zookeeper.service').content['Service']['Environment']
      expect(environment.grep(/SERVER_JVMFLAGS/).first).to start_with('"SERVER_JVMFLAGS=-Xms512m -Xmx512m ')
      expect(environment.select { |assignment| assignment.include?(' ') }).to all(start_with('"').and(end_with('"')))
    end

    it 'ends by checking that the member serves' do
      expect(chef_run).to check_zookeeper_cluster_serving('zookeeper is serving').with(port: 2181, timeout: 300)
    end

    it 'checks the member again right after a restart, not only before the delayed restart runs' do
      check = chef_run.find_resource(:zookeeper_cluster_serving, 'zookeeper is serving after its restart')
      expect(check).to do_nothing
      expect(check).to subscribe_to('service[zookeeper]').on(:check).immediately
    end
  end

  context 'with TLS (the default)' do
    cached(:chef_run) { zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2) }
    let(:zoo_cfg) { ZookeeperCluster::Helpers.properties(chef_run.file('/etc/zookeeper/zoo.cfg').content) }

    it 'keeps its own PEM keystore (key, certificate, CA) and truststore (CA), the service user\'s alone, out of the logs' do
      pki = TestPki.material
      expect(chef_run).to create_directory('/etc/zookeeper/tls').with(owner: 'zookeeper', mode: '0700')
      expect(chef_run).to create_file('/etc/zookeeper/tls/keystore.pem')
        .with(content: pki[:key] + pki[:cert] + pki[:ca], owner: 'zookeeper', group: 'zookeeper', mode: '0600', sensitive: true)
      expect(chef_run).to create_file('/etc/zookeeper/tls/truststore.pem').with(content: pki[:ca], owner: 'zookeeper', mode: '0600', sensitive: true)
    end

    it 'restarts the member when a renewed certificate changes its stores' do
      %w(keystore truststore).each do |store|
        expect(chef_run.file("/etc/zookeeper/tls/#{store}.pem")).to notify('service[zookeeper]').to(:restart).delayed
      end
    end

    it 'serves clients on 2182 with a certificate required and authenticated as x509, through Netty' do
      expect(zoo_cfg).to include(
        'secureClientPort' => '2182', 'serverCnxnFactory' => 'org.apache.zookeeper.server.NettyServerCnxnFactory',
        'ssl.clientAuth' => 'need', 'authProvider.x509' => 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
        'ssl.keyStore.location' => '/etc/zookeeper/tls/keystore.pem', 'ssl.keyStore.type' => 'PEM',
        'ssl.trustStore.location' => '/etc/zookeeper/tls/truststore.pem', 'ssl.trustStore.type' => 'PEM'
      )
      expect(zoo_cfg).not_to include('clientPort')
    end

    it 'talks to the other members over TLS, checking their addresses against their certificates' do
      expect(zoo_cfg).to include(
        'sslQuorum' => 'true', 'ssl.quorum.hostnameVerification' => 'true', 'ssl.quorum.clientAuth' => 'need',
        'ssl.quorum.keyStore.location' => '/etc/zookeeper/tls/keystore.pem', 'ssl.quorum.keyStore.type' => 'PEM',
        'ssl.quorum.trustStore.location' => '/etc/zookeeper/tls/truststore.pem', 'ssl.quorum.trustStore.type' => 'PEM'
      )
      expect(zoo_cfg).not_to include('portUnification')
    end

    it 'checks ACLs, whatever skipACL says: the super user is the members\' own certificate subject, passed as the system property' do
      expect(chef_run.node['zookeeper-cluster']['config']['skipACL']).to eq('yes')
      expect(zoo_cfg['skipACL']).to eq('no')
      flags = chef_run.systemd_unit('zookeeper.service').content['Service']['Environment'].grep(/SERVER_JVMFLAGS/).first
      expect(flags).to include(' -Dzookeeper.X509AuthenticationProvider.superUser=CN=kafka-broker,O=insight-prod"')
    end

    it 'gives zkCli.sh a client configuration: TLS through Netty with the member\'s own certificate' do
      expect(chef_run).to create_file('/etc/zookeeper/zkcli-tls.properties').with(owner: 'zookeeper', mode: '0640')
      properties = ZookeeperCluster::Helpers.properties(chef_run.file('/etc/zookeeper/zkcli-tls.properties').content)
      expect(properties).to eq(
        'zookeeper.client.secure' => 'true', 'zookeeper.clientCnxnSocket' => 'org.apache.zookeeper.ClientCnxnSocketNetty',
        'zookeeper.ssl.keyStore.location' => '/etc/zookeeper/tls/keystore.pem', 'zookeeper.ssl.keyStore.type' => 'PEM',
        'zookeeper.ssl.trustStore.location' => '/etc/zookeeper/tls/truststore.pem', 'zookeeper.ssl.trustStore.type' => 'PEM',
        'zookeeper.ssl.hostnameVerification' => 'true'
      )
    end

    it 'still checks its own health on the plaintext loopback port' do
      expect(chef_run).to check_zookeeper_cluster_serving('zookeeper is serving').with(port: 2181)
    end

    it 'takes the three rolling steps onto quorum TLS from attributes: both accepted first, then TLS opened' do
      accept = zookeeper_run(ensemble: %w(10.0.16.5), myid: 1, attributes: { 'tls' => { 'ssl_quorum' => false, 'port_unification' => true } })
      settings = ZookeeperCluster::Helpers.properties(accept.file('/etc/zookeeper/zoo.cfg').content)
      expect(settings).to include('sslQuorum' => 'false', 'portUnification' => 'true', 'secureClientPort' => '2182')
    end

    it 'stops, naming the file, when the bootstrap wrote no certificate' do
      allow(ZookeeperCluster::Helpers).to receive(:platform_tls).and_call_original
      Dir.mktmpdir do |dir|
        File.write(File.join(dir, 'ca.crt'), TestPki.material[:ca])
        File.write(File.join(dir, 'node.key'), TestPki.material[:key])
        expect { zookeeper_run(ensemble: %w(10.0.16.5), myid: 1, attributes: { 'tls' => { 'source_dir' => dir } }) }
          .to raise_error(RuntimeError, %r{\Azookeeper-cluster: tls is on but #{Regexp.escape(dir)}/node\.crt is missing: the node's bootstrap writes them[^\n]*\z})
      end
    end
  end

  # The three rolls onto quorum TLS, each decided from the zoo.cfg the member runs.
  context 'moving a running member onto quorum TLS' do
    let(:three) { %w(10.0.16.5 10.0.32.6 10.0.16.7) }
    let(:dynamic) { { '/etc/zookeeper/zoo.cfg.dynamic' => "server.2=10.0.32.6:2888:3888:participant;2181\n" } }
    let(:zoo_cfg) { ->(run) { ZookeeperCluster::Helpers.properties(run.file('/etc/zookeeper/zoo.cfg').content) } }

    def running(extra)
      "dataDir=/var/lib/zookeeper\nreconfigEnabled=true\n#{extra}dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic\n"
    end

    before { with_data_in('/var/lib/zookeeper') }

    it 'refuses sslQuorum on a member running a plaintext quorum, before changing anything, naming the file and the staged path' do
      with_files(dynamic.merge('/etc/zookeeper/zoo.cfg' => running("skipACL=yes\n")))
      expect { zookeeper_run(ensemble: three, myid: 2) }.to raise_error(
        RuntimeError,
        %r{\Azookeeper-cluster: /etc/zookeeper/zoo\.cfg runs a plaintext quorum \(no sslQuorum, no portUnification\) and the new configuration has sslQuorum=true: [^\n]*port_unification true with ssl_quorum false first \(kafka\.security "migrating" on the platform\)[^\n]*nothing was changed\z}
      )
    end

    it 'refuses it too on a member with TLS clients but a plaintext quorum' do
      with_files(dynamic.merge('/etc/zookeeper/zoo.cfg' => running("secureClientPort=2182\nsslQuorum=false\n")))
      expect { zookeeper_run(ensemble: three, myid: 2) }.to raise_error(RuntimeError, /runs a plaintext quorum/)
    end

    it 'roll 1 on a plaintext member: both accepted, plaintext opened, and the others asked on the plaintext port, where not all have a secure one yet' do
      with_data_in
      with_files(dynamic.merge('/etc/zookeeper/zoo.cfg' => running("skipACL=yes\n")))
      run = zookeeper_run(ensemble: three, myid: 2, attributes: { 'tls' => { 'ssl_quorum' => false, 'port_unification' => true } })
      expect(zoo_cfg.call(run)).to include('sslQuorum' => 'false', 'portUnification' => 'true', 'secureClientPort' => '2182')
      expect(ZookeeperCluster::Helpers).to have_received(:serving_peers).with(three, 2, 2181, TestPki.platform_tls)
    end

    it 'roll 2 on a member accepting both: opens TLS and keeps port unification whatever the attribute says, and says the next converge closes plaintext' do
      allow(Chef::Log).to receive(:warn).and_call_original
      with_files(dynamic.merge('/etc/zookeeper/zoo.cfg' => running("portUnification=true\nsecureClientPort=2182\nsslQuorum=false\n")))
      run = zookeeper_run(ensemble: three, myid: 2)
      expect(zoo_cfg.call(run)).to include('sslQuorum' => 'true', 'portUnification' => 'true')
      expect(Chef::Log).to have_received(:warn).with(%r{\Azookeeper-cluster: /etc/zookeeper/zoo\.cfg runs port unification without sslQuorum: [^\n]*the next converge closes plaintext quorum connections}).once
    end

    it 'roll 3 on a member opening TLS: the attribute decides, plaintext closed by default, kept when asked' do
      allow(ZookeeperCluster::Helpers).to receive(:reported_quorum_tls).with('_default').and_return('10.0.16.5' => 'ssl_quorum', '10.0.16.7' => 'ssl_quorum')
      with_files(dynamic.merge('/etc/zookeeper/zoo.cfg' => running("portUnification=true\nsecureClientPort=2182\nsslQuorum=true\n")))
      closed = zookeeper_run(ensemble: three, myid: 2)
      expect(zoo_cfg.call(closed)).to include('sslQuorum' => 'true').and(satisfy { |cfg| !cfg.key?('portUnification') })
      expect(closed.node['zookeeper-cluster']['quorum_tls']).to eq('address' => '10.0.32.6', 'stage' => 'ssl_quorum')
      kept = zookeeper_run(ensemble: three, myid: 2, attributes: { 'tls' => { 'port_unification' => true } })
      expect(zoo_cfg.call(kept)).to include('sslQuorum' => 'true', 'portUnification' => 'true')
    end

    # After a roll 2 that stopped part-way, a member still on plaintext could reach no member that
    # closed it: the run keeps accepting plaintext until every other member reported sslQuorum.
    it 'roll 3 keeps port unification while another member has not reported running sslQuorum, naming it' do
      allow(ZookeeperCluster::Helpers).to receive(:reported_quorum_tls).with('_default').and_return('10.0.16.5' => 'ssl_quorum', '10.0.16.7' => 'both')
      allow(Chef::Log).to receive(:warn).and_call_original
      with_files(dynamic.merge('/etc/zookeeper/zoo.cfg' => running("portUnification=true\nsecureClientPort=2182\nsslQuorum=true\n")))
      run = zookeeper_run(ensemble: three, myid: 2)
      expect(zoo_cfg.call(run)).to include('sslQuorum' => 'true', 'portUnification' => 'true')
      expect(Chef::Log).to have_received(:warn)
        .with(%r{\Azookeeper-cluster: /etc/zookeeper/zoo\.cfg keeps accepting plaintext quorum connections this run: 10\.0\.16\.7 \(both\) has not reported running sslQuorum; converge again[^\n]*\z})
      expect(run.node['zookeeper-cluster']['quorum_tls']).to eq('address' => '10.0.32.6', 'stage' => 'ssl_quorum')
    end

    it 'reports the stage each roll renders, for the other members to read once the run succeeded' do
      with_data_in
      with_files(dynamic.merge('/etc/zookeeper/zoo.cfg' => running("skipACL=yes\n")))
      run = zookeeper_run(ensemble: three, myid: 2, attributes: { 'tls' => { 'ssl_quorum' => false, 'port_unification' => true } })
      expect(run.node['zookeeper-cluster']['quorum_tls']).to eq('address' => '10.0.32.6', 'stage' => 'both')
    end

    it 'reads what the members reported from the Chef server, skipping nodes that reported nothing' do
      allow(ZookeeperCluster::Helpers).to receive(:reported_quorum_tls).and_call_original
      query = instance_double(Chef::Search::Query)
      allow(Chef::Search::Query).to receive(:new).and_return(query)
      allow(query).to receive(:search).with(:node, 'chef_environment:prod', filter_result: { 'tls' => %w(zookeeper-cluster quorum_tls) })
                                      .and_return([[{ 'tls' => { 'address' => '10.0.16.5', 'stage' => 'ssl_quorum' } }, { 'tls' => nil }, nil], 0, 3])
      expect(ZookeeperCluster::Helpers.reported_quorum_tls('prod')).to eq('10.0.16.5' => 'ssl_quorum')
      allow(query).to receive(:search).and_raise(Net::HTTPClientException.new('403 "Forbidden"', nil))
      expect(ZookeeperCluster::Helpers.reported_quorum_tls('prod')).to be_nil
      # Unknown stages hold plaintext open on a member about to close it.
      expect(ZookeeperCluster::Helpers.peers_opening_plaintext(three, 2, nil)).to eq(['10.0.16.5 (the search failed)', '10.0.16.7 (the search failed)'])
    end

    # A replaced member (no zoo.cfg yet) while roll 2 has not reached every member.
    it 'starts a member that arrives with no zoo.cfg accepting plaintext while a running member reports opening plaintext' do
      with_data_in
      allow(ZookeeperCluster::Helpers).to receive(:reported_quorum_tls).with('_default').and_return('10.0.16.5' => 'ssl_quorum', '10.0.16.7' => 'both')
      with_files(dynamic)
      run = zookeeper_run(ensemble: three, myid: 2)
      expect(zoo_cfg.call(run)).to include('sslQuorum' => 'true', 'portUnification' => 'true')
      allow(ZookeeperCluster::Helpers).to receive(:reported_quorum_tls).with('_default').and_return({})
      expect(zoo_cfg.call(zookeeper_run(ensemble: three, myid: 2))).to satisfy { |cfg| !cfg.key?('portUnification') }
    end
  end

  context 'with TLS turned off' do
    cached(:chef_run) { zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2, attributes: { 'tls' => { 'enabled' => false } }) }

    it 'runs plaintext with ACL checks as skipACL says, no super user, and removes the TLS files' do
      content = chef_run.file('/etc/zookeeper/zoo.cfg').content
      expect(content).to include("skipACL=yes\n")
      expect(content).not_to match(/^(ssl|secureClientPort|sslQuorum|serverCnxnFactory|authProvider)/)
      expect(chef_run.systemd_unit('zookeeper.service').content['Service']['Environment'].join).not_to include('superUser')
      expect(chef_run).to delete_file('/etc/zookeeper/zkcli-tls.properties')
      expect(chef_run).to delete_directory('/etc/zookeeper/tls')
      expect(ZookeeperCluster::Helpers).not_to have_received(:platform_tls)
    end

    it 'asks the other members on the plaintext port' do
      zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2, attributes: { 'tls' => { 'enabled' => false } })
      expect(ZookeeperCluster::Helpers).to have_received(:serving_peers).with(%w(10.0.16.5 10.0.32.6 10.0.16.7), 2, 2181, nil)
    end
  end

  context 'data that outlives the instance' do
    let(:volume_dir) { '/data/zookeeper' }

    it 'turns off ZooKeeper\'s own creation of a missing data directory' do
      run = zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2)
      flags = run.systemd_unit('zookeeper.service').content['Service']['Environment'].grep(/SERVER_JVMFLAGS/).first
      expect(flags).to include('-Dzookeeper.datadir.autocreate=false')
    end

    it 'creates the data directory of a new member of a new ensemble: no other member serves yet' do
      run = zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2, attributes: { 'data_dir' => volume_dir })
      # Over the secure port, as this node's certificate: between members only it is open.
      expect(ZookeeperCluster::Helpers).to have_received(:serving_peers).with(%w(10.0.16.5 10.0.32.6 10.0.16.7), 2, 2182, TestPki.platform_tls)
      expect(run).to create_directory('/data/zookeeper/version-2').with(owner: 'zookeeper', mode: '0750')
      expect(run).to create_file('/data/zookeeper/myid').with(content: "2\n")
      expect(run).to render_file('/etc/zookeeper/zoo.cfg').with_content("dataDir=/data/zookeeper\n")
      expect(run).not_to stop_service('zookeeper stopped to move its data')
    end

    it 'refuses, before changing anything, a member without data while the others serve: it would vote empty' do
      allow(ZookeeperCluster::Helpers).to receive(:serving_peers).and_return(['10.0.16.5 (leader)', '10.0.16.7 (follower)'])
      expect { zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2, attributes: { 'data_dir' => volume_dir }) }
        .to raise_error(RuntimeError, %r{member 2 has no data \(no /data/zookeeper/version-2\) while the rest of the ensemble serves \(10\.0\.16\.5 \(leader\), 10\.0\.16\.7 \(follower\)\).*Put back the volume.*sudo mkdir -p /data/zookeeper/version-2\) and converge again})
    end

    it 'starts a member that has its data whatever the others do, and asks none of them' do
      with_data_in(volume_dir)
      run = zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2, attributes: { 'data_dir' => volume_dir })
      expect(ZookeeperCluster::Helpers).not_to have_received(:serving_peers)
      expect(run).to start_service('zookeeper')
      expect(run).to check_zookeeper_cluster_serving('zookeeper is serving')
      expect(run).not_to run_execute("move ZooKeeper's data from /var/lib/zookeeper to /data/zookeeper")
    end

    it 'gives kept data to the service user when a replaced instance created it with another uid' do
      run = zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2, attributes: { 'data_dir' => volume_dir })
      chown = run.execute('give /data/zookeeper to zookeeper')
      expect(chown.command).to eq(%w(chown -R zookeeper:zookeeper /data/zookeeper))
      allow(ZookeeperCluster::Helpers).to receive(:foreign_files?).with('/data/zookeeper', 'zookeeper').and_return(false)
      expect(chown.should_skip?(:run)).to be_truthy
      allow(ZookeeperCluster::Helpers).to receive(:foreign_files?).with('/data/zookeeper', 'zookeeper').and_return(true)
      expect(chown.should_skip?(:run)).to be_falsey
      expect(chown).to notify('service[zookeeper]').to(:restart).delayed
    end

    it 'never refuses the only member: there is no other to ask' do
      run = zookeeper_run(ensemble: %w(10.0.16.5), myid: 1)
      expect(ZookeeperCluster::Helpers).not_to have_received(:serving_peers)
      expect(run).to create_directory('/var/lib/zookeeper/version-2')
    end

    context 'when data_dir moves to the volume and the member\'s data is still in /var/lib/zookeeper' do
      cached(:chef_run) do
        with_data_in('/var/lib/zookeeper')
        zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2, attributes: { 'data_dir' => '/data/zookeeper' })
      end

      it 'does not take it for a member without data' do
        expect(ZookeeperCluster::Helpers).not_to have_received(:serving_peers)
      end

      it 'stops the member, moves its data over, then starts it again and checks it serves' do
        stop = chef_run.service('zookeeper stopped to move its data')
        move = chef_run.execute("move ZooKeeper's data from /var/lib/zookeeper to /data/zookeeper")
        expect(stop.service_name).to eq('zookeeper')
        expect(chef_run).to stop_service('zookeeper stopped to move its data')
        expect(chef_run).to run_execute("move ZooKeeper's data from /var/lib/zookeeper to /data/zookeeper")
          .with(command: ['bash', '-c', ZookeeperCluster::Helpers::MOVE_DATA_SCRIPT, 'move-zookeeper-data', '/var/lib/zookeeper', '/data/zookeeper'])
        resources = chef_run.resource_collection.all_resources
        expect(resources.index(stop)).to be < resources.index(move)
        expect(resources.index(move)).to be < resources.index(chef_run.directory('/data/zookeeper/version-2'))
        expect(stop).to notify('service[zookeeper]').to(:restart).delayed
        expect(move).to notify('service[zookeeper]').to(:restart).delayed
        check = chef_run.find_resource(:zookeeper_cluster_serving, 'zookeeper is serving after its restart')
        expect(check).to subscribe_to('service[zookeeper]').on(:check).immediately
      end

      it 'starts it once, by that restart: not before zoo.cfg names the new directory, and no check of the stopped member' do
        expect(chef_run).not_to start_service('zookeeper')
        expect(chef_run).not_to check_zookeeper_cluster_serving('zookeeper is serving')
        # A guard on the service would skip the notified restart too, leaving the member stopped.
        service = chef_run.service('zookeeper')
        expect(service.action).to eq([:nothing])
        expect(service.only_if + service.not_if).to be_empty
      end

      it 'moves nothing over data already in the new directory' do
        move = chef_run.execute("move ZooKeeper's data from /var/lib/zookeeper to /data/zookeeper")
        expect(move.should_skip?(:run)).to be_falsey
        allow(ZookeeperCluster::Helpers).to receive(:data?).with('/data/zookeeper').and_return(true)
        expect(move.should_skip?(:run)).to be_truthy
      end

      it 'keeps the service user\'s home where it was: usermod cannot change it while the member runs' do
        expect(chef_run).to create_user('zookeeper').with(home: '/var/lib/zookeeper')
      end
    end
  end

  context 'ZooKeeper\'s own log' do
    cached(:chef_run) { zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2) }

    it 'rolls zookeeper.log in the log directory by size and keeps a bounded number of rolled files' do
      expect(chef_run).to render_file('/etc/zookeeper/logback.xml').with_content { |content|
        expect(content).to include('<property name="zookeeper.log.dir" value="/var/log/zookeeper" />')
        expect(content).to include('<appender name="ROLLINGFILE" class="ch.qos.logback.core.rolling.RollingFileAppender">')
        expect(content).to include('<fileNamePattern>${zookeeper.log.dir}/${zookeeper.log.file}.%i</fileNamePattern>')
        expect(content).to include('<rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">')
        expect(content).to include('<maxIndex>10</maxIndex>', '<maxFileSize>64MB</maxFileSize>')
        expect(content).to match(%r{<root level="INFO">\s*<appender-ref ref="ROLLINGFILE" />})
      }
    end

    it 'points the JVM at that configuration, not the release\'s console-only logback.xml first on the class path' do
      flags = chef_run.systemd_unit('zookeeper.service').content['Service']['Environment'].grep(/SERVER_JVMFLAGS/).first
      expect(flags).to include('-Dlogback.configurationFile=/etc/zookeeper/logback.xml')
    end

    it 'restarts the member when the log configuration changes' do
      expect(chef_run.template('/etc/zookeeper/logback.xml')).to notify('service[zookeeper]').to(:restart).delayed
    end

    it 'takes another size and count from attributes' do
      run = zookeeper_run(ensemble: %w(10.0.16.5), myid: 1, attributes: { 'log_max_file_size' => '16MB', 'log_max_files' => 3 })
      expect(run).to render_file('/etc/zookeeper/logback.xml').with_content('<maxIndex>3</maxIndex>').with_content('<maxFileSize>16MB</maxFileSize>')
    end

    it 'refuses a count logback would cut to 20 without saying so' do
      expect { zookeeper_run(ensemble: %w(10.0.16.5), myid: 1, attributes: { 'log_max_files' => 50 }) }
        .to raise_error(RuntimeError, /\['log_max_files'\] 50 is not a count from 1 to 20/)
    end

    it 'refuses a size logback cannot read' do
      expect { zookeeper_run(ensemble: %w(10.0.16.5), myid: 1, attributes: { 'log_max_file_size' => '64 megs' }) }
        .to raise_error(RuntimeError, /\['log_max_file_size'\] "64 megs" is not a size such as 64MB/)
    end
  end

  context 'dynamic reconfiguration: who writes the membership' do
    let(:three) { %w(10.0.16.5 10.0.32.6 10.0.16.7) }

    it 'never writes over the membership of a running member: ZooKeeper keeps it, and its rewritten zoo.cfg stays' do
      with_data_in('/var/lib/zookeeper')
      with_files('/etc/zookeeper/zoo.cfg' => ZK_REWRITTEN, '/etc/zookeeper/zoo.cfg.dynamic.100000004' => "server.1=x\nserver.2=10.0.32.6:2888:3888:participant;0.0.0.0:2181\n")
      run = zookeeper_run(ensemble: three + %w(10.0.32.8 10.0.16.9), myid: 2)
      expect(run).not_to create_file('/etc/zookeeper/zoo.cfg.dynamic')
      expect(run).to create_file('/etc/zookeeper/zoo.cfg').with(content: ZK_REWRITTEN)
      expect(ZookeeperCluster::Helpers).not_to have_received(:live_membership)
    end

    it 'rewrites zoo.cfg when a setting changes, still naming the dynamic file ZooKeeper wrote last' do
      with_data_in('/var/lib/zookeeper')
      with_files('/etc/zookeeper/zoo.cfg' => ZK_REWRITTEN.sub('tickTime=2000', 'tickTime=3000'),
                 '/etc/zookeeper/zoo.cfg.dynamic.100000004' => "server.2=10.0.32.6:2888:3888:participant;0.0.0.0:2181\n")
      run = zookeeper_run(ensemble: three, myid: 2)
      expect(run).to render_file('/etc/zookeeper/zoo.cfg').with_content { |content|
        expect(content).to include("tickTime=2000\n", "dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic.100000004\n")
      }
      expect(run).not_to create_file('/etc/zookeeper/zoo.cfg.dynamic')
    end

    it 'switches a static zoo.cfg to the dynamic layout with the servers it runs with, not the data bag\'s' do
      with_data_in('/var/lib/zookeeper')
      with_files('/etc/zookeeper/zoo.cfg' => "clientPort=2181\nserver.1=10.0.16.5:2888:3888\nserver.2=10.0.32.6:2888:3888\nserver.3=10.0.16.7:2888:3888\n")
      # A plaintext quorum: onto TLS through the first of the three rolls.
      run = zookeeper_run(ensemble: three + %w(10.0.32.8 10.0.16.9), myid: 1, attributes: { 'tls' => { 'ssl_quorum' => false, 'port_unification' => true } })
      expect(run).to render_file('/etc/zookeeper/zoo.cfg.dynamic').with_content(
        "server.1=10.0.16.5:2888:3888:participant;2181\nserver.2=10.0.32.6:2888:3888:participant;2181\nserver.3=10.0.16.7:2888:3888:participant;2181\n"
      )
      expect(run).to render_file('/etc/zookeeper/zoo.cfg').with_content("reconfigEnabled=true\n")
      expect(ZookeeperCluster::Helpers).not_to have_received(:live_membership)
    end

    it 'joins a running ensemble that does not list it with the running members and itself, empty: it is no voter until added' do
      allow(ZookeeperCluster::Helpers).to receive(:live_membership).and_call_original
      allow(ZookeeperCluster::Helpers).to receive(:four_letter_word) { |address, _port, word| address == '10.0.16.5' && word == 'conf' ? conf_answer(*three) : '' }
      allow(ZookeeperCluster::Helpers).to receive(:serving_peers).and_return(['10.0.16.5 (leader)'])
      run = zookeeper_run(ensemble: three + %w(10.0.32.8 10.0.16.9), myid: 4)
      expect(run).to render_file('/etc/zookeeper/zoo.cfg.dynamic').with_content(
        "server.1=10.0.16.5:2888:3888:participant;0.0.0.0:2181\nserver.2=10.0.32.6:2888:3888:participant;0.0.0.0:2181\n" \
        "server.3=10.0.16.7:2888:3888:participant;0.0.0.0:2181\nserver.4=10.0.32.8:2888:3888:participant;2181\n"
      )
      expect(run).to create_directory('/var/lib/zookeeper/version-2')
    end

    it 'joins in place of the instance it replaces when the running ensemble lists its id at another address' do
      allow(ZookeeperCluster::Helpers).to receive(:live_membership)
        .and_return(1 => 'server.1=10.0.16.5:2888:3888:participant;0.0.0.0:2181', 2 => 'server.2=10.0.32.99:2888:3888:participant;0.0.0.0:2181')
      run = zookeeper_run(ensemble: three, myid: 2)
      expect(run).to render_file('/etc/zookeeper/zoo.cfg.dynamic')
        .with_content("server.1=10.0.16.5:2888:3888:participant;0.0.0.0:2181\nserver.2=10.0.32.6:2888:3888:participant;2181\n")
    end

    context 'a member that joins' do
      cached(:chef_run) do
        allow(ZookeeperCluster::Helpers).to receive(:live_membership).and_return(1 => 'server.1=10.0.16.5:2888:3888:participant;0.0.0.0:2181')
        zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2)
      end

      it 'starts once, by the restart at the end, and is checked only after it: a restart after it followed the leader could not start' do
        expect(chef_run.service('zookeeper')).to do_nothing
        expect(chef_run.find_resource(:zookeeper_cluster_serving, 'zookeeper is serving')).to do_nothing
        expect(chef_run.file('/etc/zookeeper/zoo.cfg.dynamic')).to notify('service[zookeeper]').to(:restart).delayed
        expect(chef_run.find_resource(:zookeeper_cluster_serving, 'zookeeper is serving after its restart')).to subscribe_to('service[zookeeper]').on(:check).immediately
      end
    end

    it 'joins afresh when the dynamic file ZooKeeper left lacks it (it followed the leader before reconfig -add)' do
      with_data_in('/var/lib/zookeeper')
      with_files('/etc/zookeeper/zoo.cfg' => ZK_REWRITTEN, '/etc/zookeeper/zoo.cfg.dynamic.100000004' => "server.1=10.0.16.5:2888:3888:participant;0.0.0.0:2181\n")
      allow(ZookeeperCluster::Helpers).to receive(:live_membership).and_return(1 => 'server.1=10.0.16.5:2888:3888:participant;0.0.0.0:2181')
      run = zookeeper_run(ensemble: three, myid: 2)
      expect(run).to render_file('/etc/zookeeper/zoo.cfg.dynamic')
        .with_content("server.1=10.0.16.5:2888:3888:participant;0.0.0.0:2181\nserver.2=10.0.32.6:2888:3888:participant;2181\n")
      expect(run).to render_file('/etc/zookeeper/zoo.cfg').with_content("dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic\n")
    end

    it 'refuses an empty member that the running ensemble lists as a voter: it lost its data' do
      allow(ZookeeperCluster::Helpers).to receive(:live_membership).and_return(1 => 'server.1=a', 2 => 'server.2=10.0.32.6:2888:3888:participant;0.0.0.0:2181')
      expect { zookeeper_run(ensemble: three, myid: 2) }
        .to raise_error(RuntimeError, /member 2 has no data .* while the rest of the ensemble serves \(their membership lists it as a voter\)/)
    end

    it 'comes back with the running membership when it has its data but no configuration (a replaced instance, its volume kept)' do
      with_data_in('/var/lib/zookeeper')
      allow(ZookeeperCluster::Helpers).to receive(:live_membership).and_return(1 => 'server.1=x', 2 => 'server.2=10.0.32.6:2888:3888:participant;0.0.0.0:2181', 3 => 'server.3=z')
      run = zookeeper_run(ensemble: three, myid: 2)
      expect(run).to render_file('/etc/zookeeper/zoo.cfg.dynamic').with_content("server.1=x\nserver.2=10.0.32.6:2888:3888:participant;0.0.0.0:2181\nserver.3=z\n")
    end
  end

  context 'the Prometheus JMX exporter for the node\'s CloudWatch agent' do
    cached(:chef_run) { zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2) }
    let(:jar) { '/opt/jmx-exporter/jmx_prometheus_javaagent-1.6.0.jar' }
    let(:flags) { chef_run.systemd_unit('zookeeper.service').content['Service']['Environment'].grep(/SERVER_JVMFLAGS/).first }

    it "installs the java agent pinned by sha256 and ZooKeeper's rules, which the agent reads again when they change, without restarting the member" do
      expect(chef_run).to install_jmx_exporter_javaagent('/etc/zookeeper/jmx_exporter.yaml').with(
        rules_cookbook: 'zookeeper-cluster',
        version: '1.6.0',
        sha256: 'a95983fd96e865d2bcdf911cc500e7c82808c27ab9fd226bf96732b6c3d8c46e',
        dir: '/opt/jmx-exporter'
      )
      expect(chef_run.jmx_exporter_javaagent('/etc/zookeeper/jmx_exporter.yaml')).not_to notify('service[zookeeper]')
      expect(File).to exist(File.join(__dir__, '..', 'files', 'default', 'jmx_exporter.yaml'))
    end

    it 'runs it in the member\'s JVM, serving on loopback only, inside the quoted flags' do
      expect(flags).to include(" -javaagent:#{jar}=127.0.0.1:9405:/etc/zookeeper/jmx_exporter.yaml ")
      expect(flags).to start_with('"SERVER_JVMFLAGS=').and end_with('"')
    end

    it 'restarts the member when the flag changes (a new version), through the unit the converge rolls one node at a time' do
      expect(chef_run.systemd_unit('zookeeper.service')).to notify('service[zookeeper]').to(:restart).delayed
    end

    it 'leaves the JVM alone when turned off' do
      run = zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7), myid: 2, attributes: { 'jmx_exporter' => { 'enabled' => false } })
      expect(run.systemd_unit('zookeeper.service').content['Service']['Environment'].join).not_to include('javaagent')
      expect(run).not_to install_jmx_exporter_javaagent('/etc/zookeeper/jmx_exporter.yaml')
    end

    it 'refuses a checksum that is not a sha256 in hex, naming its attribute' do
      expect { zookeeper_run(ensemble: %w(10.0.16.5), myid: 1, attributes: { 'jmx_exporter' => { 'sha256' => 'ab' * 64 } }) }
        .to raise_error(RuntimeError, /\Azookeeper-cluster: node\['zookeeper-cluster'\]\['jmx_exporter'\]\['sha256'\] "#{'ab' * 64}" is not a sha256 hex/)
    end
  end

  context 'in a 1-node ensemble' do
    cached(:chef_run) { zookeeper_run(ensemble: %w(10.0.16.5), myid: 1) }

    it 'has exactly one server line and runs as a quorum of one, so that it can grow' do
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg.dynamic').with_content("server.1=10.0.16.5:2888:3888:participant;2181\n")
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg').with_content("standaloneEnabled=false\n")
      expect(ZookeeperCluster::Helpers).not_to have_received(:live_membership)
    end
  end

  context 'in a 5-node ensemble' do
    cached(:chef_run) { zookeeper_run(ensemble: %w(10.0.16.5 10.0.32.6 10.0.16.7 10.0.32.8 10.0.16.9), myid: 5) }

    it 'lists five servers and is member 5' do
      expect(chef_run).to render_file('/etc/zookeeper/zoo.cfg.dynamic').with_content(/^server\.5=10\.0\.16\.9:2888:3888:participant;2181$/)
      expect(chef_run).to create_file('/var/lib/zookeeper/myid').with(content: "5\n")
    end
  end

  it 'keeps a download whose sha512 is the pinned one' do
    run = zookeeper_run(ensemble: %w(10.0.16.5), myid: 1, sha512: Digest::SHA512.hexdigest('release'))
    tarball = "#{Chef::Config[:file_cache_path]}/apache-zookeeper-3.8.4-bin.tar.gz"
    Tempfile.create('zk') do |file|
      file.write('release')
      file.flush
      expect(run.remote_file(tarball).verifications.first.verify(file.path)).to be(true)
    end
  end

  it 'refuses to run without a pinned sha512' do
    expect { zookeeper_run(ensemble: %w(10.0.16.5), myid: 1, sha512: nil) }
      .to raise_error(RuntimeError, /\['sha512'\] nil is not the sha512 hex of apache-zookeeper-3\.8\.4-bin\.tar\.gz/)
  end

  it 'refuses a sha256 where the sha512 belongs' do
    expect { zookeeper_run(ensemble: %w(10.0.16.5), myid: 1, sha512: 'ab' * 32) }
      .to raise_error(RuntimeError, /is not the sha512 hex of/)
  end

  it 'pins the 3.8.4 tarball by its sha512 by default' do
    run = ChefSpec::SoloRunner.new do |node|
      node.normal['zookeeper-cluster']['ensemble'] = %w(10.0.16.5)
      node.normal['zookeeper-cluster']['myid'] = 1
    end.converge('zookeeper-cluster::default')
    expect(run.node['zookeeper-cluster']['version']).to eq('3.8.4')
    expect(run.node['zookeeper-cluster']['sha512']).to eq(
      '4d85d6f7644d5f36d9c4d65e78bd662ab35ebe1380d762c24c12b98af029027eee453437c9245dbdf2b9beb77cd6b690b69e26f91cf9d11b0a183a979c73fa43'
    )
  end

  it 'refuses a myid outside the ensemble' do
    expect { zookeeper_run(ensemble: %w(10.0.16.5), myid: 2) }.to raise_error(RuntimeError, /myid 2 is not a position in the 1-member ensemble/)
  end
end

describe ZookeeperCluster::Helpers do
  it 'plans to keep, move or initialize the data by where a version-2 directory is' do
    Dir.mktmpdir do |root|
      volume = ::File.join(root, 'volume')
      old = ::File.join(root, 'old')
      FileUtils.mkdir_p([volume, old])
      expect(described_class.data_plan(volume, [old])).to eq(:initialize)
      FileUtils.mkdir_p(::File.join(old, 'version-2'))
      expect(described_class.data_plan(volume, [old])).to eq(:move)
      expect(described_class.previous_dir_with_data(volume, [old])).to eq(old)
      expect(described_class.data_plan(old, [old])).to eq(:keep)
      FileUtils.mkdir_p(::File.join(volume, 'version-2'))
      expect(described_class.data_plan(volume, [old])).to eq(:keep)
    end
  end

  describe 'MOVE_DATA_SCRIPT' do
    # A member's data as ZooKeeper leaves it: myid beside version-2's snapshots and logs.
    def member_data(dir)
      FileUtils.mkdir_p(::File.join(dir, 'version-2'))
      ::File.write(::File.join(dir, 'myid'), "2\n")
      ::File.write(::File.join(dir, 'version-2', 'snapshot.100000000'), 'snapshot')
      ::File.write(::File.join(dir, 'version-2', 'log.100000001'), 'log')
    end

    def move(from, to, path: ENV['PATH'])
      output, status = Open3.capture2e({ 'PATH' => path }, 'bash', '-c', described_class::MOVE_DATA_SCRIPT, 'move-zookeeper-data', from, to)
      [output, status]
    end

    def tree(dir)
      Dir.glob('**/*', ::File::FNM_DOTMATCH, base: dir).reject { |entry| entry.end_with?('.') }.sort
    end

    it 'moves every file over and empties the source' do
      Dir.mktmpdir do |root|
        from = ::File.join(root, 'old')
        to = ::File.join(root, 'volume')
        member_data(from)
        FileUtils.mkdir_p(to)
        output, status = move(from, to)
        expect(status).to be_success, output
        expect(tree(to)).to eq(%w(myid version-2 version-2/log.100000001 version-2/snapshot.100000000))
        expect(::File.read(::File.join(to, 'version-2', 'log.100000001'))).to eq('log')
        expect(tree(from)).to eq([])
      end
    end

    it 'leaves no version-2 in data_dir and the source whole when the copy is cut short, and the next run completes' do
      Dir.mktmpdir do |root|
        from = ::File.join(root, 'old')
        to = ::File.join(root, 'volume')
        stubs = ::File.join(root, 'bin')
        member_data(from)
        FileUtils.mkdir_p([to, stubs])
        # A copy that dies halfway, as a full disk or a killed run would: part of version-2 written.
        ::File.write(::File.join(stubs, 'cp'), <<~'STUB')
          #!/bin/bash
          staging=${!#}
          mkdir -p "$staging/version-2" && echo partial > "$staging/version-2/snapshot.100000000"
          exit 1
        STUB
        FileUtils.chmod(0o755, ::File.join(stubs, 'cp'))
        _, status = move(from, to, path: "#{stubs}:#{ENV['PATH']}")
        expect(status).not_to be_success
        expect(described_class.data?(to)).to be(false)
        expect(described_class.data_plan(to, [from])).to eq(:move)
        expect(tree(from)).to eq(%w(myid version-2 version-2/log.100000001 version-2/snapshot.100000000))
        output, status = move(from, to)
        expect(status).to be_success, output
        expect(tree(to)).to eq(%w(myid version-2 version-2/log.100000001 version-2/snapshot.100000000))
        expect(::File.read(::File.join(to, 'version-2', 'snapshot.100000000'))).to eq('snapshot')
      end
    end

    it 'refuses to move over data already in data_dir' do
      Dir.mktmpdir do |root|
        from = ::File.join(root, 'old')
        to = ::File.join(root, 'volume')
        member_data(from)
        member_data(to)
        output, status = move(from, to)
        expect(status).not_to be_success
        expect(output).to include('already holds data')
        expect(tree(from)).to include('version-2/log.100000001')
      end
    end
  end

  it 'finds files that another uid owns' do
    Dir.mktmpdir do |dir|
      FileUtils.mkdir_p(::File.join(dir, 'version-2'))
      FileUtils.touch(::File.join(dir, 'version-2', 'snapshot.0'))
      me = Etc.getpwuid(Process.uid).name
      expect(described_class.foreign_files?(dir, me)).to be(false)
      other = Etc.getpwuid(Process.uid == 0 ? 1 : 0).name
      expect(described_class.foreign_files?(dir, other)).to be(true)
    end
  end

  it 'names the other members that serve, and never asks this one' do
    answers = { '10.0.16.5' => "Zookeeper version: 3.8.4\nMode: leader\n", '10.0.16.7' => 'Errno::ECONNREFUSED: Connection refused' }
    allow(described_class).to receive(:four_letter_word) { |address, _port, _word| answers.fetch(address) }
    expect(described_class.serving_peers(%w(10.0.16.5 10.0.32.6 10.0.16.7), 2, 2181)).to eq(['10.0.16.5 (leader)'])
    expect(described_class).not_to have_received(:four_letter_word).with('10.0.32.6', anything, anything)
  end

  it 'matches a sha512 in hex whatever its case, and nothing else' do
    Tempfile.create('zk') do |file|
      file.write('release')
      file.flush
      expect(described_class.sha512_matches?(file.path, Digest::SHA512.hexdigest('release').upcase)).to be(true)
      expect(described_class.sha512_matches?(file.path, Digest::SHA256.hexdigest('release'))).to be(false)
      expect(described_class.sha512_matches?(file.path, ZK_TEST_SHA512)).to be(false)
    end
  end

  it 'gives up waiting with a message that says what to check' do
    allow(described_class).to receive(:four_letter_word).and_return('This ZooKeeper instance is not currently serving requests')
    expect { described_class.wait_until_serving('127.0.0.1', 2181, 0, interval: 0) }
      .to raise_error(RuntimeError, /did not report a Mode within 0s \(last answer: This ZooKeeper instance is not currently serving requests\)/)
  end

  it 'returns the mode once the member serves' do
    allow(described_class).to receive(:four_letter_word).and_return("Zookeeper version: 3.8.4\nMode: leader\n")
    expect(described_class.wait_until_serving('127.0.0.1', 2181, 10)).to eq('leader')
  end

  it 'reads the membership from ZooKeeper 3.8\'s answer to conf, and nothing from one without it' do
    members = described_class.membership_of_conf(conf_answer('10.0.16.5', '10.0.32.6'))
    expect(members).to eq(1 => 'server.1=10.0.16.5:2888:3888:participant;0.0.0.0:2181', 2 => 'server.2=10.0.32.6:2888:3888:participant;0.0.0.0:2181')
    expect(described_class.membership_of_conf('conf is not executed because it is not in the whitelist.')).to be_nil
    expect(described_class.membership_of_conf("Errno::ECONNREFUSED: Connection refused\n")).to be_nil
  end

  it 'keeps zoo.cfg as ZooKeeper rewrote it when it holds the same settings and dynamic file' do
    settings = described_class.properties(ZK_REWRITTEN).reject { |key, _| key == 'dynamicConfigFile' }
    expect(described_class.static_config(ZK_REWRITTEN, settings, '/etc/zookeeper/zoo.cfg.dynamic.100000004')).to equal(ZK_REWRITTEN)
    expect(described_class.static_config(ZK_REWRITTEN, settings, '/etc/zookeeper/zoo.cfg.dynamic')).to include("dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic\n")
  end

  describe 'quorum_tls_stage' do
    path = '/etc/zookeeper/zoo.cfg'

    it 'goes straight to the attributes on a new member, and whenever sslQuorum is not asked for' do
      expect(described_class.quorum_tls_stage(nil, true, false, path)).to eq([true, false, nil])
      expect(described_class.quorum_tls_stage({ 'skipACL' => 'yes' }, false, true, path)).to eq([false, true, nil])
    end

    it 'keeps port unification for one more converge on a member that accepts both but opens plaintext' do
      ssl_quorum, port_unification, note = described_class.quorum_tls_stage({ 'portUnification' => 'true', 'sslQuorum' => 'false' }, true, false, path)
      expect([ssl_quorum, port_unification]).to eq([true, true])
      expect(note).to start_with("zookeeper-cluster: #{path} runs port unification without sslQuorum")
    end

    it 'honours the attributes on a member already opening TLS' do
      expect(described_class.quorum_tls_stage({ 'portUnification' => 'true', 'sslQuorum' => 'true' }, true, false, path)).to eq([true, false, nil])
    end

    it 'refuses sslQuorum on a plaintext quorum' do
      expect { described_class.quorum_tls_stage({ 'secureClientPort' => '2182' }, true, false, path) }.to raise_error(RuntimeError, /runs a plaintext quorum/)
    end
  end

  describe 'platform_tls' do
    it 'reads the key, certificate and CA, and names the subject as Java\'s X500Principal.getName() does (RFC 2253)' do
      Dir.mktmpdir do |dir|
        pki = TestPki.material
        { 'node.key' => pki[:key], 'node.crt' => pki[:cert], 'ca.crt' => pki[:ca] }.each { |name, text| File.write(File.join(dir, name), text) }
        expect(described_class.platform_tls(dir)).to eq(pki.merge(subject: 'CN=kafka-broker,O=insight-prod'))
        # What openssl prints for the same certificate, as the docs tell an operator to check it.
        printed, = Open3.capture2('openssl', 'x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', File.join(dir, 'node.crt'))
        expect(printed.strip).to eq('subject=CN=kafka-broker,O=insight-prod')
      end
    end

    it 'names every missing file in one line' do
      Dir.mktmpdir do |dir|
        expect { described_class.platform_tls(dir) }.to raise_error(RuntimeError, %r{\Azookeeper-cluster: tls is on but #{Regexp.escape(dir)}/node\.key, #{Regexp.escape(dir)}/node\.crt, #{Regexp.escape(dir)}/ca\.crt are missing: [^\n]*\z})
      end
    end

    it 'refuses a subject that zkServer.sh would split' do
      expect { described_class.jvm_flag_value('zookeeper.X509AuthenticationProvider.superUser', 'CN=kafka broker,O=x') }
        .to raise_error(RuntimeError, /holds blanks or quotes/)
      expect(described_class.jvm_flag_value('p', 'CN=a,O=b')).to eq('-Dp=CN=a,O=b')
    end
  end

  describe 'four_letter_word over TLS' do
    # A TLS server standing in for a member's secure port: it requires a client certificate
    # signed by the CA and answers the word it gets, then closes, as ZooKeeper does.
    def serve_once(cert_pem, key_pem)
      pki = TestPki.material
      store = OpenSSL::X509::Store.new
      store.add_cert(OpenSSL::X509::Certificate.new(pki[:ca]))
      context = OpenSSL::SSL::SSLContext.new
      context.cert = OpenSSL::X509::Certificate.new(cert_pem)
      context.key = OpenSSL::PKey.read(key_pem)
      context.cert_store = store
      context.verify_mode = OpenSSL::SSL::VERIFY_PEER | OpenSSL::SSL::VERIFY_FAIL_IF_NO_PEER_CERT
      tcp = TCPServer.new('127.0.0.1', 0)
      server = OpenSSL::SSL::SSLServer.new(tcp, context)
      thread = Thread.new do
        client = server.accept
        word = client.read(4)
        client.write("Zookeeper version: 3.8.4\nMode: #{word == 'srvr' ? 'leader' : word}\n")
        client.close
      rescue OpenSSL::SSL::SSLError, IOError, SystemCallError
        nil
      end
      [tcp.addr[1], thread, tcp]
    end

    it 'asks the member with this node\'s certificate and checks the member\'s address against its certificate' do
      pki = TestPki.material
      ca_key = OpenSSL::PKey::RSA.new(2048)
      ca = TestPki.certificate('/CN=platform-ca', ca_key, '/CN=platform-ca', ca_key, 'basicConstraints' => 'CA:TRUE')
      member_key = OpenSSL::PKey::RSA.new(2048)
      member = TestPki.certificate('/O=insight-prod/CN=kafka-broker', member_key, '/CN=platform-ca', ca_key, 'subjectAltName' => 'IP:127.0.0.1')
      node_key = OpenSSL::PKey::RSA.new(2048)
      node = TestPki.certificate('/O=insight-prod/CN=kafka-broker', node_key, '/CN=platform-ca', ca_key, 'subjectAltName' => 'IP:10.0.32.6')
      allow(TestPki).to receive(:material).and_return(pki.merge(ca: ca.to_pem))
      tls = { key: node_key.private_to_pem, cert: node.to_pem, ca: ca.to_pem }
      port, thread, tcp = serve_once(member.to_pem, member_key.private_to_pem)
      expect(described_class.four_letter_word('127.0.0.1', port, 'srvr', tls)).to include('Mode: leader')
      thread.join
      tcp.close
      # A member whose certificate names another address is not believed.
      port, thread, tcp = serve_once(node.to_pem, node_key.private_to_pem)
      expect(described_class.four_letter_word('127.0.0.1', port, 'srvr', tls)).to start_with('OpenSSL::SSL::SSLError').and(include('hostname'))
      thread.join
      tcp.close
    end
  end
end
