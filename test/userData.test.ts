import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { HardenedInstance } from "../constructs/HardenedInstance";
import { TEMPLATES_DIR } from "../constructs/renderScript";
import { SETUP_COMMAND } from "../constructs/setupCommand";
import { buildPlatform } from "../stacks/buildPlatform";
import { configFrom, expectUserDataAsRendered, synthAppStack, testApp } from "./helpers";

describe("user data reaches every instance byte for byte", () => {
  const app = testApp();
  const platform = buildPlatform(app, configFrom());
  const expected = { chef: 2, spark: 4, kafka: 3 } as const;

  it.each(Object.entries(expected))("in the %s stack", (name, count) => {
    const json = synthAppStack(app, name);
    expect(expectUserDataAsRendered(platform[name as keyof typeof expected], json)).toBe(count);
  });
});

describe("every instance's setup runs again through one command", () => {
  const platform = buildPlatform(testApp(), configFrom());
  const stacks: TerraformStack[] = Object.values(platform);
  const scripts = stacks.flatMap((stack) =>
    stack.node
      .findAll()
      .filter((construct: IConstruct): construct is HardenedInstance => construct instanceof HardenedInstance && construct.userDataScript !== undefined)
      .map((instance: HardenedInstance) => [instance.node.path, instance.userDataScript as string] as const),
  );

  it("covers every instance kind that has user data", () => {
    expect(scripts.map(([path]) => path.replace(/-\d+$/, "-N")).filter((path, index, all) => all.indexOf(path) === index).sort()).toEqual(
      ["chef/server", "chef/workstation", "kafka/node-N", "spark/master", "spark/worker-N"].sort(),
    );
  });

  // cloud-init keeps the gzip EC2 delivered as user-data.txt: re-running that fails. The first
  // step keeps the script itself where a re-run, by hand or by a provisioner, finds it.
  it.each(scripts)("%s keeps itself as the setup command before any other step", (_path, script) => {
    expect(script).toContain(`SETUP_COMMAND='${SETUP_COMMAND}'`);
    const steps = [...script.matchAll(/^step "([^"]+)"$/gm)].map((match) => match[1]);
    expect(steps[0]).toBe("keep this setup as ${SETUP_COMMAND}");
    expect(script).toMatch(/^step "keep this setup as \$\{SETUP_COMMAND\}"\nkeep_setup_command "\$SETUP_COMMAND"$/m);
  });

  it("no template runs cloud-init's raw copy of user data, which is gzip", () => {
    const templates = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? templates(join(dir, entry.name)) : [join(dir, entry.name)]));
    const runners = [...templates(TEMPLATES_DIR), ...templates(join(__dirname, "..", "rehearsal", "templates"))].filter((file) =>
      /(bash|sh|sudo|exec|source|\.)\s+\S*user-data\.txt/.test(readFileSync(file, "utf8")),
    );
    expect(runners).toEqual([]);
  });
});
