import { readFileSync } from "node:fs";
import { configKeys } from "../config/configUsage";
import { REFERENCE_PAGES, referencePage, referencePath } from "../scripts/docsReference";

describe("the reference pages generated from the code", () => {
  it.each(REFERENCE_PAGES)("docs/reference/%s.md is what npm run docs writes today", (page) => {
    // Stale after a change to a key, default, rule, output or guardrail: run npm run docs.
    expect(readFileSync(referencePath(page), "utf8")).toBe(referencePage(page));
  });

  it("lists every config key with its environment variable", () => {
    const page = referencePage("configuration");
    for (const { key } of configKeys()) expect(page).toContain(`| \`${key}\` |`);
    expect(page).toContain("`PLATFORM_KAFKA__ZOOKEEPER_HEAP_MB`");
    expect(page).toContain("must be 1-20 lowercase letters, digits or hyphens, starting with a letter");
  });

  it("names each output's stack and the mode it exists in", () => {
    const page = referencePage("outputs");
    expect(page).toContain("| kafka | `zookeeper_connect` | ZooKeeper mode |");
    expect(page).toContain("| kafka | `kafka_cluster_id` | KRaft mode |");
    expect(page).not.toMatch(/\| `cross-stack-output-/);
  });

  it("describes every guardrail rule by its id, from the doc comment of the function that checks it", () => {
    const page = referencePage("guardrails");
    for (const id of ["no-public-ingress", "no-open-egress", "imdsv2-required", "encrypted-volumes", "ebs-optimized", "bucket-encryption", "log-group-encryption", "required-tags", "aws-api-limits"]) expect(page).toContain(`\`${id}\``);
    expect(page).not.toMatch(/export (const|function)/);
  });
});
