/**
 * `npm run test:cli`, the slow tier: the README's cdktf commands run by the real cdktf CLI against
 * a terraform stand-in, and the plan review on real git history (each side a commit of a fixture
 * repository, synthesized from its own code), and the cost page's figures (thirteen configs
 * synthesized and priced). Each starts processes or synthesizes several times (seconds each),
 * so it stays out of `npm test`; CI runs it after `npm run test:all`.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test/cli"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  testTimeout: 600000,
};
