# 'zookeeper': the broker registers in a ZooKeeper ensemble (Kafka 3.x; 3.9 is the last line).
# 'kraft': Kafka 4.x's own controller quorum, with process.roles, node.id and
# controller.quorum.voters from the wrapper and the cluster's id below.
default['kafka-cluster']['mode'] = 'zookeeper'
# KRaft mode: the cluster's id (22 base64url characters), the same on every node. The log
# directories are formatted with it once; a directory formatted for another id stops the run.
default['kafka-cluster']['cluster_id'] = nil
# KRaft mode with a dynamic quorum (controller.quorum.bootstrap.servers): the voters a new
# cluster is formatted with, id@host:port:directory-id,... (the wrapper sets it on the initial
# controllers of a cluster being created). nil formats with --no-initial-controllers: a broker,
# or a controller that joins a running quorum and is added to it afterwards.
default['kafka-cluster']['initial_controllers'] = nil
default['kafka-cluster']['broker_port'] = 9092

# Mutual TLS (docs/tls.md): every listener, the KRaft controller's too, is SSL with client
# certificates required, and an authorizer admits only the principals the ACLs name. The key
# material is the node's own (written to source_dir before the first run); the run builds the
# broker's copy in tls_dir, owned by the kafka user, and stops, naming the file, when one is missing.
default['kafka-cluster']['tls']['enabled'] = true
# The middle stage of moving a running plaintext cluster to TLS: both listeners, brokers talk to
# each other over TLS, no authorizer yet (plaintext clients have no principal to grant).
default['kafka-cluster']['tls']['migrating'] = false
# In the middle stage, whether the broker reaches ZooKeeper over TLS already (the wrapper sets it
# once every member serves its TLS port). Past it, ZooKeeper mode always does; ACLs on znodes
# come with the last stage only.
default['kafka-cluster']['tls']['zookeeper_client'] = false
default['kafka-cluster']['tls']['source_dir'] = '/etc/platform/tls'
default['kafka-cluster']['tls']['dir'] = '/etc/kafka/tls'
default['kafka-cluster']['tls']['listener_name'] = 'TLS'
default['kafka-cluster']['tls']['port'] = 9094
# Every node's certificate names CN=kafka-broker; the workstation's tools CN=kafka-admin.
default['kafka-cluster']['tls']['super_users'] = %w(kafka-broker kafka-admin)
# KRaft's controller listeners: the plaintext one (CONTROLLER) and the TLS one (CONTROLLER_TLS).
# The migration's first roll holds a node's quorum at controller_port until the node serves both.
default['kafka-cluster']['controller_port'] = 9093
default['kafka-cluster']['tls']['controller_port'] = 9095

