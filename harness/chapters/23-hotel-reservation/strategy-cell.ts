// One cell of the book's comparison of its three concurrency strategies: one strategy on one store (the embedded
// SQLite or PostgreSQL) under one contention profile. The reference's own HotelStore runs in this process on a fresh
// store; many clients send reservations from a plan made from a seed (the same plan for every strategy), and every
// transaction the store starts is counted with how it ended. Afterwards the inventory rows are read back and held to
// the invariant: no night over 110% of its inventory, and each night's count equal to what was acknowledged on it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryInventoryCache } from '../../../reference/23-hotel-reservation/cache.ts';
import { dateOf, today } from '../../../reference/23-hotel-reservation/dates.ts';
import {
  type Db,
  isCheckViolation,
  PostgresDb,
  type Sql,
  SqliteDb,
  schemaOptionsFor,
} from '../../../reference/23-hotel-reservation/db.ts';
import type { MutantName } from '../../../reference/23-hotel-reservation/mutants.ts';
import { StaleVersion } from '../../../reference/23-hotel-reservation/optimistic-taker.ts';
import type { Strategy } from '../../../reference/23-hotel-reservation/room-taker.ts';
import { HotelStore } from '../../../reference/23-hotel-reservation/store.ts';
import { ProblemError } from '../../../reference/kit/problem.ts';
import { type Random, seededRandom } from '../../fakes/prng.ts';

export type StoreKind = 'sqlite' | 'postgres';
export type Contention = 'low' | 'high';

/** Why a transaction rolled back. */
export type RollbackCause = 'version' | 'constraint' | 'refused' | 'deadlock' | 'other';

export interface CellSettings {
  /** Clients sending at once, each one reservation after another. */
  clients: number;
  /** Reservation attempts in the cell (each a new reservationId), the same number in both profiles. */
  attempts: number;
  /** Rounds of every cell, the strategies' order reversed each round so drift of a shared machine evens out. */
  rounds: number;
}

/** A client sends the same request again after 409 write_conflict (the spec's Retry-After) at most this often. */
export const MAX_RESENDS = 3;

export interface CellResult {
  store: StoreKind;
  contention: Contention;
  strategy: Strategy;
  mutant?: MutantName;
  attempts: number;
  committed: number;
  /** Refused as 409 rooms_unavailable: no room left within 110% on a night. */
  soldOut: number;
  /** Still 409 write_conflict after MAX_RESENDS resends. */
  gaveUp: number;
  /** Anything else (an exception, a 5xx): never expected. */
  errors: number;
  errorSample?: string;
  seconds: number;
  committedPerS: number;
  /** Of one attempt as its client saw it (resends included), ms. */
  p99Ms: number;
  /** Transactions the store started, and those rolled back by cause. */
  transactions: number;
  rolledBack: Record<RollbackCause, number>;
  /** Transactions the store tried again itself after a version conflict (optimistic). */
  serverRetries: number;
  /** Requests clients sent again after 409 write_conflict. */
  clientResends: number;
  /** Nights read back over 110% of their inventory. */
  overLimit: number;
  /** Nights whose reserved count is not the sum of the reservations acknowledged on them. */
  miscounted: number;
  /** The worst night read back, for the reason: reserved of allowed. */
  worst?: { date: string; reserved: number; allowed: number };
  nights: number;
}

/** A store opened for one cell, with its transactions counted. */
export interface OpenedStore {
  store: HotelStore;
  db: CountingDb;
  close(): Promise<void>;
}

function causeOf(e: unknown): RollbackCause {
  if (e instanceof StaleVersion) return 'version';
  if (isCheckViolation(e)) return 'constraint';
  if (e instanceof ProblemError && e.code === 'rooms_unavailable') return 'refused';
  // PostgreSQL's deadlock_detected and serialization_failure.
  const code = (e as { code?: string }).code;
  if (code === '40P01' || code === '40001') return 'deadlock';
  return 'other';
}

/** The store's Db with every transaction counted and each rollback given its cause; the statements are untouched. */
class CountingDb implements Db {
  transactions = 0;
  readonly rolledBack: Record<RollbackCause, number> = { version: 0, constraint: 0, refused: 0, deadlock: 0, other: 0 };

  constructor(private readonly db: Db) {}

  get kind() {
    return this.db.kind;
  }
  all<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.db.all<T>(sql, params);
  }
  run(sql: string, params?: unknown[]): Promise<number> {
    return this.db.run(sql, params);
  }
  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    this.transactions++;
    try {
      return await this.db.tx(fn);
    } catch (e) {
      this.rolledBack[causeOf(e)]++;
      throw e;
    }
  }
  health() {
    return this.db.health();
  }
  close(): Promise<void> {
    return this.db.close();
  }
}

