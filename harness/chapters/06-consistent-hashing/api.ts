// The chapter's operations over the wire, each returning the validated exchange so checks can attach it as
// evidence. Every exchange goes through the harness's HttpClient, so every response is checked against the spec.
import type { components } from '../../../specs/06-consistent-hashing/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange, HttpClient } from '../../core/http-client.ts';

export type Membership = components['schemas']['Membership'];
export type Owner = components['schemas']['Owner'];
export type Replicas = components['schemas']['Replicas'];
export type BatchResponse = components['schemas']['BatchResponse'];
export type Stats = components['schemas']['Stats'];

/** Most servers the ring takes (the spec's bound: the next new one is 409 too_many_servers). */
export const MAX_SERVERS = 256;
/** Most keys one batch request may carry (the spec's bound). */
export const BATCH_LIMIT = 1000;

export function placementApi(http: HttpClient) {
  const ok = <T>(x: Exchange, status = 200): T | null => (x.status === status ? (x.body as T) : null);
  return {
    http,
    async list(): Promise<{ x: Exchange; m: Membership | null }> {
      const x = await http.send({ method: 'GET', path: '/api/v1/servers' });
      return { x, m: ok<Membership>(x) };
    },
    add(id: string, weight?: number): Promise<Exchange> {
      return http.send({
        method: 'PUT',
        path: `/api/v1/servers/${encodeURIComponent(id)}`,
        json: weight === undefined ? {} : { weight },
      });
    },
    remove(id: string): Promise<Exchange> {
      return http.send({ method: 'DELETE', path: `/api/v1/servers/${encodeURIComponent(id)}` });
    },
    async owner(key: string): Promise<{ x: Exchange; o: Owner | null }> {
      const x = await http.send({ method: 'GET', path: `/api/v1/owner?key=${encodeURIComponent(key)}` });
      return { x, o: ok<Owner>(x) };
    },
    async replicas(key: string, n?: number): Promise<{ x: Exchange; r: Replicas | null }> {
      const q = n === undefined ? '' : `&n=${n}`;
      const x = await http.send({ method: 'GET', path: `/api/v1/replicas?key=${encodeURIComponent(key)}${q}` });
      return { x, r: ok<Replicas>(x) };
    },
    async batch(keys: string[], replicas?: number): Promise<{ x: Exchange; b: BatchResponse | null }> {
      const x = await http.send({
        method: 'POST',
        path: '/api/v1/lookups',
        json: replicas === undefined ? { keys } : { keys, replicas },
      });
      return { x, b: ok<BatchResponse>(x) };
    },
    async stats(sample?: number): Promise<{ x: Exchange; s: Stats | null }> {
      const x = await http.send({
        method: 'GET',
        path: `/api/v1/stats${sample === undefined ? '' : `?sample=${sample}`}`,
      });
      return { x, s: ok<Stats>(x) };
    },
  };
}

export type PlacementApi = ReturnType<typeof placementApi>;

/** Removes every server, then adds the given ones in order; fails the check on any unexpected answer. */
export async function setMembership(
  ctx: CheckContext,
  api: PlacementApi,
  servers: readonly { id: string; weight?: number }[],
): Promise<void> {
  const { x, m } = await api.list();
  ctx.expect(m, `listing servers answered ${x.status ?? x.error}`, x);
  for (const s of m.servers) {
    const r = await api.remove(s.id);
    ctx.expect(r.status === 204, `removing ${s.id} answered ${r.status ?? r.error}`, r);
  }
  for (const s of servers) {
    const r = await api.add(s.id, s.weight);
    ctx.expect(r.status === 201, `adding ${s.id} answered ${r.status ?? r.error}, not 201`, r);
  }
}

/** Owners (first server of each result) of many keys, in batches of at most BATCH_LIMIT. */
export async function ownersOf(
  ctx: CheckContext,
  api: PlacementApi,
  keys: readonly string[],
  replicas?: number,
): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_LIMIT) {
    const chunk = keys.slice(i, i + BATCH_LIMIT);
    const { x, b } = await api.batch(chunk, replicas);
    ctx.expect(b, `batch lookup of ${chunk.length} keys answered ${x.status ?? x.error}`, x);
    ctx.expect(b.results.length === chunk.length, `batch of ${chunk.length} keys gave ${b.results.length} results`, x);
    for (const [j, r] of b.results.entries()) {
      ctx.expect(
        r.key === chunk[j],
        `batch result ${j} is for key ${JSON.stringify(r.key)}, not ${JSON.stringify(chunk[j])}`,
        x,
      );
      out.push(r.servers);
    }
  }
  return out;
}

export function runNonce(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
