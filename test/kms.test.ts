import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compare } from "../review/runReview";
import type { SynthesizedPlatform } from "../review/synthesizedPlatform";
import { synthesizeWorkingTree } from "../review/synthesizeWorkingTree";
import { buildPlatform } from "../stacks/buildPlatform";
import { KEY_ADMINISTRATION_SID } from "../constructs/platformKey";
import { configFrom, dataOf, resourceStartingWith, testApp, userDataOf, type Json } from "./helpers";

/** Every stack of one platform synth, as the cdktf CLI would write them. */
function synthPlatform(): Record<string, Json> {
  const app = testApp();
  buildPlatform(app, configFrom());
  app.synth();
  const read = (stack: string): Json => JSON.parse(readFileSync(join(app.outdir, "stacks", stack, "cdk.tf.json"), "utf8")) as Json;
  return Object.fromEntries(["network", "storage", "chef", "spark"].map((stack) => [stack, read(stack)]));
}

const ROOT = "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account.account_id}:root";
/** Everything that encrypts, decrypts or lets another principal do so. */
const CRYPTO = /^kms:(\*|Encrypt|Decrypt|ReEncrypt|GenerateDataKey|CreateGrant|Create\*)/;

/** The key policy statements of the key whose construct id is `prefix`, by Sid. */
function keyPolicy(json: Json, prefix: string): Record<string, Json> {
  const policy = resourceStartingWith(json, "aws_kms_key_policy", `${prefix}_policy_`);
  const documentName = /data\.aws_iam_policy_document\.([\w-]+)\.json/.exec(String(policy.policy))?.[1] as string;
  const statements = dataOf(json, "aws_iam_policy_document")[documentName].statement as Json[];
  return Object.fromEntries(statements.map((statement) => [String(statement.sid), statement]));
}

function keyRef(json: Json, prefix: string, attribute: "arn" | "key_id"): string {
  const name = Object.keys(json.resource.aws_kms_key).find((key) => key.startsWith(`${prefix}_`)) as string;
  return `\${aws_kms_key.${name}.${attribute}}`;
}

function roleRef(json: Json, prefix: string): string {
  const name = Object.keys(json.resource.aws_iam_role).find((role) => role.startsWith(`${prefix}_role_`)) as string;
  return `\${aws_iam_role.${name}.arn}`;
}

function instance(json: Json, prefix: string): Json {
  return resourceStartingWith(json, "aws_instance", `${prefix}_instance_`);
}

function conditions(statement: Json): Record<string, [string, string[]]> {
  return Object.fromEntries(((statement.condition ?? []) as Json[]).map((condition) => [String(condition.variable), [String(condition.test), condition.values as string[]]]));
}

