import { readFileSync } from "node:fs";
import { join } from "node:path";
import { platformDot } from "../review/platformDiagram";
import { renderSvg } from "../review/renderSvg";
import type { Json } from "../review/synthesizedPlatform";
import { synthesizeWorkingTree } from "../review/synthesizeWorkingTree";

const COMMITTED = join(__dirname, "..", "docs", "architecture.svg");

describe("the architecture diagram", () => {
  const platform = synthesizeWorkingTree([], {});
  const dot = platformDot(platform);

  it("is committed as docs/architecture.svg, drawn from the current code (run npm run diagram when this fails)", async () => {
    expect(await renderSvg(dot)).toBe(readFileSync(COMMITTED, "utf8"));
  });

  it("draws every instance of every stack, with its type, AZ and subnet", () => {
    let count = 0;
    for (const json of Object.values(platform)) count += Object.keys((json.resource?.aws_instance ?? {}) as Json).length;
    expect(dot.match(/\\n[a-z0-9.]+ · AZ \d · (public|private)"/g)).toHaveLength(count);
    expect(dot).toContain('label="kafka-0\\nm7i.large · AZ 1 · private"');
    expect(dot).toContain('label="spark-worker-2\\nm7i.xlarge · AZ 3 · private"');
  });

  it("shows the workstation as the only way in: the operator's one edge, SSH to it", () => {
    const fromOperator = dot.split("\n").filter((line) => line.trim().startsWith('"operator"'));
    expect(fromOperator).toEqual([expect.stringMatching(/^ {2}"operator" -> "chef\/workstation_instance_[0-9A-F]{8}" \[label="SSH 22", color="#c0392b", penwidth=2\];$/)]);
  });

  it("labels security-group edges with their ports, to a stack's group or a single instance", () => {
    expect(dot).toMatch(/-> "chef\/server_instance_[0-9A-F]{8}" \[label="22, 443"\];/);
    expect(dot).toMatch(/"spark\/[^"]+" -> "kafka\/[^"]+" \[label="9092", ltail=cluster_spark, lhead=cluster_kafka\];/);
    expect(dot).toContain('[label="2181, 2888, 3888, 9092\\namong members", dir=both, style=dashed]');
  });

  it("lays out the VPC's subnets per AZ, the NAT gateway, the S3 endpoint and the bucket", () => {
    expect(dot).toContain('label="VPC 10.0.0.0/16"');
    expect(dot).toContain("<TR><TD>AZ 3</TD><TD>10.0.2.0/24</TD><TD>10.0.48.0/20</TD></TR>");
    expect(dot).toContain("s3endpoint -> bucket");
    expect(dot).toMatch(/"spark\/[^"]+" -> s3endpoint \[label="reads \(instance role\)", ltail=cluster_spark\];/);
    // The groups allow all egress: the diagram says so rather than a port it assumes.
    expect(dot).toContain('nat -> internet [label="egress: all traffic"]');
  });

  it("draws what the JSON says: the bucket's traits from its configuration resources, and every ingress range", () => {
    expect(dot).toContain('bucket [label="S3 data bucket\\n(encrypted, public access blocked, versioned)"');
    const changed = structuredClone(platform) as Record<string, Json>;
    delete changed.storage.resource.aws_s3_bucket_versioning;
    changed.kafka.resource.aws_vpc_security_group_ingress_rule["brokers-from-office"] = {
      cidr_ipv4: "203.0.113.0/24",
      from_port: 9092,
      to_port: 9092,
      ip_protocol: "tcp",
      security_group_id: "${aws_security_group.kafka-security-group.id}",
    };
    const drawn = platformDot(changed);
    expect(drawn).toContain("(encrypted, public access blocked, NOT versioned)");
    expect(drawn).toContain('"range 203.0.113.0/24" [label="203.0.113.0/24"');
    expect(drawn).toMatch(/"range 203\.0\.113\.0\/24" -> "kafka\/[^"]+" \[label="9092", lhead=cluster_kafka, color="#c0392b", penwidth=2\];/);
  });

  it("draws KRaft's controller port among members instead of ZooKeeper's", () => {
    const kraft = platformDot(synthesizeWorkingTree(["--kafka.mode", "kraft"], {}));
    expect(kraft).toContain('[label="9092, 9093\\namong members", dir=both, style=dashed]');
    expect(kraft).not.toContain("2181");
  });
});
