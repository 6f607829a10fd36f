/**
 * What README.md and docs/ tell an operator, checked against the code: the quick start's shape,
 * the documented config commands (run here), the example configs (synthesized here), and the
 * claims that were once untrue. The cdktf deploy/diff/destroy/output commands run in
 * `npm run test:cli` (test/cli/readmeCommands.test.ts); commands that need AWS are listed below.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { loadConfig } from "../config/loadConfig";
import { buildPlatform } from "../stacks/buildPlatform";

const ROOT = join(__dirname, "..");
const PAGES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];
const read = (file: string): string => readFileSync(join(ROOT, file), "utf8");
const README = read("README.md");
const ALL = PAGES.map(read).join("\n");

/** The lines of every ```sh block, continuation lines joined, comments dropped. */
function shellLines(text: string): string[] {
  const lines: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = block[1].replace(/\\\n\s*/g, " ");
    let heredoc = "";
    for (const line of joined.split("\n")) {
      // A here-document's body is the input of the command above it, not a command.
      if (heredoc) {
        if (line.trim() === heredoc) heredoc = "";
        continue;
      }
      heredoc = /<<'(\w+)'/.exec(line)?.[1] ?? "";
      const command = line.replace(/\s+#.*$/, "").trim();
      if (command !== "" && !command.startsWith("#")) lines.push(command);
    }
  }
  return lines;
}

describe("the README", () => {
  it("is short: status and limits, cost, prerequisites, one quick start, the review's ten changes and an index of docs/", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(220);
    const headings = [...README.matchAll(/^## (.*)$/gm)].map((match) => match[1]);
    expect(headings).toEqual(["Status and limits", "Architecture", "Cost, time and quotas", "Prerequisites", "Quick start", "What the review says of ten changes", "Documentation"]);
    for (const page of PAGES.filter((file) => file.startsWith("docs/"))) expect({ page, linked: README.includes(`](${page})`) }).toEqual({ page, linked: true });
  });

  it("says the limits first: CDKTF archived and the way out, what is not secured or monitored, the regions", () => {
    const status = README.slice(README.indexOf("## Status and limits"), README.indexOf("## Architecture"));
    expect(status).toContain("CDKTF is archived");
    expect(status).toContain("Not yet secured or monitored");
    expect(status).toContain("GovCloud, China and ISO regions");
  });

  it("has a quick start that waits for Chef and Spark before the smoke test, and the wait command exists", () => {
    const quick = README.slice(README.indexOf("## Quick start"), README.indexOf("## Documentation"));
    const order = ["npm ci", "examples/default.json", "create-key-pair", "TF_VAR_admin_cidr", "npx cdktf deploy", "Wait until Chef and Spark are ready", "Smoke test", "pipeline", "npx cdktf destroy"];
    const positions = order.map((marker) => quick.indexOf(marker));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const deploy = read("docs/deploy.md");
    expect(deploy).toContain("ssh -i ~/.ssh/platform.pem ubuntu@$WS cloud-init status --wait");
    // Spark's wait asks the master's JSON, so it trusts no node's SSH host key on first use.
    expect(deploy).toContain("curl -fsS http://$MASTER:8080/json/");
    expect(deploy).not.toContain("StrictHostKeyChecking=accept-new");
  });

  it("never says the chef or spark deploy ends with working software (they end when EC2 reports the instances running)", () => {
    expect(ALL).not.toMatch(/ends with a running standalone\s+cluster/);
    expect(ALL).not.toMatch(/ends with a Chef\s+Infra Server/);
  });
});

describe("the documented commands", () => {
  const commands = [...new Set(PAGES.flatMap((file) => shellLines(read(file))))];
  const configCommands = commands.filter((line) => line.startsWith("npx tsx main.ts"));

  it("runs every documented npx tsx main.ts config command as the config loader would (no config error)", () => {
    expect(configCommands.length).toBeGreaterThanOrEqual(3);
    for (const line of configCommands.filter((command) => !command.includes("--help"))) {
      const argv = line.split(/\s+/).slice(3);
      expect({ line, problems: problemsOf(argv) }).toEqual({ line, problems: [] });
    }
  });

  it("prints exactly the config error line the configuration page shows", () => {
    const page = read("docs/configuration.md");
    const shown = /\$ (npx tsx main\.ts [^\n]*)\n(config error: [^\n]*)/.exec(page)!;
    expect(problemsOf(shown[1].split(/\s+/).slice(3)).map((problem) => `config error: ${problem}`)).toEqual([shown[2]]);
  });

  it("lists the commands that need AWS, each for its reason, and leaves no other command unaccounted for", () => {
    const needsAws: Record<string, RegExp> = {
      "AWS credentials": /^(aws |BUCKET=|REGION=|while |PROJECT=|xargs .*aws )/,
      "the package publisher's download site": /^(curl -fsSL https:\/\/downloads\.cinc\.sh|python3 -c 'import json)/,
      "a deployed instance to log in to": /^(ssh |scp |WS=|MASTER=|WORKERS=|sudo |less |echo srvr|\$KAFKA|echo "hello|export BS=|cd cdktf\.out\/stacks\/kafka && terraform apply)/,
      "a deployed platform's state": /terraform (init|plan|output)|^for stack in|^touch \/tmp\/no-key/,
      "root and a Debian host (npm run rehearse)": /^sudo npm run rehearse/,
    };
    const runHere = /^(npm |npx tsx |node -p |PLATFORM_|CHECKPOINT_DISABLE=1 npx cdktf |export (TF_VAR_|PLATFORM_CONFIG|PLATFORM_STATE__)|cp examples\/|printf |grep |rm -f|done|  )/;
    const unaccounted = commands.filter((line) => !runHere.test(line) && !Object.values(needsAws).some((rule) => rule.test(line)));
    expect(unaccounted).toEqual([]);
  });
});

describe("the example configs", () => {
  it.each(["small", "default", "large"])("examples/%s.json loads and synthesizes every stack", (name) => {
    const config = loadConfig({ argv: ["--config", join(ROOT, "examples", `${name}.json`)], env: {} });
    const outdir = mkdtempSync(join(tmpdir(), `example-${name}-`));
    const app = new App({ outdir });
    buildPlatform(app, config);
    app.synth();
    expect(readdirSync(join(outdir, "stacks")).sort()).toEqual(["chef", "kafka", "monitoring", "network", "spark", "storage"]);
  });
});

describe("files an operator's work leaves in the checkout", () => {
  it("git ignores outputs.json, which holds a deployment's addresses", () => {
    expect(spawnSync("git", ["check-ignore", "-q", "outputs.json"], { cwd: ROOT }).status).toBe(0);
  });
});

function problemsOf(argv: string[]): readonly string[] {
  try {
    loadConfig({ argv, env: {} });
    return [];
  } catch (error) {
    return (error as { problems?: readonly string[] }).problems ?? [String(error)];
  }
}
