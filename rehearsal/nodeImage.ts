import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./system";

/**
 * Debian 12 with what an Ubuntu cloud instance brings (systemd, sshd, sudo, cloud-init) and what
 * the cookbooks and the workstation's tools need.
 */
const PACKAGES = [
  "systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "sudo", "procps", "ca-certificates",
  "curl", "python3", "openjdk-17-jre-headless", "ruby", "ruby-bundler", "openssl",
  // The packaged client carries its own libarchive (archive_file); the gem needs the system's.
  "libarchive13",
];

/**
 * cloud-init as an Ubuntu cloud image runs it, fed by a NoCloud seed instead of EC2's metadata:
 * the default user is ubuntu with passwordless sudo (an EC2 key pair's key lands in its
 * authorized_keys), and user data goes through the same handling (a gzipped script is kept raw
 * in /var/lib/cloud/instance/user-data.txt, unpacked into scripts/part-001 and run in the final
 * stage). Modules for hardware, packages and networking a container does not have are left out,
 * so a clean boot ends "done"; host keys come from the image's own first-boot unit.
 */
const CLOUD_CONFIG = [
  "datasource_list: [ NoCloud, None ]",
  "network: {config: disabled}",
  "ssh_deletekeys: false",
  "ssh_genkeytypes: []",
  "system_info:",
  "  default_user:",
  "    name: ubuntu",
  "    lock_passwd: true",
  "    gecos: Ubuntu",
  "    groups: [adm, sudo]",
  '    sudo: ["ALL=(ALL) NOPASSWD:ALL"]',
  "    shell: /bin/bash",
  "cloud_init_modules: [bootcmd, write_files, users_groups, ssh]",
  "cloud_config_modules: [runcmd]",
  "cloud_final_modules: [scripts_per_once, scripts_per_boot, scripts_per_instance, scripts_user, ssh_authkey_fingerprints, final_message]",
  "",
].join("\n");

/** Run inside the new root: makes it boot like a cloud instance that knife can bootstrap. */
const SETUP = String.raw`set -euo pipefail
# Through apt, not debootstrap's --include: cloud-init's Python dependencies include virtual
# packages, which only apt resolves.
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cloud-init
apt-get clean
# ubuntu exists before cloud-init runs, so what the rehearsal mounts into its home has an owner;
# cloud-init then gives it sudo and the key pair's key, as on EC2.
useradd --create-home --shell /bin/bash ubuntu
install -d -m 0700 -o ubuntu -g ubuntu /home/ubuntu/.ssh
cat > /etc/cloud/cloud.cfg.d/90-rehearsal.cfg <<'EOF'
${CLOUD_CONFIG}EOF
# Every container boots with host keys of its own, as a new instance would.
rm -f /etc/ssh/ssh_host_*
cat > /etc/systemd/system/rehearsal-host-keys.service <<'EOF'
[Unit]
Description=SSH host keys of this node, made at its first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
[Install]
WantedBy=multi-user.target
EOF
systemctl enable ssh.service rehearsal-host-keys.service
# Stand-ins for the packaged Chef tools: Chef Infra Client and knife from RubyGems, from the
# bundle the rehearsal mounts read-only at /opt/rehearsal and /opt/rehearsal-bundle.
mkdir -p /opt/chef/bin
for tool in chef-client knife; do
  cat > "/opt/chef/bin/$tool" <<EOF
#!/bin/sh
export BUNDLE_GEMFILE=/opt/rehearsal/Gemfile BUNDLE_PATH=/opt/rehearsal-bundle BUNDLE_FROZEN=true
exec bundle exec $tool "\$@"
EOF
  chmod 0755 "/opt/chef/bin/$tool"
  ln -sf "/opt/chef/bin/$tool" "/usr/local/bin/$tool"
done
`;

/**
 * The root every rehearsal machine (nodes and workstation) boots from, built once with debootstrap and kept in `cacheDir`
 * under a name that changes with its recipe. Containers boot it read-only with a throwaway layer
 * on top, so one image serves every machine and every run.
 */
export function nodeImage(cacheDir: string, mirror: string): string {
  const key = createHash("sha256").update(PACKAGES.join(" ")).update(SETUP).digest("hex").slice(0, 12);
  const image = join(cacheDir, `node-image-${key}`);
  if (existsSync(join(image, ".ready"))) return image;

  mkdirSync(cacheDir, { recursive: true });
  const building = `${image}.building`;
  rmSync(building, { recursive: true, force: true });
  console.log(`building the node image (Debian 12, once per machine) in ${image}`);
  run("debootstrap", ["--variant=minbase", `--include=${PACKAGES.join(",")}`, "bookworm", building, mirror], { timeoutSeconds: 1200 });
  writeFileSync(join(building, "tmp", "setup.sh"), SETUP);
  run("chroot", [building, "bash", "/tmp/setup.sh"]);
  rmSync(join(building, "tmp", "setup.sh"));
  writeFileSync(join(building, ".ready"), `${new Date().toISOString()}\n`);
  renameSync(building, image);
  return image;
}
