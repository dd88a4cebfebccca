// The HTTP surface of chapter 05: handlers by operationId; routes, validation and errors come from the spec (kit).
import type { FastifyInstance } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import type { Algorithm, LimiterStore, Outcome } from './algorithms.ts';
import type { MutantName } from './mutants.ts';
import { bucketKey, type Descriptor, type Entry, type RateLimitRule, type RuleBook, UNIT_MS } from './rules.ts';

export const SPEC_URL = new URL('../../specs/05-rate-limiter/openapi.yaml', import.meta.url);
/** The domain whose rules the pass-through endpoint is limited by. */
export const PROTECTED_DOMAIN = 'api';

export interface LimiterAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  rules: RuleBook;
  store: LimiterStore;
  algorithm: Algorithm;
  /** When the store fails (Redis unreachable): let requests through (open) or drop them (closed). */
  failMode: 'open' | 'closed';
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
  onStoreError?: (error: unknown) => void;
}

export function buildApp(o: LimiterAppOptions): FastifyInstance {
  const { rules, store, mutant } = o;

  async function decide(domain: string, entries: readonly Entry[], rule: RateLimitRule): Promise<Outcome> {
    const windowMs = UNIT_MS[rule.unit];
    // MUTANT shared-bucket: the key leaves out the descriptor values, so every user shares one bucket.
    let key =
      mutant === 'shared-bucket'
        ? bucketKey(
            domain,
            entries.map((e) => ({ key: e.key, value: '*' })),
          )
        : bucketKey(domain, entries);
    // MUTANT bucket-key-includes-rule: a fresh bucket for every rule a PUT writes.
    if (mutant === 'bucket-key-includes-rule') key += `|${rule.requests_per_unit}/${rule.unit}`;
    // MUTANT ambiguous-bucket-key: the entries joined with no separator, so [a=1, b=2] and [a="1b=2"] share a bucket.
    if (mutant === 'ambiguous-bucket-key') key = `${domain}\u0000${entries.map((e) => `${e.key}=${e.value}`).join('')}`;
    // MUTANT counter-ignores-previous-window: a fresh state every window, so the counter's estimate never weighs the
    // previous window (its `prev` is always 0): a fixed window in disguise.
    if (mutant === 'counter-ignores-previous-window') key += `@${Math.floor(Date.now() / windowMs)}`;
    const limit = mutant === 'off-by-one' ? rule.requests_per_unit + 1 : rule.requests_per_unit; // MUTANT off-by-one
    let out: Outcome;
    try {
      out = await store.hit(key, { limit, windowMs }, Date.now());
    } catch (error) {
      o.onStoreError?.(error);
      // MUTANT fails-closed-by-default: 503 whatever FAIL_MODE says. MUTANT stalled-store-fails-closed: a store that
      // timed out (slow, not down) is answered with 503 although the mode is open.
      if (
        o.failMode === 'closed' ||
        mutant === 'fails-closed-by-default' ||
        (mutant === 'stalled-store-fails-closed' && /timed out/i.test(String(error)))
      )
        throw new ProblemError(503, 'unavailable', 'the rate limiter store is unreachable');
      return { allowed: true, remaining: rule.requests_per_unit, retryAfterMs: 0, resetMs: 0 };
    }
    if (mutant === 'off-by-one') out = { ...out, remaining: Math.max(0, out.remaining - 1) };
    // MUTANT retry-after-one-ms-short: the wait rounded up minus 1 instead of plus 1 (ceil(...) - 1): 0 at its end.
    if (mutant === 'retry-after-one-ms-short' && !out.allowed)
      out = { ...out, retryAfterMs: Math.max(0, out.retryAfterMs - 2) };
    // MUTANT wrong-retry-after: half the real wait.
    if (mutant === 'wrong-retry-after' && !out.allowed)
      out = { ...out, retryAfterMs: Math.floor(out.retryAfterMs / 2) };
    // MUTANT retry-after-until-full: a denial announces the wait until the whole quota is back, not one request.
    if (mutant === 'retry-after-until-full' && !out.allowed) out = { ...out, retryAfterMs: out.resetMs };
    return out;
  }

  // MUTANT retry-after-rounded: the wait rounded to the nearest second.
  const seconds = (ms: number) => Math.max(1, (mutant === 'retry-after-rounded' ? Math.round : Math.ceil)(ms / 1000));
  const retrySeconds = (ms: number) =>
    mutant === 'wrong-retry-after' ? Math.max(1, Math.floor(ms / 1000)) : seconds(ms);

  const app = createApp({
    spec: o.spec,
    readiness: o.readiness,
    logger: o.logger,
    unvalidated: mutant === 'unvalidated-decision' ? ['shouldRateLimit'] : [], // MUTANT unvalidated-*: the handler sees raw input
    handlers: {
      ...(mutant === 'health-plain-text' // MUTANT health-plain-text: readiness is not the documented body.
        ? { getReadiness: async (_q, reply) => reply.type('text/plain').send('ok') }
        : {}),

      async shouldRateLimit(request, reply) {
        const { domain, descriptors } = request.body as { domain: string; descriptors: Entry[] };
        const rule = rules.match(domain, descriptors);
        if (!rule) return reply.send({ allowed: true, limit: null, remaining: null, retryAfterMs: 0, unit: null });
        const out = await decide(domain, descriptors, rule);
        const body: Record<string, unknown> = {
          allowed: out.allowed,
          limit: rule.requests_per_unit,
          remaining: out.remaining,
          retryAfterMs: out.retryAfterMs,
          unit: rule.unit,
        };
        if (mutant === 'decision-without-unit') delete body['unit']; // MUTANT decision-without-unit
        return reply.send(body);
      },

      async getProtected(request, reply) {
        const userId = request.headers['x-user-id'];
        // The spec's header schema (1 to 128 characters); Fastify does not validate header parameters here.
        if (userId !== undefined && (typeof userId !== 'string' || userId.length < 1 || userId.length > 128))
          throw new ProblemError(400, 'invalid_request', 'X-User-Id must be 1 to 128 characters');
        const matched = rules.matchAttributes(PROTECTED_DOMAIN, {
          // MUTANT user-id-lowercased: Alice and alice share one bucket.
          user_id:
            typeof userId === 'string' ? (mutant === 'user-id-lowercased' ? userId.toLowerCase() : userId) : undefined,
          remote_address: request.ip,
        });
        if (!matched) return reply.send({ ok: true });
        const { entry, rule } = matched;
        const out = await decide(PROTECTED_DOMAIN, [entry], rule);
        // MUTANT ratelimit-reset-zero: t says the quota is whole now. MUTANT ratelimit-reset-as-time: t is the moment
        // (epoch seconds) the quota is whole, not the seconds until then.
        let resetS = Math.ceil(out.resetMs / 1000);
        if (mutant === 'ratelimit-reset-zero') resetS = 0;
        if (mutant === 'ratelimit-reset-as-time') resetS = Math.ceil((Date.now() + out.resetMs) / 1000);
        const headers: Record<string, string> = {
          'x-ratelimit-limit': String(rule.requests_per_unit),
          'x-ratelimit-remaining': String(out.remaining),
          ratelimit: `"rule";r=${out.remaining};t=${resetS}`,
          'ratelimit-policy': `"rule";q=${rule.requests_per_unit};w=${UNIT_MS[rule.unit] / 1000}`,
        };
        if (out.allowed) return reply.headers(headers).send({ ok: true });
        headers['x-ratelimit-retry-after'] = String(retrySeconds(out.retryAfterMs));
        // MUTANT limited-without-retry-after: the standard header is left out.
        if (mutant !== 'limited-without-retry-after') headers['retry-after'] = headers['x-ratelimit-retry-after'];
        throw new ProblemError(429, 'rate_limited', `over ${rule.requests_per_unit} requests per ${rule.unit}`, {
          headers,
        });
      },

      async listRules(_request, reply) {
        return reply.send({ algorithm: o.algorithm, domains: rules.list() });
      },

      async putDomainRules(request, reply) {
        const { domain } = request.params as { domain: string };
        const { descriptors } = request.body as { descriptors: Descriptor[] };
        const saved = rules.put(domain, descriptors);
        if (mutant === 'rule-change-resets') await store.clear(); // MUTANT rule-change-resets
        return reply.code(mutant === 'put-rules-201' ? 201 : 200).send(saved); // MUTANT put-rules-201
      },
    },
  });
  // MUTANT trusts-forwarded-for: the client's address is the first hop of X-Forwarded-For, which the client writes.
  if (mutant === 'trusts-forwarded-for')
    app.addHook('onRequest', async (request) => {
      const claimed = request.headers['x-forwarded-for'];
      if (typeof claimed === 'string') Object.defineProperty(request, 'ip', { value: claimed.split(',')[0]!.trim() });
    });
  return app;
}
