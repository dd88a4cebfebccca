// MUTANT key-claimed-outside-transaction (the blind bug pg-key-claimed-before-rooms, its mistake on demand): the
// reservationId is claimed on a pooled connection of its own, committed at once, before the transaction takes the
// rooms; when the reservation then fails, the claim is deleted, again on its own. A database lost between the two
// leaves a reservation that took no rooms, and the client's retry is answered 200 with it. PostgreSQL only (SQLite's
// one write lock is the transaction's).
import type { Db, Sql } from './db.ts';

export class OutsideClaims {
  /** reservationIds this process claimed outside a transaction whose reservation is not decided yet. */
  private readonly open = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly on: boolean,
  ) {}

  /** Where a claim runs: the transaction's `sql`, or under the mutant the pool (autocommit). */
  sqlFor(sql: Sql, onConflict: boolean): Sql {
    return this.on && onConflict && this.db.kind === 'postgres' ? this.db : sql;
  }

  /** Records a claim made outside the transaction, to give it back if the reservation fails. */
  made(sql: Sql, reservationId: string, inserted: boolean): void {
    if (this.on && sql === this.db && inserted) this.open.add(reservationId);
  }

  /** The reservation is decided: its claim stays. */
  kept(reservationId: string): void {
    this.open.delete(reservationId);
  }

  /** The reservation failed: its claim is deleted (when the database lets it). */
  async giveBack(reservationId: string): Promise<void> {
    if (this.open.delete(reservationId))
      await this.db.run('DELETE FROM reservation WHERE reservation_id = ?', [reservationId]);
  }
}
