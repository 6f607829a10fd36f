import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderScript } from "../constructs/renderScript";
import { SETUP_COMMAND } from "../constructs/setupCommand";

/**
 * Stub commands shared by the script tests: each keeps its state in WORK_DIR so a second run of
 * a script sees what the first one did, as it would on a real instance.
 */
export const COMMON_STUBS = {
  sleep: "exit 0",
  "dpkg-query": [
    'if [[ $2 == *Version* ]]; then cat "$WORK_DIR/dpkg-version-${*: -1}" 2>/dev/null; exit $?; fi',
    'grep -qx "${*: -1}" "$WORK_DIR/installed" 2>/dev/null && printf "install ok installed"',
  ].join("\n"),
  // A local .deb (install_deb) is installed as dpkg would record it: its version by package name.
  "apt-get": [
    'if [[ " $* " == *" install "* ]]; then for p; do',
    '  [[ $p == -* || $p == install || $p == *::* ]] && continue',
    '  if [[ $p == *.deb ]]; then basename "$p" | cut -d_ -f2 > "$WORK_DIR/dpkg-version-$(basename "$p" | cut -d_ -f1)"; else echo "$p" >> "$WORK_DIR/installed"; fi',
    "done; fi",
  ].join("\n"),
  dpkg: 'deb=${*: -1}; name=$(basename "$deb" | cut -d_ -f1); version=$(basename "$deb" | cut -d_ -f2); echo "$version" > "$WORK_DIR/dpkg-version-$name"',
  id: '[[ -f "$WORK_DIR/user-$1" ]]',
  useradd: 'touch "$WORK_DIR/user-${*: -1}"',
  chown: "exit 0",
  install: 'args=(); while (($#)); do case $1 in -o|-g) shift 2 ;; *) args+=("$1"); shift ;; esac; done; exec /usr/bin/install "${args[@]}"',
};

/** What knife does when the Chef server holds no such object (a 404): its line on stderr, exit 100. */
export const KNIFE_NOT_FOUND = 'echo "ERROR: The object you are looking for could not be found" >&2; exit 100';

/**
 * curl: IMDS answers from LOCAL_IPV4 / LOCAL_HOSTNAME / INSTANCE_ID, .metadata.json from
 * PUBLISHER_SHA512, the Chef server's /_status after STATUS_FAILS failures, downloads from
 * DOWNLOAD_CONTENT.
 */
export const CURL_STUB = [
  'out=""; url=""',
  'while (($#)); do case $1 in --output) out=$2; shift ;; http*) url=$1 ;; esac; shift; done',
  "case $url in",
  '  */api/token) echo token ;;',
  '  */meta-data/local-ipv4) echo "${LOCAL_IPV4:-10.0.16.5}" ;;',
  '  */meta-data/local-hostname) echo "${LOCAL_HOSTNAME:-ip-10-0-16-5.us-west-2.compute.internal}" ;;',
  '  */meta-data/instance-id) echo "${INSTANCE_ID:-i-0123456789abcdef0}" ;;',
  // The Chef server's status endpoint: fails STATUS_FAILS times, then answers.
  '  */_status) n=$(cat "$WORK_DIR/status-calls" 2>/dev/null || echo 0); echo $((n + 1)) > "$WORK_DIR/status-calls"; ((n >= ${STATUS_FAILS:-0})) ;;',
  '  *.metadata.json) printf \'{"sha512": "%s"}\' "$PUBLISHER_SHA512" ;;',
  '  *) printf "%s" "$DOWNLOAD_CONTENT" > "$out" ;;',
  "esac",
].join("\n");

/**
 * python3 -c for ssm_get / ssm_put / ssm_create (one file per parameter in WORK_DIR/ssm; SSM_PRESET
 * answers reads of missing ones; the first SSM_GET_FAILS reads and SSM_PUT_FAILS writes fail, as
 * before the instance's credentials or permissions are ready; SSM_UNREACHABLE fails every call, as
 * when SSM cannot be reached; a create keeps an existing parameter; code that tells
 * ParameterNotFound apart gets exit status 3 for a missing one), s3_get (files from S3_DIR) and
 * publisher_sha512; anything else runs the real interpreter.
 */
