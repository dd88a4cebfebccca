// The chapter's operations over the validating client, each returning the exchange (evidence) and, for decisions,
// the client-side send and receive times: the target decided somewhere between the two.
import type { components } from '../../../specs/05-rate-limiter/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';

export type Decision = components['schemas']['Decision'];
export type Descriptor = components['schemas']['Descriptor'];
export type Entry = components['schemas']['DescriptorEntry'];
export type Unit = components['schemas']['Unit'];
export type Algorithm = components['schemas']['RuleSet']['algorithm'];

export const UNIT_MS: Record<Unit, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export interface Timed {
  x: Exchange;
  d: Decision | null;
  sentAt: number;
  doneAt: number;
}

export function rlApi(ctx: CheckContext) {
  return {
    async decide(domain: string, descriptors: Entry[]): Promise<Timed> {
      const sentAt = Date.now();
      const x = await ctx.http.send({ method: 'POST', path: '/api/v1/ratelimit', json: { domain, descriptors } });
      const doneAt = Date.now();
      return { x, d: x.status === 200 ? (x.body as Decision) : null, sentAt, doneAt };
    },
    putRules(domain: string, descriptors: Descriptor[]): Promise<Exchange> {
      return ctx.http.send({ method: 'PUT', path: `/api/v1/rules/${domain}`, json: { descriptors } });
    },
    listRules(): Promise<Exchange> {
      return ctx.http.send({ method: 'GET', path: '/api/v1/rules' });
    },
    protected(userId?: string): Promise<Exchange> {
      return ctx.http.send({
        method: 'GET',
        path: '/api/v1/protected',
        ...(userId === undefined ? {} : { headers: { 'x-user-id': userId } }),
      });
    },
  };
}

export type RlApi = ReturnType<typeof rlApi>;

/** Decides and fails the check unless the answer is a 200 decision. */
export async function decided(
  ctx: CheckContext,
  api: RlApi,
  domain: string,
  entries: Entry[],
): Promise<Timed & { d: Decision }> {
  const t = await api.decide(domain, entries);
  ctx.expect(t.d, `decision for ${domain} answered ${t.x.status ?? t.x.error}`, t.x);
  return t as Timed & { d: Decision };
}

/** Installs a domain's rules and fails the check unless they were accepted. */
export async function installRules(
  ctx: CheckContext,
  api: RlApi,
  domain: string,
  descriptors: Descriptor[],
): Promise<void> {
  const x = await api.putRules(domain, descriptors);
  ctx.expectStatus(x, 200);
}

export async function algorithmOf(ctx: CheckContext, api: RlApi): Promise<Algorithm> {
  const x = await api.listRules();
  ctx.expectStatus(x, 200);
  return (x.body as { algorithm: Algorithm }).algorithm;
}

export function runNonce(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Waits, if needed, so that the next `needMs` stay inside one window of `unitMs` (aligned to the Unix epoch). On a
 * busy machine the requests that follow take longer, so the scheduling delay measured during the check is added
 * to `needMs` (evidence.schedulingSlack, at most a third of the window): a bigger margin only waits for the next
 * window more often, it never hides a wrong answer. The wait is the check's own (ctx.sleep), so it stops with it.
 */
export async function clearOfBoundary(ctx: CheckContext, unitMs: number, needMs: number): Promise<void> {
  const need = checkSlack(ctx.evidence, Math.round(unitMs / 3)).bound(needMs);
  const into = Date.now() % unitMs;
  if (into + need >= unitMs) await ctx.sleep(unitMs - into + 5);
}

export function perMinute(key: string, limit: number, value?: string): Descriptor {
  return { key, ...(value ? { value } : {}), rate_limit: { unit: 'minute', requests_per_unit: limit } };
}

/**
 * The longest wait a denial may announce under the algorithm's definition (specs/05-rate-limiter/README.md section
 * 3), in ms, plus 2 ms for rounding up: a bucket needs at most one token's refill (W/L), since a denied request takes
 * nothing and leaves it at >= 0 tokens; a fixed window ends within W; the log's entry that must age out was logged
 * within W; the counter's estimate falls below L by the end of the next window (2W). A longer wait makes clients
 * wait for quota the definition has already given back.
 */
/**
 * The longest time until the whole quota is back (the IETF RateLimit header's t) under the algorithm's definition,
 * in ms: a bucket refills (or drains) completely within W, a window's admissions age out within W, the counter's
 * previous window stops weighing at the end of the next one (2W).
 */
export function maxResetMs(algorithm: Algorithm, windowMs: number): number {
  return algorithm === 'sliding_window_counter' ? 2 * windowMs : windowMs;
}

export function maxRetryAfterMs(algorithm: Algorithm, limit: number, windowMs: number): number {
  switch (algorithm) {
    case 'token_bucket':
    case 'leaking_bucket':
      return windowMs / limit + 2;
    case 'fixed_window':
    case 'sliding_window_log':
      return windowMs + 2;
    case 'sliding_window_counter':
      return 2 * windowMs + 2;
  }
}
