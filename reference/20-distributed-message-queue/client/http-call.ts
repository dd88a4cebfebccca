// One request to a server of this chapter's spec: JSON in and out, 307s followed to the leader or controller (fetch
// keeps the method and body), 503 retried after its Retry-After, and a problem body turned into a QueueError.
import type { components } from '../../../specs/20-distributed-message-queue/generated/openapi.d.ts';

export type Problem = components['schemas']['Problem'];

export class QueueError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface CallOptions {
  signal?: AbortSignal;
  /** How long to keep retrying a 503 or a refused connection before giving up (a broker restarting). */
  retryForMs?: number;
}

/** The status codes the caller handles itself; anything else >= 300 throws. */
export async function call<T>(
  baseUrl: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body: unknown,
  expected: readonly number[],
  o: CallOptions = {},
): Promise<{ status: number; body: T }> {
  const deadline = Date.now() + (o.retryForMs ?? 30_000);
  for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
    let r: Response;
    try {
      r = await fetch(new URL(path, baseUrl), {
        method,
        redirect: 'follow',
        ...(o.signal ? { signal: o.signal } : {}),
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (e) {
      if (o.signal?.aborted || Date.now() > deadline) throw e;
      await pause(wait, o.signal);
      continue;
    }
    const text = await r.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (expected.includes(r.status)) return { status: r.status, body: parsed as T };
    if (r.status === 503 && Date.now() < deadline) {
      const after = Number(r.headers.get('retry-after'));
      await pause(Number.isFinite(after) && after > 0 ? after * 1000 : wait, o.signal);
      continue;
    }
    const problem = parsed as Partial<Problem> | undefined;
    throw new QueueError(
      r.status,
      typeof problem?.code === 'string' ? problem.code : undefined,
      `${method} ${path} answered ${r.status}${problem?.code ? ` ${problem.code}` : ''}: ${text.slice(0, 300)}`,
    );
  }
}

export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
