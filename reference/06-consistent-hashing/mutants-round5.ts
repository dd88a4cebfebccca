// Round 5's blind-bug mutants (fixtures/blind-bugs/06-consistent-hashing/), kept in a module of their own and
// installed by main.ts only when MUTANT names one of them. The blind patches are diffs of app.ts, membership.ts and
// maglev.ts; MUTANT switches written into those lines would leave the patches unable to apply, so these reproduce the
// same bugs from outside: Fastify hooks round the handlers, and wrappers of the membership's and Maglev's methods.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Maglev } from './maglev.ts';
import type { Membership } from './membership.ts';
import type { MutantName } from './mutants.ts';

const path = (request: FastifyRequest) => request.url.split('?')[0] ?? '';

export function installRound5Mutant(app: FastifyInstance, membership: Membership, mutant: MutantName | undefined) {
  // The private state the wrappers reach (TypeScript's `private` is not enforced at run time).
  const inside = membership as unknown as {
    stored: Map<string, number>;
    persist(next: unknown, version: number): void;
  };
  switch (mutant) {
    case 'put-keeps-weight':
      // MUTANT put-keeps-weight: a PUT without a weight keeps a known server's weight (a partial update), not 1.
      app.addHook('preHandler', async (request) => {
        if (request.method !== 'PUT' || !path(request).startsWith('/api/v1/servers/')) return;
        const { serverId } = request.params as { serverId: string };
        const known = membership.weight(serverId);
        if ((request.body as { weight?: number } | undefined)?.weight === undefined && known !== undefined)
          request.body = { weight: known };
      });
      return;
    case 'reweight-rejoins-last': {
      // MUTANT reweight-rejoins-last: a weight change deletes and re-inserts the server: it moves to the end of the
      // joining order.
      const set = membership.set.bind(membership);
      membership.set = (id, weight) => {
        const result = set(id, weight);
        if (!result.created && result.changed) {
          inside.stored.delete(id);
          inside.stored.set(id, weight);
        }
        return result;
      };
      return;
    }
    case 'membership-as-object': {
      // MUTANT membership-as-object: membership.json keeps the servers in the order of an object keyed by ID, which
      // JavaScript gives back integer-like keys first: a restart lists all-digit IDs out of joining order.
      const persist = inside.persist.bind(membership);
      inside.persist = (next, version) => {
        const order = [...inside.stored];
        const asObject = Object.entries(Object.fromEntries(order));
        const refill = (entries: [string, number][]) => {
          inside.stored.clear();
          for (const [id, weight] of entries) inside.stored.set(id, weight);
        };
        refill(asObject);
        try {
          persist(next, version);
        } finally {
          refill(order);
        }
      };
      return;
    }
    case 'maglev-points-stale': {
      // MUTANT maglev-points-stale: a server's table entries are read without rebuilding the table after a change.
      const proto = Maglev.prototype as unknown as { pointsOf(this: MaglevState, id: string): number };
      proto.pointsOf = function (this: MaglevState, id: string) {
        const s = this.ids.indexOf(id);
        return s < 0 ? 0 : (this.entries[s] ?? 0);
      };
      return;
    }
    case 'stats-sample-capped': {
      // MUTANT stats-sample-capped: at most 10,000 sample keys are placed whatever `sample` asks; sampleSize still
      // reports the number asked.
      const asked = new WeakMap<FastifyRequest, number>();
      app.addHook('preHandler', async (request) => {
        if (request.method !== 'GET' || path(request) !== '/api/v1/stats') return;
        const query = request.query as { sample: number };
        asked.set(request, query.sample);
        query.sample = Math.min(query.sample, 10_000);
      });
      app.addHook('onSend', async (request, _reply, payload) => {
        const n = asked.get(request);
        if (n === undefined || typeof payload !== 'string') return payload;
        const body = JSON.parse(payload) as { sampleSize?: unknown };
        return typeof body.sampleSize === 'number' ? JSON.stringify({ ...body, sampleSize: n }) : payload;
      });
      return;
    }
    case 'batch-torn-chunks':
      // MUTANT batch-torn-chunks: the batch yields to the event loop every 100 keys and reads the ring afresh per
      // chunk, so a change in between answers later keys against a newer membership than the version reported.
      app.addHook('preHandler', async (request, reply) => {
        if (request.method !== 'POST' || path(request) !== '/api/v1/lookups') return;
        const { keys, replicas = 1 } = request.body as { keys: string[]; replicas?: number };
        const { placement, version } = membership;
        if (placement.size === 0) return; // the handler answers 409 no_servers
        const results: { key: string; servers: string[] }[] = [];
        for (let i = 0; i < keys.length; i += 100) {
          if (i > 0) await new Promise((resolve) => setImmediate(resolve));
          const ring = membership.placement;
          for (const key of keys.slice(i, i + 100))
            results.push({ key, servers: replicas === 1 ? [ring.owner(key)!] : ring.owners(key, replicas) });
        }
        return reply.send({ version, results });
      });
      return;
  }
}

interface MaglevState {
  ids: string[];
  entries: Int32Array;
}
