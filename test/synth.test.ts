/**
 * `npm run synth` runs the app directly (no cdktf CLI start-up) and does what `cdktf synth` does
 * around the app. The byte-for-byte comparison with the real CLI is in test/cli/synthParity.test.ts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finishAsCdktfCli } from "../synth/cdktfCliSteps";
import { skipTokenStackTraces } from "../synth/tokenStackTraces";

const ROOT = join(__dirname, "..");
const json = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(ROOT, file), "utf8")) as Record<string, unknown>;

/** The app as `npm run synth` runs it, writing to `outdir`. */
function runApp(outdir: string, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", "main.ts"], { cwd: ROOT, encoding: "utf8", env: { ...env, CDKTF_OUTDIR: outdir } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("npm run synth", () => {
  it("runs the app with node directly: no cdktf CLI, no npx, no second tsx process for the Node check", () => {
    const scripts = json("package.json").scripts as Record<string, string>;
    expect(scripts.synth).toBe("node --import tsx main.ts");
  });

  it("cdktf.json's app, which cdktf deploy, diff and output run, starts the app without npx", () => {
    expect(json("cdktf.json").app).toBe("node --import tsx main.ts");
  });

  it("removes stack directories the app no longer writes, names the stacks as cdktf synth does, and needs no terraform on PATH", () => {
    const outdir = mkdtempSync(join(tmpdir(), "direct-synth-"));
    mkdirSync(join(outdir, "stacks", "retired"), { recursive: true });
    writeFileSync(join(outdir, "stacks", "retired", "cdk.tf.json"), "{}");
    // A PATH with node alone: cdktf's DataResource ran `terraform version` for each terraform_data.
    const bin = mkdtempSync(join(tmpdir(), "no-terraform-"));
    symlinkSync(process.execPath, join(bin, "node"));
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PLATFORM_") && !name.startsWith("CDKTF_")));
    const run = runApp(outdir, { ...env, PATH: bin });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
    expect(run.stdout.trim()).toBe("Generated Terraform code for the stacks: chef, kafka, monitoring, network, spark, storage");
    expect(existsSync(join(outdir, "stacks", "retired"))).toBe(false);
    expect(existsSync(join(outdir, "manifest.json"))).toBe(true);
  });
});

describe("the cdktf CLI's steps around the app", () => {
  const manifestWith = (annotations: object[]): string => {
    const outdir = mkdtempSync(join(tmpdir(), "annotations-"));
    writeFileSync(join(outdir, "manifest.json"), JSON.stringify({ version: "0.21.0", stacks: { kafka: { name: "kafka", annotations } } }));
    return outdir;
  };

  it("prints a warning annotation as the CLI does and succeeds", () => {
    const lines: string[] = [];
    const code = finishAsCdktfCli(manifestWith([{ constructPath: "kafka/node-0", level: "@cdktf/warn", message: "check this" }]), [], (line) => lines.push(line));
    expect(code).toBe(0);
    expect(lines).toEqual(["WARN [kafka/node-0]: check this", "Generated Terraform code for the stacks: kafka"]);
  });

  it("fails on an error annotation, as the CLI does", () => {
    const lines: string[] = [];
    const code = finishAsCdktfCli(manifestWith([{ constructPath: "kafka/node-0", level: "@cdktf/error", message: "IMDSv1 is off limits" }]), [], (line) => lines.push(line));
    expect(code).toBe(1);
    expect(lines[0]).toBe("ERROR [kafka/node-0]: IMDSv1 is off limits");
  });
});

describe("token stack traces", () => {
  it("errors keep their stack traces, while a capture into a plain object (cdktf's per-token trace) is left empty", () => {
    const previous = Error.captureStackTrace;
    try {
      skipTokenStackTraces();
      const error = new TypeError("bad value");
      expect(error.stack!.split("\n")[0]).toBe("TypeError: bad value");
      expect(error.stack!.split("\n")[1]).toMatch(/^ {4}at .*synth\.test\.ts:\d+:\d+\)?$/);
      const capture = { stack: "" };
      Error.captureStackTrace(capture);
      expect(capture.stack).toBe("");
      const rethrown = new Error("again");
      Error.captureStackTrace(rethrown);
      expect(rethrown.stack).toMatch(/^Error: again\n {4}at /);
    } finally {
      Error.captureStackTrace = previous;
    }
  });
});
