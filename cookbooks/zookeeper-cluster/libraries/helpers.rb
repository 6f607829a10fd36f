require 'digest'
require 'etc'
require 'net/http'
require 'openssl'
require 'socket'
require 'timeout'

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

    # A dynamic configuration line, as ZooKeeper's reconfig takes and writes it:
    # server.<id>=<address>:<quorum port>:<election port>:participant;<client port>
    def dynamic_line(id, address, quorum_port, election_port, client_port)
      "server.#{id}=#{address}:#{quorum_port}:#{election_port}:participant;#{client_port}"
    end

    # Every member as a dynamic line, for a new ensemble: id = position.
    def dynamic_lines(ensemble, quorum_port, election_port, client_port)
      ensemble.each_with_index.map { |address, index| dynamic_line(index + 1, address, quorum_port, election_port, client_port) }
    end

    # The file's text, or nil when there is none.
    def read_text(path)
      ::File.file?(path) ? ::File.read(path) : nil
    end

    # key=value lines of a properties file (zoo.cfg); nil for no text.
    def properties(text)
      return if text.nil?
      text.each_line.map(&:strip).reject { |line| line.empty? || line.start_with?('#') }
                                 .to_h { |line| line.split('=', 2).map(&:strip) }
    end

    # The server lines of a static zoo.cfg (the layout before dynamic reconfiguration), in the
    # dynamic form: a static line has no role and no client port.
    def static_servers(text, client_port)
      text.to_s.scan(/^server\.(\d+)=(\S+)$/).map do |id, value|
        value.include?(';') ? "server.#{id}=#{value}" : "server.#{id}=#{value}:participant;#{client_port}"
      end
    end

    # The membership in the answer to the `conf` four-letter word, { id => line }: after a
    # "membership:" line come the server lines and version=<hex>. nil when the answer has none
    # (a member that does not serve, or one that does not allow `conf`).
    def membership_of_conf(text)
      section = text.to_s.split(/^membership:[ \t]*$/, 2)[1]
      return if section.nil?
      members = section.scan(/^(server\.(\d+)=\S+)/).to_h { |line, id| [id.to_i, line] }
      members.empty? ? nil : members
    end

    # The running ensemble's membership as the first other member that serves reports it, or nil
    # when none does.
    def live_membership(ensemble, myid, port, tls = nil)
      ensemble.each_with_index do |address, index|
        next if index + 1 == myid
        members = membership_of_conf(four_letter_word(address, port, 'conf', tls))
        return members if members
      end
      nil
    end

    # What this member's dynamic configuration file starts from, [plan, server lines]:
    #   :keep    zoo.cfg names a dynamic file that lists this member at its address: ZooKeeper
    #            keeps it (reconfig rewrites it as zoo.cfg.dynamic.<version>); never written over
    #   :migrate a static zoo.cfg (server lines): the same members, in the dynamic layout
    #   :rejoin  the running ensemble lists this member (a replaced instance): its membership
    #   :join    the running ensemble does not list it (or lists its id at the address of the
    #            instance it replaces): its membership and this member, as ZooKeeper asks of a
    #            server that is to be added
    #   :new     nothing runs: a new ensemble, every member of the data bag's list
    # A member that joined but was not added yet holds, from the leader, a dynamic file without
    # itself, from which it cannot start again: it joins afresh. `read` gives a file's text or nil;
    # the block, asked only when nothing on this node says who the members are, the running
    # membership.
    def membership_plan(existing_cfg, read, myid, own_line, new_lines, client_port)
      current = properties(existing_cfg) || {}
      pointed = current['dynamicConfigFile']
      own_prefix = own_line[/\A[^:]*:/]
      if pointed && (dynamic = read.call(pointed))
        return [:keep, nil] if dynamic.each_line.any? { |line| line.start_with?(own_prefix) }
      else
        servers = static_servers(existing_cfg, client_port)
        return [:migrate, servers] unless servers.empty?
      end
      members = yield
      return [:new, new_lines] if members.nil?
      # Listed at its own address: this member, back. Listed at another: the instance it replaces,
      # whose id the workstation moves here with reconfig -add once this one follows.
      return [:rejoin, members.sort.map(&:last)] if members[myid].to_s.start_with?(own_prefix)
      [:join, members.merge(myid => own_line).sort.map(&:last)]
    end

    # zoo.cfg's text: the settings and the dynamic file. ZooKeeper rewrites this file itself (in
    # its own order, naming each new zoo.cfg.dynamic.<version>), so a file that already holds
    # these settings and names that dynamic file is kept as it is.
    def static_config(existing, settings, dynamic_file)
      current = properties(existing)
      wanted = settings.to_h { |key, value| [key.to_s, value.to_s] }.merge('dynamicConfigFile' => dynamic_file)
      return existing if current == wanted
      "# Managed by Chef (zookeeper-cluster); ZooKeeper itself rewrites dynamicConfigFile on reconfig.\n" +
        wanted.sort.map { |key, value| "#{key}=#{value}\n" }.join
    end

    # Moves a member's data into data_dir, usually across filesystems (the root volume to the kept
    # one), where mv is a copy then a delete and a run cut short would leave part of version-2 in
    # data_dir: the next run would take that as the member's data (data? is true) and start it on
    # part of its log. So the copy goes to a staging directory inside data_dir (same filesystem),
    # version-2 is renamed into place last, in one step, and the source is emptied only then. A run
    # cut short before the rename leaves data_dir without version-2 and the source whole, and the
    # next run copies again. Arguments: the source directory, data_dir.
    MOVE_DATA_SCRIPT = <<~'BASH'.freeze
      set -euo pipefail
      from=$1 to=$2
      staging="$to/.moving-in"
      if [[ -e "$to/version-2" ]]; then
        echo "zookeeper-cluster: $to already holds data (version-2); not moving $from over it" >&2
        exit 1
      fi
      rm -rf -- "$staging"
      mkdir -- "$staging"
      cp -a -- "$from/." "$staging/"
      sync -f "$staging"
      find "$staging" -mindepth 1 -maxdepth 1 ! -name version-2 -exec mv -f -t "$to" -- {} +
      mv -T -- "$staging/version-2" "$to/version-2"
      rmdir -- "$staging"
      sync -f "$to"
      find "$from" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
    BASH

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
    def serving_peers(ensemble, myid, port, tls = nil)
      ensemble.each_with_index.filter_map do |address, index|
        next if index + 1 == myid
        mode = four_letter_word(address, port, 'srvr', tls)[/^Mode: (\w+)/, 1]
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

    # The member's answer to a four-letter word. With `tls` (platform_tls's hash) over its secure
    # client port, presenting this node's certificate and checking the member's against the CA
    # and its address: between members only that port is open when tls is on.
    def four_letter_word(host, port, word, tls = nil)
      Socket.tcp(host, port, connect_timeout: 3) do |socket|
        next plain_word(socket, word) if tls.nil?
        ssl = OpenSSL::SSL::SSLSocket.new(socket, client_context(tls))
        ssl.sync_close = true
        ssl.connect
        ssl.post_connection_check(host)
        ssl.write(word)
        read_answer(ssl, socket)
      end
    rescue SystemCallError, IOError, SocketError, OpenSSL::SSL::SSLError => e
      "#{e.class}: #{e.message}"
    end

    def plain_word(socket, word)
      socket.write(word)
      socket.close_write
      read_answer(socket, socket)
    end

    # Everything until the member closes the connection (it does after answering), or until it
    # stays silent for `timeout` seconds.
    def read_answer(io, socket, timeout = 5)
      answer = +''
      loop do
        break unless (io.respond_to?(:pending) && io.pending.positive?) || IO.select([socket], nil, nil, timeout)
        answer << io.readpartial(65_536)
      end
      answer
    rescue EOFError, Errno::ECONNRESET, OpenSSL::SSL::SSLError
      answer
    end

    def client_context(tls)
      store = OpenSSL::X509::Store.new
      store.add_cert(OpenSSL::X509::Certificate.new(tls[:ca]))
      context = OpenSSL::SSL::SSLContext.new
      context.cert = OpenSSL::X509::Certificate.new(tls[:cert])
      context.key = OpenSSL::PKey.read(tls[:key])
      context.cert_store = store
      context.verify_mode = OpenSSL::SSL::VERIFY_PEER
      context
    end

    # Written by the platform's bootstrap before the first converge, renewed by later ones.
    PLATFORM_TLS_FILES = { key: 'node.key', cert: 'node.crt', ca: 'ca.crt' }.freeze

    # The node's key, certificate and the platform CA (PEM text) from `dir`, and the certificate's
    # subject as ZooKeeper's x509 authentication names a client: RFC 2253, as Java's
    # X500Principal.getName() gives it (OpenSSL's RFC2253 name format, as openssl x509 -nameopt
    # RFC2253 prints it). Raises one line naming what is missing or unreadable.
    def platform_tls(dir)
      paths = PLATFORM_TLS_FILES.transform_values { |name| ::File.join(dir, name) }
      missing = paths.values.reject { |path| ::File.file?(path) }
      unless missing.empty?
        raise "zookeeper-cluster: tls is on but #{missing.join(', ')} #{missing.size == 1 ? 'is' : 'are'} missing: the node's bootstrap writes " \
              "them (key, certificate, CA); bootstrap the node again, or set node['zookeeper-cluster']['tls']['enabled'] false for a plaintext ensemble"
      end
      texts = paths.transform_values { |path| ::File.read(path) }
      texts.merge(subject: certificate_subject(texts[:cert], paths[:cert]))
    end

    def certificate_subject(pem, path)
      OpenSSL::X509::Certificate.new(pem).subject.to_s(OpenSSL::X509::Name::RFC2253)
    rescue OpenSSL::X509::CertificateError => e
      raise "zookeeper-cluster: #{path} is not a PEM certificate (#{e.message})"
    end

    # A Java system property on the JVM's command line: zkServer.sh splits SERVER_JVMFLAGS at
    # spaces, so a subject with blanks or quotes would reach the JVM cut in pieces.
    def jvm_flag_value(name, value)
      raise "zookeeper-cluster: #{name} #{value.inspect} holds blanks or quotes, which zkServer.sh's SERVER_JVMFLAGS cannot pass" if value.to_s.empty? || value =~ /[\s"'\\]/
      "-D#{name}=#{value}"
    end

    # zoo.cfg settings for TLS, as ZooKeeper 3.8 names them: the keys it does not know itself
    # (ssl.*, authProvider.*, serverCnxnFactory) become zookeeper.<key> system properties, which is
    # where X509Util and the x509 provider read them. PEM stores: key, certificate and CA in one
    # file, the CA alone in the other, no password.
    def tls_settings(keystore, truststore, secure_client_port, ssl_quorum, port_unification)
      stores = lambda do |prefix|
        { "#{prefix}keyStore.location" => keystore, "#{prefix}keyStore.type" => 'PEM',
          "#{prefix}trustStore.location" => truststore, "#{prefix}trustStore.type" => 'PEM',
          "#{prefix}hostnameVerification" => true }
      end
      {
        'secureClientPort' => secure_client_port,
        # The secure port needs Netty's factory; NIO serves plaintext only.
        'serverCnxnFactory' => 'org.apache.zookeeper.server.NettyServerCnxnFactory',
        'ssl.clientAuth' => 'need',
        'authProvider.x509' => 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
        'sslQuorum' => ssl_quorum,
        'ssl.quorum.clientAuth' => 'need',
        # ACL checks on: the super user (the members' own subject) is who may reconfig.
        'skipACL' => 'no',
      }.merge(stores.call('ssl.')).merge(stores.call('ssl.quorum.')).merge(port_unification ? { 'portUnification' => true } : {})
    end

    # How the member's quorum connections run in a zoo.cfg's settings: :tls (sslQuorum: it opens
    # TLS ones), :both (portUnification without sslQuorum: it accepts both, opens plaintext ones),
    # :plaintext (neither), or nil for no file (a new member).
    def quorum_mode(settings)
      return if settings.nil?
      return :tls if settings['sslQuorum'].to_s == 'true'
      settings['portUnification'].to_s == 'true' ? :both : :plaintext
    end

    # The sslQuorum and portUnification this run renders, [ssl_quorum, port_unification, note],
    # from what the member runs (zoo.cfg read before anything changes) and what the attributes
    # ask. Quorum TLS comes one rolling restart at a time (ZooKeeper's documented no-downtime
    # path): a member running port unification without sslQuorum keeps port unification while
    # it starts opening TLS connections (members not yet restarted still open plaintext ones to
    # it); only a member already opening TLS ones may close plaintext, at a later converge. A
    # member running a plaintext quorum is never switched straight to sslQuorum: restarted first,
    # it could reach none of the others. Raises one line for that; note is a line for the log.
    def quorum_tls_stage(running_settings, ssl_quorum, port_unification, path)
      return [ssl_quorum, port_unification, nil] unless ssl_quorum
      case quorum_mode(running_settings)
      when :both
        [true, true, "zookeeper-cluster: #{path} runs port unification without sslQuorum: this roll opens TLS quorum connections and keeps " \
                     'accepting plaintext ones; the next converge closes plaintext quorum connections (docs/tls.md, "ZooKeeper")']
      when :plaintext
        raise "zookeeper-cluster: #{path} runs a plaintext quorum (no sslQuorum, no portUnification) and the new configuration has sslQuorum=true: " \
              'a member restarted first could reach none of the others; move in stages, port_unification true with ssl_quorum false first ' \
              '(kafka.security "migrating" on the platform), then ssl_quorum (docs/tls.md, "ZooKeeper"); nothing was changed'
      else
        [ssl_quorum, port_unification, nil]
      end
    end

    # The quorum TLS stage each member of the environment reported at the end of its last
    # successful run ({ address => 'plaintext' | 'both' | 'ssl_quorum' }), from the Chef server:
    # a node object is saved only when its run succeeded, restart and health checks included.
    # A search the server refuses or cannot answer is reported as nil, which holds plaintext open.
    def reported_quorum_tls(environment)
      rows = Chef::Search::Query.new.search(:node, "chef_environment:#{environment}", filter_result: { 'tls' => %w(zookeeper-cluster quorum_tls) }).first
      rows.filter_map { |row| row && row['tls'] }.to_h { |tls| [tls['address'], tls['stage']] }
    rescue Net::HTTPClientException, Net::HTTPFatalError, SystemCallError, SocketError, Timeout::Error => e
      Chef::Log.warn("zookeeper-cluster: the Chef server's node search failed (#{e.class}: #{e.message.lines.first&.strip}); the members' quorum TLS stages are unknown")
      nil
    end

    # The peers that may still open plaintext quorum connections: every other member that has not
    # reported running sslQuorum. A member that closed plaintext before them could not be reached
    # by them, and could not rejoin after its restart.
    def peers_opening_plaintext(ensemble, myid, reported)
      ensemble.each_with_index.filter_map do |address, index|
        next if index + 1 == myid
        next "#{address} (the search failed)" if reported.nil?
        "#{address} (#{reported[address] || 'nothing reported'})" unless reported[address] == 'ssl_quorum'
      end
    end

    # zkCli.sh's -client-configuration file: a TLS client with the member's own certificate,
    # so the super user.
    def client_tls_properties(keystore, truststore)
      {
        'zookeeper.client.secure' => true,
        'zookeeper.clientCnxnSocket' => 'org.apache.zookeeper.ClientCnxnSocketNetty',
        'zookeeper.ssl.keyStore.location' => keystore,
        'zookeeper.ssl.keyStore.type' => 'PEM',
        'zookeeper.ssl.trustStore.location' => truststore,
        'zookeeper.ssl.trustStore.type' => 'PEM',
        'zookeeper.ssl.hostnameVerification' => true,
      }.map { |key, value| "#{key}=#{value}\n" }.join
    end
  end
end
