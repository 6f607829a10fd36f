# The Prometheus JMX exporter's java agent, as the cookbooks of the JVMs it runs in name it: the
# jar's path and the -javaagent flag are known when the recipe compiles, so the service's unit
# can carry the flag, while the jmx_exporter_javaagent resource installs what the flag names.
module JmxExporter
  module_function

  # The agent's jar for this version: a new version is a new file, so the flag changes with it and
  # the service restarts onto it.
  def jar_path(settings)
    "#{settings['dir']}/jmx_prometheus_javaagent-#{settings['version']}.jar"
  end

  # -javaagent:<jar>=127.0.0.1:<port>:<rules>, bound to loopback: no security group opens the
  # port, the node's own CloudWatch agent scrapes it. Fails the run, naming the attribute of
  # `owner` (the cookbook whose node['<owner>']['jmx_exporter'] these are), on a value that
  # could not be what it says.
  def javaagent_flag(settings, rules_path, owner)
    where = "node['#{owner}']['jmx_exporter']"
    raise "#{owner}: #{where}['sha256'] #{settings['sha256'].inspect} is not a sha256 hex" unless settings['sha256'].to_s =~ /\A\h{64}\z/
    raise "#{owner}: #{where}['version'] #{settings['version'].inspect} is not a version such as 1.6.0" unless settings['version'].to_s =~ /\A\d+(\.\d+)+\z/
    raise "#{owner}: #{where}['port'] #{settings['port'].inspect} is not a port from 1024 to 65535" unless settings['port'].is_a?(Integer) && settings['port'].between?(1024, 65_535)
    raise "#{owner}: #{where}['urls'] #{settings['urls'].inspect} names no https URL" unless Array(settings['urls']).any? { |url| url.to_s.start_with?('https://') }

    "-javaagent:#{jar_path(settings)}=127.0.0.1:#{settings['port']}:#{rules_path}"
  end
end
