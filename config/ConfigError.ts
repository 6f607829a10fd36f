/** Shows a control character (a newline in a file name or a key, say) escaped, as JSON would. */
function oneLine(problem: string): string {
  // eslint-disable-next-line no-control-regex
  return problem.replace(/[\u0000-\u001f\u007f]/g, (character) => JSON.stringify(character).slice(1, -1));
}

/**
 * A configuration mistake. Each problem is one line that names the field, the value and the
 * rule, so the message can be printed as is and synth stops before building anything. A line
 * stays one line whatever a path, key or value held.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const lines = problems.map(oneLine);
    super(lines.join("\n"));
    this.name = "ConfigError";
    this.problems = lines;
  }
}