/** A fresh store for one cell: a new SQLite file, or a new PostgreSQL schema dropped afterwards. */
export async function openStore(
  kind: StoreKind,
  strategy: Strategy,
  mutant: MutantName | undefined,
  databaseUrl: string | undefined,
): Promise<OpenedStore> {
  const options = schemaOptionsFor(strategy, mutant);
  let raw: Db;
  let cleanup: () => Promise<void>;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sdgrade-23-strategies-'));
    raw = new SqliteDb(join(dir, 'hotel.sqlite'), options);
    cleanup = async () => {
      await raw.close();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    if (!databaseUrl) throw new Error('PostgreSQL cells need a database URL');
    const schema = `hr23cmp_${randomBytes(6).toString('hex')}`;
    raw = await PostgresDb.connect(databaseUrl, schema, options, () => {});
    cleanup = async () => {
      try {
        await raw.run(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await raw.close();
      }
    };
  }
  const db = new CountingDb(raw);
  const cache = new MemoryInventoryCache(mutant === 'cache-key-without-room-type');
  return {
    store: new HotelStore(db, strategy, cache, mutant),
    db,
    close: async () => {
      await cache.close();
      await cleanup();
    },
  };
}

/** One planned reservation: room type (by index), first night (days from today), nights, rooms. */
interface Planned {
  roomType: number;
  startDay: number;
  nights: number;
  rooms: number;
}

interface Profile {
  roomTypes: number;
  inventory: number;
  plan: Planned[];
}

/**
 * low: 40 room types of 50 rooms, random stays of 1-3 nights in the next 300 days, 1-2 rooms: two clients rarely
 * want the same night of the same room type at once, and nothing sells out.
 * high: every client wants 1 room of one room type for the same 3 nights, and the rooms sell out after about three
 * quarters of the attempts (110% of the inventory), so the last rooms are raced for and the rest refused.
 */
export function contentionProfile(contention: Contention, attempts: number, random: Random): Profile {
  if (contention === 'high') {
    const inventory = Math.max(1, Math.floor((attempts * 0.75 * 10) / 11));
    return {
      roomTypes: 1,
      inventory,
      plan: Array.from({ length: attempts }, () => ({ roomType: 0, startDay: 7, nights: 3, rooms: 1 })),
    };
  }
  return {
    roomTypes: 40,
    inventory: 50,
    plan: Array.from({ length: attempts }, () => ({
      roomType: Math.floor(random() * 40),
      startDay: 1 + Math.floor(random() * 300),
      nights: 1 + Math.floor(random() * 3),
      rooms: 1 + Math.floor(random() * 2),
    })),
  };
}

export function p99(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.max(0, Math.ceil(s.length * 0.99) - 1)]! * 10) / 10;
}

export interface CellOptions {
  store: StoreKind;
  contention: Contention;
  strategy: Strategy;
  settings: CellSettings;
  seed: number;
  databaseUrl?: string | undefined;
  /** A deliberately broken reference (the chapter's mutants), to show the cell's verdict can fail. */
  mutant?: MutantName | undefined;
}

