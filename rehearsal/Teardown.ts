import { killGroup, runningGroups } from "./system";

/**
 * Everything the rehearsal starts registers how to undo it here; `runAll` undoes it in reverse
 * order, once, on success, on failure, and on Ctrl-C or SIGTERM. Commands still running in the
 * background are stopped first.
 */
export class Teardown {
  private readonly steps: Array<{ readonly what: string; readonly undo: () => void }> = [];
  private done = false;

  constructor() {
    const exitCodes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
    for (const [signal, code] of Object.entries(exitCodes)) {
      process.on(signal, () => {
        if (this.done) {
          console.error(`${signal}: still removing what the rehearsal started`);
          return;
        }
        console.error(`\n${signal}: stopping and removing everything the rehearsal started`);
        this.runAll();
        process.exit(code);
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
    for (const group of runningGroups) killGroup(group);
    for (const step of this.steps.reverse()) {
      try {
        step.undo();
      } catch (error) {
        console.error(`teardown: could not remove ${step.what}: ${(error as Error).message}`);
      }
    }
  }
}
