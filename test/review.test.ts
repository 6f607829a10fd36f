import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { renderJson, renderMarkdown } from "../review/renderReview";
import { compare, failingFindings, runReview } from "../review/runReview";
import { refName } from "../review/findings";
import type { Json, SynthesizedPlatform } from "../review/synthesizedPlatform";
import { synthesizeWorkingTree } from "../review/synthesizeWorkingTree";

const ROOT = join(__dirname, "..");
const synth = (...argv: string[]): SynthesizedPlatform => synthesizeWorkingTree(argv, {});
const clone = (platform: SynthesizedPlatform): Record<string, Json> => structuredClone(platform) as Record<string, Json>;

describe("plan review", () => {
  const base = synth();
  const review = (head: SynthesizedPlatform) => compare(base, head, "base", "head");
  const kinds = (head: SynthesizedPlatform) => review(head).findings.map((finding) => finding.kind);

  it("reports nothing when nothing changes", () => {
    const same = review(synth());
    expect(same.resources).toEqual([]);
    expect(same.findings).toEqual([]);
    expect(renderMarkdown(same)).toContain("No change to the synthesized Terraform.");
  });

  it("reports port 22 opened to 0.0.0.0/0 as public, first", () => {
    const head = clone(base);
    head.kafka.resource.aws_vpc_security_group_ingress_rule["ssh-from-anywhere"] = {
      cidr_ipv4: "0.0.0.0/0",
      from_port: 22,
      to_port: 22,
      ip_protocol: "tcp",
      security_group_id: "${aws_security_group.kafka-security-group.id}",
    };
    const found = review(head);
    expect(found.findings).toEqual([
      expect.objectContaining({
        kind: "security",
        stack: "kafka",
        address: "aws_vpc_security_group_ingress_rule.ssh-from-anywhere",
        message: "opens ingress tcp 22 from 0.0.0.0/0 into group kafka-security-group — PUBLIC: anyone on the internet can connect",
      }),
    ]);
    const markdown = renderMarkdown(found);
    expect(markdown.indexOf("opens ingress tcp 22")).toBeLessThan(markdown.indexOf("### Replaced"));
    expect(failingFindings(found.findings, ["security"])).toHaveLength(1);
  });

  it("reports a rule whose ports or source grow as widened, and one that shrinks as a plain change", () => {
    const head = clone(base);
    const rule = head.spark.resource.aws_vpc_security_group_ingress_rule["spark-application-ui-from-workstation"];
    rule.to_port = 4050;
    expect(review(head).findings).toEqual([
      expect.objectContaining({ kind: "security", message: expect.stringMatching(/^widens ingress: now tcp 4040-4050 from group workstation-security-group into group spark-security-group \(was tcp 4040 from/) }),
    ]);
    rule.to_port = 4040;
    rule.from_port = 4040;
    rule.description = "narrower";
    expect(kinds(head)).toEqual([]);
  });

  it("reports an IAM action added to a policy document, naming the resource", () => {
    const head = clone(base);
    const read = head.storage.data.aws_iam_policy_document["data-bucket-read"];
    const objects = read.statement.find((statement: Json) => (statement.actions as string[]).includes("s3:GetObject"));
    objects.actions = [...objects.actions, "s3:DeleteObject"];
    const [finding] = review(head).findings;
    expect(finding).toMatchObject({ kind: "security", stack: "storage", path: "storage/data-bucket-read" });
    expect(finding.message).toMatch(/^policy document now also grants s3:DeleteObject on data-bucket\/\*/);
  });

  it("reports Spark nodes replaced by a version change, with the reason", () => {
    const head = clone(base);
    for (const [name, value] of Object.entries(head.spark.locals as Json)) head.spark.locals[name] = String(value).replace(/4\.1\.2/g, "4.1.3");
    const replaced = review(head).findings.filter((finding) => finding.kind === "replacement");
    expect(replaced.map((finding) => finding.path).sort()).toEqual(["spark/master/instance", "spark/worker-0/instance", "spark/worker-1/instance", "spark/worker-2/instance"]);
    for (const finding of replaced) expect(finding.message).toBe("replaced: its user data changes and user_data_replace_on_change is set");
  });

  it("does not report Kafka nodes as replaced when only their user data changes: their lifecycle ignores it", () => {
    const head = clone(base);
    for (const [name, value] of Object.entries(head.kafka.locals as Json)) head.kafka.locals[name] = `${String(value)}\n# changed`;
    const found = review(head);
    expect(found.resources.filter((change) => change.type === "aws_instance")).toHaveLength(3);
    expect(found.findings).toEqual([]);
    expect(renderMarkdown(found)).toContain("user_data_base64 (ignored by lifecycle)");
  });

  it("reports a Kafka data volume destroyed when a broker goes, and its instance terminated", () => {
    const found = review(synth("--kafka.nodes", "2", "--kafka.replicationFactor", "2", "--kafka.minInsyncReplicas", "1", "--kafka.zookeeperNodes", "1"));
    expect(found.findings.filter((finding) => finding.kind === "data-loss")).toEqual([
      expect.objectContaining({ stack: "kafka", path: "kafka/data-volume-2", message: "destroyed: aws_ebs_volume is removed from the config, and the data on it with it" }),
    ]);
    expect(found.findings).toContainEqual(expect.objectContaining({ kind: "replacement", path: "kafka/node-2/instance", message: "terminated: removed from the config" }));
    // The ensemble shrank: the data bag and every node's converge run again.
    expect(found.findings).toContainEqual(expect.objectContaining({ kind: "replacement", path: "kafka/converge", message: "re-runs its provisioner script on apply (triggers chefRepo, ensemble changed)" }));
    expect(failingFindings(found.findings, ["data-loss"])).toHaveLength(1);
    expect(failingFindings(found.findings, ["security"])).toEqual([]);
  });

  it("reports a volume replaced by a force-new argument as data loss", () => {
    const head = clone(base);
    const [volume] = Object.values(head.kafka.resource.aws_ebs_volume as Json);
    volume.availability_zone = "us-west-2d";
    expect(review(head).findings).toEqual([expect.objectContaining({ kind: "data-loss", message: "replaced: availability_zone changes: the data on it is destroyed" })]);
  });

  it("reports a pure tag change as harmless, and nothing else", () => {
    const head = clone(base);
    const [instance] = Object.values(head.spark.resource.aws_instance as Json);
    instance.tags = { ...instance.tags, CostCenter: "data" };
    expect(review(head).findings).toEqual([expect.objectContaining({ kind: "harmless", message: "tags only (tags.CostCenter), updated in place" })]);
    const tagged = clone(base);
    tagged.network.provider.aws[0].default_tags[0].tags.Owner = "data-platform";
    expect(review(tagged).findings).toEqual([expect.objectContaining({ kind: "harmless", stack: "network", message: "the provider's default tags only, updated in place on every resource" })]);
  });

  it("reports an instance given a public IP, and IMDSv1 allowed", () => {
    const head = clone(base);
    const [instance] = Object.values(head.spark.resource.aws_instance as Json);
    instance.associate_public_ip_address = true;
    instance.metadata_options.http_tokens = "optional";
    const messages = review(head).findings.map((finding) => `${finding.kind}: ${finding.message}`);
    expect(messages).toEqual([
      "security: gets a public IP address: reachable from the internet as far as its security groups allow",
      "security: allows IMDSv1 (http_tokens optional): credentials readable without a session token",
      "replacement: replaced: associate_public_ip_address changes",
    ]);
  });

  it("writes JSON with the summary and without the resources' bodies", () => {
    const head = clone(base);
    const [instance] = Object.values(head.spark.resource.aws_instance as Json);
    instance.tags = { ...instance.tags, CostCenter: "data" };
    const json = JSON.parse(renderJson(review(head)));
    expect(json.summary).toEqual({ security: 0, replacement: 0, "data-loss": 0, harmless: 1, added: 0, removed: 0, changed: 1 });
    expect(json.resources[0]).not.toHaveProperty("after");
    expect(json.resources[0]).toMatchObject({ stack: "spark", action: "change", attributes: ["tags.CostCenter"] });
  });

  it("names references as a reader knows them", () => {
    expect(refName("${data.terraform_remote_state.cross-stack-reference-input-network.outputs.cross-stack-output-aws_security_groupworkstation-security-groupid}")).toBe("workstation-security-group");
    expect(refName("${aws_security_group.kafka-security-group.id}")).toBe("kafka-security-group");
    expect(refName("${aws_iam_role.master_role_E18B5787.id}")).toBe("master_role");
  });

  it("refuses a --fail-on kind it does not know", () => {
    expect(() => failingFindings([], ["securty"])).toThrow("--fail-on securty: not one of security, replacement, data-loss");
  });
});

describe("npm run review", () => {
  it("compares this repository's HEAD with the working tree in seconds, through a real git worktree", () => {
    const started = Date.now();
    const found = runReview({ repo: ROOT, base: "HEAD", env: {} });
    expect(found.base).toMatch(/^HEAD \([0-9a-f]{7}\)$/);
    expect(Date.now() - started).toBeLessThan(30_000);
    // Whatever the working tree holds, the base synthesized every stack.
    expect(renderMarkdown(found)).toMatch(/^## Platform review: HEAD \([0-9a-f]{7}\) → working tree/);
  });

  it("fails with one line for a ref that is not a commit", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "review/review.ts", "--base", "no-such-ref"], { cwd: ROOT, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("review: --base no-such-ref: not a commit in this repository (fetch it first, e.g. git fetch origin main)");
  });
});
