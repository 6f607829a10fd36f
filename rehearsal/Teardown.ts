/**
 * Everything the rehearsal starts registers how to undo it here; `runAll` undoes it in reverse
 * order, once, on success, on failure, and on Ctrl-C or SIGTERM.
 */
export class Teardown {
  private readonly steps: Array<{ readonly what: string; readonly undo: () => void }> = [];
  private done = false;

  constructor() {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, () => {
        console.error(`\n${signal}: stopping and removing everything the rehearsal started`);
        this.runAll();
        process.exit(130);
      });
    }
    process.once("exit", () => this.runAll());
  }

  /** Registers `undo` for something just created, described as `what` in case it fails. */
  add(what: string, undo: () => void): void {
    this.steps.push({ what, undo });
  }

  runAll(): void {
    if (this.done) return;
    this.done = true;
    for (const step of this.steps.reverse()) {
      try {
        step.undo();
      } catch (error) {
        console.error(`teardown: could not remove ${step.what}: ${(error as Error).message}`);
      }
    }
  }
}
