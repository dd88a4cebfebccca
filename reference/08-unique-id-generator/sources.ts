// Where IDs come from, behind one option (GENERATOR): Snowflake (the book's design, the default), UUIDv7 (what
// users pick today; 128 bits, not the book's 64) and a ticket server on PostgreSQL (the book's option: one
// sequence that every node asks). All three answer in increasing order.
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { Snowflake } from './snowflake.ts';

export type GeneratorKind = 'snowflake' | 'uuidv7' | 'ticket';
export const GENERATOR_KINDS: readonly GeneratorKind[] = ['snowflake', 'uuidv7', 'ticket'];

export interface IdSource {
  kind: GeneratorKind;
  next(): string | Promise<string>;
  batch(count: number): string[] | Promise<string[]>;
  health(): Promise<'up' | 'down' | 'embedded'>;
  close(): Promise<void>;
}

export function snowflakeSource(g: Snowflake, onClose: () => void = () => {}): IdSource {
  return {
    kind: 'snowflake',
    next: () => g.next(),
    batch: (count) => g.nextBatch(count),
    health: async () => 'embedded',
    close: async () => onClose(),
  };
}

export function uuidv7Source(): IdSource {
  return {
    kind: 'uuidv7',
    next: () => uuidv7(),
    batch: (count) => Array.from({ length: count }, () => uuidv7()),
    health: async () => 'embedded',
    close: async () => {},
  };
}

export const TICKET_SEQUENCE = 'sdgrade_uid_tickets';

/** The mutants that live in the ticket server (see mutants.ts). */
export type TicketMutant = 'ticket-sequence-not-created' | 'ticket-health-unchecked' | 'ticket-batch-string-sort';

/** The book's ticket server: one PostgreSQL sequence (Flickr used MySQL's auto_increment the same way). */
export class TicketServer implements IdSource {
  readonly kind = 'ticket' as const;
  private constructor(
    private readonly pool: pg.Pool,
    private readonly mutant: TicketMutant | undefined,
  ) {}

  static async connect(connectionString: string, mutant?: TicketMutant): Promise<TicketServer> {
    const pool = new pg.Pool({ connectionString, max: 8, connectionTimeoutMillis: 5000 });
    pool.on('error', () => {}); // a dropped idle connection; the next query reconnects
    try {
      // MUTANT ticket-sequence-not-created: the sequence is assumed to exist (it does on a database used before).
      if (mutant === 'ticket-sequence-not-created') await pool.query('SELECT 1');
      else await pool.query(`CREATE SEQUENCE IF NOT EXISTS ${TICKET_SEQUENCE} AS bigint MINVALUE 1`);
    } catch (error) {
      await pool.end();
      throw new Error(`cannot reach the ticket server's database: ${(error as Error).message}`, { cause: error });
    }
    return new TicketServer(pool, mutant);
  }

  async next(): Promise<string> {
    const r = await this.pool.query<{ id: string }>(`SELECT nextval('${TICKET_SEQUENCE}')::text AS id`);
    return r.rows[0]!.id;
  }

  async batch(count: number): Promise<string[]> {
    const r = await this.pool.query<{ id: string }>(
      `SELECT nextval('${TICKET_SEQUENCE}')::text AS id FROM generate_series(1, $1::int)`,
      [count],
    );
    // MUTANT ticket-batch-string-sort: the batch is sorted as strings ("10" before "9" when it gains a digit).
    if (this.mutant === 'ticket-batch-string-sort') return r.rows.map((x) => x.id).sort();
    // Concurrent batches interleave in the sequence; each answer is still sorted.
    return r.rows.map((x) => x.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  }

  async health(): Promise<'up' | 'down'> {
    if (this.mutant === 'ticket-health-unchecked') return 'up'; // MUTANT ticket-health-unchecked: never asks
    try {
      await this.pool.query('SELECT 1');
      return 'up';
    } catch {
      return 'down';
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * MUTANT ticket-sequence-cache: a ticket sequence with CACHE 64, so each database connection (each node) takes its
 * own block of 64 values. On a sequence of its own, so the real one is never left altered.
 */
export async function cachedTickets(connectionString: string): Promise<IdSource> {
  const pool = new pg.Pool({ connectionString, max: 8, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  const seq = `${TICKET_SEQUENCE}_cache64`;
  await pool.query(`CREATE SEQUENCE IF NOT EXISTS ${seq} AS bigint MINVALUE 1 CACHE 64`);
  const one = async () => (await pool.query<{ id: string }>(`SELECT nextval('${seq}')::text AS id`)).rows[0]!.id;
  return {
    kind: 'ticket',
    next: one,
    batch: async (count) => {
      const r = await pool.query<{ id: string }>(
        `SELECT nextval('${seq}')::text AS id FROM generate_series(1, $1::int)`,
        [count],
      );
      return r.rows.map((x) => x.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    },
    health: async () => 'up',
    close: () => pool.end(),
  };
}