export function python3Stub(extra = ""): string {
  const realPython = execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim();
  return [
    extra,
    'if [[ $1 == -c ]]; then',
    '  code=$2',
    '  case $code in',
    '    *get_parameter*|*put_parameter*)',
    '      store="$WORK_DIR/ssm"; mkdir -p "$store"; file="$store/$(echo "$3" | tr / _)"',
    '      if [[ -n ${SSM_UNREACHABLE:-} ]]; then echo "EndpointConnectionError" >&2; exit 1; fi',
    '      if [[ $code == *put_parameter* ]]; then',
    '        put_failed=$(cat "$WORK_DIR/ssm-put-failures" 2>/dev/null || echo 0)',
    '        if ((put_failed < ${SSM_PUT_FAILS:-0})); then echo $((put_failed + 1)) > "$WORK_DIR/ssm-put-failures"; echo AccessDeniedException >&2; exit 1; fi',
    '        [[ $code == *Overwrite=False* && -f $file ]] && exit 0',
    '        cat > "$file"; echo "$3 $4" >> "$WORK_DIR/ssm-puts"; exit 0',
    '      fi',
    '      failed=$(cat "$WORK_DIR/ssm-get-failures" 2>/dev/null || echo 0)',
    '      if ((failed < ${SSM_GET_FAILS:-0})); then echo $((failed + 1)) > "$WORK_DIR/ssm-get-failures"; echo NoCredentialsError >&2; exit 1; fi',
    '      if [[ -f $file ]]; then cat "$file"; echo; elif [[ -n ${SSM_PRESET:-} ]]; then echo "$SSM_PRESET"; elif [[ $code == *ParameterNotFound* ]]; then exit 3; else exit 1; fi',
    "      exit 0 ;;",
    '    *download_file*) cp "$S3_DIR/$4" "$5"; exit 0 ;;',
    "  esac",
    "fi",
    `exec ${realPython} "$@"`,
  ].join("\n");
}

/**
 * A directory for PYTHONPATH holding a boto3 (and botocore.config) that the real python3 imports,
 * for code that must run as written, such as sshd's key lookup: SSM's get_parameters answers from
 * SSM_VALUES (a JSON object of name to value), listing the names it lacks as invalid as SSM does,
 * and fails as an unreachable endpoint would when SSM_UNREACHABLE is set.
 */
export function fakeBoto3(): string {
  const dir = join(tmpdir(), `platform-test-boto3-${process.pid}`);
  mkdirSync(join(dir, "boto3"), { recursive: true });
  mkdirSync(join(dir, "botocore"), { recursive: true });
  writeFileSync(
    join(dir, "boto3", "__init__.py"),
    [
      "import json, os",
      "class _Ssm:",
      "    def get_parameters(self, Names):",
      '        if os.environ.get("SSM_UNREACHABLE"):',
      '            raise ConnectionError("EndpointConnectionError")',
      '        values = json.loads(os.environ.get("SSM_VALUES", "{}"))',
      '        return {"Parameters": [{"Name": name, "Value": values[name]} for name in Names if name in values], "InvalidParameters": [name for name in Names if name not in values]}',
      "def client(service, region_name=None, config=None):",
      '    assert service == "ssm" and region_name',
      "    return _Ssm()",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "botocore", "__init__.py"), "");
  writeFileSync(join(dir, "botocore", "config.py"), "class Config:\n    def __init__(self, **options):\n        self.options = options\n");
  return dir;
}

