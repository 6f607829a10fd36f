import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_KRAFT_KAFKA_PIN } from "../config/defaults";
import { KafkaProvisionScripts, RENEW_COMMAND } from "../constructs/kafkaProvisionScripts";
import { kafkaNodeRole } from "../constructs/kafkaNodeRole";
import { renderScript } from "../constructs/renderScript";
import { BOOTSTRAP_KEY_PLACEHOLDER } from "../stacks/ChefStack";
import { KAFKA_PORTS, ZOOKEEPER_VOLUME } from "../stacks/KafkaStack";
import { unescapeTerraformTemplate } from "../constructs/escapeTerraformTemplate";
import { configFrom, platformStackJson, resourcesOf, userDataOf, type Json } from "./helpers";
import { runBash, shellcheck, stubCalls as calls, withSetting } from "./shell";
import { COMMON_STUBS, fakeBoto3, kafkaNodeScript, kafkaNodeStubs, KNIFE_NOT_FOUND, python3Stub } from "./stubs";
import { zookeeperMembersSsh } from "./clusterStubs";
import { describeScripts } from "./tiers";

const kafkaJson = (...flags: string[]): Json => platformStackJson("kafka", ...flags);
const KNIFE_CONFIG = "/home/ubuntu/chef-repo/.cinc/config.rb";
/** A node's SSH host key, as it publishes it. */
const NODE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheNode0000000000000000000000000";

/** A validator key file, the knife settings naming one, or a validation flag. */
const VALIDATOR = /validation_(key|client)|validat(or|ion)\.pem|-validator\b|--validation/;

/** The workstation steps: terraform_data resources with provisioners (the cluster id holder has none). */
const steps = (json: Json): Record<string, Json> =>
  Object.fromEntries(Object.entries(resourcesOf(json, "terraform_data")).filter(([, resource]) => resource.provisioner !== undefined));
/** The provisioner script a workstation step copies to the workstation, as it will arrive there. */
const provisionedScript = (resource: Json): string => unescapeTerraformTemplate(resource.provisioner[0].file.content as string);

/** The converge script's list of the nodes it runs the client on, in order. */
const nodeIpsLine = (script: string): string => script.match(/^NODE_IPS=.*$/m)?.[0] ?? "";

/** The deploy steps a provisioner waits for, without the AWS resources it also waits for. */
/** The provisioner steps a step waits for, without the AWS resources (security group rules) it also waits for. */
const stepDependencies = (dependsOn: readonly string[]): string[] => dependsOn.filter((address) => !address.startsWith("aws_"));

describe("KafkaStack", () => {
  const json = kafkaJson();
  const instances = Object.values(resourcesOf(json, "aws_instance"));
  const rules = Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule"));
  const selfGroup = "${aws_security_group.kafka-security-group.id}";

  it("matches the committed snapshot", () => {
    // The chef repo hash changes with every cookbook edit; the converge trigger test checks its shape.
    expect(JSON.parse(JSON.stringify(json).replace(/"chefRepo":"[0-9a-f]{64}"/, '"chefRepo":"<hash>"'))).toMatchSnapshot();
  });

  it("runs three nodes in private subnets, each with its own encrypted gp3 data volume", () => {
    expect(instances).toHaveLength(3);
    for (const instance of instances) {
      expect(instance.associate_public_ip_address).toBe(false);
      expect(instance.subnet_id).toMatch(/private-subnet-\d+id\}$/);
    }
    const volumes = Object.entries(resourcesOf(json, "aws_ebs_volume")).filter(([name]) => name.startsWith("data-volume-"));
    expect(volumes).toHaveLength(3);
    for (const [, volume] of volumes) expect(volume).toMatchObject({ encrypted: true, type: "gp3", size: 100 });
    expect(Object.keys(resourcesOf(json, "aws_volume_attachment")).filter((name) => name.startsWith("data-volume-"))).toHaveLength(3);
  });

  it("stops a node before detaching its mounted data volume, so destroy and -replace do not hang on DetachVolume", () => {
    // Three data volumes, and the three ZooKeeper members' own volumes.
    const attachments = Object.values(resourcesOf(json, "aws_volume_attachment"));
    expect(attachments).toHaveLength(6);
    for (const attachment of attachments) {
      expect(attachment.stop_instance_before_detaching).toBe(true);
      expect(attachment.force_detach).toBeUndefined();
      expect(attachment.skip_destroy).toBeUndefined();
    }
  });

  it("keeps nodes running when their user data changes, neither replaced nor stopped: they hold data and quorum", () => {
    for (const node of Object.values(resourcesOf(json, "aws_instance"))) {
      expect(node.user_data_replace_on_change).toBe(false);
      expect(node.lifecycle.ignore_changes).toEqual(["ami", "user_data_base64", "ebs_optimized"]);
    }
  });

  it("keeps ZooKeeper's TLS, quorum and election ports among ensemble members only, and its plaintext port closed", () => {
    for (const port of [2182, 2888, 3888]) {
      const forPort = rules.filter((rule) => rule.from_port === port && rule.security_group_id === selfGroup);
      expect(forPort).toEqual([expect.objectContaining({ referenced_security_group_id: selfGroup })]);
    }
    expect(rules.filter((rule) => rule.from_port === 2181)).toEqual([]);
  });

  it("with kafka.security plaintext, opens ZooKeeper's plaintext port among members and 9092, and neither TLS port", () => {
    const plaintext = Object.values(resourcesOf(kafkaJson("--kafka.security", "plaintext"), "aws_vpc_security_group_ingress_rule"));
    expect(plaintext.filter((rule) => rule.from_port === 2181)).toEqual([expect.objectContaining({ referenced_security_group_id: selfGroup, security_group_id: selfGroup })]);
    expect(plaintext.filter((rule) => rule.from_port === 9092).map((rule) => rule.referenced_security_group_id)).toEqual([selfGroup, expect.stringMatching(/spark-security-groupid\}$/)]);
    expect(plaintext.filter((rule) => [2182, 9094].includes(rule.from_port as number))).toEqual([]);
  });

  it("in the migration's middle stage, accepts both broker ports", () => {
    const migrating = Object.values(resourcesOf(kafkaJson("--kafka.security", "migrating"), "aws_vpc_security_group_ingress_rule"));
    for (const port of [9092, 9094]) expect(migrating.filter((rule) => rule.from_port === port)).toHaveLength(2);
  });

  it("while migrating, opens ZooKeeper's plaintext port (the brokers' sessions) and its TLS port (the members' first roll onto TLS) among members only", () => {
    const migratingJson = kafkaJson("--kafka.security", "migrating");
    const migrating = Object.values(resourcesOf(migratingJson, "aws_vpc_security_group_ingress_rule"));
    for (const port of [2181, 2182]) {
      expect(migrating.filter((rule) => rule.from_port === port)).toEqual([expect.objectContaining({ referenced_security_group_id: selfGroup, security_group_id: selfGroup })]);
    }
    const bootstrap = steps(migratingJson)["bootstrap-node-0"];
    expect(bootstrap.depends_on).toEqual(expect.arrayContaining(["zookeeper-client", "zookeeper-secure-client"].map((name) => `aws_vpc_security_group_ingress_rule.${name}-from-members`)));
  });

  it("accepts TLS on 9094 from brokers, Spark and configured client groups, never 9092, and SSH only from the workstation", () => {
    expect(KAFKA_PORTS).toMatchObject({ brokerTls: 9094, zookeeperSecureClient: 2182 });
    const brokerSources = rules.filter((rule) => rule.from_port === 9094).map((rule) => rule.referenced_security_group_id);
    expect(brokerSources).toEqual([selfGroup, expect.stringMatching(/spark-security-groupid\}$/)]);
    expect(rules.filter((rule) => rule.from_port === 9092)).toEqual([]);
    const withClient = kafkaJson("--kafka.clientSecurityGroupIds", "sg-0123456789abcdef0");
    const clientRule = Object.values(resourcesOf(withClient, "aws_vpc_security_group_ingress_rule")).filter((rule) => rule.from_port === 9094);
    expect(clientRule.map((rule) => rule.referenced_security_group_id)).toContain("sg-0123456789abcdef0");
    expect(rules.find((rule) => rule.from_port === 22)?.referenced_security_group_id).toMatch(/workstation-security-groupid\}$/);
    expect(rules.every((rule) => rule.cidr_ipv4 === undefined)).toBe(true);
  });

  it("bootstraps every node only once the rules it needs exist: SSH from the workstation, the Chef server's 443, egress and the members' ports", () => {
    const rules = [
      "aws_vpc_security_group_ingress_rule.ssh-from-workstation",
      "aws_vpc_security_group_ingress_rule.chef-server-from-kafka",
      "aws_vpc_security_group_egress_rule.kafka-egress-https",
      "aws_vpc_security_group_egress_rule.kafka-egress-http",
      ...["zookeeper-secure-client", "zookeeper-quorum", "zookeeper-election", "broker-tls"].map((name) => `aws_vpc_security_group_ingress_rule.${name}-from-members`),
    ];
    const bootstraps = Object.entries(steps(json)).filter(([name]) => name.startsWith("bootstrap-"));
    expect(bootstraps).toHaveLength(3);
    for (const [, bootstrap] of bootstraps) expect(bootstrap.depends_on).toEqual(expect.arrayContaining(rules));
    const kraft = steps(kafkaJson("--kafka.mode", "kraft"));
    expect(kraft["bootstrap-node-0"].depends_on).toEqual(expect.arrayContaining(["aws_vpc_security_group_ingress_rule.controller-tls-from-members", "aws_vpc_security_group_ingress_rule.ssh-from-workstation"]));
  });

  it("lets the nodes reach the Chef server on 443", () => {
    const rule = rules.find((candidate) => candidate.from_port === 443);
    expect(rule).toMatchObject({ referenced_security_group_id: selfGroup });
    expect(rule?.security_group_id).toMatch(/server-security-groupid\}$/);
  });

  it("connects its provisioners to the workstation with the deployer's key, read on the laptop at apply time", () => {
    // A guard's destroy-time script may refer only to itself: its input holds where to connect.
    const guards = ["drain-guard", "plaintext-guard"].map((name) => json.resource.terraform_data[name]);
    for (const guard of guards) {
      expect(guard.input).toMatchObject({ host: expect.stringMatching(/workstation_instance_[0-9A-F]{8}public_ip\}$/), port: 22, privateKeyPath: "${var.deployer_private_key_path}" });
      expect(guard.connection).toMatchObject({ host: "${self.input.host}", port: "${self.input.port}", private_key: "${file(self.input.privateKeyPath)}" });
    }
    for (const resource of Object.values(steps(json)).filter((step) => !guards.includes(step))) {
      expect(resource.connection).toEqual({
        type: "ssh",
        host: expect.stringMatching(/workstation_instance_[0-9A-F]{8}public_ip\}$/),
        port: 22,
        user: "ubuntu",
        private_key: "${file(var.deployer_private_key_path)}",
        timeout: "10m",
      });
    }
    expect(json.variable.deployer_private_key_path.validation[0].condition).toBe("${fileexists(var.deployer_private_key_path)}");
  });

  it("outputs the TLS bootstrap servers, ZooKeeper's TLS connect string, the node IPs and kafka.security", () => {
    expect(json.output.kafka_bootstrap_servers.value).toMatch(/^\$\{join\(",", \[.*:9094.*\]\)\}$/);
    expect(json.output.zookeeper_connect.value).toMatch(/:2182.*\/kafka$/);
    expect(json.output.kafka_security.value).toBe("tls");
    const plaintext = kafkaJson("--kafka.security", "plaintext");
    expect(plaintext.output.kafka_bootstrap_servers.value).toMatch(/:9092/);
    expect(plaintext.output.zookeeper_connect.value).toMatch(/:2181.*\/kafka$/);
    expect(json.output.kafka_node_ips.value).toHaveLength(3);
  });

  it("bootstraps with current knife flags and the kafka-node role", () => {
    const script = provisionedScript(steps(json)["bootstrap-node-0"]);
    for (const flag of ["--connection-user ubuntu", '--ssh-identity-file "$NODE_KEY"', "--sudo", '--run-list "$RUN_LIST"', "--yes"]) {
      expect(script).toContain(flag);
    }
    // "always" (train maps this string to net-ssh's :always): the node's key must be the pinned one.
    expect(script).toMatch(/^\s+--ssh-verify-host-key always \\$/m);
    expect(script).not.toMatch(/--ssh-verify-host-key (accept_new|never)/);
    expect(script).toContain("RUN_LIST='role[kafka-node]'");
    expect(script).toContain("--bootstrap-install-command 'test -x /opt/cinc/bin/cinc-client'");
    // -x (the deprecated SSH user flag) must not come back as a flag of its own.
    expect(script).not.toMatch(/^\s+-x\s/m);
    expect(script).not.toContain("--chef-license");
  });

  it("bootstraps Chef-flavored nodes with Chef's paths and the licence the operator accepted", () => {
    const licensed = kafkaJson("--chef.flavor", "chef", "--chef.acceptLicense", "true", "--chef.workstationPackageChecksum", "");
    const script = provisionedScript(steps(licensed)["bootstrap-node-0"]);
    expect(script).toContain("--bootstrap-install-command 'test -x /opt/chef/bin/chef-client'");
    expect(script).toContain("--chef-license accept");
  });

  it("gives every broker its id, its role and its availability zone as its rack at bootstrap, whatever Ohai detects", () => {
    for (let index = 0; index < 3; index += 1) {
      expect(provisionedScript(steps(json)[`bootstrap-node-${index}`])).toMatch(
        new RegExp(
          `^  --json-attributes '\\{"insight-kafka-cluster":\\{"rack":"\\$\\{aws_instance\\.node-${index}_instance_[0-9A-F]{8}\\.availability_zone\\}","node_id":${index + 1},"broker":true,` +
            `"zookeeper_volume_id":"\\$\\{aws_ebs_volume\\.zookeeper-data-volume-${index}\\.id\\}"\\}\\}' \\\\$`,
          "m",
        ),
      );
    }
  });

  it("bootstraps validatorless: no validator key or validation flag reaches a node", () => {
    for (const resource of Object.values(steps(json))) {
      expect(provisionedScript(resource)).not.toMatch(VALIDATOR);
    }
    for (const node of Object.values(resourcesOf(json, "aws_instance"))) {
      expect(unescapeTerraformTemplate(userDataOf(json, node))).not.toMatch(VALIDATOR);
    }
  });

  it("registers every node again, and rewrites the data bag, when the Chef server is replaced, even at the same address", () => {
    const serverId = expect.stringMatching(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-chef\.outputs\.cross-stack-output-aws_instanceserver_instance_[0-9A-F]{8}id\}$/);
    for (let index = 0; index < 3; index += 1) {
      expect(steps(json)[`bootstrap-node-${index}`].triggers_replace).toEqual({ instance: expect.stringMatching(/^\$\{aws_instance\.node-\d_instance_[0-9A-F]{8}\.id\}$/), server: serverId });
      expect(provisionedScript(steps(json)[`bootstrap-node-${index}`])).toMatch(/^SERVER_ID='\$\{data\.terraform_remote_state\.cross-stack-reference-input-chef\.outputs\.[^}]+id\}'$/m);
    }
    expect(steps(json)["zoo-bag"].triggers_replace.server).toEqual(serverId);
  });

  it("logs each node's bootstrap to a file of its own, since they run at the same time", () => {
    const names = [0, 1, 2].map((index) => /SCRIPT_NAME='([^']+)'/.exec(provisionedScript(steps(json)[`bootstrap-node-${index}`]))?.[1]);
    expect(names).toEqual(["bootstrap-insight-dev-kafka-0", "bootstrap-insight-dev-kafka-1", "bootstrap-insight-dev-kafka-2"]);
  });

  it("generates the data bag item from the node IPs in the original's shape", () => {
    const script = provisionedScript(steps(json)["zoo-bag"]);
    expect(script).toMatch(
      /ITEM='\$\{jsonencode\(\{"id" = "zookeeper", "_default" = \[aws_instance\.node-0_instance_[0-9A-F]{8}\.private_ip, aws_instance\.node-1_instance_[0-9A-F]{8}\.private_ip, aws_instance\.node-2_instance_[0-9A-F]{8}\.private_ip\]\}\)\}'/,
    );
  });

  describe.each([1, 3, 4, 8, 31])("the provisioner graph with %i nodes", (count) => {
    const sized = count === 3 ? json : kafkaJson("--kafka.nodes", String(count), "--kafka.replicationFactor", String(Math.min(count, 3)), "--kafka.minInsyncReplicas", String(count === 1 ? 1 : 2));
    const resources = steps(sized);
    const bootstraps = Object.entries(resources).filter(([name]) => name.startsWith("bootstrap-node-"));
    const ensembleSize = count >= 3 ? 3 : 1;
    const ip = (index: number): string => `aws_instance\\.node-${index}_instance_[0-9A-F]{8}\\.private_ip`;
    const ensembleIps = Array.from({ length: ensembleSize }, (_unused, index) => ip(index));

    it("has one bootstrap per node, keyed on that node's instance and the Chef server", () => {
      expect(bootstraps).toHaveLength(count);
      expect(Object.values(resourcesOf(sized, "aws_instance"))).toHaveLength(count);
      bootstraps.forEach(([name, resource]) => {
        const index = name.replace("bootstrap-node-", "");
        expect(resource.triggers_replace).toEqual({
          instance: expect.stringMatching(new RegExp(`^\\$\\{aws_instance\\.node-${index}_instance_[0-9A-F]{8}\\.id\\}$`)),
          server: expect.stringContaining("cross-stack-reference-input-chef"),
        });
      });
    });

    it(`lists only the first ${ensembleSize} node(s), the ensemble, in the data bag and in zookeeper_connect`, () => {
      expect(provisionedScript(resources["zoo-bag"])).toMatch(new RegExp(`ITEM='\\$\\{jsonencode\\(\\{"id" = "zookeeper", "_default" = \\[${ensembleIps.join(", ")}\\]\\}\\)\\}'`));
      expect(sized.output.zookeeper_connect.value.match(/:2182/g)).toHaveLength(ensembleSize);
      expect(sized.output.kafka_bootstrap_servers.value.match(/:9094/g)).toHaveLength(count);
    });

    it("uploads the data bag before every bootstrap; the ensemble's bootstraps run together, the other brokers' after them", () => {
      const ensembleBootstraps = Array.from({ length: ensembleSize }, (_unused, index) => `terraform_data.bootstrap-node-${index}`);
      bootstraps.forEach(([name, resource]) => {
        const index = Number(name.replace("bootstrap-node-", ""));
        // Each after its node's host keys are pinned.
        const expected = [`terraform_data.host-keys-node-${index}`, ...(index < ensembleSize ? ["terraform_data.zoo-bag"] : ["terraform_data.zoo-bag", ...ensembleBootstraps])];
        expect(stepDependencies(resource.depends_on).sort()).toEqual(expected.sort());
      });
    });

    it("converges every node, one at a time, after the data bag and every bootstrap; again when the ensemble or cookbooks change", () => {
      const converge = resources.converge;
      const volumes = Object.keys(resourcesOf(sized, "aws_ebs_volume")).filter((name) => name.startsWith("data-volume-")).map((name) => `aws_ebs_volume.${name}`);
      // Every broker's ZooKeeper volume, member or not (a member may be any broker one day).
      const zookeeper = Array.from({ length: count }, (_unused, index) => [
        `aws_volume_attachment.zookeeper-data-volume-${index}-attachment`,
        `terraform_data.zookeeper-volume-attribute-node-${index}`,
      ]).flat();
      // And after the certificate renewal command it runs before each node's Chef run, and the
      // plaintext guard, which holds a roll to tls back while a node still speaks plaintext.
      expect([...converge.depends_on].sort()).toEqual(
        ["terraform_data.zoo-bag", "terraform_data.renew-certificates-command", "terraform_data.plaintext-guard", ...bootstraps.map(([name]) => `terraform_data.${name}`), ...volumes, ...zookeeper].sort(),
      );
      expect(Object.keys(converge.triggers_replace).sort()).toEqual(["chefRepo", "dataVolumeGiB", "ensemble", "zookeeperVolumes"]);
      expect(converge.triggers_replace.chefRepo).toMatch(/^[0-9a-f]{64}$/);
      expect(converge.triggers_replace.ensemble).toMatch(new RegExp(`^\\$\\{join\\(",", \\[${ensembleIps.join(", ")}\\]\\)\\}$`));
      const script = provisionedScript(converge);
      expect(nodeIpsLine(script).match(/aws_instance\.node-\d+_instance_[0-9A-F]{8}\.private_ip/g)).toHaveLength(count);
      // It checks the running ensemble against the very item the upload sends.
      expect(script).toContain(`ITEM=${provisionedScript(resources["zoo-bag"]).match(/^ITEM=(.*)$/m)?.[1]}`);
    });
  });

  it("adds a broker outside the ensemble without re-running anything on the ensemble: only its own bootstrap is new", () => {
    const four = steps(kafkaJson("--kafka.nodes", "4"));
    const three = steps(json);
    expect(four["zoo-bag"].triggers_replace).toEqual(three["zoo-bag"].triggers_replace);
    expect(four.converge.triggers_replace).toEqual(three.converge.triggers_replace);
    for (let index = 0; index < 3; index += 1) expect(four[`bootstrap-node-${index}`].triggers_replace).toEqual(three[`bootstrap-node-${index}`].triggers_replace);
    // And its host-key pin and agent steps, the guard that creates it only once the cluster is
    // healthy after the broker before it, and the step that records its ZooKeeper volume for the
    // day it joins the ensemble. The others' agent steps stay as they are.
    expect(Object.keys(four).filter((name) => !(name in three)).sort()).toEqual(["bootstrap-node-3", "host-keys-node-3", "monitoring-agent-node-3", "roll-guard-node-3", "zookeeper-volume-attribute-node-3"]);
    for (let index = 0; index < 3; index += 1) expect(four[`monitoring-agent-node-${index}`].triggers_replace).toEqual(three[`monitoring-agent-node-${index}`].triggers_replace);
  });

  it("converges again when kafka.dataVolumeGiB grows, once EC2 has grown every volume, so each node grows its filesystem", () => {
    const grown = steps(kafkaJson("--kafka.dataVolumeGiB", "200")).converge;
    const before = steps(json).converge;
    expect(before.triggers_replace.dataVolumeGiB).toBe("100");
    expect(grown.triggers_replace).toEqual({ ...before.triggers_replace, dataVolumeGiB: "200" });
    const volumes = Object.keys(resourcesOf(json, "aws_ebs_volume")).filter((name) => name.startsWith("data-volume-")).map((name) => `aws_ebs_volume.${name}`);
    expect(volumes).toHaveLength(3);
    expect(grown.depends_on).toEqual(expect.arrayContaining(volumes));
  });

  it("spreads a five-member ensemble of a 31-node cluster over the three AZs", () => {
    const large = kafkaJson("--kafka.nodes", "31", "--kafka.zookeeperNodes", "5");
    const instances = resourcesOf(large, "aws_instance");
    const subnetOf = (index: number): string => Object.entries(instances).find(([name]) => name.startsWith(`node-${index}_`))?.[1].subnet_id as string;
    const ensembleSubnets = [0, 1, 2, 3, 4].map(subnetOf);
    expect(new Set(ensembleSubnets).size).toBe(3);
    expect(provisionedScript(steps(large)["zoo-bag"]).match(/private_ip/g)).toHaveLength(5);
  });
});

