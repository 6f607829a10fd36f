import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./system";

/** Debian 12 with what an Ubuntu cloud node brings (systemd, sshd, sudo) and what the cookbooks need. */
const PACKAGES = [
  "systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "sudo", "procps", "ca-certificates",
  "curl", "python3", "openjdk-17-jre-headless", "ruby", "ruby-bundler",
  // The packaged client carries its own libarchive (archive_file); the gem needs the system's.
  "libarchive13",
];

/** Run inside the new root: makes it boot like a cloud node that knife can bootstrap. */
const SETUP = String.raw`set -euo pipefail
useradd --create-home --shell /bin/bash ubuntu
install -d -m 0700 -o ubuntu -g ubuntu /home/ubuntu/.ssh
echo 'ubuntu ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-ubuntu
chmod 0440 /etc/sudoers.d/90-ubuntu
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
# Stand-in: a rehearsal node has no cloud-init, and no user data to wait for.
cat > /usr/local/bin/cloud-init <<'EOF'
#!/bin/sh
[ "$1" = status ] && echo "status: done (rehearsal node: no cloud-init)" && exit 0
exit 1
EOF
# Stand-in for the packaged client: Chef Infra Client from RubyGems, from the bundle the
# rehearsal mounts read-only at /opt/rehearsal and /opt/rehearsal-bundle.
mkdir -p /opt/chef/bin
cat > /opt/chef/bin/chef-client <<'EOF'
#!/bin/sh
export BUNDLE_GEMFILE=/opt/rehearsal/Gemfile BUNDLE_PATH=/opt/rehearsal-bundle BUNDLE_FROZEN=true
exec bundle exec chef-client "$@"
EOF
chmod 0755 /usr/local/bin/cloud-init /opt/chef/bin/chef-client
ln -sf /opt/chef/bin/chef-client /usr/local/bin/chef-client
`;

/**
 * The root every rehearsal node boots from, built once with debootstrap and kept in `cacheDir`
 * under a name that changes with its recipe. Containers boot it read-only with a throwaway layer
 * on top, so one image serves every node and every run.
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
