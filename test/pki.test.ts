/**
 * The platform's CA and node certificates: the bootstrap script run under bash against a stubbed
 * ssh that plays the node (its commands run here, its /etc/platform/tls in a scratch directory),
 * a stubbed SSM, and the REAL openssl, whose certificates are then checked with openssl and keytool.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { KafkaProvisionScripts, type ProvisionedNode, RENEW_COMMAND } from "../constructs/kafkaProvisionScripts";
import { zookeeperMembersSsh } from "./clusterStubs";
import { pkiParameters } from "../constructs/pki";
import { buildPlatform } from "../stacks/buildPlatform";
import { configFrom, dataOf, synthAppStack, testApp } from "./helpers";
import { runBash, shellcheck, stubCalls } from "./shell";
import { COMMON_STUBS, KNIFE_NOT_FOUND, opensslStub, python3Stub } from "./stubs";
import { describeScripts, itScripts } from "./tiers";

const config = configFrom();
const PARAMETERS = pkiParameters(config);
const ssmFile = (dir: string, name: string): string => join(dir, "work", "ssm", name.split("/").join("_"));
const openssl = (...args: string[]): string => execFileSync("openssl", args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });

/** A CA as the workstation's setup leaves it in SSM, made here with openssl. */
function caIn(dir: string): void {
  const scratch = mkdtempSync(join(tmpdir(), "ca-"));
  openssl("genpkey", "-quiet", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", join(scratch, "ca.key"));
  openssl("req", "-new", "-x509", "-key", join(scratch, "ca.key"), "-subj", "/O=insight-dev/CN=insight-dev platform CA", "-days", "3650", "-out", join(scratch, "ca.crt"));
  mkdirSync(join(dir, "work", "ssm"), { recursive: true });
  writeFileSync(ssmFile(dir, PARAMETERS.caKey), readFileSync(join(scratch, "ca.key")));
  writeFileSync(ssmFile(dir, PARAMETERS.caCert), readFileSync(join(scratch, "ca.crt")));
  rmSync(scratch, { recursive: true });
}

/**
 * ssh: the node. Its commands run here through bash -c, as sshd would run them; what a `bash -s`
 * reads and prints is kept in work/ssh-transcript, with /etc/platform/tls moved to work/node/...
 * hostname -f answers work/fqdn, or the EC2 name of the address ssh was given.
 */
const SSH = [
  'host=""; rest=()',
  'while (($#)); do case $1 in -i|-o) shift 2 ;; ubuntu@*) host=${1#ubuntu@}; shift; rest=("$@"); break ;; *) shift ;; esac; done',
  "export NODE_HOST=$host",
  'transcript="$WORK_DIR/ssh-transcript"',
  'echo ">>> ${host}: ${rest[*]}" >>"$transcript"',
  'if [[ " ${rest[*]} " == *" bash -s "* ]]; then',
  'node="$WORK_DIR/node"; [[ -f "$WORK_DIR/per-host" ]] && node="$WORK_DIR/node-$host"',
  '  input=$(sed "s|/etc/platform/tls|$node/etc/platform/tls|g")',
  '  printf "%s\\n" "$input" >>"$transcript"',
  '  status=0; output=$(printf "%s\\n" "$input" | bash -c "${rest[*]}") || status=$?',
  '  echo "<<< ${host}" >>"$transcript"; printf "%s\\n" "$output" | tee -a "$transcript"',
  "  exit $status",
  "fi",
  'exec bash -c "${rest[*]}"',
].join("\n");

const stubs = {
  ...COMMON_STUBS,
  openssl: opensslStub(),
  ssh: SSH,
  sudo: '[[ $1 == -n ]] && shift; exec "$@"',
  hostname: 'if [[ -f "$WORK_DIR/fqdn" ]]; then cat "$WORK_DIR/fqdn"; else echo "ip-${NODE_HOST//./-}.us-west-2.compute.internal"; fi',
  timeout: 'shift; exec "$@"',
  // Records every directory or file it makes (work/mktemp-made), so a test can see where and whether it is gone.
  mktemp: 'made=$(/usr/bin/mktemp "$@") || exit 1; echo "$made" >> "$WORK_DIR/mktemp-made"; echo "$made"',
  "cloud-init": "exit 0",
  knife: "exit 0",
  // The node published its SSH host key as the instance the bootstrap names (host_keys_published).
  python3: python3Stub(
    `if [[ \${1:-} == -c && \${3:-} == */host-keys/* ]]; then printf '%s\\n%s\\n' "$(sed -n "s/^INSTANCE_ID='\\(.*\\)'$/\\1/p" "$WORK_DIR/../script.sh")" 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheNode0000000000000000000000000'; exit 0; fi`,
  ),
};

const node = (ip: string): ProvisionedNode => ({ name: "insight-dev-kafka-0", ip, instanceId: "i-0aaa", rack: "us-west-2a", nodeId: 1, broker: true });
const bootstrapScript = (ip = "10.0.16.10"): string => new KafkaProvisionScripts(config).bootstrapNode(node(ip), "i-server");

/** A bootstrap of the node at `ip`; the node's registration is forgotten first, so the whole script runs again. */
function bootstrap(dir: string, ip = "10.0.16.10") {
  rmSync(join(dir, "root", "home", "ubuntu", ".platform", "registered"), { recursive: true, force: true });
  const tmp = join(dir, "tmp");
  mkdirSync(tmp, { recursive: true });
  return runBash(bootstrapScript(ip), { stubs, dir, env: { TMPDIR: tmp } });
}

const nodeFile = (dir: string, name: string): string => join(dir, "work", "node", "etc", "platform", "tls", name);
const x509 = (file: string, ...args: string[]): string => openssl("x509", "-in", file, "-noout", ...args);
const daysLeft = (file: string): number => (Date.parse(x509(file, "-enddate").replace(/^notAfter=/, "")) - Date.now()) / 86_400_000;

describeScripts("node certificates at bootstrap", () => {
  const dir = mkdtempSync(join(tmpdir(), "pki-"));
  caIn(dir);
  const first = bootstrap(dir);
  const crt = nodeFile(dir, "node.crt");
  const ca = nodeFile(dir, "ca.crt");

  it("is shellcheck-clean", () => {
    expect(shellcheck(bootstrapScript()).output).toBe("");
  });

  it("gives the node a certificate the platform's CA signed, before knife bootstrap", () => {
    expect(first.output).toContain("issuing its certificate");
    expect(first.status).toBe(0);
    expect(openssl("verify", "-CAfile", ca, crt).trim()).toBe(`${crt}: OK`);
    expect(readFileSync(ca, "utf8")).toBe(openssl("x509", "-in", ssmFile(dir, PARAMETERS.caCert)));
    const calls = stubCalls(dir);
    const signed = calls.findIndex((call) => call.startsWith("ssh ") && call.endsWith("sudo -n bash -s") && calls.indexOf(call) > 0);
    const registered = calls.findIndex((call) => call.startsWith("knife bootstrap"));
    expect(signed).toBeGreaterThan(-1);
    expect(registered).toBeGreaterThan(signed);
  });

  it("names the contract's subject, the node's address and hostname, both key usages, for 365 days", () => {
    expect(x509(crt, "-subject", "-nameopt", "RFC2253").trim()).toBe("subject=CN=kafka-broker,O=insight-dev");
    const extensions = x509(crt, "-ext", "subjectAltName,extendedKeyUsage,keyUsage,basicConstraints");
    expect(extensions).toContain("IP Address:10.0.16.10, DNS:ip-10-0-16-10.us-west-2.compute.internal");
    expect(extensions).toContain("TLS Web Server Authentication, TLS Web Client Authentication");
    expect(extensions).toContain("Digital Signature, Key Encipherment");
    expect(extensions).toContain("CA:FALSE");
    const start = Date.parse(x509(crt, "-startdate").replace(/^notBefore=/, ""));
    const end = Date.parse(x509(crt, "-enddate").replace(/^notAfter=/, ""));
    expect((end - start) / 86_400_000).toBe(365);
  });

  it("makes the node's key on the node: RSA 3072, unencrypted PKCS#8, mode 0600, and the certificates 0644", () => {
    const key = nodeFile(dir, "node.key");
    expect(readFileSync(key, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(openssl("pkey", "-in", key, "-noout", "-text")).toMatch(/^Private-Key: \(3072 bit/);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(crt).mode & 0o777).toBe(0o644);
    expect(statSync(ca).mode & 0o777).toBe(0o644);
    expect(openssl("x509", "-in", crt, "-noout", "-pubkey")).toBe(openssl("pkey", "-in", key, "-pubout"));
  });

  it("never brings a private key to the workstation: ssh carries a signing request and certificates only", () => {
    const transcript = readFileSync(join(dir, "work", "ssh-transcript"), "utf8");
    expect(transcript).toContain("BEGIN CERTIFICATE REQUEST");
    expect(transcript).not.toContain("PRIVATE KEY");
    expect(first.output).not.toContain("PRIVATE KEY");
  });

  it("leaves no copy of the CA's key behind: its private directory is removed", () => {
    expect(readdirSync(join(dir, "tmp"))).toEqual([]);
  });

  it("reads the CA's key only into memory (tmpfs), never onto a disk a SIGKILL would leave it on", () => {
    const made = readFileSync(join(dir, "work", "mktemp-made"), "utf8").trim().split("\n");
    const private_ = made.filter((path) => path.includes("platform-pki."));
    // One per run of the bootstrap in this directory.
    expect(private_.length).toBeGreaterThan(0);
    for (const path of private_) {
      expect(path).toMatch(/^\/dev\/shm\/platform-pki\.[A-Za-z0-9]{8}$/);
      expect(existsSync(path)).toBe(false);
    }
  });

  it("refuses to sign when no memory-backed directory exists, rather than put the CA's key on disk", () => {
    const bare = mkdtempSync(join(tmpdir(), "pki-"));
    caIn(bare);
    const script = bootstrapScript().replace('PKI_MEMORY_DIRS=(/dev/shm "/run/user/${EUID}")', "PKI_MEMORY_DIRS=(/nonexistent/shm)");
    expect(script).toContain("PKI_MEMORY_DIRS=(/nonexistent/shm)");
    const run = runBash(script, { stubs, dir: bare, env: { TMPDIR: join(bare, "work") } });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("no memory-backed directory to hold the CA's key (/nonexistent/shm): refusing to put it on disk");
    expect(existsSync(join(bare, "work", "node", "etc", "platform", "tls", "node.crt"))).toBe(false);
  });

  it("reads as keytool reads a PEM certificate: owner, issuer and both names", () => {
    const printed = execFileSync("keytool", ["-printcert", "-file", crt], { encoding: "utf8" });
    expect(printed).toContain("Owner: CN=kafka-broker, O=insight-dev");
    expect(printed).toContain("Issuer: CN=insight-dev platform CA, O=insight-dev");
    expect(printed).toMatch(/IPAddress: 10\.0\.16\.10/);
    expect(printed).toMatch(/DNSName: ip-10-0-16-10\.us-west-2\.compute\.internal/);
  });

  describe("run again", () => {
    const before = { crt: readFileSync(crt, "utf8"), key: readFileSync(nodeFile(dir, "node.key"), "utf8"), transcript: readFileSync(join(dir, "work", "ssh-transcript"), "utf8") };
    const second = bootstrap(dir);

    it("changes nothing on a node whose certificate is current", () => {
      expect(second.status).toBe(0);
      expect(second.output).toMatch(/10\.0\.16\.10 \(ip-10-0-16-10\.us-west-2\.compute\.internal\): its certificate is current, until /);
      expect(readFileSync(crt, "utf8")).toBe(before.crt);
      expect(readFileSync(nodeFile(dir, "node.key"), "utf8")).toBe(before.key);
      // One look at the node, no write onto it.
      const added = readFileSync(join(dir, "work", "ssh-transcript"), "utf8").slice(before.transcript.length);
      expect(added.match(/^>>> .*bash -s$/gm)).toHaveLength(1);
    });
  });
});

describeScripts("node certificates renewed or issued again", () => {
  it("renews a certificate with 30 days left, for the same key", () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    caIn(dir);
    expect(bootstrap(dir).status).toBe(0);
    const key = readFileSync(nodeFile(dir, "node.key"), "utf8");
    // The node's certificate, signed again by the same CA for 30 days only.
    const scratch = mkdtempSync(join(tmpdir(), "short-"));
    writeFileSync(join(scratch, "ca.key"), readFileSync(ssmFile(dir, PARAMETERS.caKey)));
    writeFileSync(join(scratch, "ext"), "subjectAltName = IP:10.0.16.10,DNS:ip-10-0-16-10.us-west-2.compute.internal\nextendedKeyUsage = serverAuth,clientAuth\n");
    openssl("x509", "-in", nodeFile(dir, "node.crt"), "-signkey", nodeFile(dir, "node.key"), "-x509toreq", "-out", join(scratch, "req"));
    openssl("x509", "-req", "-in", join(scratch, "req"), "-CA", ssmFile(dir, PARAMETERS.caCert), "-CAkey", join(scratch, "ca.key"), "-set_serial", "7", "-days", "30", "-extfile", join(scratch, "ext"), "-out", nodeFile(dir, "node.crt"));
    expect(Math.round(daysLeft(nodeFile(dir, "node.crt")))).toBe(30);

    const renewal = bootstrap(dir);
    expect(renewal.status).toBe(0);
    expect(renewal.output).toMatch(/within 60 days: issuing its certificate/);
    expect(Math.round(daysLeft(nodeFile(dir, "node.crt")))).toBe(365);
    expect(x509(nodeFile(dir, "node.crt"), "-serial")).not.toBe("serial=07\n");
    expect(readFileSync(nodeFile(dir, "node.key"), "utf8")).toBe(key);
  });

  it("issues again for a node whose address changed, naming the new one", () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    caIn(dir);
    expect(bootstrap(dir).status).toBe(0);
    const moved = bootstrap(dir, "10.0.32.20");
    expect(moved.status).toBe(0);
    expect(moved.output).toContain("its certificate names IP Address:10.0.16.10, DNS:ip-10-0-16-10.us-west-2.compute.internal, not IP Address:10.0.32.20, DNS:ip-10-0-32-20.us-west-2.compute.internal");
    expect(x509(nodeFile(dir, "node.crt"), "-ext", "subjectAltName")).toContain("IP Address:10.0.32.20, DNS:ip-10-0-32-20.us-west-2.compute.internal");
  });

  it("issues again when the CA changed (rotated), and the new chain verifies", () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    caIn(dir);
    expect(bootstrap(dir).status).toBe(0);
    caIn(dir);
    const rotated = bootstrap(dir);
    expect(rotated.status).toBe(0);
    expect(rotated.output).toContain("its certificate is not signed by the platform's current CA: issuing its certificate");
    expect(openssl("verify", "-CAfile", ssmFile(dir, PARAMETERS.caCert), nodeFile(dir, "node.crt"))).toContain(": OK");
    expect(readFileSync(nodeFile(dir, "ca.crt"), "utf8")).toBe(openssl("x509", "-in", ssmFile(dir, PARAMETERS.caCert)));
  });

  it("refuses a hostname that is not a DNS name, which would otherwise reach the certificate's extensions", () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    caIn(dir);
    writeFileSync(join(dir, "work", "fqdn"), "evil,DNS:kafka.example.com\n");
    const run = bootstrap(dir);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("answers with hostname 'evil,DNS:kafka.example.com': not a DNS name");
    expect(existsSync(nodeFile(dir, "node.crt"))).toBe(false);
    expect(stubCalls(dir).some((call) => call.startsWith("knife bootstrap"))).toBe(false);
  });

  it("stops before knife bootstrap, naming the step, when the CA cannot be read", () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    mkdirSync(join(dir, "work"), { recursive: true });
    const run = bootstrap(dir);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`cannot read the CA's key from ${PARAMETERS.caKey}`);
    expect(run.output).toContain("FAILED at step 'give insight-dev-kafka-0 its TLS key and certificate'");
    expect(stubCalls(dir).some((call) => call.startsWith("knife bootstrap"))).toBe(false);
  });
});

