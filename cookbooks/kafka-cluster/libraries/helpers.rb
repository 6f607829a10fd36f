require 'digest'

module KafkaCluster
  # Small pure functions the recipe uses, kept here so they are unit-tested on their own.
  module Helpers
    module_function

    def release_name(scala_version, version)
      "kafka_#{scala_version}-#{version}"
    end

    def tarball_urls(mirrors, scala_version, version)
      mirrors.map { |base| "#{base.chomp('/')}/#{version}/#{release_name(scala_version, version)}.tgz" }
    end

    def sha512_matches?(path, expected_hex)
      Digest::SHA512.file(path).hexdigest.casecmp?(expected_hex.to_s)
    end

    # The broker ids in zookeeper-shell's answer to `ls /brokers/ids`: its last line, like [1, 2, 3].
    def registered_broker_ids(output)
      list = output.lines.map(&:strip).reverse.find { |line| line.start_with?('[') && line.end_with?(']') }
      list.to_s.delete('[] ').split(',').map(&:to_i)
    end

    # What a health check's tool said: its output, or its errors when it printed nothing. A run
    # that hangs past its timeout is one failed attempt, not the end of the check.
    def tool_answer
      result = yield
      result.stdout.to_s.empty? ? result.stderr.to_s : result.stdout.to_s
    rescue Mixlib::ShellOut::CommandTimeout => e
      "timed out: #{e.message.lines.first.to_s.strip}"
    end

    # The broker ids in kafka-broker-api-versions.sh's answer: one header line per live broker,
    # like `10.0.16.5:9092 (id: 1 rack: us-west-2a isFenced: false) -> (`.
    def api_versions_broker_ids(output)
      output.scan(/\(id: (\d+) rack:/).flatten.map(&:to_i)
    end

    # The quorum leader's id in kafka-metadata-quorum.sh's `describe --status`; nil when there is
    # none yet (-1) or no answer.
    def quorum_leader_id(output)
      id = output[/^LeaderId:\s+(-?\d+)\s*$/, 1]
      id && id.to_i >= 0 ? id.to_i : nil
    end

    # A Kafka Uuid as text: 16 bytes in unpadded base64url.
    def cluster_id?(value)
      value.to_s.match?(/\A[A-Za-z0-9_-]{21}[AQgw]\z/)
    end

    # kafka-storage.sh format --initial-controllers: id@host:port:directory-id, comma-separated,
    # each directory id a Kafka Uuid.
    def initial_controllers?(value)
      voters = value.to_s.split(',', -1)
      return false if voters.empty?
      voters.all? do |voter|
        id, rest = voter.split('@', 2)
        host_port, _, directory_id = rest.to_s.rpartition(':')
        id.to_s.match?(/\A\d+\z/) && host_port.match?(/\A[^:@,\s]+:\d+\z/) && cluster_id?(directory_id)
      end
    end

    # One value of a Java properties file such as meta.properties; nil when the file or key is absent.
    def meta_property(path, key)
      return unless ::File.exist?(path)
      line = ::File.readlines(path).map(&:strip).find { |candidate| candidate.start_with?("#{key}=") }
      line&.split('=', 2)&.last
    end

    # The host of the first listener, e.g. 10.0.16.5 from PLAINTEXT://10.0.16.5:9092,CONTROLLER://...
    def listener_host(listeners)
      listeners.to_s.split(',').first.to_s[%r{://([^:/]+):\d+}, 1]
    end

    # server.properties lines, sorted so the file only changes when a value does.
    def properties_lines(properties)
      properties.sort_by { |key, _| key.to_s }.map { |key, value| "#{key}=#{value}" }
    end
  end
end
