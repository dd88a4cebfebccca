// What the invariant and fault checks share: a recorder of writes (for the history checker), concurrent clients
// that read-modify-write and blind-write a few keys through random nodes, and the wait for replicas to converge.
import type { CheckContext } from '../../core/check-context.ts';
import { type KvApi, nodeApis, pick, sleep } from './api.ts';
import type { RecordedWrite } from './history-check.ts';

export class WriteRecorder {
  readonly writes: RecordedWrite[] = [];
  /** value -> dot, from every acknowledgement and every read (values are unique per write). */
  private readonly seen = new Map<string, string>();
  private seq = 0;

  nextValue(client: number): string {
    return `c${client}-${++this.seq}`;
  }

  observe(siblings: readonly { value: string | null; dot: string }[]): void {
    for (const s of siblings) if (s.value !== null) this.seen.set(s.value, s.dot);
  }

  /** Writes `value` through `api` and records the outcome. */
  async put(api: KvApi, key: string, value: string, context: string | null, w?: number): Promise<RecordedWrite> {
    const a = await api.put(key, value, { context, ...(w ? { w } : {}) });
    const rec: RecordedWrite = { key, value, sentContext: context ?? '', outcome: a.outcome, dot: a.dot };
    if (a.dot) this.seen.set(value, a.dot);
    this.writes.push(rec);
    return rec;
  }

  /** Fills in the dots of unknown-outcome writes that some read saw. */
  finish(): RecordedWrite[] {
    for (const w of this.writes) if (w.dot === null) w.dot = this.seen.get(w.value) ?? null;
    return this.writes;
  }

  acknowledged(): RecordedWrite[] {
    return this.writes.filter((w) => w.outcome === 'ok');
  }
}

/** One request of the client loop: through which node, when (performance.now()), and whether it was answered. */
export interface RequestSpan {
  node: string;
  start: number;
  end: number;
  ok: boolean;
}

export interface ClientLoop {
  stop(): Promise<void>;
  ops: number;
  /** Every read and write the clients made, to tell afterwards whether a fault bit (see faultBite). */
  spans: RequestSpan[];
  /** Whether a fault on `victim` since `from` has bitten yet (see bitSince). */
  bitSince(victim: string, from: number): boolean;
}

/** A request held up this long through the victim counts as bitten (the latency fault adds 100 ms per link). */
export const HELD_UP_MS = 100;

/**
 * How a fault bit: the requests through `victim` started while it lasted that were not answered, or were held up
 * for HELD_UP_MS or more (a paused node answers only after resume, a slowed link adds its latency). Read after the
 * loop stopped, since a request held by a paused node ends after the fault does.
 */
export function faultBite(
  spans: readonly RequestSpan[],
  victim: string,
  from: number,
  to: number,
): { requests: number; failed: number; heldUp: number } {
  const during = spans.filter((x) => x.node === victim && x.start >= from && x.start < to);
  return {
    requests: during.length,
    failed: during.filter((x) => !x.ok).length,
    heldUp: during.filter((x) => x.ok && x.end - x.start >= HELD_UP_MS).length,
  };
}

/**
 * `clients` concurrent clients, each looping until stopped: pick a key and a node; 60% read then write with the
 * read's context, 40% write blind (concurrent with whatever is there). Unknown outcomes are recorded as such.
 */
