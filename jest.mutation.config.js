/**
 * The tests a mutation run (npm run mutation) uses: those that exercise config, guardrails,
 * escaping, script rendering and security group rules directly, each building what it needs
 * inside the test. Stack tests catch mutants too (their snapshots change), but they synthesize
 * whole stacks for every mutant; leaving them out keeps a mutant to a second or two.
 */
const base = require("./jest.config");

module.exports = {
  ...base,
  testMatch: [
    "**/test/config.test.ts",
    "**/test/guardrails.test.ts",
    "**/test/renderScript.test.ts",
    "**/test/hardenedInstance.test.ts",
    "**/test/securityGroupRules.test.ts",
    "**/test/sparkJars.test.ts",
  ],
};
