/** Jest runs TypeScript through swc (no type-checking: `npm run typecheck` does that once). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // The README's cdktf commands take a minute: `npm run test:cli` (jest.cli.config.js).
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/cli/"],
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
};
