import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { renderScript, shellQuote } from "../constructs/renderScript";
import { runBash, shellcheck, stubCalls as calls } from "./shell";
import { describeScripts } from "./tiers";

const FIXTURES = join(__dirname, "fixtures", "templates");
const CONTENT = "pretend this is a release tarball";
const SHA512 = createHash("sha512").update(CONTENT).digest("hex");

function fixture(overrides: Record<string, unknown> = {}): string {
  return renderScript(
    "fixture-script",
    { sha512: SHA512, urls: ["https://mirror-down.example/a.tgz", "https://archive.example/a.tgz"], message: "it's fine", ...overrides },
    { templatesDir: FIXTURES },
  );
}

/** Stubs that behave like the real commands closely enough for the partial's control flow. */
const STUBS = {
  curl: [
    'out=""; url=""',
    'while (($#)); do case $1 in --output) out=$2; shift ;; http*) url=$1 ;; esac; shift; done',
    '[[ $url == *mirror-down* ]] && exit 22',
    'printf "%s" "$CURL_CONTENT" > "$out"',
  ].join("\n"),
  sleep: "exit 0",
  flaky: 'n=$(cat "$WORK_DIR/flaky" 2>/dev/null || echo 0); echo $((n + 1)) > "$WORK_DIR/flaky"; ((n >= 2))',
  "dpkg-query": 'grep -qx "${*: -1}" "$WORK_DIR/installed" 2>/dev/null && printf "install ok installed"',
  "apt-get": 'if [[ " $* " == *" install "* ]]; then for p; do [[ $p == -* || $p == install ]] || echo "$p" >> "$WORK_DIR/installed"; done; fi',
};


