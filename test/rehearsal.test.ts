import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { pkiContext } from "../constructs/pki";
import { renderScript } from "../constructs/renderScript";
import { SPARK_JOBS_USER } from "../constructs/sparkJobsIdentity";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import { cloudInitState } from "../rehearsal/cloudInitState";
import { managedHierarchies } from "../rehearsal/containerCgroup";
import { assertOneLeader } from "../rehearsal/leaderClaims";
import { gzipAsTerraform, writeNoCloudSeed } from "../rehearsal/noCloudSeed";
import { commandLine, rehearsalNodeRole } from "../rehearsal/workstationSide";
import { configFrom } from "./helpers";
import { shellcheck } from "./shell";
import { describeScripts } from "./tiers";

const UNIT_STATES = (final: string): string => ["active", "active", "active", final].join("\n");

describe("the rehearsal's view of a first boot", () => {
  it("is done when cloud-init says so", () => {
    expect(cloudInitState(`status: done\n${UNIT_STATES("active")}`)).toEqual({ kind: "done" });
  });

  it("reports a user data script that failed as an error, not a boot to retry", () => {
    expect(cloudInitState(`status: error\n${UNIT_STATES("active")}`).kind).toBe("error");
  });

  it("calls a boot stuck when a cloud-init unit failed to start while cloud-init still says running", () => {
    expect(cloudInitState(`status: running\n${UNIT_STATES("failed")}`)).toEqual({ kind: "stuck", detail: "cloud-final.service failed with cloud-init running" });
  });

  it("waits while cloud-init runs and its units are fine", () => {
    expect(cloudInitState(`status: running\n${UNIT_STATES("activating")}`)).toEqual({ kind: "running" });
    expect(cloudInitState("")).toEqual({ kind: "running" });
  });
});

describe("a NoCloud seed", () => {
  it("holds the user data bytes as given and meta-data naming the instance and its key pair's key", () => {
    const dir = writeNoCloudSeed(join(mkdtempSync(join(tmpdir(), "seed-")), "seed"), {
      instanceId: "boot-1-n0",
      hostname: "n0",
      userData: Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
      publicKeys: ["ssh-ed25519 AAAA deployer\n"],
    });
    expect([...readFileSync(join(dir, "user-data"))]).toEqual([0x1f, 0x8b, 0x08, 0x00]);
    expect(readFileSync(join(dir, "meta-data"), "utf8")).toBe('instance-id: "boot-1-n0"\nlocal-hostname: "n0"\npublic-keys:\n  - "ssh-ed25519 AAAA deployer"\n');
  });

  it("gzips user data as the stacks send it, to bytes that unpack to the script", () => {
    const script = "#!/usr/bin/env bash\necho \"${HOME}\" %{ not a template }\n";
    const gzipped = gzipAsTerraform(script);
    expect(gzipped.bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gunzipSync(gzipped.bytes).toString()).toBe(script);
    expect(gzipped.by).toMatch(/^(Terraform \S+ base64gzip|zlib \(no terraform on PATH\))$/);
  });
});

describeScripts("the rehearsal's stand-in user data", () => {
  const templatesDir = join(__dirname, "..", "rehearsal", "templates");
  const scripts = {
    "chef-workstation": renderScript(
      "chef-workstation",
      { setupCommand: SETUP_COMMAND, knifeConfig: "/home/ubuntu/chef-repo/.chef/config.rb", serverUrl: "https://server:8889", repoUrl: "http://192.0.2.1:8000/chef-repo", pki: pkiContext(configFrom()) },
      { templatesDir },
    ),
    "kafka-node": renderScript("kafka-node", { setupCommand: SETUP_COMMAND, hostKeysParameter: "/var/lib/platform/host-keys" }, { templatesDir }),
  };

  it.each(Object.entries(scripts))("%s is shellcheck-clean and keeps itself as the setup command first, as the real one does", (_name, script) => {
    expect(shellcheck(script).output).toBe("");
    expect([...script.matchAll(/^step "([^"]+)"$/gm)][0]?.[1]).toBe("keep this setup as ${SETUP_COMMAND}");
  });
});

describeScripts("the rehearsal's SSH identities on a node", () => {
  const script = renderScript(
    "ssh-identities",
    { region: "us-west-2", acceptBootstrapKeyFrom: "/insight/dev/chef/bootstrap-public-key", bootstrapKeySource: "/insight/dev/chef/bootstrap-key-source", acceptJobsKeyFrom: "/insight/dev/chef/jobs-public-key", jobsUser: SPARK_JOBS_USER },
    { templatesDir: join(__dirname, "..", "rehearsal", "templates") },
  );

  it("sets them up with the partial's functions, called as the Spark master's user data calls them, and is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
    expect(script).toContain("\naccept_ssh_key bootstrap-key '/insight/dev/chef/bootstrap-public-key' '/insight/dev/chef/bootstrap-key-source' ubuntu\n");
    expect(script).toContain("\naccept_jobs_key 'spark-jobs' '/insight/dev/chef/jobs-public-key' '/insight/dev/chef/bootstrap-key-source'\n");
    expect(readFileSync(join(__dirname, "..", "templates", "spark-node.sh.hbs"), "utf8")).toContain('\naccept_jobs_key "$JOBS_USER" "$JOBS_KEY_PARAMETER" "$BOOTSTRAP_KEY_SOURCE"\n');
  });
});

