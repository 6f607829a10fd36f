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

    # server.properties lines, sorted so the file only changes when a value does.
    def properties_lines(properties)
      properties.sort_by { |key, _| key.to_s }.map { |key, value| "#{key}=#{value}" }
    end
  end
end
