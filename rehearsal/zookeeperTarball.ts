import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, realpathSync, existsSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { run } from "./system";

/** Where Debian's zookeeper package (libzookeeper-java) puts the server's jar. */
const DEBIAN_JAR = "/usr/share/java/zookeeper.jar";

/**
 * Stand-in for Apache's bin/zkServer.sh, with the same heap handling: ZK_SERVER_HEAP (MB,
 * default 1000) first, then SERVER_JVMFLAGS, so a heap set through the unit's environment wins
 * only when systemd passes all of it.
 */
const ZK_SERVER = `#!/usr/bin/env bash
# Assembled by the platform's deploy rehearsal from Debian's ZooKeeper jars: start-foreground only.
set -e
ZOOKEEPER_PREFIX=$(cd "$(dirname "$0")/.." && pwd)
if [ "$1" != start-foreground ]; then echo "this rehearsal stand-in runs start-foreground only" >&2; exit 2; fi
ZOOCFG=\${2:-\$ZOOKEEPER_PREFIX/conf/zoo.cfg}
# SERVER_JVMFLAGS holds several flags, as in Apache's script.
# shellcheck disable=SC2086
exec java "-Dzookeeper.log.dir=\${ZOO_LOG_DIR:-.}" "-Xmx\${ZK_SERVER_HEAP:-1000}m" $SERVER_JVMFLAGS \\
  -cp "$ZOOKEEPER_PREFIX/lib/*" org.apache.zookeeper.server.quorum.QuorumPeerMain "$ZOOCFG"
`;

/**
 * Stand-in for Apache's bin/zkCli.sh: ZooKeeperMain with the same class path, its log in
 * ZOO_LOG_DIR, CLIENT_JVMFLAGS and JVMFLAGS split into flags and every argument passed through
 * (-client-configuration, -server, the command), as Apache's script does. The workstation runs
 * reconfig with it on a member.
 */
const ZK_CLI = `#!/usr/bin/env bash
# Assembled by the platform's deploy rehearsal from Debian's ZooKeeper jars.
ZOOKEEPER_PREFIX=$(cd "$(dirname "$0")/.." && pwd)
# Several flags each, as in Apache's script.
# shellcheck disable=SC2086
exec java "-Dzookeeper.log.dir=\${ZOO_LOG_DIR:-.}" -cp "$ZOOKEEPER_PREFIX/lib/*" $CLIENT_JVMFLAGS $JVMFLAGS org.apache.zookeeper.ZooKeeperMain "$@"
`;

/**
 * Netty jars that the jars zookeeper.jar's manifest names need in turn, which Debian's Netty jars
 * do not name themselves: netty-handler's SslHandler is a netty-codec decoder, netty-transport
 * resolves through netty-resolver, the epoll transport loads netty-transport-native-unix-common.
 * Apache's release ships all of them in lib/; without them the TLS ports do not start.
 */
const NETTY_RUNTIME = ["netty-codec", "netty-resolver", "netty-transport-native-unix-common"].map((name) => `/usr/share/java/${name}.jar`);

export interface ZookeeperTarball {
  readonly version: string;
  readonly sha512: string;
  /** The directory to serve: `<dir>/zookeeper-<version>/apache-zookeeper-<version>-bin.tar.gz`, the mirror layout the cookbook downloads from. */
  readonly mirrorDir: string;
}

/**
 * A ZooKeeper release tarball in Apache's bin layout (`apache-zookeeper-<v>-bin/{bin,lib,conf}`),
 * assembled from Debian's packaged jars, since no Apache release can be fetched here. The
 * cookbook downloads, verifies and unpacks it exactly as it does Apache's.
 */
export function zookeeperTarball(workDir: string): ZookeeperTarball {
  if (!existsSync(DEBIAN_JAR)) {
    throw new Error(`${DEBIAN_JAR} is missing: install Debian's zookeeper package (apt-get install zookeeper)`);
  }
  const packaged = run("dpkg-query", ["-W", "-f=${Version}", "libzookeeper-java"]);
  const version = /^(\d+\.\d+\.\d+)/.exec(packaged)?.[1];
  if (!version) throw new Error(`cannot tell the ZooKeeper release from libzookeeper-java ${packaged}`);

  const top = `apache-zookeeper-${version}-bin`;
  const root = join(workDir, "zookeeper-build", top);
  for (const dir of ["bin", "lib", "conf"]) mkdirSync(join(root, dir), { recursive: true });
  // The server's jar, and every jar its manifest names.
  const manifest = run("python3", ["-c", "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read('META-INF/MANIFEST.MF').decode())", DEBIAN_JAR]).replace(/\r?\n /g, "");
  const classPath = /^Class-Path: (.*)$/m.exec(manifest)?.[1].trim().split(/\s+/) ?? [];
  for (const jar of [DEBIAN_JAR, ...classPath].filter((path) => existsSync(path))) {
    copyFileSync(realpathSync(jar), join(root, "lib", basename(jar)));
  }
  for (const jar of NETTY_RUNTIME) {
    if (!existsSync(jar)) throw new Error(`${jar} is missing: install Debian's libnetty-java (a dependency of libzookeeper-java), which ZooKeeper's TLS ports need`);
    copyFileSync(realpathSync(jar), join(root, "lib", basename(jar)));
  }
  writeFileSync(join(root, "bin", "zkServer.sh"), ZK_SERVER);
  chmodSync(join(root, "bin", "zkServer.sh"), 0o755);
  writeFileSync(join(root, "bin", "zkCli.sh"), ZK_CLI);
  chmodSync(join(root, "bin", "zkCli.sh"), 0o755);

  const mirrorDir = join(workDir, "mirror");
  const release = join(mirrorDir, `zookeeper-${version}`);
  mkdirSync(release, { recursive: true });
  const tarball = join(release, `${top}.tar.gz`);
  run("tar", ["--sort=name", "--owner=0", "--group=0", "-czf", tarball, "-C", join(workDir, "zookeeper-build"), top]);
  const sha512 = createHash("sha512").update(readFileSync(tarball)).digest("hex");
  return { version, sha512, mirrorDir };
}
