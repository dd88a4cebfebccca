// The book's three answers to double booking, one module each behind one interface, chosen by CONCURRENCY:
// pessimistic (SELECT ... FOR UPDATE), optimistic (a version column) or constraint (a CHECK).
import type { CachedNight, InventoryCache } from './cache.ts';
import { constraintTaker } from './constraint-taker.ts';
import type { Sql } from './db.ts';
import { cachedOf, fitsFor, type InventoryRow } from './inventory.ts';
import type { RoomType } from './model.ts';
import type { MutantName } from './mutants.ts';
import { optimisticTaker } from './optimistic-taker.ts';
import { pessimisticTaker } from './pessimistic-taker.ts';

export const STRATEGIES = ['pessimistic', 'optimistic', 'constraint'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Optimistic locking: attempts before answering 409 write_conflict (the client may send the same request again). */
const OPTIMISTIC_ATTEMPTS = 8;

/** Takes rooms on every night of a reservation, inside its transaction. */
export interface RoomTaker {
  /** The nights are read before the transaction, without a lock, and handed to take (the optimistic first step). */
  readonly readsFirst: boolean;
  /**
   * The lock clause of a read of the nights the store makes with its claim, in the same statement (PostgreSQL: one
   * round trip less), handed to take as readFirst; undefined: take reads what it needs itself.
   */
  readonly readWithClaim?: string;
  /** How many times a reservation is tried when take throws StaleVersion, before 409 write_conflict. */
  readonly attempts: number;
  /**
   * Adds n to total_reserved on every night, or throws 409 rooms_unavailable (or StaleVersion: try again); returns the
   * nights as it left them (fewer than asked when some have no row yet: the store makes them and tries again).
   */
  take(
    sql: Sql,
    rt: RoomType,
    nights: readonly string[],
    n: number,
    readFirst: CachedNight[] | undefined,
  ): Promise<InventoryRow[]>;
}

/** lock is what the pessimistic strategy's read adds: ' FOR UPDATE' on PostgreSQL, '' on SQLite. */
export function roomTakerFor(
  strategy: Strategy,
  lock: string,
  cache: InventoryCache,
  mutant: MutantName | undefined,
): RoomTaker {
  const taker = strategyTaker(strategy, lock, cache, mutant);
  if (mutant !== 'stream-fed-in-transaction') return taker;
  // MUTANT stream-fed-in-transaction (the blind bug cache-fed-before-commit): the nights the rooms were taken on are
  // handed to the change stream inside the transaction, before it commits; one that then rolls back (a connection
  // lost at its COMMIT) leaves the cache showing rooms nobody reserved.
  return {
    ...taker,
    async take(sql, rt, nights, n, readFirst) {
      const rows = await taker.take(sql, rt, nights, n, readFirst);
      cache.changed({ hotelId: rt.hotelId, roomTypeId: rt.roomTypeId, rows: rows.map(cachedOf) });
      return rows;
    },
  };
}

function strategyTaker(
  strategy: Strategy,
  lock: string,
  cache: InventoryCache,
  mutant: MutantName | undefined,
): RoomTaker {
  const fits = fitsFor(mutant);
  const attempts = strategy === 'optimistic' ? OPTIMISTIC_ATTEMPTS : 1;
  // MUTANT check-then-update-unlocked: whatever the strategy, the check reads the rows before the transaction,
  // unlocked, and the write compares no version (the book's race).
  if (strategy === 'optimistic' || mutant === 'check-then-update-unlocked') {
    const checkVersion = strategy === 'optimistic' && mutant !== 'optimistic-version-unchecked';
    return optimisticTaker(fits, checkVersion, attempts);
  }
  if (strategy === 'constraint') return constraintTaker();
  return pessimisticTaker(fits, lock, cache, mutant);
}
