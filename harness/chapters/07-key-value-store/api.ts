// The chapter's operations over the wire, each returning the validated exchange and what a check needs from it,
// plus the nodes of the target (one API per node: any node coordinates).
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange, HttpClient } from '../../core/http-client.ts';

export interface Sibling {
  value: string;
  dot: string;
  clock: string;
}

export interface StoredVersion {
  value: string | null;
  dot: string;
  clock: string;
}

export interface Member {
  name: string;
  status: 'alive' | 'down';
  heartbeat: number;
  lastHeardMsAgo: number;
  tokens: number[];
  ringShare: number;
}

export interface ClusterView {
  node: string;
  n: number;
  w: number;
  r: number;
  virtualNodes: number;
  members: Member[];
  stats: { hintsPending: number; hintsDelivered: number; antiEntropyRounds: number; keysRepaired: number };
}

export interface WriteAnswer {
  x: Exchange;
  /** 200: acknowledged; 503 or no answer: unknown; anything else: refused. */
  outcome: 'ok' | 'info' | 'fail';
  dot: string | null;
  context: string | null;
}

export interface ReadAnswer {
  x: Exchange;
  status: number | null;
  siblings: Sibling[];
  context: string | null;
}

const path = (key: string) => `/api/v1/kv/${encodeURIComponent(key)}`;
const q = (params: Record<string, string | number | undefined>) => {
  const s = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
  return s ? `?${s}` : '';
};

function writeAnswer(x: Exchange): WriteAnswer {
  const b = x.status === 200 ? (x.body as { dot?: string; context?: string }) : undefined;
  return {
    x,
    outcome: x.status === 200 ? 'ok' : x.status === null || x.status === 503 ? 'info' : 'fail',
    dot: b?.dot ?? null,
    context: b?.context ?? null,
  };
}

export function kvApi(http: HttpClient, timeoutMs = 5000) {
  return {
    async put(key: string, value: string, o: { context?: string | null; w?: number } = {}): Promise<WriteAnswer> {
      const json: { value: string; context?: string } = { value };
      if (o.context) json.context = o.context;
      return writeAnswer(await http.send({ method: 'PUT', path: path(key) + q({ w: o.w }), json, timeoutMs }));
    },
    async get(key: string, o: { r?: number } = {}): Promise<ReadAnswer> {
      const x = await http.send({ method: 'GET', path: path(key) + q({ r: o.r }), timeoutMs });
      const b = x.status === 200 ? (x.body as { siblings?: Sibling[]; context?: string }) : undefined;
      return {
        x,
        status: x.status,
        siblings: b?.siblings ?? [],
        context: b?.context ?? (x.status === 404 ? (x.headers['x-kv-context'] ?? '') : null),
      };
    },
    async del(key: string, o: { context?: string | null; w?: number } = {}): Promise<WriteAnswer> {
      const x = await http.send({
        method: 'DELETE',
        path: path(key) + q({ w: o.w, context: o.context ?? undefined }),
        timeoutMs,
      });
      return writeAnswer(x);
    },
    async replica(key: string): Promise<{ x: Exchange; versions: StoredVersion[] | null; replicas: string[] }> {
      const x = await http.send({ method: 'GET', path: `/api/v1/replicas/${encodeURIComponent(key)}`, timeoutMs });
      const b = x.status === 200 ? (x.body as { versions: StoredVersion[]; replicas: string[] }) : null;
      return { x, versions: b?.versions ?? null, replicas: b?.replicas ?? [] };
    },
    async cluster(): Promise<{ x: Exchange; view: ClusterView | null }> {
      const x = await http.send({ method: 'GET', path: '/api/v1/cluster', timeoutMs });
      return { x, view: x.status === 200 ? (x.body as ClusterView) : null };
    },
  };
}

export type KvApi = ReturnType<typeof kvApi>;

/** One API per node of the target (a URL target has one). */
export function nodeApis(ctx: CheckContext, timeoutMs?: number): { name: string; api: KvApi }[] {
  return ctx.target.nodes.map((name) => ({
    name,
    api: kvApi(ctx.http.withBaseUrl(ctx.target.nodeUrl(name)), timeoutMs),
  }));
}

// Stopped with the check at its time limit (see core/check-scope.ts).
export { sleep } from '../../core/check-scope.ts';

// Seeded randomness for fault schedules and workloads that replay from the check's seed.
export { seededRandom, shuffled } from '../../fakes/prng.ts';

export function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

/** A key no earlier run used, so runs do not see each other's data. */
export function freshKey(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
