/**
 * `npm run test:cli`: the README's cdktf commands run by the real cdktf CLI against a terraform
 * stand-in. Each command synthesizes and starts the CLI (seconds each), so it stays out of
 * `npm test`; CI runs it after `npm test`.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test/cli"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  testTimeout: 600000,
};
