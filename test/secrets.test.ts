import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { buildPlatform } from "../stacks/buildPlatform";
import { configFrom, userDataOf, type Json } from "./helpers";

/** What a leaked secret looks like: key material, cloud credentials, hard-coded passwords. */
const SECRET_PATTERNS: ReadonlyArray<[string, RegExp]> = [
  ["PEM private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["AWS access key id", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ["AWS secret key setting", /aws_secret_access_key|S3_SECRET/i],
  ["password literal", /password["']?\s*[:=]\s*["'][^"'$]{4,}/i],
  ["the original's hard-coded password", /examplepass/i],
  ["OpenSSH private key", /-----BEGIN OPENSSH PRIVATE KEY-----/],
];

function findSecrets(text: string): string[] {
  return SECRET_PATTERNS.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
}

describe("no secret in what the app produces", () => {
  const outdir = mkdtempSync(join(tmpdir(), "platform-secrets-"));
  const app = new App({ outdir });
  buildPlatform(app, configFrom());
  app.synth();
  const stacks = readdirSync(join(outdir, "stacks"));
  const documents = stacks.map((stack) => ({ stack, text: readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8") }));

  it("synthesizes every stack", () => {
    expect(stacks.sort()).toEqual(["chef", "kafka", "monitoring", "network", "spark", "storage"]);
  });

  it.each(["chef", "kafka", "monitoring", "network", "spark", "storage"])("finds no secret in the %s stack's Terraform JSON", (stack) => {
    const document = documents.find((candidate) => candidate.stack === stack);
    expect(findSecrets(document?.text ?? "missing")).toEqual([]);
  });

  it("finds no secret in any rendered user data", () => {
    const scripts = documents.flatMap(({ text }) =>
      Object.values((JSON.parse(text).resource?.aws_instance ?? {}) as Record<string, Json>).map((instance) =>
        unescapeTerraformTemplate(userDataOf(JSON.parse(text) as Json, instance)),
      ),
    );
    expect(scripts.length).toBeGreaterThanOrEqual(6);
    for (const script of scripts) expect(findSecrets(script)).toEqual([]);
  });

  it("would notice a leaked key, credential or password (the scan itself works)", () => {
    expect(findSecrets("-----BEGIN RSA PRIVATE KEY-----\nMIIE")).toEqual(["PEM private key"]);
    expect(findSecrets('"AKIAIOSFODNN7EXAMPLE"')).toEqual(["AWS access key id"]);
    expect(findSecrets("S3_SECRET = 'abc'")).toEqual(["AWS secret key setting"]);
    expect(findSecrets('chef-server-ctl user-create admin A B a@b.c examplepass')).toEqual(["the original's hard-coded password"]);
    expect(findSecrets('{"password": "hunter22"}')).toEqual(["password literal"]);
  });
});
