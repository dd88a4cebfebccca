// SE-F1's torn tail: while the exchange is down after a kill -9, its file event log (the spec README's layout:
// <dataDir>/events.log, one JSON line per event, each ending with its newline) gets half of one more line, as a
// write cut short by a crash leaves it. That write was never answered: the restart must drop it (nothing of it
// replayed, the sequence where the log's last whole event left it) and must not stop; and the events written after
// the restart must survive the next kill too (a torn tail left in the file has the next event written onto it).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext } from '../../core/check-context.ts';

export interface Tear {
  file: string;
  /** Where the torn bytes begin: the log's length before them. */
  at: number;
  torn: Buffer;
}

/**
 * Appends half of a line to a stopped exchange's log: the log's last event again with `nextSequenceId`, cut in
 * two. Returns the tear, or why there was none (no such file: the events are kept elsewhere).
 */
export function tearLogTail(ctx: CheckContext, nextSequenceId: number): Tear | string {
  const dataDir = ctx.target.dataDir?.();
  if (!dataDir) return 'not torn: the target has no data directory the harness knows';
  const file = join(dataDir, 'events.log');
  if (!existsSync(file))
    return 'not torn: no events.log in the data directory (the event log is kept elsewhere: PostgreSQL, or a layout the spec README does not give)';
  const text = readFileSync(file, 'utf8');
  if (!text.endsWith('\n')) return 'not torn: events.log does not end with a newline after the last acknowledged event';
  const last = text.slice(text.lastIndexOf('\n', text.length - 2) + 1, -1);
  const next = last.replace(/"sequenceId":\d+/, `"sequenceId":${nextSequenceId}`);
  const torn = Buffer.from(next.slice(0, Math.floor(next.length / 2)), 'utf8');
  appendFileSync(file, torn);
  return { file, at: Buffer.byteLength(text), torn };
}

/**
 * Takes the torn bytes out again if they are still where they were put (an exchange that could not start with
 * them gets its log back as it wrote it, so the run goes on); whether they were.
 */
export function untear(t: Tear): boolean {
  const bytes = readFileSync(t.file);
  if (!bytes.subarray(t.at, t.at + t.torn.length).equals(t.torn)) return false;
  writeFileSync(t.file, Buffer.concat([bytes.subarray(0, t.at), bytes.subarray(t.at + t.torn.length)]));
  return true;
}

/** What the evidence records of a tear. */
export function tearEvidence(t: Tear | string): Record<string, unknown> | string {
  return typeof t === 'string' ? t : { file: 'events.log', sizeBefore: t.at, tornBytes: t.torn.length };
}

/**
 * Starts the exchange after a kill. One that does not start while the torn bytes are in its log is started again
 * without them (so the run goes on) and fails the check, saying which start it was.
 */
export async function startAfterTear(ctx: CheckContext, t: Tear | string | null, round: number): Promise<void> {
  try {
    await ctx.target.start();
    return;
  } catch (e) {
    if (t === null || typeof t === 'string' || !untear(t)) throw e;
    const why = (e as Error).message.split('\n')[0];
    await ctx.target.start();
    ctx.fail(
      round === 1
        ? `after kill -9 1 the exchange did not start with a torn write (half a line) at the end of events.log (${why}); it started once the harness took those bytes out: a torn tail must be dropped, never stop the start`
        : `after kill -9 ${round} the exchange did not start (${why}); it started once the harness took out the half line it had appended to events.log at kill -9 1: the torn write was left in the log and the next event was written onto it`,
    );
  }
}
