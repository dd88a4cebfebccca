// The HTTP surface of chapter 08: handlers by operationId; routes, validation and errors come from the spec (kit).
import type { FastifyInstance } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import type { MutantName } from './mutants.ts';
import { ClockMovedBackwards, decodeId, MAX_ID } from './snowflake.ts';
import type { IdSource } from './sources.ts';

export const SPEC_URL = new URL('../../specs/08-unique-id-generator/openapi.yaml', import.meta.url);

export interface NodeIdentity {
  name: string;
  datacenterId: number;
  machineId: number;
}

export interface IdAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  source: IdSource;
  node: NodeIdentity;
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
}

export function buildApp(options: IdAppOptions): FastifyInstance {
  const { source, mutant } = options;
  const node = { ...options.node, generator: source.kind };

  /** Runs the source; a clock behind the last ID becomes the documented 503, a dead ticket database another. */
  async function issue<T>(make: () => T | Promise<T>): Promise<T> {
    try {
      return await make();
    } catch (error) {
      // Each header set on a line of its own, so the automated mutants of its value are graded too (a line naming a
      // hand-written mutant is left out of `sdgrade mutate`'s population).
      if (error instanceof ClockMovedBackwards) {
        const retryAfter = { 'retry-after': String(Math.max(1, Math.ceil(error.behindMs / 1000))) };
        throw new ProblemError(503, 'clock_moved_backwards', error.message, {
          // MUTANT no-retry-after: the refusal does not say when to try again.
          headers: mutant === 'no-retry-after' ? {} : retryAfter,
        });
      }
      // MUTANT ticket-only-econnrefused-503: only a refused connection is 503; a query the crash cut off is a 500.
      const onlyRefused = mutant === 'ticket-only-econnrefused-503';
      if (source.kind === 'ticket' && (!onlyRefused || (error as NodeJS.ErrnoException).code === 'ECONNREFUSED')) {
        const retryAfter = { 'retry-after': '1' };
        throw new ProblemError(503, 'unavailable', `the ticket server cannot be reached: ${(error as Error).message}`, {
          // MUTANT ticket-unavailable-no-retry-after: this refusal does not say when to try again.
          headers: mutant === 'ticket-unavailable-no-retry-after' ? {} : retryAfter,
          cause: error,
        });
      }
      throw error;
    }
  }

  const app = createApp({
    spec: options.spec,
    readiness: options.readiness,
    logger: options.logger,
    unvalidated: mutant === 'unvalidated-batch' ? ['generateIds'] : [], // MUTANT unvalidated-*: the handler sees raw input
    handlers: {
      async generateId(_request, reply) {
        const id = await issue(() => source.next());
        reply.code(200).header('cache-control', 'no-store');
        // MUTANT id-as-number: the ID as a JSON number (precision is lost above 2^53).
        if (mutant === 'id-as-number')
          return reply.type('application/json').send(`{"id":${id},"node":${JSON.stringify(node)}}`);
        return reply.send({ id, node });
      },

      async generateIds(request, reply) {
        const { count } = request.query as { count: number };
        // MUTANT batch-short: one ID fewer than asked for.
        let ids = await issue(() => source.batch(mutant === 'batch-short' && count > 1 ? count - 1 : count));
        if (mutant === 'batch-reversed') ids = [...ids].reverse(); // MUTANT batch-reversed
        return reply.code(200).header('cache-control', 'no-store').send({ ids, node });
      },

      async decodeId(request, reply) {
        const { id } = request.params as { id: string };
        let value = BigInt(id); // the schema's pattern admits only decimal digits
        if (value > MAX_ID) {
          // MUTANT decode-accepts-overflow: a value above 2^63 - 1 is wrapped into 63 bits instead of refused.
          if (mutant === 'decode-accepts-overflow') value &= MAX_ID;
          else throw new ProblemError(400, 'invalid_request', `${id} is larger than 2^63 - 1 (the sign bit must be 0)`);
        }
        const d = decodeId(value);
        if (mutant === 'decode-datacenter-four-bits') d.datacenterId &= 15; // MUTANT decode-datacenter-four-bits
        return reply.code(200).send({ ...d, timestamp: new Date(d.unixMs).toISOString() });
      },
    },
  });
  // MUTANT retry-after-in-ms: a refusal's Retry-After is counted in milliseconds, not seconds.
  if (mutant === 'retry-after-in-ms')
    app.addHook('onSend', async (_request, reply, payload) => {
      const ra = reply.getHeader('retry-after');
      if (reply.statusCode === 503 && ra !== undefined) reply.header('retry-after', String(Number(ra) * 1000));
      return payload;
    });
  return app;
}