describe("ZooKeeper's volume", () => {
  // Four brokers, three of them the ensemble: the fourth gets one too, for the day it joins.
  const four = kafkaJson("--kafka.nodes", "4");
  const volumes = resourcesOf(four, "aws_ebs_volume");
  const attachments = resourcesOf(four, "aws_volume_attachment");
  const instanceName = (index: number): string => Object.keys(resourcesOf(four, "aws_instance")).find((name) => name.startsWith(`node-${index}_`)) as string;
  const zookeeperVolumes = (json: Json): string[] => Object.keys(resourcesOf(json, "aws_ebs_volume")).filter((name) => name.startsWith("zookeeper-"));

  it("gives every broker, member or not, a small encrypted gp3 volume of its own in its node's AZ", () => {
    expect(zookeeperVolumes(four).sort()).toEqual(["zookeeper-data-volume-0", "zookeeper-data-volume-1", "zookeeper-data-volume-2", "zookeeper-data-volume-3"]);
    for (const index of [0, 1, 2, 3]) {
      const volume = volumes[`zookeeper-data-volume-${index}`];
      expect(volume).toMatchObject({ encrypted: true, type: "gp3", size: ZOOKEEPER_VOLUME.gib });
      expect(ZOOKEEPER_VOLUME.gib).toBe(10);
      // The node's data volume sits in its node's subnet's AZ; its ZooKeeper volume in the same one.
      expect(volume.availability_zone).toBe(volumes[`data-volume-${index}`].availability_zone);
      expect(volume.tags.Name).toMatch(new RegExp(`kafka-${index}-zookeeper$`));
    }
  });

  it("attaches each to its own broker under a device name of its own, stopping the broker before any detach", () => {
    for (const index of [0, 1, 2, 3]) {
      expect(attachments[`zookeeper-data-volume-${index}-attachment`]).toEqual({
        device_name: "/dev/sdg",
        volume_id: `\${aws_ebs_volume.zookeeper-data-volume-${index}.id}`,
        instance_id: `\${aws_instance.${instanceName(index)}.id}`,
        stop_instance_before_detaching: true,
      });
      expect(attachments[`data-volume-${index}-attachment`].device_name).toBe("/dev/sdf");
    }
  });

  it("attaches or detaches nothing when kafka.zookeeperNodes changes: a smaller ensemble must not stop the brokers it leaves", () => {
    // Detaching a mounted volume stops its instance first: two members leaving would stop two brokers at once.
    const five = kafkaJson("--kafka.nodes", "5", "--kafka.zookeeperNodes", "5");
    const three = kafkaJson("--kafka.nodes", "5", "--kafka.zookeeperNodes", "3");
    expect(Object.keys(resourcesOf(three, "aws_volume_attachment")).sort()).toEqual(Object.keys(resourcesOf(five, "aws_volume_attachment")).sort());
    expect(zookeeperVolumes(three)).toHaveLength(5);
    // Only the members' volumes re-run the converge.
    expect(steps(three).converge.triggers_replace.zookeeperVolumes).toBe(`\${join(",", [${[0, 1, 2].map((index) => `aws_ebs_volume.zookeeper-data-volume-${index}.id`).join(", ")}])}`);
  });

  it("gives a single broker one, and KRaft nodes none", () => {
    expect(zookeeperVolumes(kafkaJson("--kafka.nodes", "1"))).toEqual(["zookeeper-data-volume-0"]);
    const kraft = kafkaJson("--kafka.mode", "kraft");
    expect(zookeeperVolumes(kraft)).toEqual([]);
    expect(Object.keys(steps(kraft)).filter((name) => name.startsWith("zookeeper-"))).toEqual([]);
    expect(Object.keys(steps(kraft).converge.triggers_replace)).not.toContain("zookeeperVolumes");
  });

  it("mounts it from each broker's user data", () => {
    for (const index of [0, 1, 2, 3]) {
      const script = userDataOf(four, resourcesOf(four, "aws_instance")[instanceName(index)]);
      expect(script).toContain(`ZOOKEEPER_VOLUME_ID='\${aws_ebs_volume.zookeeper-data-volume-${index}.id}'`);
      expect(script).toContain(`ZOOKEEPER_MOUNT='${ZOOKEEPER_VOLUME.mountPoint}'`);
    }
  });

  it("tells new brokers their volume at bootstrap, and running brokers through a step after their bootstrap", () => {
    const resources = steps(four);
    expect(Object.keys(resources).filter((name) => name.startsWith("zookeeper-volume-attribute-")).sort()).toEqual([0, 1, 2, 3].map((index) => `zookeeper-volume-attribute-node-${index}`));
    for (const index of [0, 1, 2, 3]) {
      const step = resources[`zookeeper-volume-attribute-node-${index}`];
      expect(provisionedScript(resources[`bootstrap-node-${index}`])).toContain(`"zookeeper_volume_id":"\${aws_ebs_volume.zookeeper-data-volume-${index}.id}"`);
      expect(stepDependencies(step.depends_on)).toEqual([`terraform_data.bootstrap-node-${index}`]);
      expect(step.triggers_replace).toEqual({
        volume: `\${aws_ebs_volume.zookeeper-data-volume-${index}.id}`,
        instance: `\${aws_instance.${instanceName(index)}.id}`,
        server: expect.stringContaining("cross-stack-reference-input-chef"),
      });
      expect(provisionedScript(step)).toContain(`export PLATFORM_VOLUME_ID='\${aws_ebs_volume.zookeeper-data-volume-${index}.id}'`);
    }
  });

  it("converges only once every member's volume is attached and known to its node, and again when a volume appears", () => {
    const converge = steps(four).converge;
    for (const index of [0, 1, 2]) {
      expect(converge.depends_on).toContain(`aws_volume_attachment.zookeeper-data-volume-${index}-attachment`);
      expect(converge.depends_on).toContain(`terraform_data.zookeeper-volume-attribute-node-${index}`);
    }
    expect(converge.triggers_replace.zookeeperVolumes).toBe(
      `\${join(",", [${[0, 1, 2].map((index) => `aws_ebs_volume.zookeeper-data-volume-${index}.id`).join(", ")}])}`,
    );
  });

  it("mounts where the cookbook looks, with the label the cookbook gives it", () => {
    const attributes = readFileSync(join(__dirname, "..", "cookbooks", "insight-kafka-cluster", "attributes", "default.rb"), "utf8");
    expect(attributes).toContain(`default['insight-kafka-cluster']['zookeeper_volume']['mount_point'] = '${ZOOKEEPER_VOLUME.mountPoint}'`);
    expect(attributes).toContain(`default['insight-kafka-cluster']['zookeeper_volume']['label'] = '${ZOOKEEPER_VOLUME.label}'`);
  });
});

