// SOS-F5's measure of the space one race leaves behind. A complete that loses to an abort after it joined the parts
// has written a whole copy of them, garbage like the parts the abort dropped: kept mapped, it is never reclaimed
// and no answer shows it (blind bug pg-complete-loser-keeps-copy). So around the race the data directory is
// compacted (a clean start), measured, raced in, compacted again through the declared control, and measured.
import pg from 'pg';
import type { CheckContext } from '../../core/check-context.ts';
import { diskBytes } from '../../core/dir-bytes.ts';
import { declaredDataNodes } from './cluster-kit.ts';
import { compact } from './compaction-control.ts';

export interface SpaceProbe {
  /** After the race: seven eighths of what it added beyond `liveBytes` must be reclaimed by a compaction. */
  judge(liveBytes: number, what: string): Promise<void>;
}

/** A probe, or why the space cannot be measured (the race is still run and judged by its answers). */
export async function spaceProbe(ctx: CheckContext): Promise<SpaceProbe | string> {
  const path = ctx.setting('compactPath', '');
  const dataDir = ctx.target.dataDir?.();
  if (typeof path !== 'string' || path === '') return 'no compaction control declared (setting compactPath)';
  // A cluster keeps the bytes on its data nodes, several copies each: one node's directory measures none of them.
  if (declaredDataNodes(ctx).length >= 2)
    return "the object bytes are on the data nodes (setting dataNodes), in copies: the first node's directory holds none";
  if (!dataDir) return 'no data directory (a manifest-started target has one)';
  await compact(ctx, path);
  const before = diskBytes(dataDir);
  return {
    async judge(liveBytes, what) {
      const made = diskBytes(dataDir);
      const answer = await compact(ctx, path);
      const after = diskBytes(dataDir);
      const garbage = made - before - liveBytes;
      const reclaimed = made - after;
      ctx.evidence.raceSpace = { before, made, after, liveBytes, answer };
      ctx.expect(
        reclaimed >= (garbage * 7) / 8,
        `${what}: the race added ${made - before} bytes to the data directory, ${liveBytes} of them live; a ` +
          `compaction then reclaimed ${reclaimed}, less than seven eighths of the ${garbage} bytes of garbage ` +
          `(${before} bytes before the race, ${made} after it, ${after} after the compaction)`,
      );
    },
  };
}

/** Whether some session of the database waits on a lock now (a request blocked behind a held transaction). */
export async function lockWaitSeen(databaseUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
    );
    return Number(rows[0]?.n ?? 0) > 0;
  } finally {
    await client.end();
  }
}
