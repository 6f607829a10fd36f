require 'mixlib/shellout'

module InsightKafkaCluster
  # An EBS volume as a Nitro instance shows it: a device named by the volume's id, which is the
  # NVMe serial, whatever device name the attachment asked for.
  module Volume
    module_function

    def volume_id?(value)
      value.to_s.match?(/\Avol-\h{8,17}\z/)
    end

    def device(volume_id, by_id = '/dev/disk/by-id')
      "#{by_id}/nvme-Amazon_Elastic_Block_Store_#{volume_id.to_s.delete('-')}"
    end

    # Waits for an attached volume's device: attempts x seconds at most. True once it exists.
    def wait_for_device(path, attempts, seconds)
      attempts.times do |attempt|
        return true if ::File.exist?(path)
        sleep(seconds) if attempt < attempts - 1
      end
      false
    end

    # What blkid's low-level probe (no cache) finds on the device, as KEY => value; empty when it
    # holds no filesystem and no partition table (blkid exits 2). Any other failure raises: a
    # device that could not be read must never be taken for a blank one and formatted.
    def probe(device)
      result = Mixlib::ShellOut.new('blkid', '-p', '-o', 'export', device).run_command
      return {} if result.exitstatus == 2
      result.error!
      parse_export(result.stdout)
    end

    # blkid -o export's KEY=value lines.
    def parse_export(text)
      text.each_line.with_object({}) do |line, found|
        key, value = line.strip.split('=', 2)
        found[key] = value unless key.to_s.empty? || value.nil?
      end
    end

    # Why the device must not be used, or nil when it is blank or holds an XFS filesystem.
    def content_problem(found, volume_id, device)
      return if found.empty? || found['TYPE'] == 'xfs'
      what = found['TYPE'] ? "a #{found['TYPE']} filesystem" : "a #{found['PTTYPE'] || 'partition table or unknown content'}"
      "insight-kafka-cluster: ZooKeeper's volume #{volume_id} (#{device}) holds #{what}, not XFS; it is neither formatted nor " \
        "mounted: attach the volume that holds this member's ZooKeeper data, or one that is blank"
    end

    def uuid(device)
      probe(device)['UUID']
    end

    # True when the mount point is mounted from the device (both resolved through their links).
    def mounted_from?(mount_point, device, mounts = KafkaCluster::Helpers.read_mounts)
      mount = mounts[mount_point.chomp('/')]
      !mount.nil? && KafkaCluster::Helpers.resolve(mount[:source]) == KafkaCluster::Helpers.resolve(device)
    end
  end
end
