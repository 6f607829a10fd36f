/**
 * A configuration mistake. Each problem is one line that names the field, the value and the
 * rule, so the message can be printed as is and synth stops before building anything.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}
