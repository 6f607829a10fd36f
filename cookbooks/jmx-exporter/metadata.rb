name              'jmx-exporter'
maintainer        'Kafka + Spark platform'
maintainer_email  'platform@example.com'
license           'Apache-2.0'
description       "Installs the Prometheus JMX exporter's java agent, pinned by sha256, with a service's rules"
version           '1.0.0'
chef_version      '>= 17.0'
supports          'ubuntu', '>= 22.04'
