// The match history: every win a game server posted, in a relational store (db.ts: SQLite in the data directory, or
// PostgreSQL; the book's MySQL table of wins). It is the source of truth: a win is recorded before the board and
// before the answer, and the boards are made again from it at every start and whenever the board lost its data (the
// book's recovery after a Redis outage).
import type { Db } from './db.ts';
import type { MutantName } from './mutants.ts';

/** Each month's total per player over the history rows up to `upTo` (the last id read), read as one cut. */
export interface HistoryCut {
  upTo: number;
  totals: Map<string, Map<string, number>>;
  /** Each month's last row per player: when they reached their total (the time tie-break orders ties by it). */
  reached?: Map<string, Map<string, number>>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function group(rows: readonly { month: string; user_id: string; score: number }[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    let m = out.get(r.month);
    if (!m) {
      m = new Map();
      out.set(r.month, m);
    }
    m.set(r.user_id, (m.get(r.user_id) ?? 0) + Number(r.score));
  }
  return out;
}

export class MatchHistory {
  constructor(
    private readonly db: Db,
    private readonly mutant?: MutantName,
  ) {}

  /** Records one win; resolves to its id once committed. */
  async record(month: string, user: string, points: number): Promise<number> {
    const [row] = await this.db.all<{ id: number }>(
      'INSERT INTO match_wins (month, user_id, points, at) VALUES (?, ?, ?, ?) RETURNING id',
      [month, user, points, Date.now()],
    );
    return Number(row!.id);
  }

  /** Every month's totals and the last id they include, as one consistent cut of the history. */
  async cut(): Promise<HistoryCut> {
    if (this.mutant === 'rebuild-misses-concurrent') return this.cutWatermarkLate();
    if (this.mutant === 'rebuild-wrong-month') return this.cutByPostingMonth();
    return this.db.tx(async (sql) => {
      // PostgreSQL hands out ids before commit, so a row with a lower id than the last one read could still commit
      // after the read and be missed by a rebuild that counts it as included. SHARE mode waits for the inserts
      // under way and holds new ones back while the cut is read. (SQLite: one writer, ids commit in order.)
      if (this.db.kind === 'postgres') await sql.run('LOCK TABLE match_wins IN SHARE MODE');
      const [last] = await sql.all<{ upto: number | null }>('SELECT MAX(id) AS upto FROM match_wins');
      const upTo = Number(last?.upto ?? 0);
      const rows = await sql.all<{ month: string; user_id: string; score: number; last: number }>(
        'SELECT month, user_id, SUM(points) AS score, MAX(id) AS last FROM match_wins WHERE id <= ? GROUP BY month, user_id',
        [upTo],
      );
      return { upTo, totals: group(rows), reached: group(rows.map((r) => ({ ...r, score: r.last }))) };
    });
  }

  /** A player's total in a month over the rows up to `id`: what the update that recorded row `id` answers. */
  async totalAt(month: string, user: string, id: number): Promise<number> {
    const [r] = await this.db.all<{ score: number | null }>(
      'SELECT SUM(points) AS score FROM match_wins WHERE month = ? AND user_id = ? AND id <= ?',
      [month, user, id],
    );
    return Number(r?.score ?? 0);
  }

  // MUTANT rebuild-misses-concurrent: the totals are read, then (a moment later) the last id: rows recorded in between
  // count as included in the rebuilt board, but are not in it.
  private async cutWatermarkLate(): Promise<HistoryCut> {
    const rows = await this.db.all<{ month: string; user_id: string; score: number }>(
      'SELECT month, user_id, SUM(points) AS score FROM match_wins GROUP BY month, user_id',
    );
    await pause(1000);
    const [last] = await this.db.all<{ upto: number | null }>('SELECT MAX(id) AS upto FROM match_wins');
    return { upTo: Number(last?.upto ?? 0), totals: group(rows) };
  }

  // MUTANT rebuild-wrong-month: each win is filed under the month it was posted in, not the month the update named.
  private async cutByPostingMonth(): Promise<HistoryCut> {
    return this.db.tx(async (sql) => {
      const rows = await sql.all<{ id: number; user_id: string; points: number; at: number }>(
        'SELECT id, user_id, points, at FROM match_wins',
      );
      const upTo = rows.reduce((m, r) => Math.max(m, Number(r.id)), 0);
      const byPosting = rows.map((r) => ({
        month: new Date(Number(r.at)).toISOString().slice(0, 7),
        user_id: r.user_id,
        score: Number(r.points),
      }));
      return { upTo, totals: group(byPosting) };
    });
  }
}
