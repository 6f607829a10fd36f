require_relative '../../spec_helper'

describe 'zookeeper-cluster::retired' do
  before do
    allow(File).to receive(:exist?).and_call_original
    allow(File).to receive(:exist?).with('/etc/systemd/system/zookeeper.service').and_return(true)
    allow(Dir).to receive(:glob).and_call_original
    allow(Dir).to receive(:glob).with('/etc/zookeeper/zoo.cfg*').and_return(%w(/etc/zookeeper/zoo.cfg /etc/zookeeper/zoo.cfg.dynamic.100000004))
  end

  cached(:chef_run) { ChefSpec::SoloRunner.new.converge('zookeeper-cluster::retired') }

  it 'stops the member a reconfig removed and keeps a boot from starting it again' do
    expect(chef_run).to stop_service('zookeeper')
    expect(chef_run).to disable_service('zookeeper')
  end

  it 'drops the membership it left, so that it could only ever join afresh' do
    expect(chef_run).to delete_file('/etc/zookeeper/zoo.cfg')
    expect(chef_run).to delete_file('/etc/zookeeper/zoo.cfg.dynamic.100000004')
  end

  it 'removes its copies of the node\'s key and the client configuration naming them' do
    expect(chef_run).to delete_file('/etc/zookeeper/zkcli-tls.properties')
    expect(chef_run).to delete_directory('/etc/zookeeper/tls').with(recursive: true)
  end
end
