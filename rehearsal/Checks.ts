interface Row {
  readonly name: string;
  readonly passed: boolean;
  readonly seconds: number;
  readonly detail: string;
}

/**
 * The rehearsal's results: each setup step and each check is one named row of the summary
 * table with its outcome and duration. A failed setup step stops the rehearsal; a failed check
 * is recorded and the next one runs.
 */
export class Checks {
  private readonly rows: Row[] = [];
  private readonly notes: string[] = [];

  /** A line printed under the table: what the rehearsal did not run, and why. */
  note(text: string): void {
    this.notes.push(text);
    console.log(text);
  }

  /** A step the rest depends on: recorded, and its failure stops the rehearsal. */
  async step<T>(name: string, action: () => T | Promise<T>): Promise<T> {
    const started = Date.now();
    console.log(`--- ${name}`);
    try {
      const result = await action();
      this.record(name, true, started, "");
      return result;
    } catch (error) {
      this.record(name, false, started, (error as Error).message);
      throw error;
    }
  }

  /** A check: recorded, and the rehearsal goes on whatever its outcome. */
  async check(name: string, action: () => string | void | Promise<string | void>): Promise<boolean> {
    const started = Date.now();
    console.log(`--- check: ${name}`);
    try {
      const detail = await action();
      this.record(name, true, started, detail ?? "");
      return true;
    } catch (error) {
      this.record(name, false, started, (error as Error).message);
      console.error(`FAILED: ${name}: ${(error as Error).message}`);
      return false;
    }
  }

  failed(): boolean {
    return this.rows.some((row) => !row.passed);
  }

  printSummary(): void {
    const width = Math.max(...this.rows.map((row) => row.name.length), 10);
    console.log(`\n| ${"step or check".padEnd(width)} | result | seconds | detail`);
    console.log(`|${"-".repeat(width + 2)}|--------|---------|-------`);
    for (const row of this.rows) {
      const detail = row.detail.split("\n")[0].slice(0, 160);
      console.log(`| ${row.name.padEnd(width)} | ${row.passed ? "pass  " : "FAIL  "} | ${row.seconds.toFixed(1).padStart(7)} | ${detail}`);
    }
    for (const note of this.notes) console.log(`\n${note}`);
    const failed = this.rows.filter((row) => !row.passed).length;
    console.log(`\n${this.rows.length - failed} passed, ${failed} failed`);
  }

  private record(name: string, passed: boolean, started: number, detail: string): void {
    this.rows.push({ name, passed, seconds: (Date.now() - started) / 1000, detail });
  }
}
