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
