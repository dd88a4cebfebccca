// Where the sequencer's log lives: the embedded file (event-log.ts) by default, or a PostgreSQL table when
// DATABASE_URL is given (the real component). Both keep each event as its exact JSON text, so a replay reads back
// the bytes that were written (a jsonb column would reorder keys).
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { EventLog } from './event-log.ts';
import type { LogEvent } from './types.ts';

export interface EventStore {
  readonly kind: 'file' | 'postgres';
  /** Every event stored, in sequence order. */
  readAll(): Promise<LogEvent[]>;
  /** Appends an inbound event and its fills; resolves once they are stored. Calls are stored in call order. */
  append(events: readonly LogEvent[]): Promise<void>;
  close(): Promise<void>;
}

export class FileEventStore implements EventStore {
  readonly kind = 'file' as const;
  private log: EventLog | undefined;
  constructor(private readonly dataDir: string) {}

  async readAll(): Promise<LogEvent[]> {
    const events = EventLog.read(this.dataDir);
    this.log = new EventLog(this.dataDir);
    return events;
  }

  async append(events: readonly LogEvent[]): Promise<void> {
    this.log!.append(events);
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
  private constructor(
    private readonly client: pg.Client,
    readonly schema: string,
  ) {}

  static async connect(url: string, dataDir: string, log: (m: string) => void): Promise<PostgresEventStore> {
    const schema = `se29_${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`;
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: 5000,
      application_name: 'sdgrade-reference/29-stock-exchange',
    });
    // A lost connection is fatal: an event the engine applied might not be stored, so the process must restart
    // and recover from what the table holds.
    client.on('error', (error) => {
      log(`PostgreSQL connection lost: ${error.message}; exiting to recover from the log`);
      process.exit(1);
    });
    await client.connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.events (sequence_id bigint PRIMARY KEY, event text NOT NULL)`,
    );
    return new PostgresEventStore(client, schema);
  }

  async readAll(): Promise<LogEvent[]> {
    const r = await this.client.query<{ event: string }>(
      `SELECT event FROM ${this.schema}.events ORDER BY sequence_id`,
    );
    return r.rows.map((row) => JSON.parse(row.event) as LogEvent);
  }

  async append(events: readonly LogEvent[]): Promise<void> {
    if (events.length === 0) return;
    const values = events.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
    await this.client.query(
      `INSERT INTO ${this.schema}.events (sequence_id, event) VALUES ${values}`,
      events.flatMap((e) => [e.sequenceId, JSON.stringify(e)]),
    );
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
