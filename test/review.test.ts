import { renderJson, renderMarkdown, summarize } from "../review/renderReview";
import { compare, failingFindings } from "../review/runReview";
import { readable, refName } from "../review/findings";
import { coversEverything } from "../review/internetRanges";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FORCE_NEW_ATTRIBUTES, FORCE_NEW_PROVIDER_VERSION, forceNewChanges } from "../review/forceNewAttributes";
import type { Json, SynthesizedPlatform } from "../review/synthesizedPlatform";
import { synthesizeWorkingTree } from "../review/synthesizeWorkingTree";

// One synthesis per argument list: several tests review the same head, and none changes what it reads.
const synthesized = new Map<string, SynthesizedPlatform>();
const synth = (...argv: string[]): SynthesizedPlatform => {
  const key = JSON.stringify(argv);
  const platform = synthesized.get(key) ?? synthesizeWorkingTree(argv, {});
  synthesized.set(key, platform);
  return platform;
};
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

  it("reads all-traffic egress replaced by the ports used as a narrowing: the removed rule closes, the added ones open nothing, a new ingress port still opens", () => {
    const baseWithOpenEgress = clone(base);
    const egress = baseWithOpenEgress.kafka.resource.aws_vpc_security_group_egress_rule as Record<string, Json>;
    const group = "${aws_security_group.kafka-security-group.id}";
    for (const name of Object.keys(egress)) if (egress[name].security_group_id === group) delete egress[name];
    egress["kafka-egress"] = { cidr_ipv4: "0.0.0.0/0", ip_protocol: "-1", security_group_id: group, description: "all outbound" };
    const found = compare(baseWithOpenEgress, base, "base", "head");
    const messages = (kind: string) => found.findings.filter((finding) => finding.kind === kind).map((finding) => finding.message);
    expect(messages("security").filter((message) => / egress .* from group kafka-security-group/.test(message))).toEqual([]);
    expect(messages("harmless")).toContainEqual(expect.stringMatching(/^closes egress all traffic to 0\.0\.0\.0\/0 from group kafka-security-group, narrowed to .*tcp 443 to 0\.0\.0\.0\/0/));
    expect(messages("harmless").join("\n")).toContain("tcp 443 to group server-security-group");

    const newPort = clone(base);
    const ingress = newPort.kafka.resource.aws_vpc_security_group_ingress_rule as Record<string, Json>;
    ingress["debug-from-members"] = { ...ingress["broker-tls-from-members"], from_port: 9999, to_port: 9999 };
    expect(compare(base, newPort, "base", "head").findings).toContainEqual(expect.objectContaining({ kind: "security", message: expect.stringMatching(/^opens ingress tcp 9999 from group kafka-security-group/) }));
  });

  it("calls rules PUBLIC whose ranges together reach the internet, per group, for IPv4 and IPv6", () => {
    const rule = (group: string, cidr: Json) => ({ from_port: 9092, to_port: 9092, ip_protocol: "tcp", security_group_id: `\${aws_security_group.${group}.id}`, ...cidr });
    const withRules = (rules: Record<string, Json>) => {
      const head = clone(base);
      Object.assign(head.kafka.resource.aws_vpc_security_group_ingress_rule, rules);
      return review(head).findings.map((finding) => finding.message);
    };
    const halves = withRules({ "low-half": rule("kafka-security-group", { cidr_ipv4: "0.0.0.0/1" }), "high-half": rule("kafka-security-group", { cidr_ipv4: "128.0.0.0/1" }) });
    expect(halves).toHaveLength(2);
    for (const message of halves) expect(message).toMatch(/ — PUBLIC: with the group's other ingress rules its ranges cover every IPv4 address, so anyone on the internet can connect$/);
    const v6 = withRules({ "low-half": rule("kafka-security-group", { cidr_ipv6: "::/1" }), "high-half": rule("kafka-security-group", { cidr_ipv6: "8000::/1" }) });
    for (const message of v6) expect(message).toContain("cover every IPv6 address");
    // Two groups, half each: neither group is open to the internet.
    const split = withRules({ "low-half": rule("kafka-security-group", { cidr_ipv4: "0.0.0.0/1" }), "high-half": rule("other-group", { cidr_ipv4: "128.0.0.0/1" }) });
    for (const message of split) expect(message).not.toContain("PUBLIC");
    expect(coversEverything(["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"], 4)).toBe(true);
    expect(coversEverything(["0.0.0.0/1", "128.0.0.0/2"], 4)).toBe(false);
    expect(coversEverything(["::/0"], 6)).toBe(true);
    expect(coversEverything(["0.0.0.0/0"], 6)).toBe(false);
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
    expect(finding.message).toMatch(/^policy document now also grants s3:DeleteObject on data-bucket\/smart-money\/input\/\*; s3:DeleteObject on data-bucket\/spark-output\/\*/);
  });

  it("reports Spark nodes replaced by a version change, with the reason", () => {
    const head = clone(base);
    for (const [name, value] of Object.entries(head.spark.locals as Json)) head.spark.locals[name] = String(value).replace(/4\.1\.2/g, "4.1.3");
    const replaced = review(head).findings.filter((finding) => finding.kind === "replacement");
    const [order, ...nodes] = replaced.sort((a, b) => a.path.localeCompare(b.path));
    expect(nodes.map((finding) => finding.path)).toEqual(["spark/master/instance", "spark/worker-0/instance", "spark/worker-1/instance", "spark/worker-2/instance"]);
    for (const finding of nodes) expect(finding.message).toBe("replaced: its user data changes and user_data_replace_on_change is set");
    // The alarms watch the instances by id: they follow in the monitoring stack's own apply.
    expect(order).toMatchObject({ path: "monitoring", message: expect.stringMatching(/^APPLY ORDER: spark first, then monitoring: monitoring reads the new spark\/master\/instance, /) });
  });

  it("does not report Kafka nodes as replaced when only their user data changes: their lifecycle ignores it", () => {
    const head = clone(base);
    for (const [name, value] of Object.entries(head.kafka.locals as Json)) head.kafka.locals[name] = `${String(value)}\n# changed`;
    const found = review(head);
    expect(found.resources.filter((change) => change.type === "aws_instance")).toHaveLength(3);
    expect(found.findings).toEqual([]);
    expect(renderMarkdown(found)).toContain("user_data_base64 (ignored by lifecycle)");
  });

  it("counts only the head's ignore_changes: a narrowed list is a finding, and what it no longer covers counts", () => {
    const head = clone(base);
    for (const [name, value] of Object.entries(head.kafka.locals as Json)) head.kafka.locals[name] = `${String(value)}\n# changed`;
    for (const instance of Object.values(head.kafka.resource.aws_instance as Json)) instance.lifecycle.ignore_changes = ["ami", "ebs_optimized"];
    const found = review(head).findings.filter((finding) => finding.path.startsWith("kafka/node-"));
    expect(found.map((finding) => `${finding.kind}: ${finding.path}: ${finding.message}`)).toEqual(
      [0, 1, 2].flatMap((index) => [
        `stop-start: kafka/node-${index}/instance: lifecycle.ignore_changes no longer covers user_data_base64: the apply brings it to the configured value, whatever changed since it was last applied (stopped and started where it differs)`,
        `stop-start: kafka/node-${index}/instance: stopped and started to take new user data (which EC2 runs only at first boot)`,
      ]),
    );
    // Dropping ami from the list lets the newest AMI replace every broker.
    for (const instance of Object.values(head.kafka.resource.aws_instance as Json)) instance.lifecycle.ignore_changes = ["user_data_base64", "ebs_optimized"];
    expect(review(head).findings.filter((finding) => finding.kind === "replacement" && finding.path.startsWith("kafka/node-")).map((finding) => finding.message)).toEqual(
      Array(3).fill("lifecycle.ignore_changes no longer covers ami: the apply brings it to the configured value, whatever changed since it was last applied (replaced where ami differs)"),
    );
  });

  it("counts as Terraform does: data sources are no resources, ignored changes no changes, a replacement is one add and one destroy", () => {
    const scaled = review(synth("--kafka.nodes", "5"));
    // Per broker 19 (its instance, volume, attachment, ZooKeeper volume, its attachment and the step
    // that records it, role, three policies, profile, bootstrap, roll guard, its host-key pin step,
    // its drain guard: one for_each instance per broker, its agent's three parameters and its agent
    // step), and the
    // drain, rebalance and certificate renewal commands
    // installed again with the new addresses (an add and a destroy each). The three drain guards
    // there read the new address list: updated.
    // The monitoring stack: each new broker's five alarms (broker down, its data disk over 80 and
    // 90 %, its root disk, its status check) added, and the dashboard updated to show them.
    expect(summarize(scaled).plan).toEqual({ add: 51, change: 4, destroy: 3 });
    const monitoring = (scaled.plan ?? []).filter((change) => change.stack === "monitoring" && change.effect !== "no-op");
    expect(monitoring.filter((change) => change.effect === "create")).toHaveLength(10);
    expect(monitoring.filter((change) => change.effect === "update").map((change) => change.address)).toEqual([expect.stringMatching(/^aws_cloudwatch_dashboard\./)]);
    // The count the README's table gives for this change.
    const table = readFileSync(join(__dirname, "..", "README.md"), "utf8");
    expect(table.split("\n").find((line) => line.startsWith("| Broker scale-out"))).toContain("Plan: 51 to add, 4 to change, 3 to destroy");
    const guards = (scaled.plan ?? []).filter((change) => change.address.startsWith("terraform_data.drain-guard"));
    expect(guards.map((change) => `${change.address} ${change.effect}`)).toEqual(
      ["1", "2", "3"].map((key) => `terraform_data.drain-guard["${key}"] update`).concat(["4", "5"].map((key) => `terraform_data.drain-guard["${key}"] create`)),
    );
    const ignored = clone(base);
    // The nodes' user data; the drain guard's script is an input Terraform does update in place.
    for (const [name, value] of Object.entries(ignored.kafka.locals as Json)) if (name.includes("_user_data_")) ignored.kafka.locals[name] = `${String(value)}\n# changed`;
    const unchanged = review(ignored);
    expect(summarize(unchanged).plan).toEqual({ add: 0, change: 0, destroy: 0 });
    expect(unchanged.plan?.map((change) => change.effect)).toEqual(["ignored", "ignored", "ignored"]);
    const spark = clone(base);
    for (const [name, value] of Object.entries(spark.spark.locals as Json)) spark.spark.locals[name] = String(value).replace(/4\.1\.2/g, "4.1.3");
    const replaced = review(spark);
    // The four nodes replaced; in the monitoring stack, their eight alarms (root disk and status
    // check each), Spark's alive-workers alarm and the dashboard follow their new ids in place.
    expect(summarize(replaced).plan).toEqual({ add: 4, change: 10, destroy: 4 });
    const effects = JSON.parse(renderJson(replaced)).plan.map((change: Json) => `${change.stack} ${change.effect}`);
    expect(effects.filter((effect: string) => effect.startsWith("spark "))).toEqual(Array(4).fill("spark replace"));
    expect(effects.filter((effect: string) => !effect.startsWith("spark "))).toEqual(Array(10).fill("monitoring update"));
    expect(renderMarkdown(replaced)).toContain("Plan: 4 to add, 10 to change, 4 to destroy.");
  });

  it("fails --fail-on replacement on replacements only, not on a re-run step or a stop and start", () => {
    const cookbook = clone(base);
    cookbook.kafka.resource.terraform_data.converge.triggers_replace.chefRepo = "another-digest";
    const rerun = review(cookbook).findings;
    expect(failingFindings(rerun, ["replacement"])).toEqual([]);
    expect(failingFindings(rerun, ["re-run"])).toEqual([expect.objectContaining({ path: "kafka/converge" })]);
    const bigger = review(synth("--kafka.instanceType", "m7i.xlarge")).findings;
    expect(failingFindings(bigger, ["replacement"])).toEqual([]);
    // Three brokers and the ensemble they carry, all down at once.
    expect(failingFindings(bigger, ["stop-start"])).toHaveLength(4);
    // Another architecture under an ignored ami is no replacement: an in-place update that fails.
    const graviton = review(synth("--kafka.instanceType", "m7g.large")).findings;
    expect(failingFindings(graviton, ["replacement"])).toEqual([]);
    expect(failingFindings(graviton, ["stop-start"]).filter((finding) => finding.message.startsWith("APPLY FAILS"))).toHaveLength(3);
  });

  it("reports an outage when one apply stops every quorum member, and a kafka.mode switch on a running cluster", () => {
    // The roll guards take an instance type change through the members one at a time: no outage.
    const bigger = review(synth("--kafka.instanceType", "m7i.xlarge")).findings;
    expect(bigger.filter((finding) => finding.message.startsWith("OUTAGE"))).toEqual([]);
    expect(bigger).toContainEqual(
      expect.objectContaining({
        kind: "stop-start",
        path: "kafka/zoo-bag",
        message: expect.stringMatching(/^every member of the ZooKeeper ensemble \(3\) is stopped and started by this apply, one at a time: each node's roll guard re-runs/),
      }),
    );
    // Without the guards (an older platform, or guards removed), the same change stops them all at once.
    const unguarded = clone(base);
    for (const instance of Object.values(unguarded.kafka.resource.aws_instance as Json)) {
      instance.instance_type = "m7i.xlarge";
      instance.depends_on = (instance.depends_on as string[]).filter((dependency) => !dependency.startsWith("terraform_data.roll-guard-"));
    }
    expect(review(unguarded).findings).toContainEqual(
      expect.objectContaining({
        kind: "stop-start",
        path: "kafka/zoo-bag",
        message: expect.stringMatching(/^OUTAGE: every member of the ZooKeeper ensemble \(3\) is stopped and started by this one apply.*Apply one member at a time instead \(terraform apply -target=/),
      }),
    );
    // One of three stopped at a time keeps the quorum.
    const one = clone(base);
    const [first] = Object.values(one.kafka.resource.aws_instance as Json);
    first.instance_type = "m7i.xlarge";
    expect(review(one).findings.filter((finding) => finding.message.startsWith("OUTAGE"))).toEqual([]);
    const kraft = review(synth("--kafka.mode", "kraft")).findings;
    expect(kraft).toContainEqual(expect.objectContaining({ kind: "data-loss", path: "kafka/kraft-bag", message: expect.stringMatching(/^kafka\.mode switches from zookeeper to kraft on a running cluster/) }));
  });

  it("reports a Kafka data volume destroyed when a broker goes, and its instance terminated", () => {
    const found = review(synth("--kafka.nodes", "2", "--kafka.replicationFactor", "2", "--kafka.minInsyncReplicas", "1", "--kafka.zookeeperNodes", "1"));
    expect(found.findings.filter((finding) => finding.kind === "data-loss")).toEqual([
      expect.objectContaining({ stack: "kafka", path: "kafka/data-volume-2", message: "destroyed: aws_ebs_volume is removed from the config, and the data on it with it" }),
      // The broker takes its ZooKeeper volume; the members that left the ensemble keep theirs.
      expect.objectContaining({ stack: "kafka", path: "kafka/zookeeper-data-volume-2", message: "destroyed: aws_ebs_volume is removed from the config, and the data on it with it" }),
    ]);
    expect(found.findings).toContainEqual(
      expect.objectContaining({ kind: "replacement", path: "kafka/node-2/instance", message: "terminated: removed from the config — it holds state (its lifecycle keeps it through script changes): replace such nodes one at a time" }),
    );
    // The ensemble shrank: the data bag and every node's converge run again.
    expect(found.findings).toContainEqual(expect.objectContaining({ kind: "re-run", path: "kafka/converge", message: "re-runs its provisioner script on apply (triggers chefRepo, ensemble, zookeeperVolumes changed)" }));
    expect(failingFindings(found.findings, ["data-loss"])).toHaveLength(2);
    expect(failingFindings(found.findings, ["security"])).toEqual([]);
  });

  it("reports a volume replaced by a force-new argument as data loss", () => {
    const head = clone(base);
    const [volume] = Object.values(head.kafka.resource.aws_ebs_volume as Json);
    volume.availability_zone = "us-west-2d";
    expect(review(head).findings).toEqual([
      expect.objectContaining({ kind: "data-loss", path: "kafka/data-volume-0", message: "replaced: availability_zone changes: the data on it is destroyed" }),
      // Dragged along: the attachment names the volume.
      expect.objectContaining({ kind: "replacement", path: "kafka/data-volume-0-attachment", message: "replaced: it refers to kafka/data-volume-0, which is replaced" }),
    ]);
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
    const instance = (head.spark.resource.aws_instance as Json)[Object.keys(head.spark.resource.aws_instance).find((name) => name.startsWith("worker-0")) as string];
    instance.associate_public_ip_address = true;
    instance.metadata_options.http_tokens = "optional";
    const messages = review(head).findings.map((finding) => `${finding.kind}: ${finding.message}`);
    expect(messages).toEqual([
      "security: gets a public IP address: reachable from the internet as far as its security groups allow",
      "security: allows IMDSv1 (http_tokens optional): credentials readable without a session token",
      "replacement: replaced: associate_public_ip_address changes",
      // The worker's two alarms (its root disk, its status check) and the dashboard name its id.
      ...Array(3).fill("in-place: updated in place: it refers to spark/worker-0/instance (stack spark), replaced"),
      "replacement: APPLY ORDER: spark first, then monitoring: monitoring reads the new spark/worker-0/instance from spark's outputs, so its 3 dependent changes show in its plan only once spark is applied",
    ]);
  });

  it("drags along what refers to a replaced resource: the workers follow their master, a bootstrap follows its node", () => {
    const head = clone(base);
    const master = Object.keys(head.spark.locals as Json).find((name) => name.startsWith("master_user_data")) as string;
    head.spark.locals[master] = `${String(head.spark.locals[master])}\n# changed`;
    const replaced = review(head).findings.filter((finding) => finding.kind === "replacement").map((finding) => `${finding.path}: ${finding.message}`);
    expect(replaced).toEqual([
      "spark/master/instance: replaced: its user data changes and user_data_replace_on_change is set",
      ...[0, 1, 2].map((index) => `spark/worker-${index}/instance: replaced: it refers to spark/master/instance, which is replaced`),
      "monitoring: APPLY ORDER: spark first, then monitoring: monitoring reads the new spark/master/instance, spark/worker-0/instance, spark/worker-1/instance, spark/worker-2/instance from spark's outputs, so its 10 dependent changes show in its plan only once spark is applied",
    ]);
    const moved = clone(base);
    const node = Object.keys(moved.kafka.resource.aws_instance).find((name) => name.startsWith("node-1_")) as string;
    moved.kafka.resource.aws_instance[node].private_ip = "10.0.32.100";
    const messages = review(moved).findings.map((finding) => `${finding.path}: ${finding.message}`);
    expect(messages).toContain("kafka/node-1/instance: replaced: private_ip changes — it holds state (its lifecycle keeps it through script changes): replace such nodes one at a time");
    expect(messages).toContain("kafka/bootstrap-node-1: re-runs its provisioner script on apply (a trigger refers to kafka/node-1/instance, which is replaced)");
  });

  it("counts a resource the head adds, which refers to a replaced instance, as created only, not also updated in place", () => {
    const head = clone(base);
    const workstation = Object.keys(head.chef.resource.aws_instance).find((name) => name.startsWith("workstation_")) as string;
    const userData = Object.keys(head.chef.locals as Json).find((name) => name.startsWith("workstation_user_data")) as string;
    head.chef.locals[userData] = `${String(head.chef.locals[userData])}\n# changed`;
    const without = clone(head);
    head.chef.resource.aws_ssm_parameter["workstation-address"] = { name: "/insight/dev/chef/workstation-address", type: "String", value: `\${aws_instance.${workstation}.private_ip}` };
    const added = review(head);
    expect(added.findings.filter((finding) => finding.kind === "replacement").map((finding) => finding.path)).toContain("chef/workstation/instance");
    expect(added.findings.filter((finding) => finding.address === "aws_ssm_parameter.workstation-address")).toEqual([]);
    expect(summarize(added).plan).toEqual({ ...summarize(review(without)).plan, add: (summarize(review(without)).plan?.add ?? 0) + 1 });
  });

  it("warns when a security group in use is replaced without create_before_destroy, and not with it", () => {
    const head = clone(base);
    const group = head.network.resource.aws_security_group["workstation-security-group"];
    group.description = "Admin workstation, renamed";
    const inUse = review(head).findings.filter((finding) => finding.message.startsWith("IN USE"));
    expect(inUse).toEqual([expect.objectContaining({ kind: "replacement", stack: "network", path: "network/workstation-security-group" })]);
    expect(inUse[0].message).toMatch(/^IN USE: replaced without create_before_destroy while chef\/workstation\/instance, .*DependencyViolation.*15 minutes/);
    expect(review(head).findings).toContainEqual(expect.objectContaining({ kind: "in-place", stack: "chef", path: "chef/workstation/instance", message: expect.stringContaining("(its list of security groups changes)") }));
    group.lifecycle = { create_before_destroy: true };
    expect(review(head).findings.filter((finding) => finding.message.startsWith("IN USE"))).toEqual([]);
  });

  it("knows the force-new arguments of every resource type the platform synthesizes, read for the provider version the stacks pin", () => {
    // Every optional resource too: KRaft's, dedicated controllers', interface endpoints', access logging's, operator access's.
    const configs = [[], ["--kafka.mode", "kraft"], ["--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true"], ["--network.interfaceEndpoints", "true", "--storage.accessLogBucket", "access-logs-example"], ["--chef.operatorAccess", "instance-connect-endpoint"]];
    const types = new Set<string>();
    const pins = new Set<string>();
    for (const argv of configs) {
      for (const stack of Object.values(argv.length === 0 ? base : synth(...argv))) {
        for (const type of Object.keys(stack.resource ?? {})) types.add(type);
        pins.add(String(stack.terraform?.required_providers?.aws?.version));
      }
    }
    expect([...types].filter((type) => !(type in FORCE_NEW_ATTRIBUTES))).toEqual([]);
    expect([...pins].map((pin) => pin.split(".").slice(0, 2).join("."))).toEqual([FORCE_NEW_PROVIDER_VERSION]);
    for (const type of ["aws_route_table", "aws_route", "aws_s3_bucket_versioning", "aws_s3_bucket_policy", "aws_s3_bucket_logging", "aws_ssm_parameter", "aws_vpc_endpoint", "terraform_data"]) {
      expect(FORCE_NEW_ATTRIBUTES[type].length).toBeGreaterThan(0);
    }
    // A route table moved to another VPC is replaced, and its default route with it (its association is updated in place).
    const head = clone(base);
    head.network.resource.aws_route_table["private-routes-0"].vpc_id = "vpc-0123456789abcdef0";
    const replaced = review(head).findings.filter((finding) => finding.kind === "replacement").map((finding) => finding.path);
    expect(replaced).toEqual(["network/private-routes-0", "network/private-default-route-0"]);
  });

  // Each row was wrong in the table before it was read against the provider's source.
  it.each([
    ["aws_instance", "security_groups", "replaces"],
    ["aws_instance", "ebs_optimized", "replaces"],
    ["aws_instance", "host_id", "replaces"],
    ["aws_instance", "instance_market_options", "replaces"],
    ["aws_instance", "private_dns_name_options", "replaces"],
    ["aws_instance", "host_resource_group_arn", "updates in place"],
    ["aws_instance", "ipv6_address_count", "updates in place"],
    ["aws_subnet", "ipv6_native", "replaces"],
    ["aws_nat_gateway", "availability_mode", "replaces"],
    ["aws_nat_gateway", "vpc_id", "replaces"],
  ])("says a change of %s.%s %s, as the provider's schema does", (type, argument, effect) => {
    expect(forceNewChanges(type, [argument], [])).toEqual(effect === "replaces" ? [argument] : []);
  });

  it("names in the force-new table only arguments the pinned provider has (6.0 dropped aws_flow_log's log_group_name)", () => {
    const camel = (name: string): string => name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
    const unknown: string[] = [];
    for (const [type, names] of Object.entries(FORCE_NEW_ATTRIBUTES).filter(([type]) => type.startsWith("aws_"))) {
      const binding = readFileSync(require.resolve(`@cdktf/provider-aws/lib/${type.slice(4).replace(/_/g, "-")}/index.d.ts`), "utf8");
      for (const name of names) if (!new RegExp(`readonly ${camel(name.split(".")[0])}\\??:`).test(binding)) unknown.push(`${type}.${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it("words a bucket's removal by force_destroy: without it the apply fails after the bucket's protections are gone", () => {
    const head = clone(base);
    const storage = head.storage.resource;
    for (const type of Object.keys(storage)) if (type.startsWith("aws_s3_bucket")) delete storage[type];
    const [removal] = review(head).findings.filter((finding) => finding.address === "aws_s3_bucket.data-bucket");
    expect(removal.kind).toBe("data-loss");
    expect(removal.message).toMatch(/^removed from the config with force_destroy false: Terraform first destroys its .*public_access_block.*, then fails to delete the bucket while it holds any object \(BucketNotEmpty\), so the apply fails and the bucket stays without those protections/);
    const forced = clone(base);
    forced.storage.resource.aws_s3_bucket["data-bucket"].force_destroy = true;
    const [destroyed] = compare(forced, head, "base", "head").findings.filter((finding) => finding.address === "aws_s3_bucket.data-bucket");
    expect(destroyed.message).toBe("destroyed with force_destroy: the provider deletes every object and every version in the bucket, then the bucket");
  });

  it("words a bucket's replacement by force_destroy too: without it the apply fails once the old bucket's protections are gone", () => {
    const head = clone(base);
    head.storage.resource.aws_s3_bucket["data-bucket"].bucket_prefix = "insight-stage-data-";
    const [replaced] = review(head).findings.filter((finding) => finding.address === "aws_s3_bucket.data-bucket");
    expect(replaced.kind).toBe("data-loss");
    expect(replaced.message).toMatch(/^replaced: bucket_prefix changes: with force_destroy false, Terraform first destroys the old bucket's configuration resources .*BucketNotEmpty\), so the apply fails and the bucket stays without those protections/);
    const forced = clone(base);
    forced.storage.resource.aws_s3_bucket["data-bucket"].force_destroy = true;
    const [emptied] = compare(forced, head, "base", "head").findings.filter((finding) => finding.address === "aws_s3_bucket.data-bucket");
    expect(emptied.message).toBe("replaced: bucket_prefix changes: the provider deletes every object and every version in the old bucket, then the bucket");
  });

  it("reports removing the bucket's versioning resource, which suspends versioning", () => {
    const head = clone(base);
    delete head.storage.resource.aws_s3_bucket_versioning["data-bucket-versioning"];
    const found = review(head).findings;
    expect(found).toEqual([expect.objectContaining({ kind: "data-loss", path: "storage/data-bucket-versioning", message: expect.stringMatching(/^removed: the provider suspends the bucket's versioning on delete/) })]);
    expect(failingFindings(found, ["data-loss"])).toHaveLength(1);
  });

  it("raises no false alarm: a broker scale-out is one harmless finding, not a security one; a sibling given more still is", () => {
    const scaled = review(synth("--kafka.nodes", "5"));
    expect(failingFindings(scaled.findings, ["security"])).toEqual([]);
    const same = scaled.findings.filter((finding) => finding.message.includes("the same access as the existing ones"));
    expect(same).toEqual([expect.objectContaining({ kind: "harmless", stack: "kafka", path: "kafka/node-3, kafka/node-4" })]);
    expect(same[0].message).toContain("trust: new trust policy: lets Service ec2.amazonaws.com assume this role");
    const greedy = clone(synth("--kafka.nodes", "4"));
    const trust = Object.entries(greedy.kafka.data.aws_iam_policy_document as Json).find(([name]) => name.startsWith("node-3_trust"))?.[1] as Json;
    trust.statement[0].principals[0].identifiers = ["ec2.amazonaws.com", "lambda.amazonaws.com"];
    expect(failingFindings(review(greedy).findings, ["security"])).toEqual([
      expect.objectContaining({ path: "kafka/node-3/trust", message: "new trust policy: lets Service ec2.amazonaws.com assume this role; lets Service lambda.amazonaws.com assume this role" }),
    ]);
  }, 30_000);

  it("reads a trust policy as who may assume the role, and a new provider block as no security finding", () => {
    const head = clone(base);
    const trust = Object.entries(head.kafka.data.aws_iam_policy_document as Json).find(([name]) => name.startsWith("node-0_trust"))?.[1] as Json;
    trust.statement[0].principals[0].identifiers = ["ec2.amazonaws.com", "ssm.amazonaws.com"];
    expect(review(head).findings).toEqual([expect.objectContaining({ kind: "security", path: "kafka/node-0/trust", message: "trust policy now also: lets Service ssm.amazonaws.com assume this role" })]);
    const aliased = clone(base);
    aliased.kafka.provider.aws.push({ alias: "backup", region: "us-east-1" });
    expect(review(aliased).findings).toEqual([expect.objectContaining({ kind: "harmless", stack: "kafka", message: "a new provider block (aws.backup): what it creates is reviewed resource by resource" })]);
    const withNewStack = { ...clone(base), extra: { provider: { aws: [{ region: "us-west-2" }] } } };
    expect(failingFindings(review(withNewStack).findings, ["security"])).toEqual([]);
  });

  it("reports an instance type change: across CPU architectures under an ignored ami the apply fails, within one a stop and start", () => {
    const graviton = review(synth("--kafka.instanceType", "m7g.large")).findings.filter((finding) => finding.path.startsWith("kafka/node-"));
    expect(graviton.map((finding) => finding.message)).toEqual(
      [0, 1, 2].map((index) =>
        expect.stringMatching(
          new RegExp(`^APPLY FAILS: instance_type changes from m7i\\.large to m7g\\.large, another CPU architecture, but lifecycle ignores ami: .*EC2 refuses the new type for its amd64 image, so the apply fails with the instance stopped\\. Replace it instead: terraform apply -replace=aws_instance\\.node-${index}_instance_[0-9A-F]{8}$`),
        ),
      ),
    );
    const bigger = review(synth("--kafka.instanceType", "m7i.xlarge")).findings.filter((finding) => finding.path.startsWith("kafka/node-"));
    expect(bigger.map((finding) => finding.message)).toEqual(Array(3).fill("stopped and started to change its type from m7i.large to m7i.xlarge"));
  });

  it("knows a1.* as arm64: a move to it is another CPU architecture", () => {
    const head = clone(base);
    const [, worker] = Object.entries(head.spark.resource.aws_instance as Json).find(([name]) => name.startsWith("worker-0")) as [string, Json];
    worker.instance_type = "a1.xlarge";
    expect(review(head).findings.filter((finding) => finding.path === "spark/worker-0/instance")).toEqual([
      expect.objectContaining({ kind: "stop-start", message: expect.stringContaining("to a1.xlarge, another CPU architecture") }),
    ]);
  });

  it("reports a Deny statement removed and a policy switched to a wider one", () => {
    const head = clone(base);
    const bucketPolicy = head.storage.data.aws_iam_policy_document["data-bucket-tls-only"];
    bucketPolicy.statement = (bucketPolicy.statement as Json[]).filter((statement) => statement.sid !== "DenyInsecureTransport");
    const policy = Object.keys(head.spark.resource.aws_iam_role_policy).find((name) => name.startsWith("master_policy-read-data-bucket")) as string;
    head.spark.resource.aws_iam_role_policy[policy].policy = String(head.spark.resource.aws_iam_role_policy[policy].policy).replace("data-bucket-readjson", "data-bucket-read-writejson");
    const messages = review(head).findings.map((finding) => `${finding.kind}: ${finding.path}: ${finding.message}`);
    expect(messages).toEqual([
      "security: spark/master/policy-read-data-bucket: inline policy read-data-bucket now is data-bucket-read-write (was data-bucket-read)",
      "security: storage/data-bucket-tls-only: a Deny statement (DenyInsecureTransport) is removed or changed: a protection goes or narrows",
    ]);
  });

  it("reports the region moving as data loss for the whole stack, and a variable's validation as security", () => {
    const moved = review(synth("--region", "eu-west-1"));
    expect(moved.findings).toContainEqual(expect.objectContaining({ kind: "data-loss", stack: "storage", message: expect.stringMatching(/^the provider's region changes from us-west-2 to eu-west-1: every resource/) }));
    const head = clone(base);
    const [variable] = Object.values(head.chef.variable as Json).filter((each) => each.validation);
    variable.validation = [];
    expect(review(head).findings).toEqual([expect.objectContaining({ kind: "security", stack: "chef", message: expect.stringMatching(/^variable admin_cidr: validation \$\{\(\(can\(cidrhost.*\.\.\. → none$/) })]);
  });

  it("shows a variable's default and type old → new, and a default on a security-relevant variable as security", () => {
    const head = clone(base);
    head.chef.variable.admin_cidr.default = "0.0.0.0/0";
    head.chef.variable.key_pair_name.type = "any";
    const found = review(head).findings.filter((finding) => finding.address === "stack");
    expect(found).toEqual([
      expect.objectContaining({ kind: "security", stack: "chef", message: 'variable admin_cidr: default (none) → "0.0.0.0/0" — a default here applies to every deploy that does not pass one' }),
      expect.objectContaining({ kind: "harmless", stack: "chef", message: 'variable key_pair_name: type "string" → "any"' }),
    ]);
  });

  it("puts an inline policy written as JSON through the grant analysis, and calls * on * ADMIN", () => {
    const head = clone(base);
    const [name, policy] = Object.entries(head.kafka.resource.aws_iam_role_policy as Json)[0] as [string, Json];
    head.kafka.resource.aws_iam_role_policy[`${name}-admin`] = { ...policy, name: "break-glass", policy: JSON.stringify({ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "*", Resource: "*" } }) };
    const [finding] = failingFindings(review(head).findings, ["security"]);
    expect(finding.message).toMatch(/^inline policy break-glass on role node-0_role: new policy document grants \* on \* — ADMIN: every action on every resource$/);
    const narrowed = clone(head);
    narrowed.kafka.resource.aws_iam_role_policy[`${name}-admin`].policy = JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: "*" }] });
    const widened = compare(narrowed, head, "base", "head").findings;
    expect(widened).toEqual([expect.objectContaining({ kind: "security", message: expect.stringMatching(/policy document now also grants \* on \* — ADMIN/) })]);
  });

  it("does not take a rule renamed for one opened, and suggests a move for it", () => {
    const head = clone(base);
    const rules = head.spark.resource.aws_vpc_security_group_egress_rule as Json;
    const [name] = Object.keys(rules);
    rules[`${name}-renamed`] = rules[name];
    delete rules[name];
    expect(review(head).findings).toEqual([
      expect.objectContaining({
        kind: "replacement",
        address: `aws_vpc_security_group_egress_rule.${name}`,
        message: `destroyed and created again as aws_vpc_security_group_egress_rule.${name}-renamed with the same arguments: a moved block (moveTo or moveFromId) from aws_vpc_security_group_egress_rule.${name} to aws_vpc_security_group_egress_rule.${name}-renamed keeps it`,
      }),
    ]);
    expect(review(head).resources.map((change) => change.action)).toEqual(["remove", "add"]);
  });

  it("prints values old → new with Terraform's forces-replacement marker, names the stack once per line, and leaves cdktf's cross-stack outputs out", () => {
    const head = clone(base);
    head.network.resource.aws_subnet["private-subnet-0"].cidr_block = "10.0.64.0/20";
    head.network.output["cross-stack-output-aws_subnetprivate-subnet-0cidr_block"] = { value: "${aws_subnet.private-subnet-0.cidr_block}", sensitive: true };
    const markdown = renderMarkdown(review(head));
    expect(markdown).toContain('| cidr_block: "10.0.16.0/20" → "10.0.64.0/20" # forces replacement |');
    expect(markdown).toContain("- `network/private-subnet-0`: replaced: cidr_block changes");
    expect(markdown).not.toMatch(/`network` `network\//);
    expect(markdown).not.toContain("cross-stack-output-");
  });

  it("writes JSON with the summary and without the resources' bodies", () => {
    const head = clone(base);
    const [instance] = Object.values(head.spark.resource.aws_instance as Json);
    instance.tags = { ...instance.tags, CostCenter: "data" };
    const json = JSON.parse(renderJson(review(head)));
    expect(json.summary).toEqual({ security: 0, replacement: 0, "stop-start": 0, "re-run": 0, "data-loss": 0, "in-place": 0, harmless: 1, plan: { add: 0, change: 1, destroy: 0 } });
    expect(json.resources[0]).not.toHaveProperty("after");
    expect(json.resources[0]).toMatchObject({ stack: "spark", action: "change", attributes: ["tags.CostCenter"] });
  });

  it("names references as a reader knows them", () => {
    expect(refName("${data.terraform_remote_state.cross-stack-reference-input-network.outputs.cross-stack-output-aws_security_groupworkstation-security-groupid}")).toBe("workstation-security-group");
    expect(refName("${aws_security_group.kafka-security-group.id}")).toBe("kafka-security-group");
    expect(refName("${aws_iam_role.master_role_E18B5787.id}")).toBe("master_role");
    expect(readable("arn:${data.aws_partition.partition.partition}:ssm:us-west-2:${data.aws_caller_identity.account.account_id}:parameter/insight/dev/spark/auth-secret")).toBe(
      "arn:<partition>:ssm:us-west-2:<account>:parameter/insight/dev/spark/auth-secret",
    );
  });

  it("refuses a --fail-on kind it does not know", () => {
    expect(() => failingFindings([], ["securty"])).toThrow("--fail-on securty: not one of security, replacement, stop-start, re-run, data-loss");
  });
});