describe("the kafka-node role the rehearsal serves", () => {
  // The rehearsal deploys plaintext first and moves it to TLS: the nodes must run what the config says.
  it.each(["plaintext", "migrating", "tls"])("keeps kafka.security %s and the mode, and only turns Kafka's install off", (security) => {
    const role = rehearsalNodeRole(configFrom("--kafka.security", security), "http://192.0.2.1:8000", { health_timeout: 20 });
    expect(role.override_attributes["insight-kafka-cluster"]).toEqual({ mode: "zookeeper", security, install_kafka: false });
    expect(role.override_attributes["zookeeper-cluster"]).toMatchObject({ mirrors: ["http://192.0.2.1:8000"], health_timeout: 20 });
  });
});

describe("the rehearsal's runs of the workstation's scripts", () => {
  it("runs a script as Terraform's remote-exec does, with an operator's variables in front when it has any", () => {
    expect(commandLine("/tmp/converge-nodes.sh", {})).toBe("bash /tmp/converge-nodes.sh");
    expect(commandLine("/tmp/converge-nodes.sh", { PLATFORM_HEALTH_POLL: "2" })).toBe("PLATFORM_HEALTH_POLL=2 bash /tmp/converge-nodes.sh");
  });

  it("refuses a variable the remote shell would read as more than a name and a value", () => {
    expect(() => commandLine("/tmp/x.sh", { "A; rm": "1" })).toThrow("a script's variable A; rm=1: a name of capitals and a plain value only");
    expect(() => commandLine("/tmp/x.sh", { POLL: "2 $(id)" })).toThrow("a name of capitals and a plain value only");
  });
});

describe("the rehearsal's containers' cgroups", () => {
  it("gives each container its own cgroup in the hierarchies systemd manages: the named systemd and the unified ones on a hybrid host, the one cgroup2 elsewhere", () => {
    const hybrid = [
      "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0",
      "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0",
      "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0",
      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0",
    ].join("\n");
    expect(managedHierarchies(hybrid)).toEqual(["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"]);
    expect(managedHierarchies("cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\nproc /proc proc rw 0 0")).toEqual(["/sys/fs/cgroup"]);
    expect(managedHierarchies("proc /proc proc rw 0 0")).toEqual([]);
  });
});

describe("the rehearsal's reading of ZooKeeper leaders during a roll", () => {
  const twoLeaders = [new Map([["192.0.2.11", "leader"], ["192.0.2.12", "follower"], ["192.0.2.13", "leader"]])];
  // The sample was asked at 100 s and answered at 100.2 s.
  const times = { startedAt: [100], takenAt: [100.2] };

  beforeEach(() => jest.spyOn(console, "log").mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it("refuses two leaders when neither was stopping", () => {
    expect(() => assertOneLeader(twoLeaders, times, new Map([["192.0.2.11", 0], ["192.0.2.13", 0]]))).toThrow("two leaders at one sample: 192.0.2.11 leader, 192.0.2.12 follower, 192.0.2.13 leader");
  });

  it("takes the old leader's last answer beside the new leader when its stop had begun, and says so", () => {
    expect(() => assertOneLeader(twoLeaders, times, new Map([["192.0.2.11", 99.5]]))).not.toThrow();
    expect(console.log).toHaveBeenCalledWith(expect.stringContaining("192.0.2.11, stopping for 0.7 s"));
  });

  it("refuses a claim from a leader whose stop began after the sample, or long before it", () => {
    expect(() => assertOneLeader(twoLeaders, times, new Map([["192.0.2.11", 100.5]]))).toThrow("two leaders");
    expect(() => assertOneLeader(twoLeaders, times, new Map([["192.0.2.11", 80]]))).toThrow("two leaders");
  });

  it("refuses three leaders even with one stopping", () => {
    const three = [new Map([["192.0.2.11", "leader"], ["192.0.2.12", "leader"], ["192.0.2.13", "leader"]])];
    expect(() => assertOneLeader(three, times, new Map([["192.0.2.11", 99.5]]))).toThrow("two leaders");
  });
});
