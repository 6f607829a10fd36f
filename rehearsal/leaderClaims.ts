/** When a watch's samples were read: each sample's modes were all asked after startedAt and answered by takenAt. */
export interface SampleTimes {
  readonly startedAt: readonly number[];
  readonly takenAt: readonly number[];
}

/**
 * A leader that has begun to stop answers "leader" until its shutdown closes its client port,
 * while its followers, already gone, elect another: for this long at most after its stop began.
 */
const STOPPING_LEADER_SECONDS = 10;

/**
 * Throws at a sample with two leaders, unless one of the two had begun to stop (`stoppedAt`, the
 * monotonic second each member's last stop began) by the time the sample was answered, and at
 * most STOPPING_LEADER_SECONDS before it was asked: that claim commits nothing, and is logged.
 */
export function assertOneLeader(samples: ReadonlyArray<Map<string, string>>, times: SampleTimes, stoppedAt: ReadonlyMap<string, number>): void {
  samples.forEach((sample, index) => {
    const leaders = [...sample].filter(([, mode]) => mode === "leader").map(([ip]) => ip);
    if (leaders.length <= 1) return;
    const stopping = leaders.filter((ip) => {
      const stopped = stoppedAt.get(ip);
      return stopped !== undefined && stopped <= times.takenAt[index] && stopped >= times.startedAt[index] - STOPPING_LEADER_SECONDS;
    });
    if (leaders.length !== 2 || stopping.length !== 1) throw new Error(`two leaders at one sample: ${describeModes(sample)}`);
    const since = times.takenAt[index] - (stoppedAt.get(stopping[0]) ?? 0);
    console.log(`${stopping[0]}, stopping for ${since.toFixed(1)} s, still answered "leader" beside the new leader: ${describeModes(sample)}`);
  });
}

/** Members' modes as the rehearsal reports them: "<ip> <mode>, ...". */
export function describeModes(modes: ReadonlyMap<string, string>): string {
  return [...modes].map(([ip, mode]) => `${ip} ${mode}`).join(", ");
}
