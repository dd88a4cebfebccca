// The HTTP surface of chapter 07: the spec's operations (routes, validation and errors from the kit) and the
// node-to-node routes under /internal/v1 (the reference's own peer protocol; another implementation may use any).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { hash48 } from '../06-consistent-hashing/hash.ts';
import type { HashRing } from '../06-consistent-hashing/ring.ts';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import type { Entries, Repair } from './anti-entropy.ts';
import { type Clock, clockOf, contextOf, EMPTY, formatClock, parseClock, type Version } from './clock.ts';
import type { Coordinator, ReadOutcome, ReplicateItem, WriteOutcome } from './coordinator.ts';
import type { Beat, Gossip } from './gossip.ts';
import type { HintStore } from './hints.ts';
import type { MutantName } from './mutants.ts';
import type { Peers } from './peers.ts';
import type { StorageEngine } from './storage/engine.ts';

export const SPEC_URL = new URL('../../specs/07-key-value-store/openapi.yaml', import.meta.url);
/** The book's "key-value pair size is small: 10 KB". */
export const MAX_VALUE_BYTES = 10_240;
/** The spec's cap on a key's versions (Riak's `max_siblings` default): past it a blind write is refused with 409. */
export const MAX_SIBLINGS = 100;
/**
 * A 503's Retry-After, whole seconds (the spec: 1 to 10): the replicas missed one node-to-node deadline (1 s), after
 * which a paused one may answer again; a dead one is seen down within the failure detector's bound and stood in for.
 */
const RETRY_AFTER_S = '1';

export interface KvAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  self: string;
  quorum: { n: number; w: number; r: number };
  ring: HashRing;
  engine: StorageEngine;
  coordinator: Coordinator;
  peers: Peers;
  gossip: Gossip;
  hints: HintStore;
  repair: Repair;
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
}

const wire = (v: Version) => ({ value: v.value, dot: v.dot, clock: formatClock(clockOf(v)) });

