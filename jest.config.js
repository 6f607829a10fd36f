/** Jest runs TypeScript through swc (no type-checking: `npm run typecheck` does that once). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // The slow tier (the README's cdktf commands, the review on real git history): `npm run test:cli`.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/cli/"],
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  // Jest's default leaves a core to itself (one worker on two cores), but its main process only
  // waits: most suites spend their time in the bash they run, so every core gets a worker.
  maxWorkers: "100%",
};
