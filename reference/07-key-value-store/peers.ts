// Node-to-node calls, only through the URLs the node was given in PEERS (`name=url,...`): the harness proxies each
// pair of nodes, which is how it partitions them and slows their links. JSON over HTTP with keep-alive, and a
// deadline on every call, so a paused or cut-off peer costs a timeout, never a hang.
import { Agent, request } from 'node:http';

export class PeerError extends Error {}

export class Peers {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  constructor(
    readonly urls: Map<string, string>,
    /** Deadline of each call; the `short-rpc-timeout` and `no-rpc-timeout` mutants change it. */
    readonly timeoutMs: number,
  ) {}

  get names(): string[] {
    return [...this.urls.keys()];
  }

  call<T>(peer: string, path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const base = this.urls.get(peer);
    if (!base) return Promise.reject(new PeerError(`no peer ${peer}`));
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        `${base}${path}`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200)
              return reject(new PeerError(`${peer}${path}: ${res.statusCode} ${text.slice(0, 200)}`));
            try {
              resolve(JSON.parse(text) as T);
            } catch (e) {
              reject(new PeerError(`${peer}${path}: bad JSON (${(e as Error).message})`));
            }
          });
          res.on('error', (e) => reject(new PeerError(`${peer}${path}: ${e.message}`)));
        },
      );
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              req.destroy(new PeerError(`${peer}${path}: no answer within ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e instanceof PeerError ? e : new PeerError(`${peer}${path}: ${e.message}`));
      });
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
