// Idempotency-Key with Stripe's semantics, on the relational store: the first request with a key claims it (an
// INSERT that a unique key lets only one request win), runs, and stores its answer; the same key with the same body
// gets that answer again; with another body, 409 idempotency_key_reused; while the first still runs, 409
// idempotency_key_in_use (never a second execution). A failed execution releases the key, so a retry runs again;
// a claim this process could not release (the database away) is taken over by the next request with the key at
// once; a claim left by a crashed process is taken over after CLAIM_TIMEOUT_MS. A claim is its key and the time its
// holder wrote into created_at (a takeover writes its own): a failed request releases only the claim it holds, so the
// late failure of a request presumed dead cannot release the claim of the request that took its key over.
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
  /**
   * Keys this process claimed and could not release (the database was away when the request failed): no request of
   * ours holds them any more, so the next request with one takes its claim over at once rather than answering 409
   * idempotency_key_in_use until CLAIM_TIMEOUT_MS has passed.
   */
  private readonly leftBehind = new Set<string>();

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
      // MUTANT in-flight-key-body-unchecked: the body is compared only once the key is done, so a claim left
      // behind is taken over by another body (and its answer kept under the first body's fingerprint).
      const compared = row.state === 'done' || this.mutant !== 'in-flight-key-body-unchecked';
      if (compared && row.fingerprint !== fingerprint) {
        throw new ProblemError(409, 'idempotency_key_reused', 'this Idempotency-Key was used with another request');
      }
      // MUTANT refused-answer-stored: a stored refusal is replayed as the refusal it was.
      if (this.mutant === 'refused-answer-stored' && row.state === 'done' && row.status >= 400) {
        const refused = JSON.parse(row.body) as { code: string; detail?: string };
        throw new ProblemError(row.status, refused.code, refused.detail);
      }
      if (row.state === 'done') return { status: row.status, body: JSON.parse(row.body), replayed: true };
      // Checked and cleared before any await: of two racing retries, one takes a left-behind claim over.
      // MUTANT left-behind-takeover-race: forgotten only once the takeover is written, so both racers take it over.
      const late = this.mutant === 'left-behind-takeover-race';
      const ours =
        this.mutant !== 'key-locked-after-failure' && (late ? this.leftBehind.has(key) : this.leftBehind.delete(key));
      const takenOver = await this.db
        .run("UPDATE idempotency_keys SET created_at = ? WHERE key = ? AND state = 'in_flight' AND created_at < ?", [
          now,
          key,
          ours ? now + 1 : now - CLAIM_TIMEOUT_MS,
        ])
        .catch((error: unknown) => {
          if (ours) this.leftBehind.add(key);
          throw error;
        });
      if (late && ours) this.leftBehind.delete(key);
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
      if (this.mutant !== 'key-locked-after-failure') await this.release(key, now);
      throw error;
    }
    try {
      await this.db.run("UPDATE idempotency_keys SET state = 'done', status = ?, body = ? WHERE key = ?", [
        answer.status,
        JSON.stringify(answer.body),
        key,
      ]);
    } catch (error) {
      // The answer could not be kept, so the client gets a 503 and retries: the key is released like any failed
      // request's, and the retry runs again (every operation finds what an earlier run of it stored).
      // MUTANT answer-store-failure-keeps-claim: neither released nor left behind, so the retry is in_use for 30 s.
      if (this.mutant === 'answer-store-failure-keeps-claim') throw error;
      if (this.mutant !== 'key-locked-after-failure') await this.release(key, now);
      throw error;
    }
    // MUTANT takeover-answer-replayed: the answer of a request that took a claim over is marked a replay.
    return { ...answer, replayed: this.mutant === 'takeover-answer-replayed' && claimed === 0 };
  }

  /** Deletes the claim this request holds (its key as of `claimedAt`), never one another request took over since. */
  private async release(key: string, claimedAt: number): Promise<void> {
    await this.db.run('DELETE FROM idempotency_keys WHERE key = ? AND created_at = ?', [key, claimedAt]).catch(() => {
      // MUTANT claim-stuck-while-db-away: a claim that could not be released is forgotten (it waits out the timeout).
      if (this.mutant !== 'claim-stuck-while-db-away') this.leftBehind.add(key);
    });
  }
}