export async function runCell(o: CellOptions): Promise<CellResult> {
  const { clients, attempts } = o.settings;
  const profile = contentionProfile(o.contention, attempts, seededRandom(o.seed));
  const opened = await openStore(o.store, o.strategy, o.mutant, o.databaseUrl);
  try {
    const { store, db } = opened;
    const hotel = await store.createHotel({ name: 'Strategy comparison', address: '1 Bench Street' });
    const roomTypes: string[] = [];
    for (let i = 0; i < profile.roomTypes; i++)
      roomTypes.push(
        (
          await store.createRoomType(hotel.hotelId, {
            name: `type ${i}`,
            totalInventory: profile.inventory,
            rateMinor: 10_000,
            currency: 'USD',
          })
        ).roomTypeId,
      );
    // Counted from here: the set-up's transactions are not the comparison's.
    db.transactions = 0;
    for (const k of Object.keys(db.rolledBack)) db.rolledBack[k as RollbackCause] = 0;

    const acknowledged = new Map<string, number>();
    const latencies: number[] = [];
    const tally = { committed: 0, soldOut: 0, gaveUp: 0, errors: 0, writeConflicts: 0, clientResends: 0 };
    let errorSample: string | undefined;
    const day0 = today();
    const client = async (c: number) => {
      for (let k = c; k < profile.plan.length; k += clients) {
        const p = profile.plan[k]!;
        const request = {
          reservationId: `cmp-${k}`,
          hotelId: hotel.hotelId,
          roomTypeId: roomTypes[p.roomType]!,
          roomCount: p.rooms,
          startDate: dateOf(day0 + p.startDay),
          endDate: dateOf(day0 + p.startDay + p.nights),
          guestId: `guest-${c}`,
        };
        const started = performance.now();
        for (let sent = 0; ; sent++) {
          try {
            await store.reserve(request);
            tally.committed++;
            for (let d = 0; d < p.nights; d++) {
              const key = `${request.roomTypeId}|${dateOf(day0 + p.startDay + d)}`;
              acknowledged.set(key, (acknowledged.get(key) ?? 0) + p.rooms);
            }
          } catch (e) {
            const code = e instanceof ProblemError && e.status === 409 ? e.code : undefined;
            if (code === 'write_conflict') {
              tally.writeConflicts++;
              if (sent < MAX_RESENDS) {
                tally.clientResends++;
                continue;
              }
              tally.gaveUp++;
            } else if (code === 'rooms_unavailable') tally.soldOut++;
            else {
              tally.errors++;
              errorSample ??= (e as Error).message;
            }
          }
          break;
        }
        latencies.push(performance.now() - started);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    const seconds = (performance.now() - start) / 1000;

    // The invariant, read from the store's own table: never more than 110%, and exactly what was acknowledged.
    const rows = await db.all<{ room_type_id: string; date: string; total_inventory: number; total_reserved: number }>(
      'SELECT room_type_id, date, total_inventory, total_reserved FROM room_type_inventory WHERE hotel_id = ?',
      [hotel.hotelId],
    );
    let overLimit = 0;
    let miscounted = 0;
    let worst: CellResult['worst'];
    const seen = new Set<string>();
    for (const r of rows) {
      const reserved = Number(r.total_reserved);
      const allowed = Math.floor((Number(r.total_inventory) * 11) / 10);
      const key = `${r.room_type_id}|${r.date}`;
      seen.add(key);
      if (reserved * 10 > Number(r.total_inventory) * 11) overLimit++;
      if (reserved !== (acknowledged.get(key) ?? 0)) miscounted++;
      if (!worst || reserved - allowed > worst.reserved - worst.allowed) worst = { date: r.date, reserved, allowed };
    }
    for (const key of acknowledged.keys()) if (!seen.has(key)) miscounted++;

    const rolledBack = { ...db.rolledBack };
    return {
      store: o.store,
      contention: o.contention,
      strategy: o.strategy,
      ...(o.mutant ? { mutant: o.mutant } : {}),
      attempts,
      committed: tally.committed,
      soldOut: tally.soldOut,
      gaveUp: tally.gaveUp,
      errors: tally.errors,
      ...(errorSample ? { errorSample } : {}),
      seconds: Math.round(seconds * 1000) / 1000,
      committedPerS: seconds > 0 ? Math.round((tally.committed / seconds) * 10) / 10 : 0,
      p99Ms: p99(latencies),
      transactions: db.transactions,
      rolledBack,
      // Every version conflict is tried again by the store, except the last of a request answered write_conflict.
      serverRetries: rolledBack.version - tally.writeConflicts,
      clientResends: tally.clientResends,
      overLimit,
      miscounted,
      ...(worst ? { worst } : {}),
      nights: rows.length,
    };
  } finally {
    await opened.close();
  }
}

/** Transactions rolled back, of those started (0 when none started). */
export function abortRate(c: CellResult): number {
  const n = Object.values(c.rolledBack).reduce((a, b) => a + b, 0);
  return c.transactions ? n / c.transactions : 0;
}

/** Transactions tried again (by the store, or by the client sending the request again), per attempt. */
export function retryRate(c: CellResult): number {
  return c.attempts ? (c.serverRetries + c.clientResends) / c.attempts : 0;
}

/**
 * One strategy's cells of a store and profile over the rounds, as one: counts and seconds added (so the rate is all
 * committed over all seconds), the worst p99 and the worst night kept.
 */
export function mergeCells(cells: readonly CellResult[]): CellResult {
  const [first, ...rest] = cells;
  if (!first) throw new Error('no cells to merge');
  const m: CellResult = { ...first, rolledBack: { ...first.rolledBack } };
  for (const c of rest) {
    for (const k of [
      'attempts',
      'committed',
      'soldOut',
      'gaveUp',
      'errors',
      'seconds',
      'transactions',
      'serverRetries',
      'clientResends',
      'overLimit',
      'miscounted',
      'nights',
    ] as const)
      m[k] += c[k];
    for (const k of Object.keys(m.rolledBack) as RollbackCause[]) m.rolledBack[k] += c.rolledBack[k];
    m.p99Ms = Math.max(m.p99Ms, c.p99Ms);
    if (c.errorSample && !m.errorSample) m.errorSample = c.errorSample;
    if (c.worst && (!m.worst || c.worst.reserved - c.worst.allowed > m.worst.reserved - m.worst.allowed))
      m.worst = c.worst;
  }
  m.seconds = Math.round(m.seconds * 1000) / 1000;
  m.committedPerS = m.seconds > 0 ? Math.round((m.committed / m.seconds) * 10) / 10 : 0;
  return m;
}