export function buildApp(o: KvAppOptions): FastifyInstance {
  const { quorum, mutant, coordinator } = o;

  function quorumParam(value: number | undefined, fallback: number, name: string): number {
    const q = value ?? fallback;
    // MUTANT quorum-bound-is-cluster-size: w and r bounded by the number of nodes, not N.
    const bound = mutant === 'quorum-bound-is-cluster-size' ? o.peers.names.length + 1 : quorum.n;
    if (q > bound) throw new ProblemError(400, 'invalid_request', `${name}=${q} is larger than N=${quorum.n}`);
    return q;
  }

  function contextParam(text: string | undefined): Clock {
    try {
      return text ? parseClock(text, mutant === 'context-repeated-actor-last-wins') : EMPTY;
    } catch (e) {
      throw new ProblemError(400, 'invalid_request', (e as Error).message);
    }
  }

  /**
   * Asks the key's replicas to coordinate a request this node does not replicate: live ones (by gossip) first, one
   * at a time, each given the node-to-node deadline plus room for its own replica calls, so a paused replica costs
   * one deadline, not the client's. A replica that answers too late may still have stored the version: the client's
   * one write can then show as two siblings with the same value, never as a lost write.
   */
  async function forward(
    replicas: string[],
    body: unknown,
  ): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
    const ordered = [...replicas.filter((p) => o.gossip.isAlive(p)), ...replicas.filter((p) => !o.gossip.isAlive(p))];
    // MUTANT forward-deadline-equals-rpc-timeout: the bare node-to-node deadline, none of the coordinator's room.
    const deadline = (o.peers.timeoutMs || 1000) + (mutant === 'forward-deadline-equals-rpc-timeout' ? 0 : 800);
    for (const p of ordered) {
      try {
        return await o.peers.call(p, '/internal/v1/coordinate', body, o.peers.timeoutMs === 0 ? 0 : deadline);
      } catch {
        /* next replica */
      }
    }
    return unavailable(0, replicas);
  }

  // MUTANT retry-after-in-milliseconds: the node-to-node deadline in milliseconds.
  const retryAfter = mutant === 'retry-after-in-milliseconds' ? String(o.peers.timeoutMs || 1000) : RETRY_AFTER_S;

  function unavailable(got: number, replicas: string[]) {
    return {
      status: 503,
      headers: { 'retry-after': retryAfter },
      body: {
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        code: 'quorum_not_reached',
        detail: `only ${got} of the replicas ${replicas.join(', ')} answered in time`,
      },
    };
  }

  function writeResult(key: string, out: WriteOutcome) {
    if ('forward' in out) return null;
    if ('tooManySiblings' in out)
      return {
        status: 409,
        headers: {},
        body: {
          type: 'about:blank',
          title: 'Conflict',
          status: 409,
          code: 'too_many_siblings',
          detail:
            `${key} holds ${out.tooManySiblings} concurrent versions, the most a key may have (${MAX_SIBLINGS}); ` +
            'read it and write with the context of the read to resolve them',
        },
      };
    if (!out.ok) return unavailable(out.acks, out.replicas);
    return { status: 200, headers: {}, body: { key, dot: out.dot, context: formatClock(out.context), acks: out.acks } };
  }

  function readResult(key: string, out: ReadOutcome) {
    if ('forward' in out) return null;
    if (!out.ok) return unavailable(out.replies, out.replicas);
    const context = formatClock(contextOf(out.versions));
    // MUTANT empty-value-reads-as-deleted: tombstones told apart by truthiness, so '' reads as a deletion.
    const live = out.versions.filter((v) => (mutant === 'empty-value-reads-as-deleted' ? v.value : v.value !== null));
    // MUTANT deletion-hides-concurrent-write: a tombstone among the siblings reads as a deleted key.
    const hidden = mutant === 'deletion-hides-concurrent-write' && live.length < out.versions.length;
    if (live.length === 0 || hidden)
      return {
        status: 404,
        headers: { 'x-kv-context': context },
        body: {
          type: 'about:blank',
          title: 'Not Found',
          status: 404,
          code: 'key_not_found',
          detail: `no value for ${key}`,
        },
      };
    return {
      status: 200,
      headers: { 'x-kv-context': context },
      body: { key, siblings: live.map(wire), context, replies: out.replies },
    };
  }

  type Op =
    | { op: 'put'; key: string; value: string | null; context: string; w: number }
    | { op: 'get'; key: string; r: number };

  /** Coordinates a request here, or forwards it to a replica of the key (never twice). */
  async function coordinate(req: Op, forwarded: boolean) {
    if (req.op === 'get') {
      const out = await coordinator.read(req.key, req.r, forwarded);
      if ('forward' in out) return forward(out.forward, passedOn(req));
      return readResult(req.key, out)!;
    }
    const out = await coordinator.write(req.key, req.value, contextParam(req.context), req.w, forwarded);
    if ('forward' in out) return forward(out.forward, passedOn(req));
    return writeResult(req.key, out)!;
  }

  /** The request as forwarded: unchanged. MUTANT forwarded-with-cluster-quorum: its w and r become the cluster's. */
  function passedOn(req: Op): Op {
    if (mutant !== 'forwarded-with-cluster-quorum') return req;
    return req.op === 'get' ? { ...req, r: quorum.r } : { ...req, w: quorum.w };
  }

  function send(reply: FastifyReply, r: { status: number; body: unknown; headers: Record<string, string> }) {
    reply.code(r.status).headers(r.headers);
    if (r.status >= 400) reply.type('application/problem+json');
    return reply.send(r.body);
  }

  const app = createApp({
    spec: o.spec,
    readiness: o.readiness,
    logger: o.logger,
    unvalidated: mutant === 'unvalidated-put' ? ['putValue'] : [], // MUTANT unvalidated-put: the handler sees raw input
    handlers: {
      async getValue(request, reply) {
        const { key } = request.params as { key: string };
        const { r } = request.query as { r?: number };
        return send(reply, await coordinate({ op: 'get', key, r: quorumParam(r, quorum.r, 'r') }, false));
      },

      async putValue(request, reply) {
        const { key } = request.params as { key: string };
        const { w } = request.query as { w?: number };
        const body = request.body as { value: string; context?: string };
        // MUTANT oversize-accepted: the book's 10 KB limit is not enforced.
        if (mutant !== 'oversize-accepted' && Buffer.byteLength(body.value) > MAX_VALUE_BYTES) {
          // MUTANT oversize-stored-then-refused: the write goes through before the size is refused.
          if (mutant === 'oversize-stored-then-refused')
            await coordinate({ op: 'put', key, value: body.value, context: body.context ?? '', w: 1 }, false);
          throw new ProblemError(
            413,
            'value_too_large',
            `the value is ${Buffer.byteLength(body.value)} bytes; at most ${MAX_VALUE_BYTES} are allowed`,
          );
        }
        contextParam(body.context);
        const op = {
          op: 'put',
          key,
          value: body.value,
          context: body.context ?? '',
          w: quorumParam(w, quorum.w, 'w'),
        } as const;
        return send(reply, await coordinate(op, false));
      },

      async deleteValue(request, reply) {
        const { key } = request.params as { key: string };
        const { w, context } = request.query as { w?: number; context?: string };
        const ctx = contextParam(context);
        const wq = quorumParam(w, quorum.w, 'w');
        // MUTANT delete-ignored: acknowledged with a made-up dot, nothing written.
        if (mutant === 'delete-ignored')
          return reply
            .code(200)
            .send({ key, dot: `${o.self}.x:1`, context: formatClock(ctx) || `${o.self}.x:1`, acks: wq });
        // MUTANT delete-ignores-w: the tombstone is coordinated with the cluster's W, whatever ?w= says.
        const dw = mutant === 'delete-ignores-w' ? quorum.w : wq;
        return send(reply, await coordinate({ op: 'put', key, value: null, context: context ?? '', w: dw }, false));
      },

      async getLocalReplica(request, reply) {
        const { key } = request.params as { key: string };
        let versions = o.engine.get(key) ?? [];
        // MUTANT replica-hides-tombstones: deletions are left out of the node's own copy.
        if (mutant === 'replica-hides-tombstones') versions = versions.filter((v) => v.value !== null);
        return reply.code(200).send({
          key,
          node: o.self,
          // The preference list in ring order. MUTANT local-replica-list-sorted: sorted by name.
          replicas:
            mutant === 'local-replica-list-sorted'
              ? [...new Set(coordinator.replicas(key))].sort()
              : [...new Set(coordinator.replicas(key))],
          versions: versions.map(wire),
          context: formatClock(contextOf(versions)),
        });
      },

      async getCluster(_request, reply) {
        const shares = o.ring.spaceShares();
        const vn = o.ring.virtualNodes;
        const members = o.gossip.view().map((m) => ({
          ...m,
          // MUTANT ring-share-by-token-count: the member's share of virtual nodes, not of the hash space.
          ringShare:
            mutant === 'ring-share-by-token-count'
              ? o.ring.pointsOf(m.name) / o.gossip.view().reduce((n, x) => n + o.ring.pointsOf(x.name), 0)
              : (shares.get(m.name) ?? 0),
          // The ring's virtual-node positions: chapter 06 hashes `${id}#${i}` (reference/06-consistent-hashing/ring.ts).
          tokens: Array.from({ length: o.ring.pointsOf(m.name) }, (_, i) => hash48(`${m.name}#${i}`)).sort(
            (a, b) => a - b,
          ),
        }));
        const e = o.engine.engineStats();
        return reply.code(200).send({
          node: o.self,
          ...quorum,
          virtualNodes: vn,
          members,
          stats: {
            // MUTANT hints-pending-counts-replicas: the replicas hints are held for, not the hinted writes.
            hintsPending:
              mutant === 'hints-pending-counts-replicas'
                ? new Set([...o.hints.pending.values()].map((h) => h.target)).size
                : o.hints.pending.size,
            hintsDelivered: o.hints.delivered,
            hintsStored: o.hints.stored,
            antiEntropyRounds: o.repair.rounds,
            keysRepaired: o.repair.keysRepaired,
            ...e,
            writeAmplification: Number(o.engine.writeAmplification().toFixed(3)),
          },
        });
      },
    },
  });

  // Node-to-node routes. Large bodies: anti-entropy exchanges whole buckets.
  const big = { bodyLimit: 64 * 1024 * 1024 };
  app.post('/internal/v1/replicate', big, async (request) => {
    const { items, hintFor } = request.body as { items: ReplicateItem[]; hintFor?: string };
    for (const it of items) {
      if (hintFor) o.hints.add(hintFor, it.key, it.v);
      else o.engine.apply(it.key, it.v);
    }
    return { ok: true };
  });
  // A batch of keys (the coordinator's ReadBatcher): each key's versions, in order.
  app.post('/internal/v1/read', big, async (request) => {
    const { keys } = request.body as { keys: string[] };
    return { versions: keys.map((k) => o.engine.get(k) ?? []) };
  });
  app.post('/internal/v1/gossip', async (request) => {
    const { members } = request.body as { from: string; members: Record<string, Beat> };
    o.gossip.merge(members);
    return { members: o.gossip.list() };
  });
  app.post('/internal/v1/merkle', async (request) => {
    const { from } = request.body as { from: string };
    return { tree: o.repair.treeFor(from) };
  });
  app.post('/internal/v1/sync', big, async (request) => {
    const { from, buckets, entries } = request.body as { from: string; buckets: number[]; entries: Entries };
    o.repair.take(entries);
    return { entries: o.repair.inBuckets(from, buckets) };
  });
  app.post('/internal/v1/coordinate', big, async (request) => coordinate(request.body as Op, true));
  return app;
}
