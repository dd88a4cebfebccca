// Idempotency-Key with Stripe's semantics, on the relational store: the first request with a key claims it (an
// INSERT that a unique key lets only one request win), runs, and stores its answer; the same key with the same body
// gets that answer again; with another body, 409 idempotency_key_reused; while the first still runs, 409
// idempotency_key_in_use (never a second execution). A failed execution releases the key, so a retry runs again;
// a claim left by a crashed process is taken over after CLAIM_TIMEOUT_MS.
import { createHash } from 'node:crypto';
import { ProblemError } from '../kit/problem.ts';
import type { Db } from './db.ts';
import type { MutantName } from './mutants.ts';

const CLAIM_TIMEOUT_MS = 30_000;

export interface StoredAnswer {
  status: number;
  body: unknown;
  replayed: boolean;
}

/** JSON with object keys sorted at every level: equal for bodies that differ only in key order or whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function fingerprintOf(scope: string, body: unknown): string {
  const text = typeof body === 'string' ? body : canonicalJson(body);
  return createHash('sha256').update(`${scope}\n${text}`).digest('hex');
}

export class IdempotencyKeys {
  constructor(
    private readonly db: Db,
    private readonly mutant?: MutantName,
  ) {}

  async run(
    key: string,
    fingerprint: string,
    execute: () => Promise<{ status: number; body: unknown }>,
  ): Promise<StoredAnswer> {
    const now = Date.now();
    const claimed = await this.db.run(
      "INSERT INTO idempotency_keys (key, fingerprint, state, created_at) VALUES (?, ?, 'in_flight', ?) " +
        'ON CONFLICT (key) DO NOTHING',
      [key, fingerprint, now],
    );
    if (claimed === 0) {
      const [row] = await this.db.all<{ fingerprint: string; state: string; status: number; body: string }>(
        'SELECT fingerprint, state, status, body FROM idempotency_keys WHERE key = ?',
        [key],
      );
      if (!row) return this.run(key, fingerprint, execute); // released between our insert and select
      if (row.fingerprint !== fingerprint) {
        throw new ProblemError(409, 'idempotency_key_reused', 'this Idempotency-Key was used with another request');
      }
      // MUTANT refused-answer-stored: a stored refusal is replayed as the refusal it was.
      if (this.mutant === 'refused-answer-stored' && row.state === 'done' && row.status >= 400) {
        const refused = JSON.parse(row.body) as { code: string; detail?: string };
        throw new ProblemError(row.status, refused.code, refused.detail);
      }
      if (row.state === 'done') return { status: row.status, body: JSON.parse(row.body), replayed: true };
      const takenOver = await this.db.run(
        "UPDATE idempotency_keys SET created_at = ? WHERE key = ? AND state = 'in_flight' AND created_at < ?",
        [now, key, now - CLAIM_TIMEOUT_MS],
      );
      if (takenOver === 0) {
        throw new ProblemError(409, 'idempotency_key_in_use', 'a request with this Idempotency-Key is in progress', {
          headers: { 'retry-after': '1' },
        });
      }
    }
    let answer: { status: number; body: unknown };
    try {
      answer = await execute();
    } catch (error) {
      // MUTANT refused-answer-stored: a request refused 4xx is stored under its key (replayed above), not released.
      if (this.mutant === 'refused-answer-stored' && error instanceof ProblemError && error.status < 500) {
        await this.db.run("UPDATE idempotency_keys SET state = 'done', status = ?, body = ? WHERE key = ?", [
          error.status,
          JSON.stringify({ code: error.code, detail: error.detail }),
          key,
        ]);
        throw error;
      }
      // MUTANT key-locked-after-failure: the claim is left to expire (CLAIM_TIMEOUT_MS), so a retry is in_use.
      if (this.mutant !== 'key-locked-after-failure')
        await this.db.run('DELETE FROM idempotency_keys WHERE key = ?', [key]).catch(() => undefined);
      throw error;
    }
    await this.db.run("UPDATE idempotency_keys SET state = 'done', status = ?, body = ? WHERE key = ?", [
      answer.status,
      JSON.stringify(answer.body),
      key,
    ]);
    return { ...answer, replayed: false };
  }
}
