import type { Finding } from "../../review/findings";
import { platformDot } from "../../review/platformDiagram";
import { renderJson, renderMarkdown, summarize, type Review } from "../../review/renderReview";
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
    // One commit per item of the review's issue, each the next one's base.
    commits.adminPolicy = repo.commit("a break-glass inline policy, written as JSON, for the Chef server", {
      "stacks/ChefStack.ts": (text) =>
        text.replace(
          "    const serverFqdn = this.server.instance.privateDns;",
          `    new IamRolePolicy(this, "server-break-glass", { role: this.server.role.id, name: "break-glass", policy: JSON.stringify({ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "*", Resource: "*" } }) });\n$&`,
        ),
    });
    commits.versioningRemoved = repo.commit("the data bucket's versioning resource removed", {
      "stacks/StorageStack.ts": (text) =>
        text
          .replace(/    const versioning = new S3BucketVersioningA\(this, "data-bucket-versioning", \{[\s\S]*?\n    \}\);\n/, "")
          .replace(/\n\s*\/\/ Lifecycle rules on noncurrent versions need versioning in place first\.\n\s*dependsOn: \[versioning\],/, ""),
    });
    commits.adminCidrDefault = repo.commit("admin_cidr gets a default", {
      "constructs/OperatorVariables.ts": (text) => text.replace('new TerraformVariable(scope, "admin_cidr", {\n      type: "string",', '$&\n      default: "10.0.0.0/8",'),
    });
    commits.vpcMoved = repo.commit("the VPC moved to 10.1.0.0/16", {
      "deployed.json": `${JSON.stringify({ kafka: { nodes: 5 }, network: { vpcCidr: "10.1.0.0/16", publicSubnetCidrs: ["10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"], privateSubnetCidrs: ["10.1.64.0/20", "10.1.32.0/20", "10.1.48.0/20"] } })}\n`,
    });
    commits.environmentRenamed = repo.commit("the environment renamed, so the bucket prefix too", {
      "deployed.json": (text) => `${JSON.stringify({ ...JSON.parse(text), environment: "stage" })}\n`,
    });
    commits.groupRedescribed = repo.commit("the workstation's security group described anew", {
      "stacks/NetworkStack.ts": (text) => text.replace('description: "Operator entry point: the only source of SSH and web UI access to cluster nodes"', 'description: "Operator entry point, SSH and web UIs"'),
    });
    // Declared public, as the synth-time guardrail asks of any port the internet reaches: the
    // review must still call it PUBLIC.
    commits.splitRanges = repo.commit("HTTPS to the workstation from two halves of the address space", {
      "stacks/NetworkStack.ts": (text) =>
        text
          .replace(/^/, 'import { declarePublicIngress } from "../guardrails/rules/noPublicIngress";\n')
          .replace(
            '    allowInternetEgress(this, "workstation-egress", this.workstationSecurityGroup);',
            `$&\n    for (const [id, cidr] of [["low", "0.0.0.0/1"], ["high", "128.0.0.0/1"], ["low6", "::/1"], ["high6", "8000::/1"]]) {\n      declarePublicIngress(new VpcSecurityGroupIngressRule(this, \`workstation-https-\${id}\`, { securityGroupId: this.workstationSecurityGroup.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, [cidr.includes(":") ? "cidrIpv6" : "cidrIpv4"]: cidr, description: "HTTPS" }), 443, "a public HTTPS endpoint");\n    }`,
          ),
    });
    commits.armWorkers = repo.commit("Spark workers on a1.xlarge", {
      "deployed.json": (text) => `${JSON.stringify({ ...JSON.parse(text), spark: { workerInstanceType: "a1.xlarge" } })}\n`,
    });
    commits.ignoreNarrowed = repo.commit("the Kafka nodes' user data no longer ignored, and their script changed", {
      "constructs/HardenedInstance.ts": (text) => text.replace('props.onUserDataChange === "ignore" ? ["ami", "user_data_base64"] : ["ami"]', '["ami"]'),
      "templates/kafka-node.sh.hbs": (text) => `${text}# changed\n`,
    });
    commits.cookbookEdit = repo.commit("brokers keep their logs for three days", {
      "cookbooks/kafka-cluster/attributes/default.rb": (text) => text.replace("props['log.retention.hours'] = 168", "props['log.retention.hours'] = 72"),
    });
    commits.kraftSwitch = repo.commit("kafka.mode kraft on the running cluster", {
      "deployed.json": (text) => `${JSON.stringify({ ...JSON.parse(text), kafka: { ...JSON.parse(text).kafka, mode: "kraft" } })}\n`,
    });
    commits.projectConfig = repo.commit("a project config file, as the README's quick start makes one", {
      "platform.config.json": `${JSON.stringify({ kafka: { nodes: 4 } })}\n`,
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

  // The review's issue, item by item: each change made as a commit, reviewed against the commit
  // before it. Items 8 (the plan role's policy) and 16 (the workflow) are text the review does not
  // run: test/planRolePolicy.test.ts and test/workflow.test.ts read it.
  const headPlatform = (name: string) => [...cache].find(([key]) => key.startsWith(`${commits[name]} `))?.[1].platform ?? {};
  const lines = (findings: readonly Finding[]) => findings.map((finding) => `${finding.kind} ${finding.path}: ${finding.message}`);

  it("item 5: an inline policy written as JSON goes through the grant analysis, and * on * is ADMIN", () => {
    const granted = review("movedSubnet", "adminPolicy", { configFile: "deployed.json" });
    expect(lines(granted.findings)).toEqual(["security chef/server-break-glass: inline policy break-glass on role server_role: new policy document grants * on * — ADMIN: every action on every resource"]);
  }, 120_000);

  it("item 6: removing aws_s3_bucket_versioning is a finding: the provider suspends versioning on delete", () => {
    const removed = review("adminPolicy", "versioningRemoved", { configFile: "deployed.json" });
    expect(lines(removed.findings)).toEqual([expect.stringMatching(/^data-loss storage\/data-bucket-versioning: removed: the provider suspends the bucket's versioning on delete/)]);
    expect(failingFindings(removed.findings, ["data-loss"])).toHaveLength(1);
  }, 120_000);

  it("item 7: a variable's change is shown old → new, and a default on a security-relevant variable is a security finding", () => {
    const defaulted = review("versioningRemoved", "adminCidrDefault", { configFile: "deployed.json" });
    expect(lines(defaulted.findings)).toEqual(['security chef: variable admin_cidr: default (none) → "10.0.0.0/8" — a default here applies to every deploy that does not pass one']);
  }, 120_000);

  it("item 9: the force-new table knows route tables, routes and the bucket's configuration resources", () => {
    const moved = review("adminCidrDefault", "vpcMoved", { configFile: "deployed.json" });
    const at = (reviewed: Review, path: string) => lines(reviewed.findings.filter((finding) => finding.path === path));
    expect(at(moved, "network/private-routes-0")).toEqual(["replacement network/private-routes-0: replaced: it refers to network/vpc, which is replaced"]);
    expect(at(moved, "network/public-routes")).toEqual(["replacement network/public-routes: replaced: it refers to network/vpc, which is replaced"]);
    expect(at(moved, "network/private-default-route-0")).toEqual(["replacement network/private-default-route-0: replaced: it refers to network/private-routes-0, which is replaced"]);
    // A new bucket prefix replaces the bucket, and with it every aws_s3_bucket_* resource that names it.
    const renamed = review("vpcMoved", "environmentRenamed", { configFile: "deployed.json" });
    expect(at(renamed, "storage/platform-data")).toEqual([
      expect.stringMatching(/^data-loss storage\/platform-data: replaced: bucket_prefix changes: with force_destroy false, Terraform first destroys .*\(BucketNotEmpty\), so the apply fails/),
    ]);
    for (const part of ["ownership", "policy", "public-access-block", "encryption", "lifecycle"]) {
      expect(at(renamed, `storage/data-bucket-${part}`)).toEqual([`replacement storage/data-bucket-${part}: replaced: it refers to storage/platform-data, which is replaced`]);
    }
  }, 120_000);

  it("item 10: a replaced security group in use is a finding without create_before_destroy, and the instances using it are updated in place", () => {
    const redescribed = review("environmentRenamed", "groupRedescribed", { configFile: "deployed.json" });
    const group = redescribed.findings.filter((finding) => finding.path === "network/workstation-security-group").map((finding) => finding.message);
    expect(group).toEqual(["replaced: description changes", expect.stringMatching(/^IN USE: replaced without create_before_destroy while chef\/workstation\/instance, .*DependencyViolation.*up to 15 minutes/)]);
    expect(lines(redescribed.findings.filter((finding) => finding.path === "chef/workstation/instance"))).toEqual([
      "in-place chef/workstation/instance: updated in place: it refers to network/workstation-security-group (stack network), replaced (its list of security groups changes)",
    ]);
    expect(redescribed.plan?.find((change) => change.path === "chef/workstation/instance")?.effect).toBe("update");
  }, 120_000);

  it("item 11: a broker scale-out raises no false alarm: the new nodes' grants, trust policies included, are one harmless finding", () => {
    const scaled = review("configAdded", "fiveBrokers", { configFile: "deployed.json" });
    expect(failingFindings(scaled.findings, ["security"])).toEqual([]);
    const same = scaled.findings.filter((finding) => finding.message.includes("the same access as the existing ones"));
    expect(same).toEqual([expect.objectContaining({ kind: "harmless", stack: "kafka", path: "kafka/node-3, kafka/node-4" })]);
    expect(same[0].message).toContain("trust: new trust policy: lets Service ec2.amazonaws.com assume this role");
  }, 120_000);

  it("item 12: rules whose ranges together reach the internet are PUBLIC, per group, for IPv4 and IPv6", () => {
    const split = review("groupRedescribed", "splitRanges", { configFile: "deployed.json" });
    expect(lines(split.findings)).toEqual(
      [["high", "128.0.0.0/1", 4], ["high6", "8000::/1", 6], ["low", "0.0.0.0/1", 4], ["low6", "::/1", 6]].map(
        ([id, cidr, family]) =>
          `security network/workstation-https-${id}: opens ingress tcp 443 from ${cidr} into group workstation-security-group — PUBLIC: with the group's other ingress rules its ranges cover every IPv${family} address, so anyone on the internet can connect`,
      ),
    );
  }, 120_000);

  it("item 15: values old → new with the forces-replacement marker, the stack named once, no cross-stack outputs, ARNs readable", () => {
    const markdown = renderMarkdown(review("renamedBucket", "movedSubnet", { configFile: "deployed.json" }));
    expect(markdown).toContain('| cidr_block: "10.0.16.0/20" → "10.0.64.0/20" # forces replacement |');
    expect(markdown).toContain("- `network/private-subnet-0`: replaced: cidr_block changes");
    expect(markdown).not.toMatch(/`(network|kafka|chef|spark)` `/);
    expect(markdown).not.toContain("cross-stack-output-");
    // The parameters' ARNs are built from the partition and account: named as a reader knows them.
    const renamed = renderMarkdown(review("vpcMoved", "environmentRenamed", { configFile: "deployed.json" }));
    expect(renamed).toContain("- `chef/read-bootstrap-key`: policy document now also grants ssm:GetParameter on arn:&lt;partition&gt;:ssm:us-west-2:&lt;account&gt;:parameter/insight/stage/chef/bootstrap-public-key");
    expect(renamed).not.toContain("${");
  }, 120_000);

  it("item 17: the diagram draws what the JSON says: the bucket's versioning as configured, and every ingress range", () => {
    review("adminPolicy", "versioningRemoved", { configFile: "deployed.json" });
    review("groupRedescribed", "splitRanges", { configFile: "deployed.json" });
    expect(platformDot(headPlatform("adminPolicy"))).toMatch(/S3 data bucket\\n\(encrypted, public access blocked, versioned\)/);
    expect(platformDot(headPlatform("versioningRemoved"))).toMatch(/S3 data bucket\\n\(encrypted, public access blocked, NOT versioned\)/);
    const drawn = platformDot(headPlatform("splitRanges"));
    // Ranges that reach the same box on the same port share one node, each range on a line of its
    // label, and said to be the internet when together they are.
    expect(drawn).toContain('"range 0.0.0.0/1" [label="0.0.0.0/1\\n128.0.0.0/1\\n8000::/1\\n::/1\\n(together the whole internet)"');
    expect(drawn).toMatch(/"entry 0\.0\.0\.0\/1" -> "chef":"workstation_instance_[0-9A-F]{8}" \[label="443"/);
    expect(drawn).toContain('internet -> subnets [label="egress 80, 443", dir=back]');
  }, 120_000);

  it("item 3: only the head's ignore_changes counts: narrowing it is a finding, and the script change it no longer ignores stops and starts every broker", () => {
    const narrowed = review("armWorkers", "ignoreNarrowed", { configFile: "deployed.json" });
    const brokers = narrowed.findings.filter((finding) => /^kafka\/node-\d+\/instance$/.test(finding.path));
    expect(brokers.filter((finding) => finding.message.startsWith("lifecycle.ignore_changes no longer covers user_data_base64"))).toHaveLength(5);
    expect(brokers.filter((finding) => finding.kind === "stop-start" && finding.message === "stopped and started to take new user data (which EC2 runs only at first boot)")).toHaveLength(5);
  }, 120_000);

  it("item 13: a kafka.mode switch on a running cluster is a finding of its own", () => {
    const switched = review("cookbookEdit", "kraftSwitch", { configFile: "deployed.json" });
    expect(switched.findings).toContainEqual(
      expect.objectContaining({ kind: "data-loss", path: "kafka/kraft-bag", message: expect.stringMatching(/^kafka\.mode switches from zookeeper to kraft on a running cluster: the brokers come up as a new cluster/) }),
    );
  }, 120_000);

  it("item 14: counts as Terraform's Plan line does, keeps replace, update and ignored apart, and --fail-on tells a re-run from a replacement", () => {
    const scaled = review("configAdded", "fiveBrokers", { configFile: "deployed.json" });
    expect(summarize(scaled).plan).toEqual({ add: 51, change: 4, destroy: 3 });
    const effects = (JSON.parse(renderJson(scaled)) as { plan: Array<{ effect: string }> }).plan.map((change) => change.effect);
    const tally = (effect: string): number => effects.filter((each) => each === effect).length;
    // A replacement is one add and one destroy; ignored changes and no-ops count for nothing.
    expect({ create: tally("create"), update: tally("update"), replace: tally("replace"), destroy: tally("destroy"), ignored: tally("ignored") }).toEqual({ create: 48, update: 4, replace: 3, destroy: 0, ignored: 0 });
    expect(renderMarkdown(scaled)).toContain("As Terraform would count it: Plan: 51 to add, 4 to change, 3 to destroy.");
    // A cookbook edit re-runs the converge: it fails --fail-on re-run, not --fail-on replacement.
    const cookbook = review("ignoreNarrowed", "cookbookEdit", { configFile: "deployed.json" });
    expect(failingFindings(cookbook.findings, ["replacement"])).toEqual([]);
    expect(failingFindings(cookbook.findings, ["re-run"]).map((finding) => finding.path)).toContain("kafka/converge");
  }, 120_000);

  it("item 1: with no config named, each side reads its own committed platform.config.json, and says so", () => {
    const added = review("kraftSwitch", "projectConfig");
    expect(added.configs).toEqual({ base: "the defaults", head: `platform.config.json as in ${commits.projectConfig.slice(0, 7)}` });
    expect(added.resources.filter((change) => change.action === "add" && change.type === "aws_instance").map((change) => change.path)).toEqual(["kafka/node-3/instance"]);
  }, 120_000);

  it("item 18: a1.* is arm64: Spark workers moved to a1.xlarge under an ignored ami fail the apply", () => {
    const arm = review("splitRanges", "armWorkers", { configFile: "deployed.json" });
    expect(arm.findings.map((finding) => `${finding.kind} ${finding.path}`)).toEqual([0, 1, 2].map((index) => `stop-start spark/worker-${index}/instance`));
    for (const finding of arm.findings) expect(finding.message).toMatch(/^APPLY FAILS: instance_type changes from m7i\.xlarge to a1\.xlarge, another CPU architecture, but lifecycle ignores ami: .*its amd64 image/);
  }, 120_000);
});
