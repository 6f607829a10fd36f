# The exporter's jar, downloaded once per version and checked against its sha256, and the rules
# file of the service it runs in (named by the resource), from that service's cookbook. The rules
# are read again by the running exporter when the file changes: nothing restarts for them.
provides :jmx_exporter_javaagent
unified_mode true

property :rules_path, String, name_property: true
# The cookbook and file under files/ holding the service's rules.
property :rules_cookbook, String, required: true
property :rules_source, String, default: 'jmx_exporter.yaml'
property :version, String, required: true
property :sha256, String, required: true, regex: /\A\h{64}\z/
# Tried in order; each may hold %{version}.
property :urls, Array, required: true
property :dir, String, default: '/opt/jmx-exporter'

default_action :install

action :install do
  directory new_resource.dir do
    mode '0755'
  end

  remote_file JmxExporter.jar_path('dir' => new_resource.dir, 'version' => new_resource.version) do
    source(*new_resource.urls.map { |url| format(url, version: new_resource.version) })
    checksum new_resource.sha256
    mode '0644'
    retries 3
    retry_delay 10
  end

  cookbook_file new_resource.rules_path do
    cookbook new_resource.rules_cookbook
    source new_resource.rules_source
    mode '0644'
  end
end
