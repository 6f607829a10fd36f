import { renderJson, renderMarkdown, summarize } from "../../review/renderReview";
import { failingFindings, runReview, type SideSynth } from "../../review/runReview";
import { FixtureRepo } from "../fixtureRepo";

/**
 * The review on real git history: base and head are commits of a fixture repository made from
 * this checkout, each synthesized from its own code and its own config file, as in CI.
 */
describe("plan review of real commits", () => {
  let repo: FixtureRepo;
  const cache = new Map<string, SideSynth>();
  const commits: Record<string, string> = {};
  const review = (base: string, head: string, options: { configFile?: string; appArgs?: string[] } = {}) =>
    runReview({ repo: repo.dir, base: commits[base], head: commits[head], env: {}, cwd: repo.dir, cache, ...options });

  beforeAll(() => {
    repo = new FixtureRepo();
    commits.base = repo.git("rev-parse", "HEAD");
    commits.configAdded = repo.commit("the deployed config, as the defaults", { "deployed.json": `${JSON.stringify({ kafka: { nodes: 3 } })}\n` });
    commits.fiveBrokers = repo.commit("five brokers", { "deployed.json": `${JSON.stringify({ kafka: { nodes: 5 } })}\n` });
    commits.renamedBucket = repo.commit("the bucket renamed, with a moved block", {
      "stacks/StorageStack.ts": (text) =>
        text.replace(
          /this\.bucket = new S3Bucket\(this, "data-bucket", \{([^}]*)\}\);/,
          (_match, body: string) => `this.bucket = new S3Bucket(this, "platform-data", {${body}});\n    this.bucket.moveFromId("aws_s3_bucket.data-bucket");`,
        ),
    });
    commits.movedSubnet = repo.commit("the first private subnet moved to another range", {
      "deployed.json": `${JSON.stringify({ kafka: { nodes: 5 }, network: { privateSubnetCidrs: ["10.0.64.0/20", "10.0.32.0/20", "10.0.48.0/20"] } })}\n`,
    });
  }, 60_000);
  afterAll(() => repo.dispose());

  it("reviews a config file change: each side synthesized with its own copy, and says which", () => {
    const scaled = review("configAdded", "fiveBrokers", { configFile: "deployed.json" });
    expect(scaled.configs).toEqual({ base: `deployed.json as in ${commits.configAdded.slice(0, 7)}`, head: `deployed.json as in ${commits.fiveBrokers.slice(0, 7)}` });
    const added = scaled.resources.filter((change) => change.action === "add" && change.type === "aws_instance").map((change) => change.path);
    expect(added).toEqual(["kafka/node-3/instance", "kafka/node-4/instance"]);
    expect(renderMarkdown(scaled)).toContain(`Config: base deployed.json as in ${commits.configAdded.slice(0, 7)}; head deployed.json as in ${commits.fiveBrokers.slice(0, 7)}.`);
    expect(JSON.parse(renderJson(scaled)).configs.head).toBe(`deployed.json as in ${commits.fiveBrokers.slice(0, 7)}`);
  }, 120_000);

  it("synthesizes a base without the config file with the defaults, and says so", () => {
    const added = review("base", "configAdded", { configFile: "deployed.json" });
    expect(added.configs?.base).toBe(`the defaults (deployed.json is not in ${commits.base.slice(0, 7)})`);
    expect(added.resources).toEqual([]);
  }, 120_000);

  it("takes the config file from PLATFORM_CONFIG as CI sets it, and an empty one for none", () => {
    const fromEnv = runReview({ repo: repo.dir, base: commits.configAdded, head: commits.fiveBrokers, env: { PLATFORM_CONFIG: "deployed.json" }, cwd: repo.dir, cache });
    expect(fromEnv.configs?.base).toBe(`deployed.json as in ${commits.configAdded.slice(0, 7)}`);
    expect(fromEnv.resources.filter((change) => change.action === "add" && change.type === "aws_instance")).toHaveLength(2);
    const unset = runReview({ repo: repo.dir, base: commits.base, head: commits.configAdded, env: { PLATFORM_CONFIG: "" }, cwd: repo.dir, cache });
    expect(unset.configs).toEqual({ base: "the defaults", head: "the defaults" });
  }, 120_000);

  it("takes config flags for both sides", () => {
    const flagged = review("configAdded", "fiveBrokers", { configFile: "deployed.json", appArgs: ["--kafka.nodes", "5"] });
    expect(flagged.configs?.head).toBe(`deployed.json as in ${commits.fiveBrokers.slice(0, 7)} with --kafka.nodes 5`);
    expect(flagged.resources).toEqual([]);
  }, 120_000);

  it("applies a moved block: a renamed bucket is moved, not destroyed, and what refers to it does not change", () => {
    const renamed = review("fiveBrokers", "renamedBucket", { configFile: "deployed.json" });
    expect(renamed.findings).toEqual([
      expect.objectContaining({ kind: "harmless", stack: "storage", address: "aws_s3_bucket.platform-data", message: "moved from aws_s3_bucket.data-bucket (a moved block): Terraform moves it in its state, nothing is destroyed" }),
    ]);
    expect(renamed.resources).toEqual([]);
    expect(failingFindings(renamed.findings, ["security", "data-loss", "replacement"])).toEqual([]);
  }, 120_000);

  it("follows a replaced subnet through cross-stack outputs into the stacks that read it, says which stack to apply first, and counts them", () => {
    const moved = review("renamedBucket", "movedSubnet", { configFile: "deployed.json" });
    const at = (stack: string, path: string) => moved.findings.filter((finding) => finding.stack === stack && finding.path === path);
    expect(at("network", "network/private-subnet-0")).toEqual([expect.objectContaining({ kind: "replacement", message: "replaced: cidr_block changes" })]);
    for (const [stack, path] of [["kafka", "kafka/node-0/instance"], ["chef", "chef/server/instance"], ["spark", "spark/master/instance"]]) {
      expect(at(stack, path)).toEqual([expect.objectContaining({ kind: "replacement", message: "replaced: it refers to network/private-subnet-0 (stack network, through its output), which is replaced" })]);
    }
    // The Chef server's new id reaches the Kafka stack too: every node registers again.
    expect(at("kafka", "kafka/bootstrap-node-3")).toEqual([expect.objectContaining({ kind: "re-run", message: expect.stringContaining("chef/server/instance (stack chef, through its output)") })]);
    const order = at("kafka", "kafka").map((finding) => finding.message);
    expect(order).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^APPLY ORDER: network first, then kafka: .*network's apply cannot delete the old network\/private-subnet-0 while kafka's kafka\/node-0\/instance, kafka\/node-3\/instance are still in it: .*\(in kafka: terraform destroy -target=aws_instance\.node-0_instance_[0-9A-F]{8} -target=aws_instance\.node-3_instance_[0-9A-F]{8}\), then apply network, then kafka$/),
        // The drain guard keeps the workstation's address in its input: a replaced server replaces the workstation too.
        expect.stringMatching(/^APPLY ORDER: chef first, then kafka: kafka reads the new chef\/server\/instance, chef\/workstation\/instance from chef's outputs/),
      ]),
    );
    // The volume stays in its availability zone: a subnet's new id is not a new zone.
    expect(moved.findings.filter((finding) => finding.kind === "data-loss")).toEqual([]);
    const effect = (stack: string, path: string) => moved.plan?.find((change) => change.stack === stack && change.path === path)?.effect;
    expect([effect("kafka", "kafka/node-0/instance"), effect("spark", "spark/worker-0/instance"), effect("kafka", "kafka/data-volume-0")]).toEqual(["replace", "replace", undefined]);
    expect(summarize(moved).plan.destroy).toBe(moved.plan?.filter((change) => change.effect === "replace").length);
    expect(summarize(moved).plan.add).toBeGreaterThanOrEqual(10);
  }, 120_000);
});
