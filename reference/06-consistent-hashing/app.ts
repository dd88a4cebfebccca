// The HTTP surface of chapter 06: handlers by operationId; routes, validation and errors come from the spec (kit).
import type { FastifyInstance } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import { loadStdDevPercent } from './algorithms.ts';
import { MAX_SERVERS, type Membership } from './membership.ts';
import type { MutantName } from './mutants.ts';

export const SPEC_URL = new URL('../../specs/06-consistent-hashing/openapi.yaml', import.meta.url);

export interface PlacementAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  membership: Membership;
  algorithm: string;
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
}

export function buildApp(options: PlacementAppOptions): FastifyInstance {
  const { membership, mutant, algorithm } = options;
  // MUTANT stale-owner-cache: a memo of owners by key that nothing clears when the membership changes.
  // MUTANT ids-case-folded: server IDs are folded to lower case (host names are case-insensitive, after all).
  const idOf = (params: unknown) => {
    const { serverId } = params as { serverId: string };
    return mutant === 'ids-case-folded' ? serverId.toLowerCase() : serverId;
  };
  const memo = mutant === 'stale-owner-cache' ? new Map<string, string>() : undefined;

  const noServers = () =>
    mutant === 'empty-ring-404'
      ? new ProblemError(404, 'not_found', 'the ring has no servers') // MUTANT empty-ring-404
      : new ProblemError(409, 'no_servers', 'the ring has no servers, so no key has an owner');
  const serverBody = (id: string) => {
    const s = membership.servers().find((x) => x.id === id)!;
    return { id: s.id, weight: s.weight, virtualNodes: s.virtualNodes };
  };

  return createApp({
    spec: options.spec,
    readiness: options.readiness,
    logger: options.logger,
    unvalidated: mutant === 'unvalidated-batch' ? ['batchLookup'] : [], // MUTANT unvalidated-*: the handler sees raw input
    handlers: {
      async listServers(_request, reply) {
        return reply.send({ algorithm, version: membership.version, servers: membership.servers() });
      },

      async addServer(request, reply) {
        const serverId = idOf(request.params);
        const { weight = 1 } = (request.body ?? {}) as { weight?: number };
        let created: boolean;
        try {
          ({ created } = membership.set(serverId, weight));
        } catch (error) {
          if (error instanceof RangeError)
            throw new ProblemError(409, 'too_many_servers', `the ring takes at most ${MAX_SERVERS} servers`);
          throw error;
        }
        // MUTANT add-answers-200: a new server is answered like a known one.
        const status = created && mutant !== 'add-answers-200' ? 201 : 200;
        return reply.code(status).send({ server: serverBody(serverId), version: membership.version });
      },

      async removeServer(request, reply) {
        const serverId = idOf(request.params);
        if (!membership.remove(serverId)) throw new ProblemError(404, 'not_found', `no server ${serverId}`);
        return reply.code(204).send();
      },

      async getOwner(request, reply) {
        const { key: asked } = request.query as { key: string };
        // MUTANT owner-key-trimmed: surrounding whitespace is trimmed off the key (a query-string habit).
        const key = mutant === 'owner-key-trimmed' ? asked.trim() : asked;
        // MUTANT key-limit-in-bytes: the 256-character limit counted in UTF-8 bytes (len() of a byte string).
        if (mutant === 'key-limit-in-bytes' && Buffer.byteLength(key) > 256)
          throw new ProblemError(400, 'invalid_request', 'key is longer than 256 bytes');
        const { placement, version } = membership;
        const server = memo?.get(key) ?? placement.owner(key);
        if (server === undefined) throw noServers();
        memo?.set(key, server);
        return reply.send({ key, server, version });
      },

      async getReplicas(request, reply) {
        const { key, n } = request.query as { key: string; n: number };
        const { placement, version } = membership;
        const servers = placement.owners(key, n);
        if (servers.length === 0) throw noServers();
        return reply.send({ key, servers, version });
      },

      async batchLookup(request, reply) {
        const { keys, replicas = 1 } = request.body as { keys: string[]; replicas?: number };
        const { placement, version } = membership;
        if (placement.size === 0) throw noServers();
        // MUTANT batch-dedups-keys: a repeated key is answered once.
        const asked = mutant === 'batch-dedups-keys' ? [...new Set(keys)] : keys;
        const results = asked.map((key) => ({
          key,
          servers: replicas === 1 ? [placement.owner(key)!] : placement.owners(key, replicas),
        }));
        // MUTANT batch-sorted: results in key order, not request order.
        if (mutant === 'batch-sorted') results.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        return reply.send({ version, results });
      },

      async getStats(request, reply) {
        const { sample } = request.query as { sample: number };
        const { placement, version } = membership;
        if (placement.size === 0) throw noServers();
        const counts = new Map<string, number>();
        for (let i = 0; i < sample; i++) {
          // MUTANT stats-sample-from-one: the sample keys are numbered from 1, not 0.
          const o = placement.owner(`sample-${mutant === 'stats-sample-from-one' ? i + 1 : i}`)!;
          counts.set(o, (counts.get(o) ?? 0) + 1);
        }
        const space = placement.spaceShares();
        const servers = membership.servers();
        // MUTANT stats-stddev-unweighted: the standard deviations compare every server with the unweighted mean.
        const weights = new Map(servers.map((s) => [s.id, mutant === 'stats-stddev-unweighted' ? 1 : s.weight]));
        // MUTANT stats-in-percent: shares as percentages instead of fractions of 1.
        const unit = mutant === 'stats-in-percent' ? 100 : 1;
        return reply.send({
          algorithm,
          version,
          sampleSize: sample,
          servers: servers.map((s) => ({
            ...s,
            hashSpaceShare: round((space.get(s.id) ?? 0) * unit),
            sampleShare: round(((counts.get(s.id) ?? 0) / sample) * unit),
            sampleKeys: counts.get(s.id) ?? 0,
          })),
          stdDevPercent: {
            hashSpace: round(loadStdDevPercent(space, weights)),
            sample: round(loadStdDevPercent(counts, weights)),
          },
        });
      },
    },
  });
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