/**
 * openssl: `genpkey` hands out a key from a pool shared by every test run instead of generating
 * one (RSA 3072 costs about a second each, and the PKI tests make dozens); everything else runs
 * the real openssl. The pool fills on first use, one file per size and slot, and a counter shared
 * by all runs picks the slot, so any 24 keys handed out in a row are distinct and a renewal still
 * gets a key of its own. The key is written with the caller's umask, as genpkey writes it.
 */
export function opensslStub(): string {
  const realOpenssl = execFileSync("sh", ["-c", "command -v openssl"], { encoding: "utf8" }).trim();
  const pool = join(tmpdir(), `platform-test-keys-${process.getuid?.() ?? 0}`);
  return [
    'if [[ $1 == genpkey ]]; then',
    '  out=""; bits=2048; prev=""',
    '  for arg; do [[ $prev == -out ]] && out=$arg; [[ $arg == rsa_keygen_bits:* ]] && bits=${arg#rsa_keygen_bits:}; prev=$arg; done',
    `  pool=${JSON.stringify(pool)}; mkdir -p "$pool"`,
    '  slot=$(flock "$pool/.lock" bash -c \'n=$(cat "$1" 2>/dev/null || echo 0); echo $((n + 1)) > "$1"; echo $((n % 24))\' _ "$pool/.count")',
    '  key="$pool/rsa-$bits-$slot.pem"',
    `  if [[ ! -s $key ]]; then ${realOpenssl} genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$key.$$" && mv -f "$key.$$" "$key" || exit 1; fi`,
    '  cat "$key" > "$out"',
    '  exit 0',
    'fi',
    `exec ${realOpenssl} "$@"`,
  ].join("\n");
}

/**
 * sshd: `-T -C user=<user>,...` prints what sshd would for that user once one of the platform's
 * drop-ins (60-platform-<name>.conf) matches it: its key lookup command.
 */
export const SSHD_STUB = [
  '[[ $1 == -T ]] || exit 0',
  'user=${3#user=}; user=${user%%,*}',
  'for file in "$PLATFORM_FS_ROOT"/etc/ssh/sshd_config.d/60-platform-*.conf; do',
  '  grep -qx "Match User $user" "$file" 2>/dev/null && printf "port 22\\nauthorizedkeyscommand %s %%u\\n" "$(awk \'$1 == "AuthorizedKeysCommand" { print $2 }\' "$file")"',
  'done',
  'exit 0',
].join("\n");

/** A Kafka node's user data as the script tests run it: Cinc from a pretend download, a 3-try volume wait. */
export function kafkaNodeScript(hostKeysParameter: string, dataVolumeId: string, extra: Readonly<Record<string, unknown>> = {}): string {
  return renderScript("kafka-node", {
    ...extra,
    setupCommand: SETUP_COMMAND,
    region: "us-west-2",
    client: { name: "cinc", version: "18.6.2", url: "https://downloads.example/cinc_18.6.2-1_amd64.deb", checksum: "" },
    acceptBootstrapKeyFrom: "/insight/dev/chef/bootstrap-public-key",
    bootstrapKeySource: "/insight/dev/chef/bootstrap-key-source",
    hostKeysParameter,
    dataVolumeId,
    dataPath: "/data/kafka",
    volumeWaitAttempts: 3,
  });
}

/** Stubs for kafkaNodeScript: the data volume formatted and mounted on first use, sshd, SSM through python3. */
export function kafkaNodeStubs(): Record<string, string> {
  return {
    ...COMMON_STUBS,
    curl: CURL_STUB,
    python3: python3Stub(),
    blkid: '[[ -f "$WORK_DIR/formatted" ]] || exit 2; [[ $1 == -s ]] && echo 1234-uuid; exit 0',
    "mkfs.xfs": 'touch "$WORK_DIR/formatted"',
    mountpoint: '[[ -f "$WORK_DIR/mounted" ]]',
    mount: 'touch "$WORK_DIR/mounted"',
    sshd: SSHD_STUB,
    systemctl: "exit 0",
  };
}
