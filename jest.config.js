/** Jest runs TypeScript through swc (no type-checking: `npm run typecheck` does that once). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
};
