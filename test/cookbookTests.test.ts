import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(__dirname, "..", "scripts", "cookbook-tests.sh");

/**
 * Runs scripts/cookbook-tests.sh in a scratch project whose `bundle` is a stub: `bundle check`
 * answers BUNDLE_CHECK, `bundle install` answers BUNDLE_INSTALL, everything else succeeds.
 */
function runCookbookTests(env: Record<string, string>): { status: number | null; output: string; calls: string[] } {
  const project = mkdtempSync(join(tmpdir(), "cookbook-tests-"));
  const bin = join(project, "bin");
  mkdirSync(join(project, "scripts"));
  mkdirSync(join(project, "cookbooks", "insight-kafka-cluster"), { recursive: true });
  mkdirSync(bin);
  copyFileSync(SCRIPT, join(project, "scripts", "cookbook-tests.sh"));
  const stub = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${project}/calls.log"\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub("ruby", "exit 0");
  stub("bundle", 'case $1 in check) exit "${BUNDLE_CHECK:-0}" ;; install) exit "${BUNDLE_INSTALL:-0}" ;; *) exit 0 ;; esac');
  const result = spawnSync("bash", [join(project, "scripts", "cookbook-tests.sh")], {
    encoding: "utf8",
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: project, ...env },
  });
  const calls = readFileSync(join(project, "calls.log"), "utf8").trim().split("\n");
  return { status: result.status, output: `${result.stdout}${result.stderr}`, calls };
}

describe("npm run cookbooks (scripts/cookbook-tests.sh)", () => {
  it("installs the cookbook gems into the project itself when they are missing, saying so, then runs the checks", () => {
    const run = runCookbookTests({ BUNDLE_CHECK: "1" });
    expect(run.status).toBe(0);
    expect(run.output).toContain("installing the cookbook test gems from Gemfile.lock into vendor/bundle (once; needs rubygems.org)");
    const bundleCalls = run.calls.filter((call) => call.startsWith("bundle "));
    expect(bundleCalls[0]).toBe("bundle check");
    expect(bundleCalls[1]).toBe("bundle install --jobs 4 --retry 3 --quiet");
    expect(bundleCalls.slice(2).map((call) => call.split(" ").slice(0, 3).join(" "))).toEqual(["bundle exec cookstyle", "bundle exec rspec", "bundle exec berks"]);
  });

  it("installs nothing when the gems are already there", () => {
    const run = runCookbookTests({ BUNDLE_CHECK: "0" });
    expect(run.status).toBe(0);
    expect(run.calls).not.toContain("bundle install --jobs 4 --retry 3 --quiet");
  });

  it("stops with a clear message, before any check, when the install fails", () => {
    const run = runCookbookTests({ BUNDLE_CHECK: "1", BUNDLE_INSTALL: "5" });
    expect(run.status).toBe(1);
    expect(run.output).toContain("could not install the cookbook gems into vendor/bundle");
    expect(run.calls.some((call) => call.startsWith("bundle exec"))).toBe(false);
  });
});

describe("Gemfile.lock", () => {
  const lockfile = readFileSync(join(__dirname, "..", "Gemfile.lock"), "utf8");
  const section = (name: string): string[] => {
    const start = lockfile.split("\n").indexOf(name);
    if (start < 0) return [];
    const lines = lockfile.split("\n").slice(start + 1);
    const end = lines.findIndex((line) => line !== "" && !line.startsWith(" "));
    return lines.slice(0, end < 0 ? undefined : end).filter((line) => line.trim() !== "");
  };

  it("pins every locked gem by its sha256, so bundle install refuses a gem whose bytes changed", () => {
    const locked = lockfile.split("\n").filter((line) => /^ {4}\S+ \(\S+\)$/.test(line)).map((line) => line.trim());
    const checksums = new Map(section("CHECKSUMS").map((line) => [line.trim().replace(/ sha256=\w+$/, ""), /sha256=([0-9a-f]{64})$/.exec(line)?.[1]]));
    expect(locked.length).toBeGreaterThan(100);
    expect(locked.filter((gem) => !checksums.get(gem))).toEqual([]);
  });

  it("was written by a Bundler that keeps those checksums (2.6 or later; an older one drops them when it rewrites the file)", () => {
    const [major, minor] = (section("BUNDLED WITH")[0] ?? "").trim().split(".").map(Number);
    expect(major > 2 || (major === 2 && minor >= 6)).toBe(true);
  });
});