describe("KafkaStack in KRaft mode", () => {
  const json = kafkaJson("--kafka.mode", "kraft");
  const rules = Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule"));
  const selfGroup = "${aws_security_group.kafka-security-group.id}";
  const item = (stack: Json): string => /^ITEM='(.*)'$/m.exec(provisionedScript(steps(stack)["kraft-bag"]))?.[1] ?? "";

  it("matches the committed snapshot", () => {
    expect(JSON.parse(JSON.stringify(json).replace(/"chefRepo":"[0-9a-f]{64}"/, '"chefRepo":"<hash>"'))).toMatchSnapshot();
  });

  it("generates the cluster id once, from a uuid() kept in Terraform's state, with no provider beyond AWS", () => {
    expect(resourcesOf(json, "terraform_data")["cluster-id"]).toEqual(
      expect.objectContaining({ input: { uuid: "${uuid()}" }, lifecycle: { ignore_changes: ["input"] } }),
    );
    expect(Object.keys(json.terraform.required_providers)).toEqual(["aws"]);
    expect(json.output.kafka_cluster_id.value).toBe("${local.cluster-id-text}");
    // Kafka's Uuid text: the 32 hex digits of the stored uuid as 22 base64url characters
    // (validate evaluates it with Terraform against known uuids).
    expect(json.locals["cluster-id-text"]).toContain('replace(terraform_data.cluster-id.output.uuid, "-", "")');
  });

  it("uploads kafka_bag/kraft with the cluster id and the first three brokers as a dynamic quorum's controllers, generated from their IPs", () => {
    const controller = (index: number): string =>
      `\\{"id" = ${index + 1}, "address" = aws_instance\\.node-${index}_instance_[0-9A-F]{8}\\.private_ip, "directory_id" = local\\.controller-directory-id-${index + 1}-text\\}`;
    expect(item(json)).toMatch(
      new RegExp(`^\\$\\{jsonencode\\(\\{"id" = "kraft", "_default" = \\{"cluster_id" = local\\.cluster-id-text, "quorum" = "dynamic", "controllers" = \\[${[0, 1, 2].map(controller).join(", ")}\\]\\}\\}\\)\\}$`),
    );
    expect(steps(json)).not.toHaveProperty("zoo-bag");
    expect(steps(json)["kraft-bag"].triggers_replace.clusterId).toBe("${local.cluster-id-text}");
  });

  it("fixes each controller's metadata directory id once, per node id, as it does the cluster id: every initial controller formats with the same list", () => {
    const data = resourcesOf(json, "terraform_data");
    for (const id of [1, 2, 3]) {
      expect(data[`controller-directory-id-${id}`]).toEqual(expect.objectContaining({ input: { uuid: "${uuid()}" }, lifecycle: { ignore_changes: ["input"] } }));
      expect(json.locals[`controller-directory-id-${id}-text`]).toContain(`replace(terraform_data.controller-directory-id-${id}.output.uuid, "-", "")`);
    }
    // The directory ids never trigger a re-upload or a converge: only the controllers' ids and addresses do.
    expect(Object.keys(steps(json)["kraft-bag"].triggers_replace).sort()).toEqual(["clusterId", "controllers", "server"]);
  });

  it("opens the TLS controller port 9095 among members only, not the plaintext one, and no ZooKeeper port", () => {
    expect(rules.filter((rule) => rule.from_port === 9095)).toEqual([expect.objectContaining({ to_port: 9095, referenced_security_group_id: selfGroup, security_group_id: selfGroup })]);
    expect(rules.filter((rule) => [9093, 2181, 2888, 3888].includes(rule.from_port as number))).toEqual([]);
  });

  it("opens both controller ports among members while migrating (the controllers move in rolls), the plaintext one alone for a lab", () => {
    const controllerRules = (security: string): Json[] =>
      Object.values(resourcesOf(kafkaJson("--kafka.mode", "kraft", "--kafka.security", security), "aws_vpc_security_group_ingress_rule")).filter((rule) =>
        [9093, 9095].includes(rule.from_port as number),
      );
    const among = (port: number) => expect.objectContaining({ from_port: port, to_port: port, referenced_security_group_id: selfGroup, security_group_id: selfGroup });
    expect(controllerRules("migrating")).toEqual([among(9093), among(9095)]);
    expect(controllerRules("plaintext")).toEqual([among(9093)]);
  });

  it("gives clients the same bootstrap servers output as ZooKeeper mode, and no ZooKeeper output", () => {
    expect(json.output.kafka_bootstrap_servers.value).toMatch(/^\$\{join\(",", \[.*:9094.*\]\)\}$/);
    expect(json.output.kafka_bootstrap_servers.value.match(/:9094/g)).toHaveLength(3);
    expect(json.output).not.toHaveProperty("zookeeper_connect");
    expect(json.output.kafka_controller_quorum.value.match(/@\$\{aws_instance\.node-\d_instance_[0-9A-F]{8}\.private_ip\}:9095/g)).toHaveLength(3);
  });

  it("tells the nodes to run in KRaft mode through the role, with Kafka 4 and no ZooKeeper settings", () => {
    const role = kafkaNodeRole(configFrom("--kafka.mode", "kraft"));
    expect(role.override_attributes["insight-kafka-cluster"]).toEqual({ mode: "kraft", security: "tls" });
    expect(role.override_attributes["kafka-cluster"]).toMatchObject({ version: DEFAULT_KRAFT_KAFKA_PIN.version, sha512: DEFAULT_KRAFT_KAFKA_PIN.sha512 });
    expect(role.override_attributes).not.toHaveProperty("zookeeper-cluster");
  });

  it("replicates the share groups' state topic like the other internal topics, so a small cluster can create it", () => {
    const single = kafkaNodeRole(configFrom("--kafka.mode", "kraft", "--kafka.nodes", "1", "--kafka.replicationFactor", "1", "--kafka.minInsyncReplicas", "1"));
    const properties = (role: ReturnType<typeof kafkaNodeRole>): Record<string, unknown> =>
      (role.override_attributes["kafka-cluster"] as { config: { properties: Record<string, unknown> } }).config.properties;
    expect(properties(single)).toMatchObject({ "share.coordinator.state.topic.replication.factor": 1, "share.coordinator.state.topic.min.isr": 1 });
    expect(properties(kafkaNodeRole(configFrom("--kafka.mode", "kraft")))).toMatchObject({ "share.coordinator.state.topic.replication.factor": 3, "share.coordinator.state.topic.min.isr": 2 });
    // Kafka 3.9 has no share groups.
    expect(Object.keys(properties(kafkaNodeRole(configFrom()))).filter((key) => key.startsWith("share."))).toEqual([]);
  });

  it("re-runs the upload and the converge when the controllers change, not when a broker is added", () => {
    const four = steps(kafkaJson("--kafka.mode", "kraft", "--kafka.nodes", "4"));
    expect(four["kraft-bag"].triggers_replace).toEqual(steps(json)["kraft-bag"].triggers_replace);
    expect(four.converge.triggers_replace).toEqual(steps(json).converge.triggers_replace);
    expect(Object.keys(four.converge.triggers_replace).sort()).toEqual(["chefRepo", "controllers", "dataVolumeGiB"]);
    expect(four["kraft-bag"].triggers_replace.controllers).toMatch(/^\$\{join\(",", \["1@\$\{aws_instance\.node-0_instance_[0-9A-F]{8}\.private_ip\}"/);
  });

  it("runs a single node as broker and sole controller", () => {
    const single = kafkaJson("--kafka.mode", "kraft", "--kafka.nodes", "1", "--kafka.replicationFactor", "1", "--kafka.minInsyncReplicas", "1");
    expect(item(single).match(/"id" = \d+/g)).toEqual(['"id" = 1']);
  });

  describe("with dedicated controllers", () => {
    const dedicated = kafkaJson("--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true", "--kafka.controllerInstanceType", "m7i.large", "--kafka.nodes", "4");
    const instances = resourcesOf(dedicated, "aws_instance");
    const controllers = Object.entries(instances).filter(([name]) => name.startsWith("controller-"));

    it("adds three controller instances, one per AZ, with small encrypted data volumes of their own", () => {
      expect(Object.keys(instances)).toHaveLength(7);
      expect(controllers).toHaveLength(3);
      expect(new Set(controllers.map(([, instance]) => instance.subnet_id)).size).toBe(3);
      for (const [, instance] of controllers) expect(instance.instance_type).toBe("m7i.large");
      const volumes = Object.entries(resourcesOf(dedicated, "aws_ebs_volume")).filter(([name]) => name.startsWith("controller-data-volume-"));
      expect(volumes.map(([, volume]) => volume)).toEqual([0, 1, 2].map(() => expect.objectContaining({ size: 20, encrypted: true, type: "gp3" })));
    });

    it("lists the controllers, not the brokers, in the data bag, with node ids clear of the brokers'", () => {
      expect(item(dedicated)).toMatch(/"controllers" = \[\{"id" = 1001, "address" = aws_instance\.controller-0_instance_[0-9A-F]{8}\.private_ip, "directory_id" = local\.controller-directory-id-1001-text\}/);
      expect(item(dedicated).match(/"id" = \d+/g)).toEqual(['"id" = 1001', '"id" = 1002', '"id" = 1003']);
      expect(item(dedicated)).not.toContain("aws_instance.node-");
    });

    it("bootstraps the brokers once the controllers are bootstrapped: their health checks need the quorum", () => {
      const resources = steps(dedicated);
      for (const index of [0, 1, 2]) expect(stepDependencies(resources[`bootstrap-controller-${index}`].depends_on).sort()).toEqual(["terraform_data.host-keys-controller-" + index, "terraform_data.kraft-bag"].sort());
      for (const index of [0, 1, 2, 3]) {
        expect(stepDependencies(resources[`bootstrap-node-${index}`].depends_on).sort()).toEqual(
          [`terraform_data.host-keys-node-${index}`, "terraform_data.kraft-bag", "terraform_data.bootstrap-controller-0", "terraform_data.bootstrap-controller-1", "terraform_data.bootstrap-controller-2"].sort(),
        );
      }
    });

    it("bootstraps each controller as a controller only, and converges the controllers before the brokers", () => {
      const resources = steps(dedicated);
      expect(provisionedScript(resources["bootstrap-controller-0"])).toMatch(/"node_id":1001,"broker":false/);
      expect(provisionedScript(resources["bootstrap-node-3"])).toMatch(/"node_id":4,"broker":true/);
      const order = nodeIpsLine(provisionedScript(resources.converge)).match(/aws_instance\.(\w+-\d+)_instance/g);
      expect(order).toEqual([...[0, 1, 2].map((index) => expect.stringContaining(`controller-${index}_`)), ...[0, 1, 2, 3].map((index) => expect.stringContaining(`node-${index}_`))]);
    });

    it("converges only once the controllers' data volumes, too, are at their size", () => {
      const volumes = Object.keys(resourcesOf(dedicated, "aws_ebs_volume")).map((name) => `aws_ebs_volume.${name}`);
      expect(volumes.filter((name) => name.includes("controller-data-volume-"))).toHaveLength(3);
      expect(steps(dedicated).converge.depends_on).toEqual(expect.arrayContaining(volumes));
    });

    it("gives clients only the brokers", () => {
      expect(dedicated.output.kafka_bootstrap_servers.value).not.toContain("controller-");
      expect(dedicated.output.kafka_bootstrap_servers.value.match(/:9094/g)).toHaveLength(4);
    });
  });
});

describeScripts("provisioner scripts", () => {
  it("are shellcheck-clean", () => {
    const scripts = [
      new KafkaProvisionScripts(configFrom()).uploadDataBag({ bag: "zoo_bag", id: "zookeeper", json: "{}" }),
      new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft")).uploadDataBag({ bag: "kafka_bag", id: "kraft", json: "{}" }),
      renderScript("provision/bootstrap-node", { nodeName: "n", nodeIp: "10.0.16.5", instanceId: "i-1", serverId: "i-2", jsonAttributes: "{}", knifeConfig: KNIFE_CONFIG, runList: "role[kafka-node]", installCheck: "true", licenceFlag: "--chef-license accept", setupTimeoutSeconds: 60, sshWaitAttempts: 2, hostKeys: { parameter: "/insight/dev/host-keys/n", region: "us-west-2", file: "", waitAttempts: 2 } }),
      new KafkaProvisionScripts(configFrom()).convergeNodes(["10.0.16.5"], { bag: "zoo_bag", id: "zookeeper", json: "{}" }),
      new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft")).convergeNodes(["10.0.16.5"], { bag: "kafka_bag", id: "kraft", json: "{}" }),
    ];
    for (const script of scripts) expect(shellcheck(script).output).toBe("");
  });

  const KNIFE = [
    'state="$WORK_DIR/knife"; mkdir -p "$state"',
    'case "$1 $2" in',
    '  "node show") [[ -f "$state/node-$3" ]] ;;',
    // `data bag show <bag> <item>` prints the item the server holds, or knife's 404 when it holds none.
    '  "data bag") [[ $3 == show && -n ${5:-} && $5 != --* ]] && { cat "$state/item.json" 2>/dev/null && exit; ' + KNIFE_NOT_FOUND + '; }; [[ $3 == show ]] && { [[ -f "$state/bag-$4" ]]; exit; }; [[ $3 == create ]] && touch "$state/bag-$4"; [[ $3 == from ]] && cp "$6" "$state/item.json"; exit 0 ;;',
    '  bootstrap*) touch "$state/node-${NODE_NAME_FOR_STUB:-insight-dev-kafka-0}"; exit "${BOOTSTRAP_STATUS:-0}" ;;',
    "  *) exit 0 ;;",
    "esac",
  ].join("\n");
  const stubs = {
    knife: KNIFE,
    timeout: 'shift; "$@"',
    "cloud-init": 'exit "${CLOUD_INIT_STATUS:-0}"',
    ssh: [
      'n=$(cat "$WORK_DIR/ssh-tries" 2>/dev/null || echo 0); echo $((n + 1)) > "$WORK_DIR/ssh-tries"',
      '((n >= ${SSH_FAILURES:-0})) || exit 255',
      'for last; do :; done',
      '[[ $last == /etc/cinc/client.pem ]] && { [[ -f "$WORK_DIR/knife/node-insight-dev-kafka-0" ]]; exit; }',
      '[[ " $* " == *" cloud-init "* ]] && exit "${NODE_CLOUD_INIT_STATUS:-0}"',
      "exit 0",
    ].join("\n"),
    sleep: "exit 0",
  };

  describe("upload-data-bag", () => {
    const seedItem = JSON.parse(readFileSync(join(__dirname, "..", "databags", "zoo_bag", "zookeeper.json"), "utf8"));
    // What Terraform's jsonencode makes of the item: compact JSON, keys sorted.
    const item = JSON.stringify({ _default: seedItem._default, id: "zookeeper" });
    const upload = (json: string): string => new KafkaProvisionScripts(configFrom()).uploadDataBag({ bag: "zoo_bag", id: "zookeeper", json });
    const run = runBash(upload(item), { stubs });

    it("writes and uploads an item equal to the original's zoo_bag/zookeeper", () => {
      expect(run.status).toBe(0);
      expect(JSON.parse(readFileSync(join(run.dir, "work", "knife", "item.json"), "utf8"))).toEqual(seedItem);
      expect(calls(run.dir)).toContain(`knife data bag create zoo_bag --config ${join(run.dir, "root/home/ubuntu/chef-repo/.cinc/config.rb")}`);
    });

    it("waits for the workstation's own setup, and says whether it failed or timed out", () => {
      const script = upload(item);
      const failed = runBash(script, { stubs, env: { CLOUD_INIT_STATUS: "1" } });
      expect(failed.status).not.toBe(0);
      expect(failed.output).toContain("cloud-init on the workstation failed (status 1); see /var/log/platform/chef-workstation.log there");
      const late = runBash(script, { stubs, env: { CLOUD_INIT_STATUS: "124" } });
      expect(late.output).toContain("cloud-init on the workstation did not finish within 1800s");
      expect(late.output).toContain("FAILED at step 'wait for the workstation to finish its own setup'");
      // cloud-init 23.4+ reports "done, with recoverable errors" as 2: the setup did finish.
      expect(runBash(script, { stubs, env: { CLOUD_INIT_STATUS: "2" } }).status).toBe(0);
    });

    it("uploads KRaft's item to its own bag", () => {
      const kraftItem = JSON.stringify({ _default: { cluster_id: "MkU3OEVBNTcwNTJENDM2Qg", controllers: [{ address: "10.0.16.5", id: 1 }] }, id: "kraft" });
      const script = new KafkaProvisionScripts(configFrom()).uploadDataBag({ bag: "kafka_bag", id: "kraft", json: kraftItem });
      const kraftRun = runBash(script, { stubs });
      expect(kraftRun.status).toBe(0);
      expect(JSON.parse(readFileSync(join(kraftRun.dir, "work", "knife", "item.json"), "utf8"))).toEqual(JSON.parse(kraftItem));
      expect(calls(kraftRun.dir).some((call) => call.startsWith("knife data bag from file kafka_bag "))).toBe(true);
      expect(kraftRun.output).toContain("kafka_bag/kraft is ");
    });

    it("refuses a bag or item name that is not a plain word", () => {
      const scripts = new KafkaProvisionScripts(configFrom());
      expect(() => scripts.uploadDataBag({ bag: "zoo bag", id: "zookeeper", json: "{}" })).toThrow('data bag name "zoo bag" may hold only letters, digits, _ and -');
      expect(() => scripts.uploadDataBag({ bag: "zoo_bag", id: "$(id)", json: "{}" })).toThrow("may hold only letters");
    });

    it("does not create the bag again on a second run", () => {
      const before = calls(run.dir).length;
      expect(runBash(upload(item), { stubs, dir: run.dir }).status).toBe(0);
      expect(calls(run.dir).slice(before).filter((call) => call.startsWith("knife data bag create"))).toEqual([]);
    });
  });

  /** ssh as members answer the quorum read: WORK_DIR/config-<ip> (none: no member yet); WORK_DIR/down-<ip> holds how many more tries fail as an unreachable host does (255). */
  const MEMBER_SSH = [
    'host=""; for a; do [[ $a == ubuntu@* ]] && host=${a#ubuntu@}; done',
    "for last; do :; done",
    'if [[ $last == */zoo.cfg || $last == */server.properties ]]; then',
    '  down=$(cat "$WORK_DIR/down-$host" 2>/dev/null || echo 0)',
    '  if ((down > 0)); then echo $((down - 1)) > "$WORK_DIR/down-$host"; exit 255; fi',
    '  cat "$WORK_DIR/config-$host" 2>/dev/null; exit',
    "fi",
  ].join("\n");
  /** zoo.cfg as the zookeeper-cluster cookbook renders it for this ensemble. */
  const zooCfg = (ips: readonly string[]): string => ["clientPort=2181", "dataDir=/var/lib/zookeeper", ...ips.map((ip, index) => `server.${index + 1}=${ip}:2888:3888`)].join("\n");
  const zooItem = (ips: readonly string[]): string => JSON.stringify({ _default: ips, id: "zookeeper" });
  /** A scratch directory where these members answer with these configs, and the Chef server holds `held`. */
  const runningCluster = (configs: Readonly<Record<string, string>>, held?: string, down: Readonly<Record<string, number>> = {}): string => {
    const dir = mkdtempSync(join(tmpdir(), "running-quorum-"));
    mkdirSync(join(dir, "work", "knife"), { recursive: true });
    for (const [ip, config] of Object.entries(configs)) writeFileSync(join(dir, "work", `config-${ip}`), config);
    for (const [ip, tries] of Object.entries(down)) writeFileSync(join(dir, "work", `down-${ip}`), String(tries));
    if (held !== undefined) {
      writeFileSync(join(dir, "work", "knife", "item.json"), held);
      writeFileSync(join(dir, "work", "knife", "bag-zoo_bag"), "");
    }
    return dir;
  };
  const refusals = (output: string): string[] => output.split("\n").filter((line) => line.includes("REFUSED"));
  const bagUploads = (dir: string): string[] => calls(dir).filter((call) => call.startsWith("knife data bag from file"));
  const OLD = ["10.0.16.5", "10.0.32.6", "10.0.48.7"];
  const ADDED = ["10.0.16.8", "10.0.32.9"];

  describe("upload-data-bag, on a running cluster", () => {
    const upload = (json: string, ...flags: string[]): string => new KafkaProvisionScripts(configFrom(...flags)).uploadDataBag({ bag: "zoo_bag", id: "zookeeper", json });
    const memberStubs = { ...stubs, ssh: MEMBER_SSH };
    const ensembleOf = (ips: readonly string[]): Record<string, string> => Object.fromEntries(ips.map((ip) => [ip, zooCfg(ips)]));

    it("reads the running ensemble from its members and uploads an item that keeps its members", () => {
      const dir = runningCluster(ensembleOf(OLD), zooItem(OLD));
      const run = runBash(upload(zooItem(OLD)), { stubs: memberStubs, dir });
      expect(run.status).toBe(0);
      expect(run.output).toContain("the running ZooKeeper ensemble keeps its members: 1=10.0.16.5 2=10.0.32.6 3=10.0.48.7");
      expect(bagUploads(dir)).toHaveLength(1);
    });

    it("stops, uploading nothing, when knife cannot read the item the server holds for another reason than its absence", () => {
      const dir = runningCluster(ensembleOf(OLD), zooItem(OLD));
      // knife's own line when its config cannot read the admin key (SSM unreachable); a 404 would be "none".
      const unreadable = `[[ "$1 $2 $3" == "data bag show" ]] && { echo "RuntimeError: no Chef admin key from /usr/local/bin/platform-chef-admin-key" >&2; exit 1; }\n${KNIFE}`;
      const run = runBash(upload(zooItem(OLD)), { stubs: { ...memberStubs, knife: unreadable }, dir });
      expect(run.status).not.toBe(0);
      expect(run.output).toContain("could not read the data bag item zoo_bag/zookeeper from the Chef server: RuntimeError: no Chef admin key from /usr/local/bin/platform-chef-admin-key");
      expect(run.output).toContain("FAILED at step 'read the running quorum from its members'");
      expect(calls(dir).filter((call) => call.startsWith("knife data bag show zoo_bag zookeeper"))).toHaveLength(3);
      expect(bagUploads(dir)).toEqual([]);
    });

    it("refuses zookeeperNodes 3 to 5 in one line naming the change and the safe way, before the item is written or uploaded", () => {
      const dir = runningCluster(ensembleOf(OLD), zooItem(OLD));
      const run = runBash(upload(zooItem([...OLD, ...ADDED])), { stubs: memberStubs, dir });
      expect(run.status).not.toBe(0);
      expect(refusals(run.output)).toEqual([
        expect.stringContaining(
          "REFUSED: kafka.zookeeperNodes (or kafka.nodes, which its default follows) would change the running ZooKeeper ensemble from 3 members (1=10.0.16.5 2=10.0.32.6 3=10.0.48.7) to 5 (1=10.0.16.5 2=10.0.32.6 3=10.0.48.7 4=10.0.16.8 5=10.0.32.9): not supported on a running cluster yet; deploy a new platform, or set it back to 3; nothing was changed",
        ),
      ]);
      expect(run.output).toContain("FAILED at step 'read the running quorum from its members'");
      expect(bagUploads(dir)).toEqual([]);
      expect(JSON.parse(readFileSync(join(dir, "work", "knife", "item.json"), "utf8"))._default).toEqual(OLD);
      expect(existsSync(join(dir, "root/home/ubuntu/chef-repo/data_bags/zoo_bag/zookeeper.json"))).toBe(false);
    });

    it("refuses 5 to 3, reading the running ensemble also from the members only the server's item still names", () => {
      const five = [...OLD, ...ADDED];
      // The members the new item keeps are down: only the removed ones can tell what runs.
      const dir = runningCluster(ensembleOf(five), zooItem(five), Object.fromEntries(OLD.map((ip) => [ip, 99])));
      const run = runBash(upload(zooItem(OLD)), { stubs: memberStubs, dir });
      expect(run.status).not.toBe(0);
      expect(refusals(run.output)).toEqual([expect.stringContaining("from 5 members (1=10.0.16.5 2=10.0.32.6 3=10.0.48.7 4=10.0.16.8 5=10.0.32.9) to 3 (")]);
      expect(bagUploads(dir)).toEqual([]);
    });

    it("refuses kafka.nodes 1 to 3, which moves the derived ensemble: two empty members would outvote the standalone one", () => {
      const dir = runningCluster({ [OLD[0]]: zooCfg([OLD[0]]) }, zooItem([OLD[0]]));
      const run = runBash(upload(zooItem(OLD)), { stubs: memberStubs, dir });
      expect(run.status).not.toBe(0);
      expect(refusals(run.output)).toEqual([expect.stringContaining("from 1 members (1=10.0.16.5) to 3 (1=10.0.16.5 2=10.0.32.6 3=10.0.48.7)")]);
      expect(bagUploads(dir)).toEqual([]);
    });

    it("lets one member replaced at the same size through, and refuses two replaced at once", () => {
      const dir = runningCluster(ensembleOf(OLD), zooItem(OLD), { [OLD[2]]: 99 });
      const one = runBash(upload(zooItem([OLD[0], OLD[1], ADDED[0]])), { stubs: memberStubs, dir });
      expect(one.status).toBe(0);
      expect(one.output).toContain("10.0.48.7 does not answer SSH; it is not counted as a running member");
      expect(one.output).toContain("one member of the running ZooKeeper ensemble is replaced");
      const two = runBash(upload(zooItem([OLD[0], ...ADDED])), { stubs: memberStubs, dir: runningCluster(ensembleOf(OLD), zooItem(OLD)) });
      expect(two.status).not.toBe(0);
      expect(refusals(two.output)).toEqual([expect.stringContaining("REFUSED: this change replaces 2 of the running ZooKeeper ensemble's 3 members at once")]);
    });

    it("refuses when the members disagree about the membership they run", () => {
      const dir = runningCluster({ [OLD[0]]: zooCfg(OLD), [OLD[1]]: zooCfg(OLD.slice(0, 2)) });
      const run = runBash(upload(zooItem(OLD)), { stubs: memberStubs, dir });
      expect(run.status).not.toBe(0);
      expect(refusals(run.output)).toEqual([expect.stringContaining("members disagree about its membership")]);
      expect(bagUploads(dir)).toEqual([]);
    });

    it("treats nodes that run no member as a new cluster, after waiting for the new item's nodes to answer SSH", () => {
      const dir = runningCluster({}, undefined, { [OLD[0]]: 2 });
      const run = runBash(upload(zooItem(OLD)), { stubs: memberStubs, dir });
      expect(run.status).toBe(0);
      expect(run.output).toContain("attempt 2/20 failed: member_config 10.0.16.5");
      expect(run.output).toContain("no member answers with a ZooKeeper ensemble configuration: a new cluster");
      expect(bagUploads(dir)).toHaveLength(1);
    });

    it("refuses KRaft controllers 3 to 5, and dedicated controllers turned on under a running combined quorum", () => {
      const voters = (ids: readonly number[], ips: readonly string[]): string => `process.roles=broker,controller\ncontroller.quorum.voters=${ids.map((id, index) => `${id}@${ips[index]}:9093`).join(",")}\n`;
      const kraftItem = (ids: readonly number[], ips: readonly string[]): string =>
        JSON.stringify({ _default: { cluster_id: "MkU3OEVBNTcwNTJENDM2Qg", controllers: ids.map((id, index) => ({ address: ips[index], id })) }, id: "kraft" });
      const kraftUpload = (json: string): string => new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft")).uploadDataBag({ bag: "kafka_bag", id: "kraft", json });
      const running = Object.fromEntries(OLD.map((ip) => [ip, voters([1, 2, 3], OLD)]));
      const grown = runBash(kraftUpload(kraftItem([1, 2, 3, 4, 5], [...OLD, ...ADDED])), { stubs: memberStubs, dir: runningCluster(running) });
      expect(grown.status).not.toBe(0);
      expect(refusals(grown.output)).toEqual([
        expect.stringContaining("REFUSED: kafka.controllerNodes, kafka.dedicatedControllers (or kafka.nodes, which the controllers' default follows) would change the running KRaft controller quorum from 3 members"),
      ]);
      expect(calls(grown.dir)).toContain(`ssh -i ${join(grown.dir, "root/home/ubuntu/.ssh/platform_bootstrap")} -o UserKnownHostsFile=${join(grown.dir, "root/home/ubuntu/.ssh/known_hosts")} -o StrictHostKeyChecking=yes -o ConnectTimeout=10 -o BatchMode=yes ubuntu@10.0.16.5 sudo -n cat /etc/kafka/server.properties`);
      // The new controllers run nothing yet: the old voters, which the server's item names, tell what runs.
      const dedicated = runBash(kraftUpload(kraftItem([1001, 1002, 1003], ["10.0.16.20", "10.0.32.21", "10.0.48.22"])), { stubs: memberStubs, dir: runningCluster(running, kraftItem([1, 2, 3], OLD)) });
      expect(dedicated.status).not.toBe(0);
      expect(refusals(dedicated.output)).toEqual([expect.stringContaining("REFUSED: this change replaces 3 of the running KRaft controller quorum's 3 members at once")]);
      expect(bagUploads(dedicated.dir)).toEqual([]);
    });
  });

  describe("KRaft controller quorum changes", () => {
    const CLUSTER_ID = "MkU3OEVBNTcwNTJENDM2Qg";
    const IPS = [...OLD, ...ADDED];
    const DIRS = ["K90IZ-0DRNazJ49kCZ1EMQ", "aUARLskQTCW4qCZDtS_cwA", "2ggvsS4kQb-fSJ_-zC_Ang", "MvDxzVmcRsaTz33bUuRU6A", "07R5amHmR32VDA6jHkGbTA"];
    const QUORUM_TOOL = join(__dirname, "fixtures", "kafka-metadata-quorum.py");
    /** The item the stack generates: a dynamic quorum of the first `count` nodes, ids 1.., with Terraform's directory ids. */
    const kraftItem = (count: number, ids: readonly number[] = [1, 2, 3, 4, 5].slice(0, count)): string =>
      JSON.stringify({ _default: { cluster_id: CLUSTER_ID, controllers: ids.map((id, index) => ({ address: id > 1000 ? `10.0.64.${index + 20}` : IPS[id - 1], directory_id: DIRS[index], id })), quorum: "dynamic" }, id: "kraft" });
    /** server.properties as the cookbook renders it on a node of a dynamic quorum. */
    const dynamicConfig = (roles: string): string => `process.roles=${roles}\ncontroller.quorum.bootstrap.servers=${OLD.map((ip) => `${ip}:9093`).join(",")}\n`;
    const upload = (json: string): string => new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft")).uploadDataBag({ bag: "kafka_bag", id: "kraft", json });
    const converge = (json: string, ips: readonly string[], waitAttempts = 120): string =>
      withSetting(new KafkaProvisionScripts(configFrom("--kafka.mode", "kraft")).convergeNodes(ips, { bag: "kafka_bag", id: "kraft", json }), "KRAFT_WAIT_ATTEMPTS", "120", String(waitAttempts));
    /** ssh as nodes answer: their config, kafka-metadata-quorum.sh from the stand-in, the client's summary. */
    const KRAFT_SSH = [
      MEMBER_SSH,
      'if [[ " $* " == *kafka-metadata-quorum.sh* ]]; then',
      '  shift $(( $(printf "%s\\n" "$@" | grep -n "kafka-metadata-quorum.sh$" | cut -d: -f1) ))',
      `  exec python3 ${QUORUM_TOOL} "$WORK_DIR/quorum.json" "$host" "$@"`,
      "fi",
      '[[ " $* " == *cinc-client* ]] && echo "Infra Phase complete, 3/85 resources updated in 12 seconds"',
      "exit 0",
    ].join("\n");
    const kraftStubs = { ...stubs, ssh: KRAFT_SSH, sudo: "exit 0" };
    /** A running dynamic quorum: these voters (by node id), these observers, and these nodes' configs. */
    const dynamicCluster = (voters: readonly number[], observers: readonly number[], extra: Record<string, unknown> = {}): string => {
      const configs = Object.fromEntries(IPS.map((ip, index) => [ip, dynamicConfig(voters.includes(index + 1) || observers.includes(index + 1) ? "broker,controller" : "broker")]));
      const dir = runningCluster(configs, kraftItem(voters.length, voters));
      const entry = (id: number): Record<string, unknown> => ({ id, dir: DIRS[id - 1], host: IPS[id - 1] });
      writeFileSync(join(dir, "work", "quorum.json"), JSON.stringify({
        cluster_id: CLUSTER_ID, leader: voters[0], voters: voters.map(entry), observers: observers.map(entry),
        hosts: Object.fromEntries(IPS.map((ip, index) => [ip, { id: index + 1, dir: DIRS[index] }])), ...extra,
      }));
      return dir;
    };
    const quorumState = (dir: string): { voters: Array<{ id: number }>; observers: Array<{ id: number }> } => JSON.parse(readFileSync(join(dir, "work", "quorum.json"), "utf8"));
    const uploadedItem = (dir: string): Json => JSON.parse(readFileSync(join(dir, "work", "knife", "item.json"), "utf8"));
    /** The quorum tool's calls and the client runs, in order: "<subcommand> <node>" / "client <node>". */
    const steps = (dir: string): string[] =>
      calls(dir).filter((call) => call.startsWith("ssh ")).flatMap((call) => {
        const node = call.match(/ubuntu@(\S+)/)?.[1];
        const tool = call.match(/kafka-metadata-quorum\.sh .*?(describe --\w+|add-controller|remove-controller --controller-id \d+ --controller-directory-id \S+)/)?.[1];
        if (tool !== undefined) return [`${tool} ${node}`];
        return call.includes("cinc-client") ? [`client ${node}`] : [];
      });

    it("formats a new cluster with a dynamic quorum: the upload marks the item for its initial controllers", () => {
      const dir = runningCluster({});
      const run = runBash(upload(kraftItem(3)), { stubs: kraftStubs, dir });
      expect(run.status).toBe(0);
      expect(run.output).toContain("no member answers with a KRaft controller quorum configuration: a new cluster, formatted with a dynamic quorum of 1=10.0.16.5 2=10.0.32.6 3=10.0.48.7");
      expect(uploadedItem(dir)._default).toEqual({ ...JSON.parse(kraftItem(3))._default, bootstrap: true });
    });

    it("refuses to take a cluster for new while one of its nodes does not answer: formatting with the initial controllers would give an empty log a voter's identity", () => {
      const dir = runningCluster({}, undefined, { [IPS[1]]: 1000 });
      const run = runBash(upload(kraftItem(3)), { stubs: kraftStubs, dir });
      expect(run.status).not.toBe(0);
      expect(refusals(run.output)).toEqual([expect.stringContaining("REFUSED: 10.0.32.6 do not answer SSH, so whether a KRaft controller quorum already runs there is unknown")]);
      expect(bagUploads(dir)).toEqual([]);
    });

    it("settles the item once the quorum runs: the converge clears the mark of a cluster being created, and leaves a settled item alone", () => {
      const dir = dynamicCluster([1, 2, 3], []);
      const held = JSON.parse(kraftItem(3));
      writeFileSync(join(dir, "work", "knife", "item.json"), JSON.stringify({ ...held, _default: { ...held._default, bootstrap: true } }));
      const run = runBash(converge(kraftItem(3), IPS.slice(0, 3)), { stubs: kraftStubs, dir });
      expect(run.status).toBe(0);
      expect(run.output).toContain("kafka_bag/kraft no longer marks the cluster as being created");
      expect(uploadedItem(dir)._default.bootstrap).toBe(false);
      const again = runBash(converge(kraftItem(3), IPS.slice(0, 3)), { stubs: kraftStubs, dir });
      expect(again.status).toBe(0);
      expect(again.output).not.toContain("no longer marks the cluster as being created");
    });

    it("keeps a running static quorum static: the item loses the dynamic quorum and the directory ids, so no node changes its voters", () => {
      const staticConfig = `process.roles=broker,controller\ncontroller.quorum.voters=${OLD.map((ip, index) => `${index + 1}@${ip}:9093`).join(",")}\n`;
      const dir = runningCluster(Object.fromEntries(OLD.map((ip) => [ip, staticConfig])));
      const run = runBash(upload(kraftItem(3)), { stubs: kraftStubs, dir });
      expect(run.status).toBe(0);
      expect(run.output).toContain("the running KRaft controller quorum is static (controller.quorum.voters): it keeps a fixed set of voters");
      expect(uploadedItem(dir)._default).toEqual({ cluster_id: CLUSTER_ID, controllers: OLD.map((address, index) => ({ address, id: index + 1 })) });
      // Its membership stays fixed: 3 to 5 is refused as before.
      const grown = runBash(upload(kraftItem(5)), { stubs: kraftStubs, dir: runningCluster(Object.fromEntries(OLD.map((ip) => [ip, staticConfig]))) });
      expect(refusals(grown.output)).toEqual([expect.stringContaining("would change the running KRaft controller quorum from 3 members")]);
    });

    it("grows a running dynamic quorum 3 to 5 one controller at a time: each new one converged, caught up as an observer, added, caught up as a voter", () => {
      const dir = dynamicCluster([1, 2, 3], [4, 5], { lags: { "4": [900, 40, 0], "5": [0] } });
      const uploaded = runBash(upload(kraftItem(5)), { stubs: kraftStubs, dir });
      expect(uploaded.status).toBe(0);
      expect(uploadedItem(dir)._default.bootstrap).toBe(false);
      const run = runBash(converge(kraftItem(5), IPS), { stubs: kraftStubs, dir });
      expect(run.status).toBe(0);
      expect(run.output).toContain("the running KRaft controller quorum changes one controller at a time: voters 1=10.0.16.5 2=10.0.32.6 3=10.0.48.7; to add: 4=10.0.16.8 5=10.0.32.9; to remove: ");
      // The roll's health checks read describe --replication too, so which of the stub's lags the catch-up wait sees varies.
      expect(run.output).toMatch(/controller 4 \(10\.0\.16\.8\) has caught up as an observer: node 4 is Observer with lag (40|0)\n/);
      expect(run.output).toContain(`Added controller 4 with directory id ${DIRS[3]} and endpoints: CONTROLLER://10.0.16.8:9093`);
      // Every node converged (the new controllers as observers) before the first is added; each added once the one before is a voter.
      const after = steps(dir).slice(steps(dir).indexOf("client 10.0.32.9")).filter((step) => !step.startsWith("describe --replication"));
      expect(after.filter((step) => !step.startsWith("describe --status"))).toEqual(["client 10.0.32.9", "add-controller 10.0.16.8", "add-controller 10.0.32.9"]);
      expect(after.slice(after.indexOf("add-controller 10.0.16.8"))).toEqual(["add-controller 10.0.16.8", "describe --status 10.0.16.5", "add-controller 10.0.32.9", "describe --status 10.0.16.5"]);
      // add-controller runs on the new controller, with its own configuration, through the running voters' TLS controller listener.
      expect(calls(dir).find((call) => call.includes("add-controller"))).toMatch(
        /ubuntu@10\.0\.16\.8 sudo -n -u kafka env LOG_DIR=\/var\/log\/kafka \/opt\/kafka\/current\/bin\/kafka-metadata-quorum\.sh --bootstrap-controller 10\.0\.16\.5:9095,10\.0\.32\.6:9095,10\.0\.48\.7:9095 --command-config \/etc\/kafka\/add-controller\.properties add-controller$/,
      );
      expect(quorumState(dir).voters.map((voter) => voter.id)).toEqual([1, 2, 3, 4, 5]);
    });

    it("shrinks 5 to 3: each controller removed by its live directory id and gone from the voters before its node becomes a broker only", () => {
      const dir = dynamicCluster([1, 2, 3, 4, 5], []);
      const run = runBash(converge(kraftItem(3), IPS), { stubs: kraftStubs, dir });
      expect(run.status).toBe(0);
      // The roll's own leader lookups aside: the removals first (a leaving voter may be down, and
      // the roll restarts the others), then the roll with the active controller last, then the removed nodes.
      const order = steps(dir).filter((step) => !step.startsWith("describe --replication"));
      const removed = order.slice(order.indexOf(`remove-controller --controller-id 4 --controller-directory-id ${DIRS[3]} 10.0.16.5`));
      expect(removed.filter((step, index) => !(step.startsWith("describe --status") && !removed[index - 1]?.startsWith("remove-controller")))).toEqual([
        `remove-controller --controller-id 4 --controller-directory-id ${DIRS[3]} 10.0.16.5`, "describe --status 10.0.16.5",
        `remove-controller --controller-id 5 --controller-directory-id ${DIRS[4]} 10.0.16.5`, "describe --status 10.0.16.5",
        "client 10.0.32.6", "client 10.0.48.7", "client 10.0.16.5",
        "client 10.0.16.8", "client 10.0.32.9",
      ]);
      // Each former controller's restart as a broker is followed by the roll's health check, before the next.
      const demoted = order.slice(order.indexOf("client 10.0.16.8"), order.indexOf("client 10.0.32.9"));
      expect(demoted.filter((step) => step.startsWith("describe --status"))).not.toEqual([]);
      expect(order.slice(order.indexOf("client 10.0.32.9")).filter((step) => step.startsWith("describe --status"))).not.toEqual([]);
      expect(run.output).toContain(`Removed  KRaft controller 4 with directory id ${DIRS[3]}`);
      expect(quorumState(dir).voters.map((voter) => voter.id)).toEqual([1, 2, 3]);
    });

    it("stops, as for any node, when the certificate of a node no longer a controller cannot be renewed: no Chef run there or after it", () => {
      const dir = dynamicCluster([1, 2, 3, 4, 5], []);
      const command = join(dir, "root", RENEW_COMMAND);
      mkdirSync(join(command, ".."), { recursive: true });
      writeFileSync(command, '#!/bin/bash\n[[ $1 != 10.0.16.8 ]]\n', { mode: 0o755 });
      const run = runBash(converge(kraftItem(3), IPS), { stubs: kraftStubs, dir });
      expect(run.status).not.toBe(0);
      expect(run.output).toContain("could not check or renew the certificate of 10.0.16.8; it was not converged");
      expect(run.output).toContain("FAILED at step 'run cinc-client on 10.0.16.8, no longer a controller'");
      const clients = steps(dir).filter((step) => step.startsWith("client "));
      expect(clients).toEqual(["client 10.0.32.6", "client 10.0.48.7", "client 10.0.16.5"]);
    });

    it("removes a leaving voter that is down before the roll, which it would otherwise block", () => {
      const dir = dynamicCluster([1, 2, 3, 4, 5], []);
      writeFileSync(join(dir, "work", "down-10.0.32.9"), "1000");
      const run = runBash(converge(kraftItem(3), IPS.slice(0, 4)), { stubs: kraftStubs, dir });
      expect(run.output).toContain(`Removed  KRaft controller 5 with directory id ${DIRS[4]}`);
      const order = steps(dir);
      expect(order.indexOf(`remove-controller --controller-id 5 --controller-directory-id ${DIRS[4]} 10.0.16.5`)).toBeLessThan(order.indexOf("client 10.0.32.6"));
      expect(quorumState(dir).voters.map((voter) => voter.id)).toEqual([1, 2, 3]);
    });

    it("stops before adding a controller that does not catch up, naming its lag, every voter untouched", () => {
      const dir = dynamicCluster([1, 2, 3], [4], { lags: { "4": [5000] } });
      const run = runBash(converge(kraftItem(4, [1, 2, 3, 4]), IPS.slice(0, 4), 3), { stubs: kraftStubs, dir });
      expect(run.status).not.toBe(0);
      expect(run.output).toContain("timed out after 15s waiting until controller 4 (10.0.16.8) has caught up as an observer (last seen: node 4 is Observer with lag 5000)");
      expect(run.output).toContain("controller 4 was not added; the voters stay 1,2,3; nothing more was changed");
      expect(run.output).toContain("FAILED at step 'add controllers to the KRaft controller quorum, one at a time'");
      expect(steps(dir).filter((step) => step.startsWith("add-controller"))).toEqual([]);
      expect(quorumState(dir).voters.map((voter) => voter.id)).toEqual([1, 2, 3]);
    });

    it("stops when the leader still has a voter change pending, with the leader's reason", () => {
      const dir = dynamicCluster([1, 2, 3], [4], { pending: true });
      const run = runBash(converge(kraftItem(4, [1, 2, 3, 4]), IPS.slice(0, 4)), { stubs: kraftStubs, dir });
      expect(run.status).not.toBe(0);
      expect(run.output).toContain(
        "add-controller for controller 4 (10.0.16.8) failed: org.apache.kafka.common.errors.RequestTimedOutException: Request timed out waiting for leader to handle previous voter change request; the voters stay 1,2,3; nothing more was changed",
      );
      expect(quorumState(dir).voters.map((voter) => voter.id)).toEqual([1, 2, 3]);
    });

    it("refuses a second change while another run holds the quorum, before reading or changing anything", () => {
      const dir = dynamicCluster([1, 2, 3], [4]);
      mkdirSync(join(dir, "log"), { recursive: true });
      // Its own process group, no pipes: the kill below takes flock's sleep too, and nothing of it
      // keeps the test worker from exiting.
      const lock = spawn("flock", [join(dir, "log", "kraft-quorum.lock"), "sleep", "20"], { detached: true, stdio: "ignore" });
      try {
        execFileSync("sh", ["-c", `for i in $(seq 50); do [ -e '${join(dir, "log", "kraft-quorum.lock")}' ] && exit 0; sleep 0.1; done; exit 1`]);
        const run = runBash(converge(kraftItem(4, [1, 2, 3, 4]), IPS.slice(0, 4)), { stubs: kraftStubs, dir });
        expect(run.status).not.toBe(0);
        expect(refusals(run.output)).toEqual([expect.stringContaining("REFUSED: another run is changing the KRaft controller quorum")]);
        expect(steps(dir)).toEqual([]);
      } finally {
        process.kill(-lock.pid!);
      }
    });

    it("refuses dedicated controllers turned on under a running combined dynamic quorum, in one line, before the item is uploaded", () => {
      const dir = dynamicCluster([1, 2, 3], []);
      const run = runBash(upload(kraftItem(3, [1001, 1002, 1003])), { stubs: kraftStubs, dir });
      expect(run.status).not.toBe(0);
      expect(refusals(run.output)).toEqual([
        expect.stringContaining("REFUSED: kafka.controllerNodes, kafka.dedicatedControllers (or kafka.nodes, which the controllers' default follows) would move the running KRaft controller quorum (1=10.0.16.5 2=10.0.32.6 3=10.0.48.7) wholly onto other nodes"),
      ]);
      expect(bagUploads(dir)).toEqual([]);
    });
  });

  describe("bootstrap-node", () => {
    const SERVER_ID = "i-0cccccccccccccc01";
    const render = (instanceId: string, serverId = SERVER_ID): string =>
      renderScript("provision/bootstrap-node", {
        nodeName: "insight-dev-kafka-0",
        nodeIp: "10.0.16.5",
        instanceId,
        serverId,
        jsonAttributes: '{"insight-kafka-cluster":{"rack":"us-west-2a"}}',
        knifeConfig: KNIFE_CONFIG,
        runList: "role[kafka-node]",
        installCheck: "test -x /opt/cinc/bin/cinc-client",
        licenceFlag: "",
        setupTimeoutSeconds: 60,
        sshWaitAttempts: 4,
        hostKeys: { parameter: "/insight/dev/host-keys/insight-dev-kafka-0", region: "us-west-2", file: "", waitAttempts: 4 },
      });
    // The node published its host key as the instance the script names; sudo writes the global known_hosts.
    const bootstrapStubs = {
      ...stubs,
      install: COMMON_STUBS.install,
      sudo: '[[ $1 == -n ]] && shift; exec "$@"',
      python3: python3Stub(
        `if [[ \${1:-} == -c && \${3:-} == */host-keys/* ]]; then printf '%s\\n%s\\n' "$(sed -n "s/^INSTANCE_ID='\\(.*\\)'$/\\1/p" "$WORK_DIR/../script.sh")" ${JSON.stringify(NODE_HOST_KEY)}; exit 0; fi`,
      ),
    };
    const script = render("i-0aaaaaaaaaaaaaaa1");
    const first = runBash(script, { stubs: bootstrapStubs, env: { SSH_FAILURES: "2" } });
    const bootstraps = (dir: string, since = 0): string[] => calls(dir).slice(since).filter((call) => call.startsWith("knife bootstrap"));

    it("waits for the node's SSH, then bootstraps it with the current flags", () => {
      expect(first.status).toBe(0);
      expect(first.output).toContain("attempt 2/4 failed: node_answers");
      expect(bootstraps(first.dir)).toEqual([
        `knife bootstrap 10.0.16.5 --ssh-verify-host-key always --node-name insight-dev-kafka-0 --run-list role[kafka-node] --json-attributes {"insight-kafka-cluster":{"rack":"us-west-2a"}} --connection-user ubuntu --ssh-identity-file ${join(first.dir, "root/home/ubuntu/.ssh/platform_bootstrap")} --sudo --bootstrap-install-command test -x /opt/cinc/bin/cinc-client --yes --config ${join(first.dir, "root/home/ubuntu/chef-repo/.cinc/config.rb")}`,
      ]);
    });

    it("skips a node already registered from this instance with this server, without connecting to it", () => {
      const before = calls(first.dir).length;
      const second = runBash(script, { stubs: bootstrapStubs, dir: first.dir });
      expect(second.status).toBe(0);
      expect(second.output).toContain(`insight-dev-kafka-0 is already registered from i-0aaaaaaaaaaaaaaa1 with Chef server ${SERVER_ID}; nothing to do`);
      expect(calls(first.dir).slice(before).filter((call) => /^(knife bootstrap|ssh )/.test(call))).toEqual([]);
    });

    it("registers the node again when its instance or the Chef server was replaced (even at the same address)", () => {
      const dir = runBash(script, { stubs: bootstrapStubs }).dir;
      for (const [instance, server] of [["i-0bbbbbbbbbbbbbbb2", SERVER_ID], ["i-0bbbbbbbbbbbbbbb2", "i-0cccccccccccccc02"]]) {
        const before = calls(dir).length;
        expect(runBash(render(instance, server), { stubs: bootstrapStubs, dir }).status).toBe(0);
        expect(bootstraps(dir, before)).toHaveLength(1);
        expect(calls(dir).slice(before)).toContain(`knife node delete insight-dev-kafka-0 --yes --config ${join(dir, "root/home/ubuntu/chef-repo/.cinc/config.rb")}`);
      }
    });

    it("replaces the host key of the instance that had the node's address before with the one the node published, and keeps the others", () => {
      const dir = mkdtempSync(join(tmpdir(), "known-hosts-"));
      const ssh = join(dir, "root/home/ubuntu/.ssh");
      mkdirSync(ssh, { recursive: true });
      for (const name of ["old", "other"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, name)]);
      const publicKey = (name: string): string => readFileSync(join(dir, `${name}.pub`), "utf8").split(" ").slice(0, 2).join(" ");
      writeFileSync(join(ssh, "known_hosts"), `10.0.16.5 ${publicKey("old")}\n10.0.32.6 ${publicKey("other")}\n`);
      // ssh, like the real one with StrictHostKeyChecking=yes, takes the node's published key only.
      const strictSsh = `grep -qxF "10.0.16.5 ${NODE_HOST_KEY}" "$PLATFORM_FS_ROOT/home/ubuntu/.ssh/known_hosts" || { echo "Host key verification failed." >&2; exit 255; }; exit 0`;
      const run = runBash(script, { stubs: { ...bootstrapStubs, ssh: strictSsh }, dir });
      expect(run.status).toBe(0);
      expect(run.output).not.toContain("attempt 1/4 failed: node_answers");
      const knownHosts = readFileSync(join(ssh, "known_hosts"), "utf8");
      expect(knownHosts).not.toContain(publicKey("old"));
      expect(knownHosts).toContain(`10.0.16.5 ${NODE_HOST_KEY}`);
      expect(knownHosts).toContain(`10.0.32.6 ${publicKey("other")}`);
    });

    it("stops before bootstrap when the node's own user data failed", () => {
      const failed = runBash(script, { stubs: bootstrapStubs, env: { NODE_CLOUD_INIT_STATUS: "1" } });
      expect(failed.status).not.toBe(0);
      expect(failed.output).toContain("cloud-init on 10.0.16.5 failed (status 1); see /var/log/platform/kafka-node.log there");
      expect(bootstraps(failed.dir)).toEqual([]);
    });

    it("gives up with a clear message when the node never answers SSH", () => {
      const unreachable = runBash(script, { stubs: bootstrapStubs, env: { SSH_FAILURES: "99" } });
      expect(unreachable.status).not.toBe(0);
      expect(unreachable.output).toContain("timed out waiting for SSH on 10.0.16.5; the node authorizes the bootstrap key in its user data");
      expect(unreachable.output).toContain("FAILED at step 'wait for SSH on insight-dev-kafka-0 (10.0.16.5)'");
    });
  });

  describe("converge-nodes", () => {
    const converge = (ips: readonly string[], ensemble: readonly string[] = ips): string =>
      new KafkaProvisionScripts(configFrom()).convergeNodes(ips, { bag: "zoo_bag", id: "zookeeper", json: zooItem(ensemble) });
    const script = converge(["10.0.16.5", "10.0.32.6"]);
    const clientRuns = (dir: string): Array<string | undefined> => calls(dir).filter((call) => call.startsWith("ssh ") && call.includes("cinc-client")).map((call) => call.match(/ubuntu@(\S+)/)?.[1]);

    it("re-uploads the cookbooks, then runs the client on every node and logs what each run updated", () => {
      const clientRun = `${zookeeperMembersSsh("10.0.32.6")}\n[[ " $* " == *cinc-client* ]] && echo "Infra Phase complete, 3/85 resources updated in 12 seconds"; exit 0`;
      const run = runBash(script, { stubs: { ...stubs, sudo: "exit 0", ssh: clientRun } });
      expect(run.status).toBe(0);
      // The setup command the workstation kept, not cloud-init's raw copy of its user data, which is gzip.
      expect(calls(run.dir)).toContain(`sudo ${join(run.dir, "root/usr/local/sbin/platform-setup")}`);
      expect(calls(run.dir).filter((call) => call.includes("user-data.txt"))).toEqual([]);
      expect(run.output).toContain("10.0.16.5: 3/85 resources updated");
      expect(run.output).toContain("10.0.32.6: 3/85 resources updated");
      expect(clientRuns(run.dir).sort()).toEqual(["10.0.16.5", "10.0.32.6"]);
    });

    it("converges one node at a time and stops at the first that fails, leaving the rest untouched", () => {
      const three = converge(["10.0.16.5", "10.0.32.6", "10.0.16.7"]);
      const failing = `${zookeeperMembersSsh("10.0.16.7")}\n[[ " $* " == *" ubuntu@10.0.32.6 "* ]] && { echo "FATAL: boom"; exit 1; }; exit 0`;
      const run = runBash(three, { stubs: { ...stubs, sudo: "exit 0", ssh: failing } });
      expect(run.status).not.toBe(0);
      expect(run.output).toMatch(/cinc-client failed on 10\.0\.32\.6 \(log: \S+\/10\.0\.32\.6\.log\); the nodes after it were not converged/);
      expect(run.output).toContain("FATAL: boom");
      expect(clientRuns(run.dir)).toEqual(["10.0.16.5", "10.0.32.6"]);
    });

    it("never runs two clients at once, so restarts roll through the ensemble", () => {
      // Each fake client run fails if another is still running.
      const exclusive = `${zookeeperMembersSsh("10.0.32.6")}\nexec 9>"$WORK_DIR/client.lock"; flock -n 9 || { echo "two clients at once"; exit 1; }; sleep 0.2; exit 0`;
      const run = runBash(script, { stubs: { ...stubs, sudo: "exit 0", ssh: exclusive, sleep: '/bin/sleep "$@"' } });
      expect(run.status).toBe(0);
      expect(run.output).not.toContain("two clients at once");
    });

    it("refuses a changed ensemble before it uploads cookbooks or runs any client, every node untouched", () => {
      const dir = runningCluster(Object.fromEntries(OLD.map((ip) => [ip, zooCfg(OLD)])));
      const clientRun = `${zookeeperMembersSsh(OLD[2])}\n${MEMBER_SSH}\n[[ " $* " == *cinc-client* ]] && echo "Infra Phase complete, 3/85 resources updated in 12 seconds"; exit 0`;
      const run = runBash(converge([...OLD, ...ADDED]), { stubs: { ...stubs, sudo: "exit 0", ssh: clientRun }, dir });
      expect(run.status).not.toBe(0);
      expect(refusals(run.output)).toEqual([expect.stringContaining("would change the running ZooKeeper ensemble from 3 members")]);
      expect(calls(dir).filter((call) => call.startsWith("sudo "))).toEqual([]);
      expect(clientRuns(dir)).toEqual([]);
      // The same members keeping their ensemble: the converge goes on.
      const same = runBash(converge([...OLD, ...ADDED], OLD), { stubs: { ...stubs, sudo: "exit 0", ssh: clientRun }, dir });
      expect(same.status).toBe(0);
      // The ZooKeeper leader last.
      expect(clientRuns(dir)).toEqual([OLD[0], OLD[1], ...ADDED, OLD[2]]);
    });
  });
});

describeScripts("kafka-node user data", () => {
  const VOLUME = "vol-0123456789abcdef0";
  const script = kafkaNodeScript("/insight/dev/host-keys/insight-dev-kafka-0", VOLUME);
  const stubs = {
    ...kafkaNodeStubs(),
    // The lookup sshd will run, run as its user through its #!/bin/sh, with the real python3 and
    // a boto3 that answers from SSM_VALUES.
    runuser: `shift 3; PYTHONPATH=${JSON.stringify(fakeBoto3())} exec sh "$@"`,
  };
  const PUBLIC_KEY = "ssh-ed25519 AAAAC3Nza platform-bootstrap@insight";
  const KEY_PARAMETER = "/insight/dev/chef/bootstrap-public-key";
  const SOURCE_PARAMETER = "/insight/dev/chef/bootstrap-key-source";
  /** SSM as the lookup reads it: the key as the workstation publishes it (with ssh-keygen's newline), the address as Terraform keeps it. */
  const ssmValues = (key: string, address = "10.0.1.23"): string => JSON.stringify({ [KEY_PARAMETER]: `${key}\n`, [SOURCE_PARAMETER]: address });
  const DEB = "pretend cinc";
  const env = { SSM_PRESET: PUBLIC_KEY, SSM_VALUES: ssmValues(PUBLIC_KEY), DOWNLOAD_CONTENT: DEB, PUBLISHER_SHA512: require("node:crypto").createHash("sha512").update(DEB).digest("hex") };

  function withDevice(): string {
    const dir = mkdtempSync(join(tmpdir(), "kafka-node-"));
    mkdirSync(join(dir, "root/dev/disk/by-id"), { recursive: true });
    mkdirSync(join(dir, "root/etc/ssh"), { recursive: true });
    writeFileSync(join(dir, "root/etc/ssh/ssh_host_ed25519_key.pub"), `${NODE_HOST_KEY} root@node\n`);
    writeFileSync(join(dir, "root/dev/disk/by-id", `nvme-Amazon_Elastic_Block_Store_${VOLUME.replace("-", "")}`), "");
    return dir;
  }
  const first = runBash(script, { stubs, env, dir: withDevice() });

  it("is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
  });

  it("formats the data volume and mounts it from fstab", () => {
    expect(first.status).toBe(0);
    expect(calls(first.dir)).toContain(`mkfs.xfs -q -L kafka-data ${join(first.dir, "root/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0")}`);
    expect(readFileSync(join(first.dir, "root/etc/fstab"), "utf8")).toBe("UUID=1234-uuid /data/kafka xfs defaults,noatime,nofail 0 2\n");
  });

  it("lets the workstation's bootstrap key in through sshd, which reads it from SSM at each login instead of keeping a copy", () => {
    // In a Match block: ec2-instance-connect's own command, given on sshd's command line, would win over a global one.
    expect(readFileSync(join(first.dir, "root/etc/ssh/sshd_config.d/60-platform-bootstrap-key.conf"), "utf8")).toContain(
      "Match User ubuntu\n    AuthorizedKeysCommand /usr/local/sbin/platform-bootstrap-key %u\n    AuthorizedKeysCommandUser platform-keys\n",
    );
    // sshd -t needs its runtime directory, which a socket-activated sshd has not made yet.
    expect(existsSync(join(first.dir, "root/run/sshd"))).toBe(true);
    expect(existsSync(join(first.dir, "root/home/ubuntu/.ssh/authorized_keys"))).toBe(false);
    const log = calls(first.dir);
    expect(log.indexOf("sshd -t")).toBeGreaterThan(-1);
    expect(log.indexOf("sshd -T -C user=ubuntu,host=localhost,addr=127.0.0.1")).toBeGreaterThan(log.indexOf("sshd -t"));
    expect(log.indexOf("systemctl try-reload-or-restart ssh.service")).toBeGreaterThan(log.indexOf("sshd -T -C user=ubuntu,host=localhost,addr=127.0.0.1"));
    expect(log).toContain("useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin platform-keys");
    expect(first.output).toContain("sshd reads ubuntu's key from /insight/dev/chef/bootstrap-public-key");
  });

  /** Runs the installed lookup as sshd does (through #!/bin/sh, dash on Ubuntu), against SSM_VALUES, with its cache in `cacheDir`. */
  const lookupAsSshd = (cacheDir: string) => {
    const stub = join(cacheDir, "lookup-as-sshd.sh");
    writeFileSync(stub, readFileSync(join(first.dir, "root/usr/local/sbin/platform-bootstrap-key"), "utf8").replace("/var/lib/platform-bootstrap-key", cacheDir));
    return (user: string, env: Record<string, string>) => spawnSync("sh", [stub, user], { env: { PATH: "/usr/bin:/bin", PYTHONPATH: fakeBoto3(), ...env }, encoding: "utf8" });
  };

  it("answers sshd with the key published now, usable from the workstation's address only, for ubuntu only: a replaced workstation's key and address work with no re-run", () => {
    const lookup = join(first.dir, "root/usr/local/sbin/platform-bootstrap-key");
    const ask = lookupAsSshd(mkdtempSync(join(tmpdir(), "key-cache-")));
    expect(ask("ubuntu", { SSM_VALUES: ssmValues(PUBLIC_KEY) }).stdout).toBe(`from="10.0.1.23" ${PUBLIC_KEY}\n`);
    expect(ask("ubuntu", { SSM_VALUES: ssmValues("ssh-ed25519 AAAAnew platform-bootstrap@insight", "10.0.2.7") }).stdout).toBe('from="10.0.2.7" ssh-ed25519 AAAAnew platform-bootstrap@insight\n');
    expect(ask("root", { SSM_VALUES: ssmValues(PUBLIC_KEY) }).stdout).toBe("");
    expect(readFileSync(lookup, "utf8")).toContain(`'${KEY_PARAMETER}' '${SOURCE_PARAMETER}' 'us-west-2'`);
    expect(statSync(lookup).mode & 0o777).toBe(0o755);
  });

  it("answers with no key, and forgets the one it kept, when SSM holds no usable workstation address", () => {
    const ask = lookupAsSshd(mkdtempSync(join(tmpdir(), "key-cache-")));
    expect(ask("ubuntu", { SSM_VALUES: ssmValues(PUBLIC_KEY) }).stdout).toBe(`from="10.0.1.23" ${PUBLIC_KEY}\n`);
    for (const address of ["", "10.0.1.0/24", "10.0.1.23,0.0.0.0", "*", "2600:1f14::1"]) {
      const answer = ask("ubuntu", { SSM_VALUES: ssmValues(PUBLIC_KEY, address) });
      expect({ address, stdout: answer.stdout, stderr: answer.stderr }).toEqual({ address, stdout: "", stderr: `no IPv4 address in ${SOURCE_PARAMETER}: no key\n` });
      // Nothing kept answers either, even with SSM gone.
      expect(ask("ubuntu", { SSM_UNREACHABLE: "1" }).stdout).toBe("");
    }
    // sshd discards the command's stderr: the reason also goes to the journal.
    expect(readFileSync(join(first.dir, "root/usr/local/sbin/platform-bootstrap-key"), "utf8")).toContain('syslog.openlog("platform-bootstrap-key")');
    const noSource = ask("ubuntu", { SSM_VALUES: JSON.stringify({ [KEY_PARAMETER]: PUBLIC_KEY }) });
    expect(noSource.stdout).toBe("");
    // Only the key: a line with two keys would let the second one in from anywhere.
    expect(ask("ubuntu", { SSM_VALUES: ssmValues(`${PUBLIC_KEY}\nssh-ed25519 AAAAother x`) }).stdout).toBe("");
  });

  it("keeps answering sshd with the last line it read when SSM cannot be reached, and forgets it once the parameter is gone", () => {
    const lookup = readFileSync(join(first.dir, "root/usr/local/sbin/platform-bootstrap-key"), "utf8");
    expect(lookup).toContain("cache=/var/lib/platform-bootstrap-key/ubuntu\n");
    const cacheDir = mkdtempSync(join(tmpdir(), "key-cache-"));
    const asked = lookupAsSshd(cacheDir);
    const ask = (env: Record<string, string>): string => asked("ubuntu", env).stdout;
    const line = `from="10.0.1.23" ${PUBLIC_KEY}\n`;
    expect(ask({ SSM_VALUES: ssmValues(PUBLIC_KEY) })).toBe(line);
    expect(readFileSync(join(cacheDir, "ubuntu"), "utf8")).toBe(line);
    expect(statSync(join(cacheDir, "ubuntu")).mode & 0o077).toBe(0);
    // The NAT gateway's AZ or SSM is down: the line read last still logs in, from the same address.
    expect(ask({ SSM_UNREACHABLE: "1" })).toBe(line);
    // SSM answers that the parameter is gone: its workstation was destroyed, and its key goes too.
    expect(ask({ SSM_VALUES: "{}" })).toBe("");
    expect(existsSync(join(cacheDir, "ubuntu"))).toBe(false);
    expect(ask({ SSM_UNREACHABLE: "1" })).toBe("");
    // The placeholder of a chef stack deployed again, before its workstation publishes: no key,
    // and the old deployment's key is forgotten.
    expect(ask({ SSM_VALUES: ssmValues(PUBLIC_KEY) })).toBe(line);
    expect(ask({ SSM_VALUES: ssmValues(BOOTSTRAP_KEY_PLACEHOLDER) })).toBe("");
    expect(existsSync(join(cacheDir, "ubuntu"))).toBe(false);
  });

  it("asks SSM once per lookup, briefly: sshd runs the lookup several times per login", () => {
    const lookup = readFileSync(join(first.dir, "root/usr/local/sbin/platform-bootstrap-key"), "utf8");
    expect(lookup).toContain('botocore.config.Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 1})');
  });

  it("keeps the last key read in a directory only the lookup user can use, beside a command only root can change", () => {
    expect(calls(first.dir)).toContain(`install -d -m 0700 -o platform-keys ${join(first.dir, "root/var/lib/platform-bootstrap-key")}`);
    expect(statSync(join(first.dir, "root/var/lib/platform-bootstrap-key")).mode & 0o777).toBe(0o700);
    expect(statSync(join(first.dir, "root/usr/local/sbin/platform-bootstrap-key")).mode & 0o777).toBe(0o755);
  });

  it("installs the Chef client package before bootstrap through apt, which waits out the dpkg lock unattended-upgrades holds at first boot", () => {
    const installs = calls(first.dir).filter((call) => call.startsWith("apt-get ") && call.endsWith("cinc_18.6.2-1_amd64.deb"));
    expect(installs).toEqual([`apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold -y -q install --no-install-recommends ${join(first.dir, "root/var/cache/platform/cinc_18.6.2-1_amd64.deb")}`]);
    expect(calls(first.dir).filter((call) => call.startsWith("dpkg "))).toEqual([]);
  });

  it("keeps itself as the setup command, which runs it again with nothing to do", () => {
    const kept = join(first.dir, "root/usr/local/sbin/platform-setup");
    expect(readFileSync(kept, "utf8")).toBe(script);
    expect(statSync(kept).mode & 0o777).toBe(0o755);
    expect(first.output).toContain("this setup runs again with: sudo /usr/local/sbin/platform-setup");
    const before = calls(first.dir).length;
    const again = runBash(script, { stubs, env, dir: first.dir, file: kept });
    expect(again.status).toBe(0);
    expect(calls(first.dir).slice(before).filter((call) => /^(mkfs\.xfs|mount|apt-get|dpkg|useradd) /.test(call))).toEqual([]);
    expect(readFileSync(kept, "utf8")).toBe(script);
  });

  it("changes nothing on a second run: no format, no sshd reload, no duplicate fstab line", () => {
    const before = calls(first.dir).length;
    expect(runBash(script, { stubs, env, dir: first.dir }).status).toBe(0);
    expect(calls(first.dir).slice(before).filter((call) => /^(mkfs\.xfs|mount|dpkg|apt-get|systemctl|useradd) /.test(call))).toEqual([]);
    expect(readFileSync(join(first.dir, "root/etc/fstab"), "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("stops with a clear message when the data volume never appears", () => {
    const dir = withDevice();
    rmSync(join(dir, "root/dev/disk/by-id"), { recursive: true });
    const run = runBash(script, { stubs, env, dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`check that volume ${VOLUME} is attached to this instance`);
    expect(run.output).toContain(`FAILED at step 'wait for the data volume ${VOLUME}'`);
  });
});


describeScripts("kafka-node user data on a ZooKeeper member", () => {
  const DATA = "vol-0123456789abcdef0";
  const ZOOKEEPER = "vol-0fedcba9876543210";
  const script = kafkaNodeScript("/insight/dev/host-keys/insight-dev-kafka-0", DATA, { zookeeperVolume: { id: ZOOKEEPER, mountPoint: ZOOKEEPER_VOLUME.mountPoint, label: ZOOKEEPER_VOLUME.label } });
  // Each device and mount point keeps its own state: a format or mount of one is not the other's.
  const stubs = {
    ...kafkaNodeStubs(),
    blkid: 'device=${*: -1}; [[ -f "$WORK_DIR/formatted-${device##*/}" ]] || exit 2; [[ $1 == -s ]] && echo "uuid-${device##*_}"; exit 0',
    "mkfs.xfs": 'device=${*: -1}; touch "$WORK_DIR/formatted-${device##*/}"',
    mountpoint: 'p=${*: -1}; [[ -f "$WORK_DIR/mounted-${p//\//_}" ]]',
    mount: 'p=${*: -1}; touch "$WORK_DIR/mounted-${p//\//_}"',
    runuser: "exit 0",
  };
  const PUBLIC_KEY = "ssh-ed25519 AAAAC3Nza platform-bootstrap@insight";
  const DEB = "pretend cinc";
  const env = { SSM_PRESET: PUBLIC_KEY, DOWNLOAD_CONTENT: DEB, PUBLISHER_SHA512: require("node:crypto").createHash("sha512").update(DEB).digest("hex") };
  const device = (volume: string): string => `nvme-Amazon_Elastic_Block_Store_${volume.replace("-", "")}`;
  function withDevices(...volumes: string[]): string {
    const dir = mkdtempSync(join(tmpdir(), "kafka-node-zk-"));
    mkdirSync(join(dir, "root/dev/disk/by-id"), { recursive: true });
    mkdirSync(join(dir, "root/etc/ssh"), { recursive: true });
    writeFileSync(join(dir, "root/etc/ssh/ssh_host_ed25519_key.pub"), `${NODE_HOST_KEY} root@node\n`);
    for (const volume of volumes) writeFileSync(join(dir, "root/dev/disk/by-id", device(volume)), "");
    return dir;
  }
  const first = runBash(script, { stubs, env, dir: withDevices(DATA, ZOOKEEPER) });

  it("is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
  });

  it("formats and mounts ZooKeeper's volume beside the data volume, each listed in fstab by its own UUID", () => {
    expect(first.status).toBe(0);
    const formats = calls(first.dir).filter((call) => call.startsWith("mkfs.xfs "));
    expect(formats).toEqual([
      `mkfs.xfs -q -L kafka-data ${join(first.dir, "root/dev/disk/by-id", device(DATA))}`,
      `mkfs.xfs -q -L zookeeper-data ${join(first.dir, "root/dev/disk/by-id", device(ZOOKEEPER))}`,
    ]);
    expect(readFileSync(join(first.dir, "root/etc/fstab"), "utf8")).toBe(
      `UUID=uuid-vol0123456789abcdef0 /data/kafka xfs defaults,noatime,nofail 0 2\nUUID=uuid-vol0fedcba9876543210 ${ZOOKEEPER_VOLUME.mountPoint} xfs defaults,noatime,nofail 0 2\n`,
    );
    expect(existsSync(join(first.dir, "root", ZOOKEEPER_VOLUME.mountPoint))).toBe(true);
    expect(calls(first.dir)).toContain(`mount ${join(first.dir, "root", ZOOKEEPER_VOLUME.mountPoint)}`);
    expect(first.output).toContain(`ZooKeeper's volume mounted at ${ZOOKEEPER_VOLUME.mountPoint}`);
  });

  it("changes nothing on a second run: neither volume formatted or mounted again, no duplicate fstab line", () => {
    const before = calls(first.dir).length;
    expect(runBash(script, { stubs, env, dir: first.dir }).status).toBe(0);
    expect(calls(first.dir).slice(before).filter((call) => /^(mkfs\.xfs|mount) /.test(call))).toEqual([]);
    expect(readFileSync(join(first.dir, "root/etc/fstab"), "utf8").trim().split("\n")).toHaveLength(2);
  });

  it("never formats a ZooKeeper volume that holds a filesystem: a replaced member keeps its data", () => {
    const dir = withDevices(DATA, ZOOKEEPER);
    mkdirSync(join(dir, "work"), { recursive: true });
    writeFileSync(join(dir, "work", `formatted-${device(ZOOKEEPER)}`), "");
    const run = runBash(script, { stubs, env, dir });
    expect(run.status).toBe(0);
    expect(calls(dir).filter((call) => call.startsWith("mkfs.xfs ") && call.includes(device(ZOOKEEPER)))).toEqual([]);
    expect(calls(dir)).toContain(`mount ${join(dir, "root", ZOOKEEPER_VOLUME.mountPoint)}`);
  });

  it("stops with a message naming ZooKeeper's volume when its device never appears", () => {
    const run = runBash(script, { stubs, env, dir: withDevices(DATA) });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`check that volume ${ZOOKEEPER} is attached to this instance`);
    expect(run.output).toContain(`FAILED at step 'wait for ZooKeeper's volume ${ZOOKEEPER}'`);
  });

  it("gives a node outside the ensemble no ZooKeeper step at all", () => {
    expect(kafkaNodeScript("/insight/dev/host-keys/insight-dev-kafka-0", DATA)).not.toContain("ZOOKEEPER");
  });
});

describeScripts("record-zookeeper-volume", () => {
  const script = new KafkaProvisionScripts(configFrom()).recordZookeeperVolume("insight-dev-kafka-1", "vol-0fedcba9876543210");
  // knife exec, with a Chef::Node that keeps its normal attributes in a file: the Ruby the script
  // sends runs as knife would run it.
  const knife = [
    '[[ $1 == exec && $2 == -E ]] || exit 0',
    "ruby -rjson -e '",
    "module Chef; class Node",
    "  attr_reader :name, :normal",
    '  def self.load(name); node = new; node.instance_variable_set(:@name, name); path = "#{ENV.fetch("WORK_DIR")}/node-#{name}.json"',
    "    normal = File.exist?(path) ? JSON.parse(File.read(path)) : {}; normal.default_proc = proc { |hash, key| hash[key] = {} }",
    "    node.instance_variable_set(:@normal, normal); node; end",
    '  def save; File.write("#{ENV.fetch("WORK_DIR")}/node-#{name}.json", JSON.dump(normal)); File.write("#{ENV.fetch("WORK_DIR")}/saves", "#{name}\\n", mode: "a"); end',
    "end; end",
    "eval(ARGV.fetch(0))' \"$3\"",
  ].join("\n");

  it("is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
  });

  it("sets the member's normal attribute once, keeping its other attributes, and leaves it alone when it already says so", () => {
    const dir = mkdtempSync(join(tmpdir(), "record-zk-"));
    mkdirSync(join(dir, "work"));
    writeFileSync(join(dir, "work", "node-insight-dev-kafka-1.json"), JSON.stringify({ "insight-kafka-cluster": { rack: "us-west-2b", node_id: 2 } }));
    const run = runBash(script, { stubs: { knife }, dir });
    expect(run.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "work", "node-insight-dev-kafka-1.json"), "utf8"))).toEqual({
      "insight-kafka-cluster": { rack: "us-west-2b", node_id: 2, zookeeper_volume_id: "vol-0fedcba9876543210" },
    });
    expect(run.output).toContain("insight-dev-kafka-1 keeps ZooKeeper's data on vol-0fedcba9876543210");
    const again = runBash(script, { stubs: { knife }, dir });
    expect(again.status).toBe(0);
    expect(again.output).toContain("insight-dev-kafka-1 already names vol-0fedcba9876543210");
    expect(readFileSync(join(dir, "work", "saves"), "utf8")).toBe("insight-dev-kafka-1\n");
  });

  it("fails naming its step when knife cannot reach the node", () => {
    const run = runBash(script, { stubs: { knife: "exit 1", sleep: "exit 0" } });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("FAILED at step 'record ZooKeeper's volume vol-0fedcba9876543210 on insight-dev-kafka-1'");
  });
});

