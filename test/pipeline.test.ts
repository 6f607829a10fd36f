import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configModule, DEFAULT_SETTINGS, pipelineConfig, type StackOutputs } from "../pipeline/pipelineConfig";
import { pipelineScript } from "../pipeline/writeConfig";
import { runBash, shellcheck, stubCalls } from "./shell";
import { hostKeysOnFirstUse } from "./sshKeys";
import { python3Stub } from "./stubs";
import { describeScripts } from "./tiers";

/** What `npx cdktf output --outputs-file` writes for a deployed platform. */
const OUTPUTS = JSON.parse(readFileSync(join(__dirname, "fixtures", "outputs.json"), "utf8")) as StackOutputs;
const without = (stack: string, name: string): StackOutputs => ({ ...OUTPUTS, [stack]: Object.fromEntries(Object.entries(OUTPUTS[stack]).filter(([key]) => key !== name)) });

/** Real host keys, made once, for the master's SSH: what it publishes, and a machine that is not it. */
const HOST_KEYS = hostKeysOnFirstUse({ master: "ed25519", intruder: "ed25519" });
const MASTER_HOST_KEYS = "/insight/dev/host-keys/insight-dev-spark-master";

/** A workstation (`dir`) where the master published `published` (its instance id, then its keys) in SSM. */
const workstation = (published = `i-0bbbbbbbbbbbbbbb2\n${HOST_KEYS.master}\n`, dir = mkdtempSync(join(tmpdir(), "pipeline-run-"))): string => {
  for (const sub of ["work/ssm", "root/home/ubuntu/.ssh", "root/etc/ssh"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, "work/ssm", MASTER_HOST_KEYS.replace(/\//g, "_")), published);
  return dir;
};
/** SSM (the master's published keys) and sudo (the global known_hosts) for the script's pinning of them. */
const PINNING_STUBS = { sleep: "exit 0", python3: python3Stub(), sudo: '[[ $1 == -n ]] && shift; exec "$@"' };

describe("the pipeline's config, from the deployed stacks' outputs", () => {
  const config = pipelineConfig(OUTPUTS);

  it("takes the brokers, bucket, region and Spark master from the outputs, and names the topic and files", () => {
    expect(config).toEqual({
      kafka_bootstrap_servers: "10.0.16.5:9092,10.0.32.6:9092,10.0.48.7:9092",
      // A platform deployed before kafka.security existed has no kafka_security output: plaintext.
      kafka_options: {},
      kafka_node_ips: ["10.0.16.5", "10.0.32.6", "10.0.48.7"],
      topic: "th-topic",
      partitions: 12,
      streaming_interval_seconds: 10,
      record_count: 0,
      producer_rate: 500,
      z_threshold: 3,
      job_cores: 4,
      tool_cores: 2,
      region: "us-west-2",
      bucket: "insight-dev-data-20261126abcdef",
      input_uri: "s3a://insight-dev-data-20261126abcdef/smart-money/input/",
      intraday_file: "intraday_subset_sort_quote.csv",
      eod_file: "eod_summary_withoutzeros.csv",
      anomalies_file: "injected_anomalies.csv",
      flagged_uri: "s3a://insight-dev-data-20261126abcdef/spark-output/smart-money/flagged/",
      checkpoint_uri: "s3a://insight-dev-data-20261126abcdef/spark-output/smart-money/checkpoints/flagged/",
      rejects_uri: "s3a://insight-dev-data-20261126abcdef/spark-output/smart-money/rejects/",
      rejects_checkpoint_uri: "s3a://insight-dev-data-20261126abcdef/spark-output/smart-money/checkpoints/rejects/",
      // spark-hadoop-cloud is not pinned for the default Spark (config/sparkJars.ts): Spark's own manager.
      checkpoint_file_manager: "",
      spark_master_url: "spark://10.0.16.20:7077",
      spark_master_ip: "10.0.16.20",
      spark_master_instance_id: "i-0bbbbbbbbbbbbbbb2",
      spark_master_host_keys_parameter: "/insight/dev/host-keys/insight-dev-spark-master",
    });
  });

  it("writes results and checkpoints only where the Spark nodes may write", () => {
    for (const uri of [config.flagged_uri, config.checkpoint_uri, config.rejects_uri, config.rejects_checkpoint_uri]) expect(uri.startsWith("s3a://insight-dev-data-20261126abcdef/spark-output/")).toBe(true);
  });

  it("reads terraform output -json's wrapped values too", () => {
    const wrapped = Object.fromEntries(Object.entries(OUTPUTS).map(([stack, values]) => [stack, Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { value, type: "string", sensitive: false }]))]));
    expect(pipelineConfig(wrapped)).toEqual(config);
  });

  it("names the missing output, its stack and the command that writes them", () => {
    expect(() => pipelineConfig(without("storage", "spark_output_uri"))).toThrow(
      "output spark_output_uri of stack storage is missing: deploy the storage stack, then CHECKPOINT_DISABLE=1 npx cdktf output storage spark kafka chef --outputs-file outputs.json",
    );
    expect(() => pipelineConfig({ ...OUTPUTS, spark: { spark_master_url: "10.0.16.20:7077" } })).toThrow("output spark_master_url 10.0.16.20:7077 is not spark://<ip>:<port>");
    expect(() => pipelineConfig({ ...OUTPUTS, kafka: { ...OUTPUTS.kafka, kafka_node_ips: "10.0.16.5" } })).toThrow('output kafka_node_ips of stack kafka is "10.0.16.5", not a list of IPs');
    // A spark stack deployed before its master published its host keys: deploy it again first.
    expect(() => pipelineConfig(without("spark", "spark_master_instance_id"))).toThrow("output spark_master_instance_id of stack spark is missing: deploy the spark stack");
    expect(() => pipelineConfig({ ...OUTPUTS, spark: { ...OUTPUTS.spark, spark_master_instance_id: "10.0.16.20" } })).toThrow("output spark_master_instance_id 10.0.16.20 is not an EC2 instance id (i-<hex>)");
  });

  it("refuses settings that cannot work, one line naming the flag", () => {
    expect(() => pipelineConfig(OUTPUTS, { ...DEFAULT_SETTINGS, partitions: 0 })).toThrow("--partitions 0 must be a whole number of at least 1");
    expect(() => pipelineConfig(OUTPUTS, { ...DEFAULT_SETTINGS, rate: 2.5 })).toThrow("--rate 2.5 must be a whole number of at least 1");
    expect(() => pipelineConfig(OUTPUTS, { ...DEFAULT_SETTINGS, zThreshold: 0 })).toThrow("--z-threshold 0 must be above 0");
    expect(() => pipelineConfig(OUTPUTS, { ...DEFAULT_SETTINGS, rate: 20000 })).toThrow("--rate 20000 must be at most 5000");
    expect(() => pipelineConfig(OUTPUTS, { ...DEFAULT_SETTINGS, jobCores: 0 })).toThrow("--job-cores 0 must be a whole number of at least 1");
  });

  it("fills in the original's config class, with no keys or secrets", () => {
    const module = configModule(config);
    expect(module).toContain('    KAFKA_BOOTSTRAP_SERVERS = "10.0.16.5:9092,10.0.32.6:9092,10.0.48.7:9092"\n');
    expect(module).toContain('    S3_BUCKET = "insight-dev-data-20261126abcdef"\n');
    expect(module).toContain("    STREAMING_INTERVAL = 10\n");
    expect(module).toContain('    INTRADAY_FILE = "intraday_subset_sort_quote.csv"\n');
    expect(module).not.toMatch(/KEY\b|SECRET|aws_access/i);
  });
});

