/**
 * cdktf captures a full stack trace (no depth limit) for every token it creates, into a plain
 * object, and formats it to text at once; it reads that text only to say where a token came
 * from when resolving it fails. A large platform creates tens of thousands of tokens, and
 * formatting their traces was the largest single cost of its synth. This formats traces of
 * errors as Node does and leaves those of plain objects (cdktf's captures) empty, which cdktf
 * treats as "no trace". Error stack traces are unchanged.
 */
export function skipTokenStackTraces(): void {
  Error.prepareStackTrace = (target: unknown, frames: NodeJS.CallSite[]): string => {
    if (!(target instanceof Error)) return "";
    return `${formatHead(target)}${frames.map((frame) => `\n    at ${String(frame)}`).join("")}`;
  };
}

function formatHead(error: Error): string {
  const name = error.name ?? "Error";
  const message = error.message ?? "";
  return message ? `${name}: ${message}` : name;
}