/** The 30-day certificate of the node whose files are in `tls`, signed by the CA in `dir`'s SSM, for this address. */
function shortCertificate(dir: string, tls: string, ip: string): void {
  const scratch = mkdtempSync(join(tmpdir(), "short-"));
  writeFileSync(join(scratch, "ca.key"), readFileSync(ssmFile(dir, PARAMETERS.caKey)));
  writeFileSync(join(scratch, "ext"), `subjectAltName = IP:${ip},DNS:ip-${ip.replace(/\./g, "-")}.us-west-2.compute.internal\nextendedKeyUsage = serverAuth,clientAuth\n`);
  openssl("req", "-new", "-key", join(tls, "node.key"), "-subj", "/O=insight-dev/CN=kafka-broker", "-out", join(scratch, "req"));
  openssl("x509", "-req", "-in", join(scratch, "req"), "-CA", ssmFile(dir, PARAMETERS.caCert), "-CAkey", join(scratch, "ca.key"), "-set_serial", "7", "-days", "30", "-extfile", join(scratch, "ext"), "-out", join(tls, "node.crt"));
}

describeScripts("platform-renew-certificates", () => {
  const IPS = ["10.0.16.10", "10.0.32.11"];
  const scripts = new KafkaProvisionScripts(config);
  const script = scripts.renewCertificates(IPS);
  const tls = (dir: string, ip: string): string => join(dir, "work", `node-${ip}`, "etc", "platform", "tls");
  const cluster = (): string => {
    const dir = mkdtempSync(join(tmpdir(), "renew-"));
    caIn(dir);
    writeFileSync(join(dir, "work", "per-host"), "");
    return dir;
  };

  it("is shellcheck-clean, and so is its install step", () => {
    expect(shellcheck(script).output).toBe("");
    expect(shellcheck(scripts.installRenewCommand(IPS)).output).toBe("");
  });

  it("gives every node a certificate, then leaves current ones alone and renews only the one due", () => {
    const dir = cluster();
    expect(runBash(script, { stubs, dir }).status).toBe(0);
    for (const ip of IPS) expect(x509(join(tls(dir, ip), "node.crt"), "-ext", "subjectAltName")).toContain(`IP Address:${ip}, `);
    const kept = readFileSync(join(tls(dir, IPS[1]), "node.crt"), "utf8");
    shortCertificate(dir, tls(dir, IPS[0]), IPS[0]);
    const run = runBash(script, { stubs, dir });
    expect(run.status).toBe(0);
    expect(run.output).toMatch(/10\.0\.16\.10 \(ip-10-0-16-10\.us-west-2\.compute\.internal\): its certificate ends .*, within 60 days: issuing its certificate/);
    expect(run.output).toMatch(/10\.0\.32\.11 \(ip-10-0-32-11\.us-west-2\.compute\.internal\): its certificate is current/);
    expect(Math.round(daysLeft(join(tls(dir, IPS[0]), "node.crt")))).toBe(365);
    expect(readFileSync(join(tls(dir, IPS[1]), "node.crt"), "utf8")).toBe(kept);
  });

  it("refuses an address that is not a Kafka node of this deployment, before connecting anywhere", () => {
    const dir = cluster();
    const run = runBash(`set -- 10.0.16.10 10.0.99.9\n${script}`, { stubs, dir });
    expect(run.status).toBe(2);
    expect(run.output).toContain("10.0.99.9 is not a Kafka node of this deployment (10.0.16.10 10.0.32.11); no certificate issued");
    expect(stubCalls(dir).filter((call) => call.startsWith("ssh "))).toEqual([]);
  });

  it("renews only the nodes it is given, and goes on past one that does not answer, failing at the end", () => {
    const dir = cluster();
    const down = { ...stubs, ssh: `[[ " $* " == *ubuntu@10.0.16.10* ]] && exit 255\n${SSH}` };
    const run = runBash(script, { stubs: down, dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("could not check or renew the certificates of 10.0.16.10; the others are done");
    expect(existsSync(join(tls(dir, IPS[1]), "node.crt"))).toBe(true);
    const one = runBash(`set -- 10.0.32.11\n${script}`, { stubs, dir });
    expect(one.status).toBe(0);
    expect(stubCalls(dir).slice(-3).some((call) => call.includes("10.0.16.10"))).toBe(false);
  });
});

describeScripts("renewal in the converge", () => {
  const script = new KafkaProvisionScripts(config).convergeNodes(["10.0.16.5", "10.0.32.6"], { bag: "zoo_bag", id: "zookeeper", json: JSON.stringify({ _default: ["10.0.16.5", "10.0.32.6"], id: "zookeeper" }) });
  const clientRun = `${zookeeperMembersSsh("10.0.32.6")}\n[[ " $* " == *cinc-client* ]] && echo "Infra Phase complete, 3/85 resources updated in 12 seconds"; exit 0`;
  const convergeStubs = { knife: `[[ "$1 $2 $3" == "data bag show" ]] && { ${KNIFE_NOT_FOUND}; }; exit 0`, timeout: 'shift; "$@"', sleep: "exit 0", sudo: "exit 0", ssh: clientRun };
  /** A run directory whose workstation has the renewal command installed: it records each call, and fails while work/renew-fails exists. */
  const installed = (): string => {
    const dir = runBash("exit 0").dir;
    const command = join(dir, "root", RENEW_COMMAND);
    mkdirSync(dirname(command), { recursive: true });
    writeFileSync(command, `#!/bin/bash\necho "renew $*" >> "${dir}/calls.log"\n[[ ! -f "${dir}/work/renew-fails" ]]\n`, { mode: 0o755 });
    return dir;
  };
  const sequence = (dir: string): string[] =>
    stubCalls(dir)
      .filter((call) => call.startsWith("renew ") || (call.startsWith("ssh ") && call.includes("cinc-client")))
      .map((call) => (call.startsWith("renew ") ? call : `run ${/ubuntu@(\S+)/.exec(call)?.[1]}`));

  it("is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
  });

  it("renews each node's certificate right before that node's Chef run, so the run restarts its services on the new files", () => {
    const dir = installed();
    const run = runBash(script, { stubs: convergeStubs, dir });
    expect(run.status).toBe(0);
    // The ZooKeeper leader (10.0.32.6) last, as every converge.
    expect(sequence(dir)).toEqual(["renew 10.0.16.5", "run 10.0.16.5", "renew 10.0.32.6", "run 10.0.32.6"]);
  });

  it("stops before a node whose certificate cannot be checked or renewed, converging nothing more", () => {
    const dir = installed();
    writeFileSync(join(dir, "work", "renew-fails"), "");
    const run = runBash(script, { stubs: convergeStubs, dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("could not check or renew the certificate of 10.0.16.5; it was not converged");
    expect(sequence(dir)).toEqual(["renew 10.0.16.5"]);
  });

  it("says so in one line per node when the command is not installed yet, and converges", () => {
    const run = runBash(script, { stubs: convergeStubs });
    expect(run.status).toBe(0);
    expect(run.output).toContain(`NOT RENEWED: ${RENEW_COMMAND} is not installed yet; 10.0.16.5 keeps the certificate it has`);
  });
});

itScripts("takes the CA from PLATFORM_PKI_CA_DIR on a machine with no SSM (the local rehearsal's workstation)", () => {
  const dir = mkdtempSync(join(tmpdir(), "pki-"));
  const caDir = join(dir, "ca");
  mkdirSync(caDir);
  caIn(dir);
  writeFileSync(join(caDir, "ca.key"), readFileSync(ssmFile(dir, PARAMETERS.caKey)));
  writeFileSync(join(caDir, "ca.crt"), readFileSync(ssmFile(dir, PARAMETERS.caCert)));
  rmSync(join(dir, "work", "ssm"), { recursive: true });
  const run = runBash(bootstrapScript(), { stubs, dir, env: { PLATFORM_PKI_CA_DIR: caDir } });
  expect(run.status).toBe(0);
  expect(openssl("verify", "-CAfile", join(caDir, "ca.crt"), nodeFile(dir, "node.crt"))).toContain(": OK");
  expect(stubCalls(dir).some((call) => call.startsWith("python3 -c") && call.includes("get_parameter"))).toBe(false);
});

describe("who may read the PKI's parameters, across the synthesized platform", () => {
  const app = testApp();
  buildPlatform(app, config);
  const stacks = Object.fromEntries(["chef", "spark", "kafka", "storage", "network"].map((name) => [name, synthAppStack(app, name)]));
  /** The IAM policy documents (inline policies and key policies alike) of a stack that name this parameter. */
  const naming = (stack: string, parameter: string): string[] =>
    Object.entries(dataOf(stacks[stack], "aws_iam_policy_document"))
      .filter(([, document]) => JSON.stringify(document.statement).includes(`:parameter${parameter}"`))
      .map(([name]) => name.replace(/_[0-9A-F]{8}$/, ""))
      .sort();

  it("names the CA's key only in the workstation's policy and the Chef CMK's key policy", () => {
    expect(naming("chef", PARAMETERS.caKey)).toEqual(["admin-key-encryption_policy-document", "workstation-keys"]);
    for (const stack of ["spark", "kafka", "storage", "network"]) expect({ stack, documents: naming(stack, PARAMETERS.caKey) }).toEqual({ stack, documents: [] });
  });

  it("names Spark's client key only for the workstation (which writes it) and the Spark roles and CMK (which read it); no Kafka node role", () => {
    expect(naming("chef", PARAMETERS.sparkKey)).toEqual(["workstation-keys"]);
    expect(naming("spark", PARAMETERS.sparkKey)).toEqual(["kafka-client-identity-read", "secret-key_policy-document"]);
    expect(naming("kafka", PARAMETERS.sparkKey)).toEqual([]);
    // The Kafka nodes' roles name no PKI parameter at all: their keys and certificates come over SSH.
    const kafkaDocuments = JSON.stringify(dataOf(stacks.kafka, "aws_iam_policy_document"));
    expect(/\/pki\/|\/kafka\/clients\//.test(kafkaDocuments)).toBe(false);
  });

  it("puts no key or certificate in any stack's JSON: they are made on the instances", () => {
    for (const [stack, json] of Object.entries(stacks)) {
      expect({ stack, pem: /-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----\\n[A-Za-z0-9+/]/.test(JSON.stringify(json)) }).toEqual({ stack, pem: false });
    }
  });
});

it("the openssl used here is OpenSSL 3, as on the Ubuntu releases the platform runs", () => {
  expect(spawnSync("openssl", ["version"], { encoding: "utf8" }).stdout).toMatch(/^OpenSSL 3\./);
});
