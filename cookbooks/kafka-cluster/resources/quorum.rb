# KRaft mode: fails the run unless kafka-metadata-quorum.sh, asked through this node's own
# listener, reports a quorum leader within the given attempts. A controller that cannot reach a
# majority of the voters, or a broker that cannot reach the controllers, never sees one. A check
# changes nothing, so it never counts as an updated resource.
provides :kafka_cluster_quorum
unified_mode true

property :metadata_quorum, String, required: true
# ['--bootstrap-controller', 'host:9093'] on a controller, ['--bootstrap-server', 'host:9092'] on a broker.
property :endpoint, Array, required: true
# Client settings that keep each attempt short (the admin client otherwise waits 60 s per call).
property :command_config, String, required: true
property :log_dir, String, required: true
property :attempts, Integer, default: 36
property :delay, Integer, default: 5
# A dynamic quorum's controller: this node's id and the controller listeners (NAME://host:port)
# the voter set must list for it before the check passes. Empty: the leader alone.
property :node_id, Integer, default: -1
property :voter_listeners, Array, default: []

default_action :check

action :check do
  answer = ''
  leader = nil
  missing = nil
  (1..new_resource.attempts).each do |attempt|
    sleep new_resource.delay if attempt > 1
    answer = KafkaCluster::Helpers.tool_answer do
      shell_out(new_resource.metadata_quorum, *new_resource.endpoint, '--command-config', new_resource.command_config, 'describe', '--status',
                environment: { 'LOG_DIR' => new_resource.log_dir }, timeout: 90)
    end
    leader = KafkaCluster::Helpers.quorum_leader_id(answer)
    missing = new_resource.voter_listeners.empty? ? [] : KafkaCluster::Helpers.voter_listeners_missing(answer, new_resource.node_id, new_resource.voter_listeners)
    break if leader && missing == []
  end
  if leader && missing != []
    raise "kafka-cluster: the voter set does not list #{(missing || new_resource.voter_listeners).join(', ')} for controller #{new_resource.node_id} after " \
          "#{new_resource.attempts} attempts (describe --status through #{new_resource.endpoint.join(' ')}): the voter sends its listeners to the leader " \
          '(UpdateRaftVoter, kraft.version 1) after its restart, and the next converge has the other nodes reach it there; check its server.log'
  end
  if leader.nil?
    last = answer.strip.lines.last.to_s.strip
    raise "kafka-cluster: no controller quorum leader seen through #{new_resource.endpoint.join(' ')} after #{new_resource.attempts} attempts " \
          "(last answer: #{last.empty? ? 'none' : last}); check that a majority of the voters (controller.quorum.voters, or a dynamic quorum's CurrentVoters) run and reach each other on the controller port"
  end
end