export function runClients(
  ctx: CheckContext,
  rec: WriteRecorder,
  o: { keys: string[]; clients: number; rnd: () => number; pauseMs?: number },
): ClientLoop {
  const nodes = nodeApis(ctx, 3000);
  let stopped = false;
  // Requests sent and not yet answered: a paused node's are answered only after it resumes.
  const inFlight = new Set<{ node: string; start: number }>();
  const loop: ClientLoop = {
    ops: 0,
    spans: [],
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
    bitSince: (victim, from) => {
      const b = faultBite(loop.spans, victim, from, Number.POSITIVE_INFINITY);
      if (b.failed + b.heldUp > 0) return true;
      // A request through the victim already held up HELD_UP_MS will count as held up (or failed) when it ends.
      const now = performance.now();
      return [...inFlight].some((x) => x.node === victim && x.start >= from && now - x.start >= HELD_UP_MS);
    },
  };
  const send = <T>(node: string, request: () => Promise<T>, answered: (r: T) => boolean) => {
    const span = { node, start: performance.now() };
    inFlight.add(span);
    return request().then((r) => {
      inFlight.delete(span);
      loop.spans.push({ ...span, end: performance.now(), ok: answered(r) });
      return r;
    });
  };
  const running = Array.from({ length: o.clients }, async (_, client) => {
    while (!stopped) {
      const key = pick(o.rnd, o.keys);
      const node = pick(o.rnd, nodes);
      let context: string | null = null;
      if (o.rnd() < 0.6) {
        const r = await send(
          node.name,
          () => node.api.get(key),
          (x) => x.status === 200 || x.status === 404,
        );
        const answered = r.status === 200 || r.status === 404;
        if (r.status === 200) rec.observe(r.siblings);
        if (answered) context = r.context;
        else {
          await sleep(50);
          continue;
        }
      }
      const w = await send(
        node.name,
        () => rec.put(node.api, key, rec.nextValue(client), context),
        (x) => x.outcome === 'ok',
      );
      loop.ops++;
      if (w.outcome !== 'ok') await sleep(50);
      if (o.pauseMs) await sleep(o.pauseMs);
    }
  });
  return loop;
}

/**
 * Each replica's own copy of each key, as sorted dot lists (null where a replica did not answer). The replicas are
 * the key's preference list as the first node that answers places it; other nodes hold nothing for the key.
 */
export async function replicaDots(ctx: CheckContext, keys: readonly string[]): Promise<Map<string, (string | null)[]>> {
  const nodes = nodeApis(ctx, 3000);
  const out = new Map<string, (string | null)[]>();
  for (const key of keys) {
    const answers = await Promise.all(nodes.map(async (n) => ({ name: n.name, r: await n.api.replica(key) })));
    const placed = answers.find((a) => a.r.replicas.length > 0)?.r.replicas ?? nodes.map((n) => n.name);
    const per = answers
      .filter((a) => placed.includes(a.name) || nodes.length === 1)
      .map((a) =>
        a.r.versions === null
          ? null
          : a.r.versions
              .map((v) => v.dot)
              .sort()
              .join(','),
      );
    out.set(key, per);
  }
  return out;
}

/** Keys whose replicas do not agree yet (or that a node could not answer for). */
export function disagreeing(dots: Map<string, (string | null)[]>): string[] {
  return [...dots].filter(([, per]) => per.some((d) => d === null || d !== per[0])).map(([k]) => k);
}

/** Polls every node's own copy until all replicas agree on every key; answers the milliseconds it took, or null. */
export async function waitConverged(
  ctx: CheckContext,
  keys: readonly string[],
  withinMs: number,
): Promise<{ ms: number | null; last: string[] }> {
  const started = Date.now();
  let last: string[] = [];
  while (Date.now() - started <= withinMs) {
    last = disagreeing(await replicaDots(ctx, keys));
    if (last.length === 0) return { ms: Date.now() - started, last };
    await sleep(250);
  }
  return { ms: null, last };
}

/** Reads every key with R = every replica, through the first node; the final values for the checker. */
export async function finalValues(ctx: CheckContext, rec: WriteRecorder, keys: readonly string[], n: number) {
  const api = nodeApis(ctx, 5000)[0]!.api;
  const out = new Map<string, string[]>();
  for (const key of keys) {
    const r = await api.get(key, { r: n });
    ctx.expect(r.status === 200 || r.status === 404, `final read of ${key} answered ${r.status ?? r.x.error}`, r.x);
    rec.observe(r.siblings);
    out.set(
      key,
      r.siblings.map((s) => s.value),
    );
  }
  return out;
}