describeScripts("the pipeline's topic ACLs", () => {
  const json = platformStackJson("kafka");
  const step = json.resource.terraform_data["pipeline-acls"];
  const script = new KafkaProvisionScripts(configFrom()).pipelineAcls({
    node: "10.0.16.5",
    bootstrapServers: "10.0.16.5:9094,10.0.32.6:9094",
    topic: "th-topic",
    groupPrefix: "spark-kafka-source",
  });
  const adminIdentity = (dir: string): void => {
    mkdirSync(join(dir, "root/home/ubuntu/.platform/tls"), { recursive: true });
    for (const name of ["admin.key", "admin.crt", "ca.crt"]) writeFileSync(join(dir, "root/home/ubuntu/.platform/tls", name), `${name} PEM\n`);
  };

  it("are granted once the brokers converged with the authorizer, and only with TLS", () => {
    expect(step.depends_on).toEqual(expect.arrayContaining(["terraform_data.converge"]));
    expect(platformStackJson("kafka", "--kafka.security", "plaintext").resource.terraform_data["pipeline-acls"]).toBeUndefined();
  });

  it("is shellcheck-clean", () => {
    expect(shellcheck(script).output).toBe("");
  });

  it("grants User:spark Read, Write and Describe on the topic and Read on Spark's group prefix, as kafka-admin, the key on stdin only", () => {
    const dir = mkdtempSync(join(tmpdir(), "acls-"));
    adminIdentity(dir);
    // The node's shell reads the words ssh joined: each call's arguments as kafka-acls.sh gets them.
    const sshStub = [
      'for word; do shift; [[ $word == ubuntu@* ]] && { echo "$word" >> "$WORK_DIR/hosts"; break; }; done',
      'eval "remote=( $* )"',
      '{ printf "%s\\n" "${remote[@]:0:4}" "${remote[@]:5}"; echo ---; } >> "$WORK_DIR/remote-args"',
      'printf "%s\\n" "${remote[4]}" > "$WORK_DIR/remote-script"',
      'cat >> "$WORK_DIR/ssh-stdin"',
    ].join("\n");
    const run = runBash(script, { dir, stubs: { ssh: sshStub } });
    expect(run.status).toBe(0);
    expect(readFileSync(join(dir, "work/hosts"), "utf8")).toBe("ubuntu@10.0.16.5\n".repeat(2));
    const [topic, group] = readFileSync(join(dir, "work/remote-args"), "utf8").split("---\n").map((call) => call.trim().split("\n"));
    const tool = ["sudo", "-n", "bash", "-c", "_", "/opt/kafka/current/bin", "/var/log/kafka", "120", "--bootstrap-server", "10.0.16.5:9094,10.0.32.6:9094"];
    expect(topic).toEqual([...tool, "--add", "--allow-principal", "User:spark", "--operation", "Read", "--operation", "Write", "--operation", "Describe", "--topic", "th-topic"]);
    expect(group).toEqual([...tool, "--add", "--allow-principal", "User:spark", "--operation", "Read", "--group", "spark-kafka-source", "--resource-pattern-type", "prefixed"]);
    const remoteScript = readFileSync(join(dir, "work/remote-script"), "utf8");
    expect(remoteScript).toContain('"$bin/kafka-acls.sh" --command-config "$dir/admin.properties" "$@"');
    expect(remoteScript).toContain("ssl.truststore.location=/etc/kafka/tls/truststore.pem");
    expect(remoteScript).toContain("trap 'rm -rf \"$dir\"' EXIT");
    expect(calls(dir).join("\n")).not.toContain("admin.key PEM");
    expect(readFileSync(join(dir, "work/ssh-stdin"), "utf8")).toBe("admin.key PEM\nadmin.crt PEM\nca.crt PEM\n".repeat(2));
  });

  it("stops, naming the file and granting nothing, when the workstation has no kafka-admin identity", () => {
    const run = runBash(script, { stubs: { ssh: "exit 0" } });
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/home\/ubuntu\/\.platform\/tls\/admin\.key is missing: .*nothing was granted/);
    expect(run.output).toContain("FAILED at step 'check the kafka-admin identity");
    expect(calls(run.dir).filter((call) => call.startsWith("ssh "))).toEqual([]);
  });
});
