/**
 * The suite's two tiers. Most of its time goes to the scripts it runs (the rendered bash with
 * stubbed commands, shellcheck): `npm test` is the quick loop over the synthesized JSON, the
 * config, the guardrails and the cookbooks, and leaves the script tests out; `npm run test:all`,
 * which CI and the pull-request workflow run, runs every one.
 */
// Not PLATFORM_*: the config reads every such variable as a key.
const TIER_ENV = "TEST_TIER";

/** True in `npm test`'s quick tier. */
export function quickTier(): boolean {
  return process.env[TIER_ENV] === "quick";
}

/**
 * A describe whose tests run scripts: in the quick tier its body is not even run (many start their
 * scripts there, before any test), and one todo says where the tests went.
 */
export function describeScripts(name: string, body: () => void): void {
  if (quickTier()) {
    describe(name, () => {
      it.todo("runs scripts: npm run test:all");
    });
    return;
  }
  describe(name, body);
}

/** Called wherever a test starts a script: in the quick tier, a test outside describeScripts fails and says so. */
export function assertScriptTier(what: string): void {
  if (quickTier()) {
    throw new Error(`${what}: a test that runs a script belongs under describeScripts (test/tiers.ts), which npm test leaves to npm run test:all`);
  }
}

/** One test that runs scripts in a describe that otherwise does not: skipped in the quick tier. */
export const itScripts: jest.It = quickTier() ? it.skip : it;
