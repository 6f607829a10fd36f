# Release to install and the sha512 of its tarball in hex, as Apache's .sha512 file gives it.
# Two public sources agree on it: microsoft/vcpkg's zookeeper port and debezium/container-images.
# A download that does not match is never used. Kafka 3.9 ships a 3.8 client.
default['zookeeper-cluster']['version'] = '3.8.4'
default['zookeeper-cluster']['sha512'] = '4d85d6f7644d5f36d9c4d65e78bd662ab35ebe1380d762c24c12b98af029027eee453437c9245dbdf2b9beb77cd6b690b69e26f91cf9d11b0a183a979c73fa43'
# Tried in order: a mirror (fast, but only keeps current releases), then Apache's archive (keeps all).
default['zookeeper-cluster']['mirrors'] = %w(https://dlcdn.apache.org/zookeeper https://archive.apache.org/dist/zookeeper)

default['zookeeper-cluster']['user'] = 'zookeeper'
default['zookeeper-cluster']['group'] = 'zookeeper'
default['zookeeper-cluster']['install_dir'] = '/opt/zookeeper'
default['zookeeper-cluster']['conf_dir'] = '/etc/zookeeper'
# Snapshots and transaction logs. Put it on storage that outlives the instance: a member that
# comes back without its data does not start while the rest of the ensemble serves.
default['zookeeper-cluster']['data_dir'] = '/var/lib/zookeeper'
# Where data may be from before data_dir changed: a member's converge moves it into data_dir when
# data_dir holds none yet (stop, move, start; the converge does one member at a time).
default['zookeeper-cluster']['previous_data_dirs'] = ['/var/lib/zookeeper']
# The service user's home; fixed, since usermod cannot change it while the member runs.
default['zookeeper-cluster']['home_dir'] = '/var/lib/zookeeper'
default['zookeeper-cluster']['log_dir'] = '/var/log/zookeeper'
default['zookeeper-cluster']['heap_mb'] = 512
# ZooKeeper's own log, in log_dir: zookeeper.log rolls at this size and at most this many rolled
# files are kept (logback allows up to 20), so it never takes more than size x (count + 1).
default['zookeeper-cluster']['log_max_file_size'] = '64MB'
default['zookeeper-cluster']['log_max_files'] = 10
default['zookeeper-cluster']['log_level'] = 'INFO'
default['zookeeper-cluster']['java_package'] = 'openjdk-17-jre-headless'

# The Prometheus JMX exporter's java agent in the member's JVM: it serves the beans its rules
# (files/default/jmx_exporter.yaml) name, on loopback only, for the node's CloudWatch agent.
# Maven Central's jar (the project's release page as the fallback); the sha256 is the one several
# unrelated public build files pin for 1.6.0. Changing any of these restarts the member, which the
# converge does one node at a time. Off: the member runs without it.
default['zookeeper-cluster']['jmx_exporter']['enabled'] = true
default['zookeeper-cluster']['jmx_exporter']['version'] = '1.6.0'
default['zookeeper-cluster']['jmx_exporter']['sha256'] = 'a95983fd96e865d2bcdf911cc500e7c82808c27ab9fd226bf96732b6c3d8c46e'
default['zookeeper-cluster']['jmx_exporter']['urls'] = %w(
  https://repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/%{version}/jmx_prometheus_javaagent-%{version}.jar
  https://github.com/prometheus/jmx_exporter/releases/download/%{version}/jmx_prometheus_javaagent-%{version}.jar
)
default['zookeeper-cluster']['jmx_exporter']['dir'] = '/opt/jmx-exporter'
default['zookeeper-cluster']['jmx_exporter']['port'] = 9405

# The ensemble's addresses in order, and this node's 1-based position in it (its myid).
# The wrapper cookbook sets both from the zoo_bag data bag.
default['zookeeper-cluster']['ensemble'] = []
default['zookeeper-cluster']['myid'] = nil

# Seconds the health check waits for this member to join a quorum and serve.
default['zookeeper-cluster']['health_timeout'] = 300

default['zookeeper-cluster']['config']['tickTime'] = 2000
default['zookeeper-cluster']['config']['initLimit'] = 10
default['zookeeper-cluster']['config']['syncLimit'] = 5
default['zookeeper-cluster']['config']['clientPort'] = 2181
default['zookeeper-cluster']['config']['maxClientCnxns'] = 60
default['zookeeper-cluster']['config']['autopurge.snapRetainCount'] = 5
default['zookeeper-cluster']['config']['autopurge.purgeInterval'] = 24
# The AdminServer listens on 8080 (Spark's UI port) and is not needed.
default['zookeeper-cluster']['config']['admin.enableServer'] = false
# conf: the workstation and a joining member read the running membership from it.
default['zookeeper-cluster']['config']['4lw.commands.whitelist'] = 'srvr,ruok,mntr,conf'
# reconfig (adding and removing members) is an admin operation: ZooKeeper allows it to a super
# user or with ACL checks off. With tls (the default) the recipe turns ACL checks on whatever this
# says: clients authenticate with their certificates, and the members' own certificate subject is
# the super user that runs reconfig. Without tls this applies: off, since nothing then has ACLs to
# check (Kafka keeps zookeeper.set.acl false) and the plaintext client port authenticates no one.
default['zookeeper-cluster']['config']['skipACL'] = 'yes'
default['zookeeper-cluster']['quorum_port'] = 2888
default['zookeeper-cluster']['election_port'] = 3888

# Mutual TLS: clients on secure_client_port (a client certificate required, x509 authentication)
# and the members' quorum and election connections (sslQuorum). The node's key, certificate and
# the platform CA come from source_dir, written at bootstrap; the recipe keeps its own copies
# under <conf_dir>/tls for the service user. The plaintext clientPort stays for the member's own
# four-letter words and health checks. Off: a plaintext ensemble with ACL checks as skipACL says.
default['zookeeper-cluster']['tls']['enabled'] = true
default['zookeeper-cluster']['tls']['source_dir'] = '/etc/platform/tls'
default['zookeeper-cluster']['tls']['secure_client_port'] = 2182
# A running plaintext ensemble moves to quorum TLS without losing its quorum in ZooKeeper's
# documented three rolling restarts: port_unification true and ssl_quorum false (members accept
# TLS and plaintext quorum connections, still open plaintext ones), then ssl_quorum true (they
# open TLS ones), then port_unification false. Restarting straight into ssl_quorum leaves the
# first member unable to reach the others.
default['zookeeper-cluster']['tls']['ssl_quorum'] = true
default['zookeeper-cluster']['tls']['port_unification'] = false