# Kafka 3.9 is the last line with ZooKeeper mode. The sha512 is the tarball's hex digest (Apache's
# .sha512 files are in gpg's layout, not sha512sum's); a download that does not match is never used.
# Two public sources agree on it: strimzi-kafka-operator's kafka-versions.yaml and huyz0/oqueue.
default['kafka-cluster']['version'] = '3.9.1'
default['kafka-cluster']['scala_version'] = '2.13'
default['kafka-cluster']['sha512'] = '1ea204ba73411737a275429ca976d440f007ff0957b90b19be41dc5a4bae52617267769be9f0b5791714d0b3c4c760605bd426faea39edd90763585523fa2cfe'
# Tried in order: a mirror (only current releases), then Apache's archive (all releases).
default['kafka-cluster']['mirrors'] = %w(https://dlcdn.apache.org/kafka https://archive.apache.org/dist/kafka)

default['kafka-cluster']['user'] = 'kafka'
default['kafka-cluster']['group'] = 'kafka'
default['kafka-cluster']['install_dir'] = '/opt/kafka'
default['kafka-cluster']['conf_dir'] = '/etc/kafka'
# Kafka's own log files, on the root volume: server.log, controller.log, state-change.log,
# log-cleaner.log, kafka-request.log and kafka-authorizer.log each roll at log_file_max_mb and keep
# log_file_backups old copies; the JVM's GC log rolls at gc_log_file_max_mb and keeps gc_log_files
# old files. At most 6 x 100 MiB x (1 + 4) + 20 MiB x (1 + 5) = 3120 MiB with these values.
default['kafka-cluster']['log_dir'] = '/var/log/kafka'
default['kafka-cluster']['log_file_max_mb'] = 100
default['kafka-cluster']['log_file_backups'] = 4
default['kafka-cluster']['gc_log_file_max_mb'] = 20
default['kafka-cluster']['gc_log_files'] = 5
# Where the broker's data volume is mounted; log.dirs lives here. The run stops before changing
# anything unless it is a mount point: a new path on a running node is an empty directory on the
# root volume, while the volume stays mounted at the old one.
default['kafka-cluster']['data_dir'] = '/data/kafka'
# The data volume's filesystem label (the node's setup formats it with mkfs.xfs -L): the refusal
# above names where the volume is mounted.
default['kafka-cluster']['data_volume_label'] = 'kafka-data'
# The data filesystem is grown to its device when the device is larger by at least this much (an
# EBS volume grows by whole GiB; XFS may leave a few blocks at the end unused).
default['kafka-cluster']['grow_threshold_mb'] = 64
default['kafka-cluster']['heap_mb'] = 2048
default['kafka-cluster']['java_package'] = 'openjdk-17-jre-headless'

# The Prometheus JMX exporter's java agent in the node's JVM: it serves the beans its rules
# (files/default/jmx_exporter.yaml) name, on loopback only, for the node's CloudWatch agent.
# Maven Central's jar (the project's release page as the fallback); the sha256 is the one several
# unrelated public build files pin for 1.6.0. Changing any of these restarts Kafka, which the
# converge does one node at a time, each after the cluster is healthy. Off: Kafka runs without it.
default['kafka-cluster']['jmx_exporter']['enabled'] = true
default['kafka-cluster']['jmx_exporter']['version'] = '1.6.0'
default['kafka-cluster']['jmx_exporter']['sha256'] = 'a95983fd96e865d2bcdf911cc500e7c82808c27ab9fd226bf96732b6c3d8c46e'
default['kafka-cluster']['jmx_exporter']['urls'] = %w(
  https://repo1.maven.org/maven2/io/prometheus/jmx/jmx_prometheus_javaagent/%{version}/jmx_prometheus_javaagent-%{version}.jar
  https://github.com/prometheus/jmx_exporter/releases/download/%{version}/jmx_prometheus_javaagent-%{version}.jar
)
default['kafka-cluster']['jmx_exporter']['dir'] = '/opt/jmx-exporter'
default['kafka-cluster']['jmx_exporter']['port'] = 9404
default['kafka-cluster']['open_files'] = 100_000
# Units the broker starts after (the wrapper adds zookeeper.service when both run on one node).
default['kafka-cluster']['service_after'] = %w(network-online.target)
# Tries (5 s apart) of each health check: registered in ZooKeeper, or (KRaft) a quorum leader and
# the broker serving.
default['kafka-cluster']['health_retries'] = 36
# Tries (5 s apart) of KRaft's check that the controller quorum has a leader: on a first deploy the
# controllers are bootstrapped at the same time, and a majority must be up, as ZooKeeper's 300 s.
default['kafka-cluster']['quorum_retries'] = 60
# KRaft: the health checks' client settings (--command-config): short calls, many attempts.
default['kafka-cluster']['tools_properties']['request.timeout.ms'] = 5_000
default['kafka-cluster']['tools_properties']['default.api.timeout.ms'] = 10_000

# What Kafka needs from the kernel: little swapping, many memory maps for its segment files.
default['kafka-cluster']['sysctl']['vm.swappiness'] = 1
default['kafka-cluster']['sysctl']['vm.max_map_count'] = 262_144

# server.properties. broker.id, zookeeper.connect and the listeners come from the wrapper.
props = default['kafka-cluster']['config']['properties']
props['num.partitions'] = 40
props['default.replication.factor'] = 3
props['min.insync.replicas'] = 2
props['offsets.topic.replication.factor'] = 3
props['transaction.state.log.replication.factor'] = 3
props['transaction.state.log.min.isr'] = 2
props['unclean.leader.election.enable'] = false
props['auto.create.topics.enable'] = false
props['log.retention.hours'] = 168
props['zookeeper.connection.timeout.ms'] = 18_000