describe("customer-managed KMS keys", () => {
  const stacks = synthPlatform();
  const keys = [
    { stack: "chef", prefix: "admin-key-encryption", alias: "alias/insight-dev-chef-admin-key", window: 7 },
    { stack: "spark", prefix: "secret-key", alias: "alias/insight-dev-spark-secret", window: 7 },
    { stack: "storage", prefix: "data-key", alias: "alias/insight-dev-data", window: 30 },
    { stack: "network", prefix: "flow-log-key", alias: "alias/insight-dev-flow-logs", window: 7 },
  ];

  it.each(keys)("$alias rotates yearly, waits $window days before deletion, and has its alias", ({ stack, prefix, alias, window }) => {
    const json = stacks[stack];
    expect(resourceStartingWith(json, "aws_kms_key", `${prefix}_`)).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: window });
    expect(resourceStartingWith(json, "aws_kms_alias", `${prefix}_alias_`)).toMatchObject({ name: alias, target_key_id: keyRef(json, prefix, "key_id") });
    expect(resourceStartingWith(json, "aws_kms_key_policy", `${prefix}_policy_`).key_id).toBe(keyRef(json, prefix, "key_id"));
  });

  it.each(keys)("$alias lets the account administer it through IAM but never use it that way", ({ stack, prefix }) => {
    const admin = keyPolicy(stacks[stack], prefix)[KEY_ADMINISTRATION_SID];
    expect(admin.principals).toEqual([{ type: "AWS", identifiers: [ROOT] }]);
    // Without PutKeyPolicy for the account, no one could ever change the policy again.
    expect(admin.actions).toEqual(expect.arrayContaining(["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:Describe*", "kms:Get*", "kms:List*"]));
    expect((admin.actions as string[]).filter((action) => CRYPTO.test(action))).toEqual([]);
    expect(admin.condition).toBeUndefined();
  });

  it.each(keys)("$alias names no wildcard principal, and the account only for administration or through S3", ({ stack, prefix }) => {
    for (const [sid, statement] of Object.entries(keyPolicy(stacks[stack], prefix))) {
      for (const principal of statement.principals as Json[]) {
        expect(principal.type).not.toBe("*");
        expect(principal.identifiers).not.toContain("*");
        if ((principal.identifiers as string[]).includes(ROOT) && sid !== KEY_ADMINISTRATION_SID) {
          expect(conditions(statement)["kms:ViaService"]).toEqual(["StringEquals", ["s3.us-west-2.amazonaws.com"]]);
        }
      }
    }
  });

  describe("the Chef admin key's key", () => {
    const chef = stacks.chef;
    const policy = keyPolicy(chef, "admin-key-encryption");
    const server = "${aws_instance.server_instance_AD56310F.id}";
    const parameter = `arn:\${data.aws_partition.partition.partition}:ssm:us-west-2:\${data.aws_caller_identity.account.account_id}:parameter/insight/dev/chef/${server}/admin-key`;

    it("lets the server encrypt (and read back) and the workstation decrypt exactly this server's admin key, through SSM only", () => {
      expect(Object.keys(policy)).toEqual([KEY_ADMINISTRATION_SID, "ServerPublishesAdminKey", "WorkstationReadsAdminKey", "WorkstationKeepsCaKey"]);
      expect(policy.ServerPublishesAdminKey).toMatchObject({ principals: [{ type: "AWS", identifiers: [roleRef(chef, "server")] }], actions: ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"] });
      expect(policy.WorkstationReadsAdminKey).toMatchObject({ principals: [{ type: "AWS", identifiers: [roleRef(chef, "workstation")] }], actions: ["kms:Decrypt"] });
      for (const statement of [policy.ServerPublishesAdminKey, policy.WorkstationReadsAdminKey]) {
        expect(conditions(statement)).toEqual({
          "kms:ViaService": ["StringEquals", ["ssm.us-west-2.amazonaws.com"]],
          "kms:EncryptionContext:PARAMETER_ARN": ["StringEquals", [parameter]],
        });
      }
    });

    it("lets the workstation alone encrypt and decrypt the platform CA's key, through SSM, for that parameter only", () => {
      const caKey = "arn:${data.aws_partition.partition.partition}:ssm:us-west-2:${data.aws_caller_identity.account.account_id}:parameter/insight/dev/pki/ca-key";
      expect(policy.WorkstationKeepsCaKey).toMatchObject({ principals: [{ type: "AWS", identifiers: [roleRef(chef, "workstation")] }], actions: ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"] });
      expect(conditions(policy.WorkstationKeepsCaKey)).toEqual({
        "kms:ViaService": ["StringEquals", ["ssm.us-west-2.amazonaws.com"]],
        "kms:EncryptionContext:PARAMETER_ARN": ["StringEquals", [caKey]],
      });
      // No other statement names the CA's key: the server may not read it.
      const naming = Object.entries(policy).filter(([, statement]) => JSON.stringify(statement).includes("/pki/"));
      expect(naming.map(([sid]) => sid)).toEqual(["WorkstationKeepsCaKey"]);
    });

    it("is the key the server publishes the admin key under, and the workstation boots once the policy is in place", () => {
      expect(userDataOf(chef, instance(chef, "server"))).toContain(`ADMIN_KEY_KMS_KEY='${keyRef(chef, "admin-key-encryption", "arn")}'`);
      const policyName = Object.keys(chef.resource.aws_kms_key_policy)[0];
      expect(instance(chef, "workstation").depends_on).toContain(`aws_kms_key_policy.${policyName}`);
    });
  });

  describe("the Spark secret's key", () => {
    const spark = stacks.spark;
    const policy = keyPolicy(spark, "secret-key");
    const parameter = "arn:${data.aws_partition.partition.partition}:ssm:us-west-2:${data.aws_caller_identity.account.account_id}:parameter/insight/dev/spark/auth-secret";

    it("lets the master encrypt and every worker decrypt the secret's parameter only, through SSM only", () => {
      expect(Object.keys(policy)).toEqual([KEY_ADMINISTRATION_SID, "MasterPublishesSecret", "WorkersReadSecret", "WorkstationWritesKafkaClientKey", "SparkReadsKafkaClientKey"]);
      expect(policy.MasterPublishesSecret).toMatchObject({ principals: [{ type: "AWS", identifiers: [roleRef(spark, "master")] }], actions: ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"] });
      expect(policy.WorkersReadSecret).toMatchObject({
        principals: [{ type: "AWS", identifiers: [0, 1, 2].map((index) => roleRef(spark, `worker-${index}`)) }],
        actions: ["kms:Decrypt"],
      });
      for (const statement of [policy.MasterPublishesSecret, policy.WorkersReadSecret]) {
        expect(conditions(statement)["kms:EncryptionContext:PARAMETER_ARN"]).toEqual(["StringEquals", [parameter]]);
        expect(conditions(statement)["kms:ViaService"]).toEqual(["StringEquals", ["ssm.us-west-2.amazonaws.com"]]);
      }
    });

    it("lets the workstation encrypt and every Spark node decrypt Spark's Kafka client key, through SSM, for that parameter only", () => {
      const clientKey = "arn:${data.aws_partition.partition.partition}:ssm:us-west-2:${data.aws_caller_identity.account.account_id}:parameter/insight/dev/kafka/clients/spark/key";
      const workstation = "${data.terraform_remote_state.cross-stack-reference-input-chef.outputs.cross-stack-output-aws_iam_roleworkstation_role_EF792661arn}";
      expect(policy.WorkstationWritesKafkaClientKey).toMatchObject({ principals: [{ type: "AWS", identifiers: [workstation] }], actions: ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"] });
      expect(policy.SparkReadsKafkaClientKey).toMatchObject({
        principals: [{ type: "AWS", identifiers: ["master", "worker-0", "worker-1", "worker-2"].map((node) => roleRef(spark, node)) }],
        actions: ["kms:Decrypt"],
      });
      for (const statement of [policy.WorkstationWritesKafkaClientKey, policy.SparkReadsKafkaClientKey]) {
        expect(conditions(statement)).toEqual({
          "kms:ViaService": ["StringEquals", ["ssm.us-west-2.amazonaws.com"]],
          "kms:EncryptionContext:PARAMETER_ARN": ["StringEquals", [clientKey]],
        });
      }
    });

    it("is the key the master stores the secret under; every node boots once the policy is in place", () => {
      expect(userDataOf(spark, instance(spark, "master"))).toContain(`SECRET_KMS_KEY='${keyRef(spark, "secret-key", "arn")}'`);
      const policyName = Object.keys(spark.resource.aws_kms_key_policy).find((name) => name.startsWith("secret-key_policy"));
      for (const node of ["master", "worker-0", "worker-1", "worker-2"]) expect(instance(spark, node).depends_on).toContain(`aws_kms_key_policy.${policyName}`);
    });
  });

  it("leaves a role the key policies do not name (a CI plan role, even one IAM allows kms:* on every key) no way to decrypt a secret", () => {
    const planRole = "arn:aws:iam::111122223333:role/platform-plan";
    for (const [stack, prefix] of [["chef", "admin-key-encryption"], ["spark", "secret-key"]]) {
      const usable = Object.values(keyPolicy(stacks[stack], prefix)).filter((statement) => {
        const ids = (statement.principals as Json[]).flatMap((principal) => principal.identifiers as string[]);
        // A statement naming the account defers to IAM: the plan role would pass it.
        return (ids.includes(ROOT) || ids.includes(planRole)) && (statement.actions as string[]).some((action) => CRYPTO.test(action));
      });
      expect(usable).toEqual([]);
    }
  });

  describe("the data bucket's key", () => {
    const storage = stacks.storage;
    const key = keyRef(storage, "data-key", "arn");
    const bucket = "${aws_s3_bucket.data-bucket.arn}";

    it("serves the account as IAM allows, through S3 and for this bucket only", () => {
      const policy = keyPolicy(storage, "data-key");
      expect(Object.keys(policy)).toEqual([KEY_ADMINISTRATION_SID, "AccountUsesKeyThroughS3ForThisBucket"]);
      expect(policy.AccountUsesKeyThroughS3ForThisBucket).toMatchObject({ principals: [{ type: "AWS", identifiers: [ROOT] }], actions: ["kms:Decrypt", "kms:GenerateDataKey"] });
      expect(conditions(policy.AccountUsesKeyThroughS3ForThisBucket)).toEqual({
        "kms:ViaService": ["StringEquals", ["s3.us-west-2.amazonaws.com"]],
        "kms:EncryptionContext:aws:s3:arn": ["StringLike", [bucket, `${bucket}/*`]],
      });
    });

    it("is destroyed only after the bucket: a destroy stopped by objects left in it leaves them readable", () => {
      // Terraform destroys in the reverse of creation order: the bucket waits for the key, not the other way.
      const dataKey = Object.keys(storage.resource.aws_kms_key).find((name) => name.startsWith("data-key_"));
      // It waits for its access log bucket too, which is likewise destroyed after it.
      expect(storage.resource.aws_s3_bucket["data-bucket"].depends_on).toEqual([`aws_kms_key.${dataKey}`, "aws_s3_bucket.access-log-bucket"]);
      expect(resourceStartingWith(storage, "aws_kms_key", "data-key_").depends_on).toBeUndefined();
    });

    it("is the bucket's default encryption, with a bucket key, set once the key policy is in place", () => {
      const encryption = resourceStartingWith(storage, "aws_s3_bucket_server_side_encryption_configuration", "data-bucket-encryption");
      expect(encryption.rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: key }, bucket_key_enabled: true }]);
      expect(encryption.depends_on).toEqual([`aws_kms_key_policy.${Object.keys(storage.resource.aws_kms_key_policy)[0]}`]);
    });

    it("refuses a PutObject asking for another key, AES256, or aws:kms without a key (aws/s3), and accepts one that asks nothing", () => {
      const statements = dataOf(storage, "aws_iam_policy_document")["data-bucket-tls-only"].statement as Json[];
      const bySid = Object.fromEntries(statements.map((statement) => [String(statement.sid), statement]));
      const sse = "s3:x-amz-server-side-encryption";
      const sseKey = "s3:x-amz-server-side-encryption-aws-kms-key-id";
      for (const sid of ["DenyEncryptionOtherThanKms", "DenyKmsWithoutTheDataKey", "DenyAnotherKmsKey"]) {
        expect(bySid[sid]).toMatchObject({ effect: "Deny", actions: ["s3:PutObject"], principals: [{ type: "*", identifiers: ["*"] }], resources: [`${bucket}/*`] });
      }
      expect(conditions(bySid.DenyEncryptionOtherThanKms)).toEqual({ [sse]: ["StringNotEquals", ["aws:kms"]] });
      expect(bySid.DenyEncryptionOtherThanKms.condition).toContainEqual({ test: "Null", variable: sse, values: ["false"] });
      expect(bySid.DenyKmsWithoutTheDataKey.condition).toEqual([
        { test: "StringEquals", variable: sse, values: ["aws:kms"] },
        { test: "Null", variable: sseKey, values: ["true"] },
      ]);
      expect(bySid.DenyAnotherKmsKey.condition).toEqual([
        { test: "Null", variable: sseKey, values: ["false"] },
        { test: "StringNotEquals", variable: sseKey, values: [key] },
      ]);
      // A request without headers (Terraform's aws_s3_object, S3A, aws s3 cp) meets no Deny: each needs a header present.
      for (const sid of Object.keys(bySid).filter((name) => name.startsWith("Deny") && name !== "DenyInsecureTransport")) {
        expect((bySid[sid].condition as Json[]).some((condition) => (condition.test === "Null" && condition.values[0] === "false") || condition.test === "StringEquals")).toBe(true);
      }
    });

    it("lets every reader decrypt and every writer encrypt with it", () => {
      const documents = dataOf(storage, "aws_iam_policy_document");
      const kms = (name: string): Json | undefined => (documents[name].statement as Json[]).find((statement) => String(statement.sid).includes("crypt"));
      expect(kms("data-bucket-read")).toEqual({ sid: "DecryptDataObjects", actions: ["kms:Decrypt"], resources: [key] });
      expect(kms("data-bucket-spark-output")).toEqual({ sid: "EncryptSparkOutput", actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [key] });
      expect(kms("data-bucket-read-write")).toEqual({ sid: "EncryptDecryptDataObjects", actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [key] });
      const workstation = dataOf(stacks.chef, "aws_iam_policy_document")["workstation-read-chef-repo"].statement as Json[];
      expect(workstation).toContainEqual({ sid: "DecryptChefRepo", actions: ["kms:Decrypt"], resources: [expect.stringMatching(/^\$\{data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+\}$/)] });
    });
  });

  describe("the flow-log group's key", () => {
    const network = stacks.network;

    it("lets CloudWatch Logs of the region use it for the flow-log group only, and the group waits for that", () => {
      const policy = keyPolicy(network, "flow-log-key");
      expect(Object.keys(policy)).toEqual([KEY_ADMINISTRATION_SID, "CloudWatchLogsUsesKeyForFlowLogGroup"]);
      expect(policy.CloudWatchLogsUsesKeyForFlowLogGroup.principals).toEqual([{ type: "Service", identifiers: ["logs.us-west-2.amazonaws.com"] }]);
      expect(conditions(policy.CloudWatchLogsUsesKeyForFlowLogGroup)).toEqual({
        "kms:EncryptionContext:aws:logs:arn": [
          "ArnEquals",
          ["arn:${data.aws_partition.partition.partition}:logs:us-west-2:${data.aws_caller_identity.account.account_id}:log-group:/vpc/insight-dev-flow-logs"],
        ],
      });
      const group = network.resource.aws_cloudwatch_log_group["flow-log-group"] as Json;
      expect(group.kms_key_id).toBe(keyRef(network, "flow-log-key", "arn"));
      expect(group.depends_on).toEqual([`aws_kms_key_policy.${Object.keys(network.resource.aws_kms_key_policy)[0]}`]);
    });
  });
});

describe("the review of the keys", () => {
  const base = synthesizeWorkingTree([], {});
  const review = (head: Record<string, Json>) => compare(base, head as SynthesizedPlatform, "base", "head").findings;
  const keyName = (stack: Json, prefix: string): string => Object.keys(stack.resource.aws_kms_key).find((name) => name.startsWith(prefix)) as string;

  it("says a key removed is a key scheduled for deletion, and a key policy removed opens the key to IAM", () => {
    const head = structuredClone(base) as Record<string, Json>;
    const chef = head.chef.resource;
    const key = keyName(head.chef, "admin-key-encryption_");
    delete chef.aws_kms_key_policy[Object.keys(chef.aws_kms_key_policy)[0]];
    chef.aws_kms_key[key].enable_key_rotation = false;
    const messages = review(head).map((finding) => finding.message);
    expect(messages).toContain("turns the key's yearly rotation off");
    expect(messages).toContain("puts the key's policy back to the account default: any IAM policy that allows kms:Decrypt can use the key");
    delete chef.aws_kms_key[key];
    expect(review(head).map((finding) => finding.message)).toContain("schedules the key's deletion: whatever is encrypted under it is unreadable once the deletion window ends");
  });

  it("says a flow-log group that loses its key no longer encrypts new events under it", () => {
    const head = structuredClone(base) as Record<string, Json>;
    delete head.network.resource.aws_cloudwatch_log_group["flow-log-group"].kms_key_id;
    expect(review(head).map((finding) => finding.message)).toContain("new log events are no longer encrypted under the group's own key");
  });
});