describeScripts("renderScript and the shared bash partial", () => {
  it("renders a bash script that starts with its shebang and includes the shared partial", () => {
    const script = fixture();
    expect(script.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(script).toContain("set -Eeuo pipefail");
    expect(script).toContain("SCRIPT_NAME='fixture-script'");
  });

  it("quotes values for bash so none can break out of its quotes", () => {
    expect(shellQuote("it's $(rm -rf /)")).toBe(`'it'\\''s $(rm -rf /)'`);
    expect(fixture({ sha512: "a'b" })).toContain(`'a'\\''b'`);
  });

  it("quotes every single quote in a value, not only the first", () => {
    const value = "a'b'c $(id)'";
    const quoted = shellQuote(value);
    expect(quoted).toBe(`'a'\\''b'\\''c $(id)'\\'''`);
    // bash gives back exactly the value: nothing in it breaks out of its quotes.
    const echoed = spawnSync("bash", ["-c", `printf %s ${quoted}`], { encoding: "utf8" }).stdout;
    expect(echoed).toBe(value);
  });

  it("refuses to render when the context lacks a value the template uses", () => {
    expect(() => renderScript("fixture-script", { urls: [], message: "" }, { templatesDir: FIXTURES })).toThrow(
      /fixture-script\.sh\.hbs: shq at line 6: the value is missing from the template context/,
    );
  });

  it("refuses a null as much as a missing value, and a missing value placed without shq", () => {
    expect(() => fixture({ sha512: null })).toThrow(/shq at line 6: the value is missing from the template context/);
    expect(() => renderScript("fixture-script", { sha512: SHA512, urls: [] }, { templatesDir: FIXTURES })).toThrow(/"message" not defined/);
  });

  it("produces a script shellcheck finds nothing in", () => {
    const result = shellcheck(fixture());
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("downloads from the fallback URL when the mirror fails, verifies sha512, installs only missing packages and logs to a file", () => {
    const run = runBash(fixture(), { stubs: STUBS, env: { CURL_CONTENT: CONTENT } });
    expect(run.output).toContain("downloaded and verified: https://archive.example/a.tgz");
    expect(run.status).toBe(0);
    expect(readFileSync(join(run.dir, "work", "artifact.tgz"), "utf8")).toBe(CONTENT);
    expect(calls(run.dir)).toContain("apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold -y -q install --no-install-recommends openjdk-17-jre-headless curl");
    expect(readFileSync(join(run.dir, "log", "fixture-script.log"), "utf8")).toContain("done: it's fine");
  });

  it("retries a failing command with backoff until it succeeds", () => {
    const run = runBash(fixture(), { stubs: STUBS, env: { CURL_CONTENT: CONTENT } });
    expect(run.output).toContain("attempt 1/3 failed: flaky; retrying in 2s");
    expect(run.output).toContain("attempt 2/3 failed: flaky; retrying in 4s");
    expect(calls(run.dir)).toEqual(expect.arrayContaining(["sleep 2", "sleep 4"]));
  });

  it("does nothing again on a second run: no download, no apt", () => {
    const first = runBash(fixture(), { stubs: STUBS, env: { CURL_CONTENT: CONTENT } });
    const before = calls(first.dir).length;
    const second = runBash(fixture(), { stubs: STUBS, env: { CURL_CONTENT: CONTENT }, dir: first.dir });
    expect(second.status).toBe(0);
    expect(second.output).toContain("already downloaded and verified");
    const newCalls = calls(first.dir).slice(before);
    expect(newCalls.filter((call) => /^(curl|apt-get) /.test(call))).toEqual([]);
  });

  it("verifies a sha256 as well, chosen by the digest's length", () => {
    const sha256 = createHash("sha256").update(CONTENT).digest("hex");
    const run = runBash(fixture({ sha512: sha256 }), { stubs: STUBS, env: { CURL_CONTENT: CONTENT } });
    expect(run.status).toBe(0);
    expect(run.output).toContain("downloaded and verified: https://archive.example/a.tgz");
  });

  it("refuses a checksum that is neither a sha1, a sha256 nor a sha512", () => {
    const run = runBash(fixture({ sha512: "abc123" }), { stubs: STUBS, env: { CURL_CONTENT: CONTENT } });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("not a sha1, sha256 or sha512 hex digest: abc123");
  });

  describe("several digests of one file, from several sources", () => {
    const sha1 = createHash("sha1").update(CONTENT).digest("hex");
    const sha256 = createHash("sha256").update(CONTENT).digest("hex");

    it("keeps the download when every digest matches", () => {
      for (const digests of [`${SHA512} ${sha1}`, `${SHA512} ${sha256} ${sha1}`]) {
        const run = runBash(fixture({ sha512: digests }), { stubs: STUBS, env: { CURL_CONTENT: CONTENT } });
        expect(run.output).toContain("downloaded and verified: https://archive.example/a.tgz");
        expect(run.status).toBe(0);
      }
    });

    it("refuses it when one digest does not match, whichever it is", () => {
      const other = (algorithm: string): string => createHash(algorithm).update("another file").digest("hex");
      for (const digests of [`${SHA512} ${other("sha1")}`, `${other("sha512")} ${sha1}`, `${SHA512} ${other("sha256")} ${sha1}`]) {
        const run = runBash(fixture({ sha512: digests }), { stubs: STUBS, env: { CURL_CONTENT: CONTENT } });
        expect(run.output).toContain("checksum mismatch for https://archive.example/a.tgz");
        expect(run.status).not.toBe(0);
      }
    });

    it("never takes a sha1 alone: it is only a second source's word beside a sha256 or sha512", () => {
      const run = runBash(fixture({ sha512: `${sha1} ${sha1}` }), { stubs: STUBS, env: { CURL_CONTENT: CONTENT } });
      expect(run.output).toContain(`no sha256 or sha512 among the digests: ${sha1} ${sha1}`);
      expect(run.status).not.toBe(0);
    });
  });

  it("fails the download step, naming it, when no copy matches the sha512", () => {
    const run = runBash(fixture(), { stubs: STUBS, env: { CURL_CONTENT: "tampered" } });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("checksum mismatch for https://archive.example/a.tgz");
    const log = join(run.dir, "log", "fixture-script.log");
    expect(run.output).toContain(`FAILED at step 'download' (exit 1); log: ${log}; every step is idempotent, so the script can be re-run`);
    expect(readFileSync(log, "utf8")).toContain("FAILED at step 'download'");
    expect(existsSync(join(run.dir, "work", "artifact.tgz"))).toBe(false);
    expect(existsSync(join(run.dir, "work", "artifact.tgz.part"))).toBe(false);
  });

  it("names the failing step when any command fails", () => {
    const run = runBash(fixture(), { stubs: STUBS, env: { CURL_CONTENT: CONTENT, FAIL_AT_END: "1" } });
    expect(run.status).toBe(1);
    expect(run.output).toContain("FAILED at step 'deliberate failure' (exit 1)");
  });

  it("logs a script run by an unprivileged user (the provisioners on the workstation) where its failure message says", () => {
    const operator = {
      ...STUBS,
      id: 'case $1 in -u) echo 1000 ;; -un|-gn) echo ubuntu ;; esac',
      // ubuntu's passwordless sudo; the shared partial uses it only to create its log directory.
      sudo: 'echo "$*" >> "$WORK_DIR/sudo"; args=(); while (($#)); do case $1 in -o|-g) shift 2 ;; *) args+=("$1"); shift ;; esac; done; exec "${args[@]}"',
    };
    const run = runBash(fixture(), { stubs: operator, env: { CURL_CONTENT: CONTENT, FAIL_AT_END: "1", PLATFORM_LOG_DIR: "" } });
    const log = join(run.dir, "root/var/log/platform/provision/fixture-script.log");
    expect(run.status).toBe(1);
    expect(run.output).toContain(`FAILED at step 'deliberate failure' (exit 1); log: ${log};`);
    expect(readFileSync(log, "utf8")).toContain("FAILED at step 'deliberate failure'");
    expect(readFileSync(join(run.dir, "work", "sudo"), "utf8")).toBe(`install -d -m 0755 -o ubuntu -g ubuntu ${join(run.dir, "root/var/log/platform/provision")}\n`);
  });

  it("gives up after the last attempt with a message naming the command", () => {
    const run = runBash(fixture(), { stubs: { ...STUBS, flaky: "exit 1" }, env: { CURL_CONTENT: CONTENT } });
    expect(run.output).toContain("giving up after 3 attempts: flaky");
    expect(run.output).toContain("FAILED at step 'flaky command'");
  });
});

describe("AWS calls in the instance and provisioner templates", () => {
  const TEMPLATES = join(__dirname, "..", "templates");
  const templates = readdirSync(TEMPLATES, { recursive: true, encoding: "utf8" }).filter((path) => path.endsWith(".sh.hbs") && !path.startsWith("partials"));

  /** Each line that calls an SSM helper, with the function around it (if any) and whether the line itself retries. */
  function ssmCalls(text: string): Array<{ line: string; inFunction?: string; retried: boolean }> {
    const found: Array<{ line: string; inFunction?: string; retried: boolean }> = [];
    let inFunction: string | undefined;
    for (const line of text.split("\n")) {
      const opened = /^(\w+)\(\) \{/.exec(line);
      if (opened) inFunction = opened[1];
      else if (line === "}") inFunction = undefined;
      // `declare -f` prints functions for another script to run: it calls nothing itself.
      if (/^\s*#/.test(line) || /^\s*declare -f /.test(line) || !/\bssm_(get|put|create)\b/.test(line)) continue;
      found.push({ line: line.trim(), inFunction, retried: /\bretry \S+ ssm_(get|put|create)\b/.test(line) });
    }
    return found;
  }

  it("finds SSM calls to check in the templates that make them", () => {
    const callers = templates.filter((path) => ssmCalls(readFileSync(join(TEMPLATES, path), "utf8")).length > 0).sort();
    expect(callers).toEqual(["chef-server.sh.hbs", "chef-workstation.sh.hbs", "spark-node.sh.hbs"]);
  });

  it.each(templates)("%s retries every SSM call: a new instance's first calls can be refused while its role's permissions propagate", (path) => {
    const text = readFileSync(join(TEMPLATES, path), "utf8");
    const unretried = ssmCalls(text)
      .filter((call) => !call.retried && !(call.inFunction && new RegExp(`\\bretry \\S+ ${call.inFunction}\\b`).test(text)))
      .map((call) => call.line);
    expect(unretried).toEqual([]);
  });
});