describeScripts("the pipeline on a TLS platform", () => {
  const tlsOutputs: StackOutputs = {
    ...OUTPUTS,
    kafka: { ...OUTPUTS.kafka, kafka_bootstrap_servers: "10.0.16.5:9094,10.0.32.6:9094,10.0.48.7:9094", kafka_security: "tls" },
  };
  const config = pipelineConfig(tlsOutputs);

  it("gives every Spark reader and writer mutual TLS with the spark identity on the Spark nodes, on the TLS port", () => {
    expect(config.kafka_bootstrap_servers).toBe("10.0.16.5:9094,10.0.32.6:9094,10.0.48.7:9094");
    expect(config.kafka_options).toEqual({
      "kafka.security.protocol": "SSL",
      "kafka.ssl.keystore.type": "PEM",
      "kafka.ssl.keystore.location": "/etc/platform/tls/spark.pem",
      "kafka.ssl.truststore.type": "PEM",
      "kafka.ssl.truststore.location": "/etc/platform/tls/ca.crt",
    });
    const programs = ["job.py", "check.py", "producer.py"].map((name) => readFileSync(join(__dirname, "..", "pipeline", "smart_money", name), "utf8"));
    for (const program of programs) expect(program).toMatch(/\.option\("kafka\.bootstrap\.servers", config\["kafka_bootstrap_servers"\]\)\s*(#[^\n]*\s*)*\.options\(\*\*config\.get\("kafka_options", \{\}\)\)/);
  });

  it("creates the topic with the Kafka node's own TLS client settings", () => {
    const script = pipelineScript(config);
    expect(shellcheck(script).output).toBe("");
    const result = runBash(script.replace("#!/usr/bin/env bash\n", "#!/usr/bin/env bash\nset -- topic\n"), { stubs: { sleep: "exit 0", ssh: 'echo "Topic: th-topic"' } });
    expect(result.status).toBe(0);
    const [create] = stubCalls(result.dir).filter((call) => call.includes("--create"));
    expect(create).toContain(
      "ubuntu@10.0.16.5 sudo -n /opt/kafka/current/bin/kafka-topics.sh --command-config /etc/kafka/tools.properties --bootstrap-server 10.0.16.5:9094,10.0.32.6:9094,10.0.48.7:9094 --create",
    );
  });

  it("starts the job only once the master holds the spark identity, fetching it now if the timer has not yet, and says how to get it otherwise", () => {
    const script = pipelineScript(config);
    const start = (ssh: string) => runBash(script.replace("#!/usr/bin/env bash\n", "#!/usr/bin/env bash\nset -- start\n"), { dir: workstation(), stubs: { ...PINNING_STUBS, ssh } });
    // No identity and none to fetch: stops before spark-submit, naming the file and the remedy.
    const missing = start('case "$*" in *spark.pem*) exit 1 ;; *job.pid*) exit 1 ;; *) exit 0 ;; esac');
    expect(missing.status).not.toBe(0);
    expect(missing.output).toContain("the master has no Kafka client identity (/etc/platform/tls/spark.pem) yet");
    expect(stubCalls(missing.dir).some((call) => call.includes("spark-submit"))).toBe(false);
    // Fetching it now runs a root service: the admin identity's act, not the jobs identity's.
    const fetches = stubCalls(missing.dir).filter((call) => call.includes("systemctl start platform-kafka-client-identity.service"));
    expect(fetches).toHaveLength(1);
    expect(fetches[0]).toMatch(/^ssh -i \S+\/\.ssh\/platform_bootstrap .* ubuntu@10\.0\.16\.20 sudo -n systemctl start/);
    // The identity there: the job is submitted.
    const present = start('case "$*" in *cat*job.pid*) exit 1 ;; *) echo "streaming queries started" ;; esac');
    expect(present.status).toBe(0);
    expect(stubCalls(present.dir).some((call) => call.includes("spark-submit"))).toBe(true);
  });
});

describeScripts("the workstation's pipeline script", () => {
  const script = pipelineScript(pipelineConfig(OUTPUTS));
  const run = (command: string, stubs: Record<string, string> = {}, dir = workstation()) =>
    runBash(script.replace("#!/usr/bin/env bash\n", `#!/usr/bin/env bash\nset -- ${command}\n`), { dir, stubs: { ...PINNING_STUBS, ...stubs } });

  it("is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
  });

  it("runs the programs on the master as spark-jobs with the jobs key, and only creates the topic with the bootstrap key, as ubuntu on a Kafka node", () => {
    const sshCalls = (result: { dir: string }): string[] => stubCalls(result.dir).filter((call) => /^(ssh|scp) /.test(call));
    const identity = (call: string): string => `${/-i \S+\/\.ssh\/(platform_\w+)/.exec(call)?.[1]} ${/\b([\w-]+)@10\.0\.\d+\.\d+/.exec(call)?.[1]}`;
    const onMaster = [run("start", { ssh: 'for last; do :; done; [[ $last == *"kill -0"* ]] && exit 1; exit 0' }), run("produce", { ssh: "exit 0" }), run("status", { ssh: "exit 0" }), run("stop", { ssh: "exit 0" })];
    const masterCalls = onMaster.flatMap(sshCalls);
    expect(masterCalls.length).toBeGreaterThan(3);
    for (const call of masterCalls) {
      expect(call).toContain("spark-jobs@10.0.16.20");
      expect(identity(call)).toBe("platform_jobs spark-jobs");
    }
    const topic = sshCalls(run("topic", { ssh: 'echo "Topic: th-topic"' }));
    expect(topic).toHaveLength(2);
    for (const call of topic) expect(identity(call)).toBe("platform_bootstrap ubuntu");
  });

  it("says when it cannot log in to the master as spark-jobs, rather than reading ssh's failure as the master's answer", () => {
    const result = run("status", { ssh: 'for arg; do [[ $arg == spark-jobs@* ]] && exit 255; done; exit 0' });
    expect(result.output).toContain(
      "ssh spark-jobs@10.0.16.20 with ~/.ssh/platform_jobs failed (exit 255): the master unreachable, or the key refused (the master's lookup logs to journalctl -t platform-jobs-key)",
    );
  });

  it("creates the topic from a Kafka node with the configured partitions and the cluster's replication settings", () => {
    const result = run("topic", { ssh: 'echo "Topic: th-topic"' });
    expect(result.status).toBe(0);
    const [create] = stubCalls(result.dir).filter((call) => call.includes("--create"));
    expect(create).toContain("ubuntu@10.0.16.5 /opt/kafka/current/bin/kafka-topics.sh --bootstrap-server 10.0.16.5:9092,10.0.32.6:9092,10.0.48.7:9092 --create --if-not-exists --topic th-topic --partitions 12");
    expect(create).not.toContain("--replication-factor");
  });

  it("starts the job once: a second start leaves the running job alone", () => {
    const result = run("start", { ssh: 'for last; do :; done; [[ $last == *"kill -0"* ]] && exit 0; [[ $last == "cat "* ]] && echo 4242; exit 0' });
    expect(result.status).toBe(0);
    expect(result.output).toContain("the job is already running (pid 4242); stop it first to restart it");
    expect(stubCalls(result.dir).filter((call) => call.includes("nohup spark-submit"))).toEqual([]);
  });

  it("submits the job to the master's spark:// URL with the packaged rule and its share of cores, and waits until its queries run", () => {
    const result = run("start", { ssh: 'for last; do :; done; [[ $last == *"kill -0"* ]] && exit 1; exit 0' });
    expect(result.status).toBe(0);
    const [submit] = stubCalls(result.dir).filter((call) => call.includes("nohup spark-submit"));
    // Braced: only spark-submit goes to the background, its streams away from the ssh session,
    // and the pid file lands in the job's directory.
    expect(submit).toContain(
      "cd smart-money && { nohup spark-submit --master spark://10.0.16.20:7077 --conf spark.cores.max=4 --conf spark.ui.port=4040 --driver-java-options -Dlog4j.configurationFile=log4j2.properties --py-files smart_money.zip job.py --config smart_money_config.json >job.log 2>&1 </dev/null & echo $! >job.pid; }",
    );
  });

  it("starts in the background for real: the ssh command returns at once and the pid is the job's", () => {
    // The master's side played by a local shell: ssh runs the command it is given, and
    // spark-submit is a job that runs for 20 s.
    const started = Date.now();
    const result = run("start", {
      ssh: 'for last; do :; done; [[ $last == *"kill -0"* ]] && exit 1; mkdir -p "$HOME/smart-money"; cd "$HOME" && exec bash -c "$last"',
      "spark-submit": 'echo "streaming queries started"; exec sleep 20',
    });
    expect(result.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number(readFileSync(join(result.dir, "smart-money", "job.pid"), "utf8").trim());
    // The pid is the job itself, still running after the ssh command returned.
    expect(() => process.kill(pid, 0)).not.toThrow();
    process.kill(pid, "SIGTERM");
  });

  it("gives the producer and the check their own cores beside the job", () => {
    const result = run("produce --from-start", { ssh: "exit 0" });
    expect(stubCalls(result.dir).find((call) => call.includes("producer.py"))).toContain(
      "spark-submit --master spark://10.0.16.20:7077 --conf spark.cores.max=2 --conf spark.ui.port=4041 --driver-java-options -Dlog4j.configurationFile=log4j2.properties --py-files smart_money.zip producer.py --config smart_money_config.json --from-start",
    );
    const check = run("check", { ssh: "exit 0" });
    expect(stubCalls(check.dir).find((call) => call.includes("check.py"))).toContain("--conf spark.cores.max=2 --conf spark.ui.port=4042 --driver-java-options -Dlog4j.configurationFile=log4j2.properties --py-files smart_money.zip check.py");
  });

  it("ships a log4j2.properties at WARN beside the programs, so the job's log shows the console sink's tables", () => {
    // The package and the config where the walkthrough puts them: smart_money/ beside build/, which holds the script.
    const dir = mkdtempSync(join(tmpdir(), "pipeline-ship-"));
    mkdirSync(join(dir, "smart_money"));
    mkdirSync(join(dir, "build"));
    for (const name of ["job.py", "producer.py", "check.py"]) writeFileSync(join(dir, "smart_money", name), "");
    for (const name of ["smart_money_config.json", "smart_money_config.py"]) writeFileSync(join(dir, "build", name), "{}");
    const file = join(dir, "build", "smart-money.sh");
    writeFileSync(file, script.replace("#!/usr/bin/env bash\n", "#!/usr/bin/env bash\nset -- ship\n"));
    // scp keeps what it would copy to the master.
    workstation(undefined, dir);
    const shipped = runBash("", { dir, file, stubs: { ...PINNING_STUBS, ssh: "exit 0", scp: 'mkdir -p "$HOME/shipped"; for arg; do [[ -f $arg ]] && cp "$arg" "$HOME/shipped/"; done; exit 0' } });
    expect(shipped.status).toBe(0);
    const properties = readFileSync(join(shipped.dir, "shipped", "log4j2.properties"), "utf8");
    expect(properties).toContain("rootLogger.level = warn\n");
    expect(properties).toContain("appender.console.target = SYSTEM_ERR\n");
  });

  it("forwards the three drivers' UIs (job 4040, producer 4041, check 4042) from the master over SSH", () => {
    const result = run("ui", { ssh: "exit 0" });
    expect(result.status).toBe(0);
    expect(stubCalls(result.dir).find((call) => call.includes(" -N "))).toContain("-N -L 4040:10.0.16.20:4040 -L 4041:10.0.16.20:4041 -L 4042:10.0.16.20:4042 spark-jobs@10.0.16.20");
    expect(result.output).toContain("from your laptop: ssh -N -L 4040:localhost:4040 -L 4041:localhost:4041 -L 4042:localhost:4042 ubuntu@<workstation>");
  });

  it("says so when the job never starts, and where its log is", () => {
    const result = run("start", { ssh: 'for last; do :; done; [[ $last == *"kill -0"* || $last == *"grep -q"* ]] && exit 1; exit 0' });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("the job did not start; its log is spark-jobs@10.0.16.20:~/smart-money/job.log");
    expect(result.output).toContain("FAILED at step 'start the streaming job on spark://10.0.16.20:7077'");
  });

  // Like the real ssh with StrictHostKeyChecking=yes: the master answers with `MASTER_ANSWERS`,
  // refused unless the known_hosts ssh is given holds it for the master's address.
  const strictSsh = [
    'known=""; prev=""; for arg; do [[ $prev == -o && $arg == UserKnownHostsFile=* ]] && known=${arg#UserKnownHostsFile=}; prev=$arg; done',
    '[[ " $* " == *" StrictHostKeyChecking=yes "* && -n $known ]] || { echo "not strict" >&2; exit 255; }',
    'grep -qxF "10.0.16.20 ${MASTER_ANSWERS}" "$known" || { echo "Host key verification failed." >&2; exit 255; }',
    // Then the master: no job runs.
    'for last; do :; done; [[ $last == *"kill -0"* ]] && exit 1; exit 0',
  ].join("\n");

  it("trusts the master's SSH host key only as the master's instance published it, before its first connection", () => {
    const dir = workstation();
    // A key an earlier master left at the same address goes.
    writeFileSync(join(dir, "root/home/ubuntu/.ssh/known_hosts"), `10.0.16.20 ${HOST_KEYS.intruder}\n10.0.16.5 ${HOST_KEYS.intruder}\n`);
    const result = runBash(script.replace("#!/usr/bin/env bash\n", "#!/usr/bin/env bash\nset -- status\n"), { dir, stubs: { ...PINNING_STUBS, ssh: strictSsh }, env: { MASTER_ANSWERS: HOST_KEYS.master } });
    expect(result.status).toBe(0);
    expect(result.output).toContain(`spark-master (10.0.16.20): trusting only the 1 host keys i-0bbbbbbbbbbbbbbb2 published in ${MASTER_HOST_KEYS}`);
    expect(result.output).toContain("the job is not running");
    expect(readFileSync(join(dir, "root/home/ubuntu/.ssh/known_hosts"), "utf8")).toBe(`10.0.16.5 ${HOST_KEYS.intruder}\n10.0.16.20 ${HOST_KEYS.master}\n`);
    const sshCalls = stubCalls(dir).filter((call) => call.startsWith("ssh "));
    expect(sshCalls.length).toBeGreaterThan(0);
    for (const call of sshCalls) expect(call).toContain(`-o UserKnownHostsFile=${join(dir, "root/home/ubuntu/.ssh/known_hosts")} -o StrictHostKeyChecking=yes`);
  });

  it("refuses a master that answers with another key, and waits for keys the current master published", () => {
    const intruder = runBash(script.replace("#!/usr/bin/env bash\n", "#!/usr/bin/env bash\nset -- status\n"), { dir: workstation(), stubs: { ...PINNING_STUBS, ssh: strictSsh }, env: { MASTER_ANSWERS: HOST_KEYS.intruder } });
    expect(intruder.status).not.toBe(0);
    expect(intruder.output).toContain("Host key verification failed.");
    // The parameter still holds what a replaced master published: no connection at all.
    const stale = run("status", { ssh: "exit 0" }, workstation(`i-0old0000000000000\n${HOST_KEYS.intruder}\n`));
    expect(stale.status).not.toBe(0);
    expect(stale.output).toContain(`${MASTER_HOST_KEYS} holds no SSH host keys published by i-0bbbbbbbbbbbbbbb2 (it holds: i-0old0000000000000); spark-master publishes them at its first boot (see /var/log/platform/spark-node.log there)`);
    expect(stale.output).toContain(`FAILED at step 'trust only the SSH host keys the Spark master 10.0.16.20 published in ${MASTER_HOST_KEYS}'`);
    expect(stubCalls(stale.dir).filter((call) => call.startsWith("ssh ") || call.startsWith("scp "))).toEqual([]);
  });

  it("stops nothing when nothing runs, and refuses a command it does not know", () => {
    expect(run("stop", { ssh: "exit 1" }).output).toContain("the job is not running");
    const unknown = run("launch");
    expect(unknown.status).toBe(2);
    expect(unknown.output).toContain("usage: bash");
  });
});

describe("the pipeline's two halves", () => {
  it("agree on the topic and the file names (TypeScript writes the config, Python reads the files)", () => {
    const columns = readFileSync(join(__dirname, "..", "pipeline", "smart_money", "columns.py"), "utf8");
    const config = pipelineConfig(OUTPUTS);
    expect(columns).toContain(`TOPIC = "${config.topic}"`);
    expect(columns).toContain(`INTRADAY_FILE = "${config.intraday_file}"`);
    expect(columns).toContain(`EOD_FILE = "${config.eod_file}"`);
    expect(columns).toContain(`ANOMALIES_FILE = "${config.anomalies_file}"`);
  });
});
