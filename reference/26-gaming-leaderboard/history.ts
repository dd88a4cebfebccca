// The match history: every update a game server posted, in a relational store (SQLite in the data directory, the
// book's MySQL table of wins). It is written before the board and before the answer, so the board can always be
// rebuilt from it (the book's recovery after a Redis outage): the service does so at every start.
import Database from 'better-sqlite3';

export class MatchHistory {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, number, number]>;

  constructor(file: string) {
    this.db = new Database(file);
    // WAL: a committed insert is in the file (the OS page cache) before the answer, so a kill -9 loses nothing.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS match_wins (
      id INTEGER PRIMARY KEY,
      month TEXT NOT NULL,
      user_id TEXT NOT NULL,
      points INTEGER NOT NULL,
      at INTEGER NOT NULL
    )`);
    this.insert = this.db.prepare('INSERT INTO match_wins (month, user_id, points, at) VALUES (?, ?, ?, ?)');
  }

  record(month: string, user: string, points: number): void {
    this.insert.run(month, user, points, Date.now());
  }

  /** Each month's total per player: what the boards must hold. */
  totals(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    const rows = this.db
      .prepare('SELECT month, user_id, SUM(points) AS score FROM match_wins GROUP BY month, user_id')
      .all() as { month: string; user_id: string; score: number }[];
    for (const r of rows) {
      let m = out.get(r.month);
      if (!m) {
        m = new Map();
        out.set(r.month, m);
      }
      m.set(r.user_id, r.score);
    }
    return out;
  }

  close(): void {
    this.db.close();
  }
}
