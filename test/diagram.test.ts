import { readFileSync } from "node:fs";
import { join } from "node:path";
import { platformDot } from "../review/platformDiagram";
import { renderSvg } from "../review/renderSvg";
import type { Json } from "../review/synthesizedPlatform";
import { synthesizeWorkingTree } from "../review/synthesizeWorkingTree";

const COMMITTED = join(__dirname, "..", "docs", "architecture.svg");

/** GitHub's README column: an SVG wider than this is scaled down to fit it. */
const README_WIDTH_PX = 800;
/** The smallest text size, in CSS pixels as shown, that stays readable. */
const SMALLEST_LEGIBLE_PX = 11;

interface SvgText {
  readonly text: string;
  readonly fontSize: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** The drawing's width and height in SVG units. */
function viewBoxOf(svg: string): { width: number; height: number } {
  const found = /viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"/.exec(svg);
  if (!found) throw new Error("no viewBox in the SVG");
  return { width: Number(found[1]), height: Number(found[2]) };
}

/** How much the picture is scaled when shown in the README: never enlarged beyond its own size. */
function readmeScale(svg: string): number {
  const width = /<svg width="([\d.]+)pt"/.exec(svg);
  if (!width) throw new Error("no width in the SVG");
  const ownWidthPx = (Number(width[1]) * 4) / 3;
  return Math.min(README_WIDTH_PX, ownWidthPx) / viewBoxOf(svg).width;
}

/**
 * Every text of the SVG with an estimated box: 0.6 em per character (wider than Helvetica's
 * average, so a pass here holds in any sans-serif), from 0.8 em above the baseline to 0.2 em below.
 */
function svgTexts(svg: string): SvgText[] {
  return [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map(([, attributes, content]) => {
    const attribute = (name: string): string => {
      const found = new RegExp(`\\b${name}="([^"]*)"`).exec(attributes);
      if (!found) throw new Error(`<text> without ${name}: ${attributes}`);
      return found[1];
    };
    const text = content
      .replace(/&#(\d+);/g, (_entity, code: string) => String.fromCodePoint(Number(code)))
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
    const fontSize = Number(attribute("font-size"));
    const x = Number(attribute("x"));
    const y = Number(attribute("y"));
    const width = 0.6 * fontSize * [...text].length;
    const anchor = /text-anchor="(start|middle|end)"/.exec(attributes)?.[1] ?? "start";
    const left = anchor === "start" ? x : anchor === "middle" ? x - width / 2 : x - width;
    return { text, fontSize, left, right: left + width, top: y - 0.8 * fontSize, bottom: y + 0.2 * fontSize };
  });
}

/** Pairs of texts whose estimated boxes overlap. */
function overlappingTexts(texts: readonly SvgText[]): string[] {
  const pairs: string[] = [];
  texts.forEach((a, index) => {
    for (const b of texts.slice(index + 1)) {
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) pairs.push(`"${a.text}" overlaps "${b.text}"`);
    }
  });
  return pairs;
}

/** The lines of every instance box in the graph: its table cells that carry a port. */
function boxesOf(dot: string): string[][] {
  return [...dot.matchAll(/<TD PORT="[^"]+"[^>]*>(.*?)<\/TD>/g)].map(([, content]) => content.split("<BR/>"));
}

/** A large platform: 9 brokers, dedicated controllers, 6 workers, a NAT per AZ, and more ingress ranges. */
let large: Record<string, Json> | undefined;
function largePlatform(): Record<string, Json> {
  large ??= buildLargePlatform();
  return large;
}

function buildLargePlatform(): Record<string, Json> {
  const platform = structuredClone(synthesizeWorkingTree(["--kafka.nodes", "9", "--kafka.mode", "kraft", "--kafka.dedicatedControllers", "true", "--spark.workers", "6", "--network.natGateways", "perAz"], {})) as Record<string, Json>;
  const rules = platform.chef.resource.aws_vpc_security_group_ingress_rule as Record<string, Json>;
  const ssh = rules["workstation-ssh-from-admin"];
  ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"].forEach((range, index) => {
    rules[`workstation-ssh-from-office-${index}`] = { ...ssh, cidr_ipv4: undefined, [range.includes(":") ? "cidr_ipv6" : "cidr_ipv4"]: range };
  });
  const kafkaGroup = "${aws_security_group.kafka-security-group.id}";
  const sparkGroup = "${aws_security_group.spark-security-group.id}";
  const kafkaRules = platform.kafka.resource.aws_vpc_security_group_ingress_rule as Record<string, Json>;
  kafkaRules["brokers-from-office"] = { cidr_ipv4: "203.0.113.0/24", from_port: 9092, to_port: 9092, ip_protocol: "tcp", security_group_id: kafkaGroup };
  kafkaRules["brokers-from-partner"] = { cidr_ipv4: "198.51.100.128/25", from_port: 9093, to_port: 9094, ip_protocol: "tcp", security_group_id: kafkaGroup };
  const sparkRules = platform.spark.resource.aws_vpc_security_group_ingress_rule as Record<string, Json>;
  sparkRules["ui-from-anywhere"] = { cidr_ipv4: "0.0.0.0/0", from_port: 8080, to_port: 8080, ip_protocol: "tcp", security_group_id: sparkGroup };
  return platform;
}

describe("the architecture diagram", () => {
  const platform = synthesizeWorkingTree([], {});
  const dot = platformDot(platform);

  it("is committed as docs/architecture.svg, drawn from the current code (run npm run diagram when this fails)", async () => {
    expect(await renderSvg(dot)).toBe(readFileSync(COMMITTED, "utf8"));
  });

  it("draws every instance of every stack, with its type, AZ and subnet; alike instances share one box", () => {
    const instances = Object.values(platform).flatMap((json) => Object.values((json.resource?.aws_instance ?? {}) as Json) as Json[]);
    const drawn = boxesOf(dot);
    for (const instance of instances) {
      const name = String(instance.tags.Name).replace(/^insight-dev-/, "");
      const [, kind, az] = /(public|private)-subnet-(\d+)/.exec(String(instance.subnet_id)) as RegExpExecArray;
      const where = `${String(instance.instance_type)} · AZ ${Number(az) + 1} · ${kind}`;
      const alone = drawn.some((lines) => lines.join("\n") === `${name}\n${where}`);
      const grouped = drawn.some(
        (lines) =>
          lines[0].endsWith(` · ${String(instance.instance_type)} · ${kind}`) &&
          lines.some((line) => line.startsWith(`AZ ${Number(az) + 1}: `) && line.slice(line.indexOf(": ") + 2).split(", ").includes(name)),
      );
      expect({ name, drawn: alone || grouped }).toEqual({ name, drawn: true });
    }
    expect(drawn).toContainEqual(["kafka ×3 · m7i.large · private", "AZ 1: kafka-0", "AZ 2: kafka-1", "AZ 3: kafka-2"]);
    expect(drawn).toContainEqual(["spark-master", "m7i.large · AZ 1 · private"]);
  });

  it("shows the workstation as the only way in: the operator's one edge, SSH to it", () => {
    const fromOperator = dot.split("\n").filter((line) => /^ {2}(operator|"entry operator") /.test(line));
    expect(fromOperator).toEqual([
      expect.stringMatching(/^ {2}"entry operator" -> "chef":"workstation_instance_[0-9A-F]{8}" \[label="SSH 22", color="#c0392b", penwidth=2\];$/),
      '  operator -> "entry operator" [arrowhead=none, color="#c0392b", penwidth=2];',
    ]);
  });

  it("labels security-group edges with their ports, to a whole stack or to one box, and traffic inside a stack in its table", () => {
    expect(dot).toMatch(/ {2}"kafka" -> "chef":"server_instance_[0-9A-F]{8}" \[label="443"\];/);
    expect(dot).toContain('  "spark" -> "kafka" [label="9094"];');
    expect(dot).toContain(">chef-workstation → chef-server: 22, 443</TD>");
    expect(dot).toContain(">among members: 2182, 2888, 3888, 9094</TD>");
  });

  it("lays out the VPC's subnets per AZ, the NAT gateway, the S3 endpoint and the bucket", () => {
    expect(dot).toContain('label="VPC 10.0.0.0/16"');
    expect(dot).toMatch(/<TR><TD [^>]*>AZ 3<\/TD><TD [^>]*>10\.0\.2\.0\/24<\/TD><TD [^>]*>10\.0\.48\.0\/20<\/TD><\/TR>/);
    expect(dot).toMatch(/<TD [^>]*>10\.0\.0\.0\/24 \+ NAT<\/TD>/);
    expect(dot.match(/\+ NAT</g)).toHaveLength(1);
    expect(dot).toContain("s3endpoint -> bucket");
    expect(dot).toContain('  "spark" -> s3endpoint [label="reads (instance role)"];');
    // The groups allow all egress: the diagram says so rather than a port it assumes.
    expect(dot).toContain('internet -> subnets [label="egress 80, 443", dir=back]');
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
    // The bucket policy's TLS-only deny decides what the endpoint-to-bucket edge says.
    expect(dot).toContain('s3endpoint -> bucket [label="HTTPS only"]');
    for (const document of Object.values(changed.storage.data.aws_iam_policy_document as Json) as Json[]) {
      document.statement = (document.statement as Json[]).filter((statement) => !JSON.stringify(statement.condition ?? []).includes("aws:SecureTransport"));
    }
    expect(platformDot(changed)).toContain('s3endpoint -> bucket [label="HTTP or HTTPS"]');
    expect(drawn).toContain('"range 203.0.113.0/24" [label="203.0.113.0/24"');
    expect(drawn).toContain('  "range 203.0.113.0/24" -> "entry 203.0.113.0/24" [arrowhead=none, color="#c0392b", penwidth=2];');
    expect(drawn).toContain('  "entry 203.0.113.0/24" -> "kafka" [label="9092", color="#c0392b", penwidth=2];');
  });

  it("draws a large platform with one box per kind of instance, and one node per set of ranges that reach the same boxes on the same ports", () => {
    const drawn = platformDot(largePlatform());
    expect(boxesOf(drawn)).toContainEqual(["kafka ×9 · m7i.large · private", "AZ 1: kafka-0, kafka-3, kafka-6", "AZ 2: kafka-1, kafka-4, kafka-7", "AZ 3: kafka-2, kafka-5, kafka-8"]);
    expect(boxesOf(drawn)).toContainEqual(["kafka-controller ×3 · m7i.large · private", "AZ 1: kafka-controller-0", "AZ 2: kafka-controller-1", "AZ 3: kafka-controller-2"]);
    expect(drawn).toMatch(/<TD [^>]*>10\.0\.2\.0\/24 \+ NAT<\/TD>/);
    // Three office ranges allowed only SSH to the workstation: one node, one edge.
    expect(drawn).toContain('"range 192.0.2.0/24" [label="192.0.2.0/24\\n198.51.100.0/24\\n2001:db8::/32"');
    expect(drawn).toMatch(/ {2}"entry 192\.0\.2\.0\/24" -> "chef":"workstation_instance_[0-9A-F]{8}" \[label="22", color="#c0392b", penwidth=2\];/);
    // A range that also reaches the brokers keeps a node of its own, with both edges.
    expect(drawn).toContain('"range 203.0.113.0/24" [label="203.0.113.0/24"');
    expect(drawn).toContain('  "entry 203.0.113.0/24" -> "kafka" [label="9092", color="#c0392b", penwidth=2];');
    expect(drawn).toContain('"range 0.0.0.0/0" [label="0.0.0.0/0\\n(the whole internet)"');
    expect(drawn).toContain('  "entry 198.51.100.128/25" -> "kafka" [label="9093-9094", color="#c0392b", penwidth=2];');
  });

  describe.each([
    ["the default config", () => platform],
    ["a large config (9 brokers, 3 dedicated controllers, 6 workers, 7 ingress ranges)", largePlatform],
  ])("is legible at README width for %s", (_name, build) => {
    let svg = "";
    beforeAll(async () => {
      svg = await renderSvg(platformDot(build()));
    });

    it(`shows every text at ${SMALLEST_LEGIBLE_PX} px or more when ${README_WIDTH_PX} px wide`, () => {
      const scale = readmeScale(svg);
      const small = svgTexts(svg)
        .filter((text) => text.fontSize * scale < SMALLEST_LEGIBLE_PX)
        .map((text) => `${text.text}: ${(text.fontSize * scale).toFixed(1)} px`);
      expect(small).toEqual([]);
    });

    it("overlaps no text with another", () => {
      expect(overlappingTexts(svgTexts(svg))).toEqual([]);
    });

    it("runs no text past the edge of the picture", () => {
      // Graphviz draws everything in one group moved by its padding and, for y, the height.
      const { width, height } = viewBoxOf(svg);
      const [dx, dy] = (/<g id="graph0" class="graph" transform="[^"]*translate\(([-\d.]+) ([-\d.]+)\)"/.exec(svg) ?? []).slice(1).map(Number);
      const outside = svgTexts(svg).filter((text) => text.left + dx < 0 || text.right + dx > width || text.top + dy < 0 || text.bottom + dy > height);
      expect(outside.map((text) => text.text)).toEqual([]);
    });
  });

  it("draws KRaft's controller port among members instead of ZooKeeper's", () => {
    const kraft = platformDot(synthesizeWorkingTree(["--kafka.mode", "kraft"], {}));
    expect(kraft).toContain(">among members: 9094, 9095</TD>");
    expect(kraft).not.toContain("2181");
  });
});
