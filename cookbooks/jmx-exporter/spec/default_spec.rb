require_relative '../../spec_helper'
require_relative '../libraries/helpers'

SETTINGS = {
  'dir' => '/opt/jmx-exporter',
  'version' => '1.6.0',
  'sha256' => 'a95983fd96e865d2bcdf911cc500e7c82808c27ab9fd226bf96732b6c3d8c46e',
  'port' => 9404,
  'urls' => %w(https://repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/%{version}/jmx_prometheus_javaagent-%{version}.jar),
}.freeze

describe 'jmx_exporter_javaagent' do
  # A fixture cookbook uses the resource as the services' cookbooks do.
  cached(:chef_run) do
    ChefSpec::SoloRunner.new(step_into: ['jmx_exporter_javaagent'], cookbook_path: [File.expand_path('../..', __dir__), File.join(__dir__, 'fixtures', 'cookbooks')])
                        .converge('jmx_exporter_test::default')
  end

  it "downloads this version's jar from the first URL that answers, refused unless its sha256 is the pinned one" do
    expect(chef_run).to create_directory('/opt/jmx-exporter').with(mode: '0755')
    expect(chef_run).to create_remote_file('/opt/jmx-exporter/jmx_prometheus_javaagent-1.6.0.jar').with(
      source: %w(https://repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/1.6.0/jmx_prometheus_javaagent-1.6.0.jar
                 https://github.com/prometheus/jmx_exporter/releases/download/1.6.0/jmx_prometheus_javaagent-1.6.0.jar),
      checksum: SETTINGS['sha256'],
      mode: '0644',
      retries: 3
    )
  end

  it "installs the service's rules from its own cookbook" do
    expect(chef_run).to create_cookbook_file('/etc/kafka/jmx_exporter.yaml').with(cookbook: 'kafka-cluster', source: 'jmx_exporter.yaml', mode: '0644')
  end
end

describe 'JmxExporter.javaagent_flag' do
  it 'binds the agent to loopback on its port, with the rules file, from the jar of its version' do
    expect(JmxExporter.javaagent_flag(SETTINGS, '/etc/kafka/jmx_exporter.yaml', 'kafka-cluster'))
      .to eq('-javaagent:/opt/jmx-exporter/jmx_prometheus_javaagent-1.6.0.jar=127.0.0.1:9404:/etc/kafka/jmx_exporter.yaml')
  end

  {
    'sha256' => ['ab' * 64, /node\['zookeeper-cluster'\]\['jmx_exporter'\]\['sha256'\] "#{'ab' * 64}" is not a sha256 hex/],
    'version' => ['latest', /\['version'\] "latest" is not a version such as 1\.6\.0/],
    'port' => [80, /\['port'\] 80 is not a port from 1024 to 65535/],
    'urls' => [%w(http://example.com/agent.jar), %r{\['urls'\] \["http://example\.com/agent\.jar"\] names no https URL}],
  }.each do |key, (value, message)|
    it "refuses #{key} #{value.inspect}, naming the owner's attribute" do
      expect { JmxExporter.javaagent_flag(SETTINGS.merge(key => value), '/etc/zookeeper/jmx_exporter.yaml', 'zookeeper-cluster') }
        .to raise_error(RuntimeError, /\Azookeeper-cluster: .*#{message}/)
    end
  end
end
