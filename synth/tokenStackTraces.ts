/**
 * cdktf captures a full stack trace (no depth limit) for every token it creates, into a plain
 * object, and reads it only to say where a token came from when resolving it fails. A large
 * platform creates tens of thousands of tokens, and these captures were the largest single cost
 * of its synth. This leaves captures into plain objects empty, which cdktf treats as "no trace";
 * errors get their stack traces as before.
 */
export function skipTokenStackTraces(): void {
  const capture = Error.captureStackTrace.bind(Error);
  Error.captureStackTrace = (target: object, constructorOpt?: Function): void => {
    if (target instanceof Error) capture(target, constructorOpt);
  };
}
