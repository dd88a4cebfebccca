// Node-to-node calls, only through the URLs the node was given in PEERS (`name=url,...`): the harness proxies each
// pair of nodes, which is how it partitions them and slows their links. JSON over HTTP on one undici connection pool
// per peer (kept alive; node:http's ClientRequest and Agent cost the coordinator more CPU than the replica's whole
// answer), with a deadline on every call, so a paused or cut-off peer costs a timeout, never a hang.
import { Pool } from 'undici';

export class PeerError extends Error {}

export class Peers {
  private readonly pools = new Map<string, Pool>();
  constructor(
    readonly urls: Map<string, string>,
    /** Deadline of each call; the `short-rpc-timeout` and `no-rpc-timeout` mutants change it. */
    readonly timeoutMs: number,
  ) {
    for (const [name, url] of urls) this.pools.set(name, new Pool(new URL(url).origin, { connections: 32 }));
  }

  get names(): string[] {
    return [...this.urls.keys()];
  }

  async call<T>(peer: string, path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const pool = this.pools.get(peer);
    if (!pool) throw new PeerError(`no peer ${peer}`);
    const abort = new AbortController();
    const timer =
      timeoutMs > 0
        ? setTimeout(() => abort.abort(new PeerError(`${peer}${path}: no answer within ${timeoutMs} ms`)), timeoutMs)
        : undefined;
    try {
      const res = await pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new PeerError(`${peer}${path}: ${res.statusCode} ${text.slice(0, 200)}`);
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw new PeerError(`${peer}${path}: bad JSON (${(e as Error).message})`);
      }
    } catch (e) {
      if (e instanceof PeerError) throw e;
      throw abort.signal.aborted && abort.signal.reason instanceof PeerError
        ? abort.signal.reason
        : new PeerError(`${peer}${path}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    for (const p of this.pools.values()) void p.destroy();
  }
}
