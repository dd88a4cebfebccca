// Where the sequencer's log lives: the embedded file (event-log.ts) by default, or a PostgreSQL table when
// DATABASE_URL is given (the real component). Both keep each event as its exact JSON text, so a replay reads back
// the bytes that were written (a jsonb column would reorder keys).
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { EventLog } from './event-log.ts';
import type { LogEvent } from './types.ts';

/** The server process of a connection (pg sets it from BackendKeyData; its typings leave it out). */
const backendPid = (c: pg.Client): number | null => (c as unknown as { processID?: number }).processID ?? null;

/** A write to PostgreSQL that takes longer fails (and the store is treated as lost). */
const QUERY_TIMEOUT_MS = 10_000;
/** Events in one INSERT at most (two parameters each, far under PostgreSQL's 65,535). */
const EVENTS_PER_INSERT = 2_000;

interface PendingAppend {
  events: readonly LogEvent[];
  done: () => void;
  failed: (error: unknown) => void;
}

export interface EventStore {
  readonly kind: 'file' | 'postgres';
  /** Every event stored, in sequence order. */
  readAll(): Promise<LogEvent[]>;
  /** Appends an inbound event and its fills; resolves once they are stored. Calls are stored in call order. */
  append(events: readonly LogEvent[]): Promise<void>;
  /** The events stored after `sequenceId`, in sequence order (what a lost append left, once the store is back). */
  readAfter(sequenceId: number): Promise<LogEvent[]>;
  /** Drops a connection that failed (anything still under way on it fails too). */
  abandon?(): void;
  /** Connects again after abandon(). */
  reopen?(): Promise<void>;
  close(): Promise<void>;
}

export class FileEventStore implements EventStore {
  readonly kind = 'file' as const;
  private log: EventLog | undefined;
  /** MUTANT torn-tail-kept: a torn tail found at start stays in the file. */
  constructor(
    private readonly dataDir: string,
    private readonly faults: { keepTornTail?: boolean } = {},
  ) {}

  async readAll(): Promise<LogEvent[]> {
    const { events, complete } = EventLog.read(this.dataDir);
    EventLog.cutTornTail(this.dataDir, complete, this.faults.keepTornTail);
    this.log = new EventLog(this.dataDir);
    return events;
  }

  async append(events: readonly LogEvent[]): Promise<void> {
    this.log!.append(events);
  }

  async readAfter(sequenceId: number): Promise<LogEvent[]> {
    return EventLog.read(this.dataDir).events.filter((e) => e.sequenceId > sequenceId);
  }

  async close(): Promise<void> {
    this.log?.close();
  }
}

/**
 * One table per data directory (schema `se29_<hash of DATA_DIR>`): a restart with the same data directory replays
 * the same log; another run (or a mutant) never sees it. One client, so appends reach the server in call order.
 */
export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres' as const;
  /** The connection whose appends failed, ended once a new one is open (its backend terminated first). */
  private lostPid: number | null = null;
  /**
   * MUTANT pg-reopened-without-error-listener: the connection reopened after a loss has no 'error' listener.
   * MUTANT store-drops-queued-appends: a failed INSERT drops the appends queued behind it, unsettled.
   * MUTANT store-stalls-on-oversized-append: a batch never takes an append of more than EVENTS_PER_INSERT events.
   */
  readonly faults: {
    reopenWithoutErrorListener?: boolean;
    dropQueuedOnFailure?: boolean;
    stallOnOversized?: boolean;
  } = {};
  /** Appends waiting for the INSERT under way to end: the next INSERT carries them all (group commit). */
  private pending: PendingAppend[] = [];
  private writing = false;
  private constructor(
    private client: pg.Client,
    readonly schema: string,
    private readonly url: string,
    private readonly log: (m: string) => void,
  ) {}

  static async connect(url: string, dataDir: string, log: (m: string) => void): Promise<PostgresEventStore> {
    const schema = `se29_${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`;
    const client = PostgresEventStore.client(url, log);
    await client.connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.events (sequence_id bigint PRIMARY KEY, event text NOT NULL)`,
    );
    return new PostgresEventStore(client, schema, url, log);
  }

  /**
   * A lost connection fails the appends under way on it (log-outage.ts answers 503 and settles them once the table
   * answers again); a write that hangs fails after QUERY_TIMEOUT_MS, so no request waits on it longer.
   */
  private static client(url: string, log: (m: string) => void): pg.Client {
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: 5000,
      query_timeout: QUERY_TIMEOUT_MS,
      application_name: 'sdgrade-reference/29-stock-exchange',
    });
    client.on('error', (error) => log(`PostgreSQL connection lost: ${error.message}`));
    return client;
  }

  async readAll(): Promise<LogEvent[]> {
    const r = await this.client.query<{ event: string }>(
      `SELECT event FROM ${this.schema}.events ORDER BY sequence_id`,
    );
    return r.rows.map((row) => JSON.parse(row.event) as LogEvent);
  }

  /**
   * One INSERT at a time; appends made meanwhile wait in memory and go in the next one, in call order. Queued on the
   * connection instead, they would wait behind each other there, and under load that wait alone would pass
   * QUERY_TIMEOUT_MS (node-postgres times a query from when it is queued): a busy store taken for a lost one.
   */
  append(events: readonly LogEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise((done, failed) => {
      this.pending.push({ events, done, failed });
      if (!this.writing) void this.writePending();
    });
  }

  private async writePending(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        let n = 0;
        let count = 0;
        const first = !this.faults.stallOnOversized; // MUTANT store-stalls-on-oversized-append
        while (
          n < this.pending.length &&
          ((n === 0 && first) || count + this.pending[n]!.events.length <= EVENTS_PER_INSERT)
        )
          count += this.pending[n++]!.events.length;
        const batch = this.pending.splice(0, n);
        try {
          await this.insert(batch.flatMap((b) => b.events));
          for (const b of batch) b.done();
        } catch (error) {
          for (const b of batch) b.failed(error);
          if (this.faults.dropQueuedOnFailure) {
            this.pending = []; // MUTANT store-drops-queued-appends
            return;
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async insert(events: readonly LogEvent[]): Promise<void> {
    const values = events.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
    await this.client.query(
      `INSERT INTO ${this.schema}.events (sequence_id, event) VALUES ${values}`,
      events.flatMap((e) => [e.sequenceId, JSON.stringify(e)]),
    );
  }

  async readAfter(sequenceId: number): Promise<LogEvent[]> {
    const r = await this.client.query<{ event: string }>(
      `SELECT event FROM ${this.schema}.events WHERE sequence_id > $1 ORDER BY sequence_id`,
      [sequenceId],
    );
    return r.rows.map((row) => JSON.parse(row.event) as LogEvent);
  }

  abandon(): void {
    this.lostPid ??= backendPid(this.client);
    this.client.end().catch(() => {});
  }

  /**
   * A new connection; the lost one's backend is terminated and gone before anything is read, so a write still under
   * way on it (a slow link) cannot land after the table was read.
   */
  async reopen(): Promise<void> {
    const client = PostgresEventStore.client(this.url, this.log);
    try {
      await client.connect();
      const pid = this.lostPid;
      if (pid !== null && pid !== backendPid(client)) {
        await client.query('SELECT pg_terminate_backend($1)', [pid]);
        for (let i = 0; i < 100; i++) {
          const r = await client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
          if (r.rowCount === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.faults.reopenWithoutErrorListener) client.removeAllListeners('error'); // MUTANT
    this.lostPid = null;
    this.client = client;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
