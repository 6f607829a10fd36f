require 'digest'
require 'etc'
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

    # ZooKeeper keeps its snapshots and transaction logs in <dataDir>/version-2; with
    # zookeeper.datadir.autocreate=false it refuses to start without that directory. Its presence
    # is what "this member has data" means here.
    def data?(data_dir)
      ::File.directory?(::File.join(data_dir, 'version-2'))
    end

    # What the run does with the member's data directory:
    #   :keep       data_dir holds data
    #   :move       an earlier data directory holds it and data_dir does not: move it over
    #   :initialize neither holds any: a new member, or one that lost its data
    def data_plan(data_dir, previous_dirs)
      return :keep if data?(data_dir)
      return :move if previous_dir_with_data(data_dir, previous_dirs)
      :initialize
    end

    def previous_dir_with_data(data_dir, previous_dirs)
      Array(previous_dirs).map(&:to_s).find { |dir| !dir.empty? && ::File.expand_path(dir) != ::File.expand_path(data_dir) && data?(dir) }
    end

    # True when anything under dir belongs to another user than `user`.
    def foreign_files?(dir, user)
      uid = user_id(user)
      return false if uid.nil? # no such user yet: nothing can be given to it
      Dir.glob(::File.join(dir, '**', '*'), ::File::FNM_DOTMATCH).any? { |path| ::File.lstat(path).uid != uid }
    end

    def user_id(user)
      Etc.getpwnam(user).uid
    rescue ArgumentError
      nil
    end

    # The other members that answer `srvr` with a Mode: a serving quorum exists without this
    # member. Each is asked once, briefly; "address (mode)" for each that serves.
    def serving_peers(ensemble, myid, port)
      ensemble.each_with_index.filter_map do |address, index|
        next if index + 1 == myid
        mode = four_letter_word(address, port, 'srvr')[/^Mode: (\w+)/, 1]
        "#{address} (#{mode})" if mode
      end
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
