require 'digest'
require 'socket'

module ZookeeperCluster
  # Small pure functions the recipe uses, kept here so they are unit-tested on their own.
  module Helpers
    module_function

    def tarball_name(version)
      "apache-zookeeper-#{version}-bin.tar.gz"
    end

    # Every mirror's URL for the release tarball, in the order remote_file tries them.
    def tarball_urls(mirrors, version)
      mirrors.map { |base| "#{base.chomp('/')}/zookeeper-#{version}/#{tarball_name(version)}" }
    end

    def sha512_matches?(path, expected_hex)
      Digest::SHA512.file(path).hexdigest.casecmp?(expected_hex.to_s)
    end

    # zoo.cfg's server lines: server.<myid>=<address>:<quorum port>:<election port>
    def server_lines(ensemble, quorum_port, election_port)
      ensemble.each_with_index.map { |address, index| "server.#{index + 1}=#{address}:#{quorum_port}:#{election_port}" }
    end

    # Asks the member `srvr` until it reports a Mode (leader, follower or standalone).
    def wait_until_serving(host, port, timeout, interval: 5)
      deadline = Time.now + timeout
      last = 'no answer'
      loop do
        last = four_letter_word(host, port, 'srvr')
        mode = last[/^Mode: (\w+)/, 1]
        return mode if mode
        break if Time.now >= deadline
        sleep interval
      end
      raise "ZooKeeper on #{host}:#{port} did not report a Mode within #{timeout}s (last answer: #{last.strip.lines.first || 'none'}); " \
            'check that every ensemble member is running and ports 2888/3888 are open between them'
    end

    def four_letter_word(host, port, word)
      Socket.tcp(host, port, connect_timeout: 3) do |socket|
        socket.write(word)
        socket.close_write
        socket.read.to_s
      end
    rescue SystemCallError, IOError, SocketError => e
      "#{e.class}: #{e.message}"
    end
  end
end
