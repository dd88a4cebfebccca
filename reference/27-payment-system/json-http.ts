// JSON over HTTP to a third party (the PSP, the payout provider), on undici's request API and one keep-alive
// connection pool per provider. Not fetch: under load fetch's per-call machinery (WHATWG streams and Request
// objects) was a tenth of this service's CPU for three calls per checkout. Every call has a deadline.
import { Agent, request } from 'undici';

export interface JsonAnswer {
  status: number;
  /** The parsed body; undefined when it is empty or not JSON. */
  json: unknown;
}

export class JsonHttp {
  private readonly base: string;
  private readonly agent = new Agent({ keepAliveTimeout: 30_000 });

  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /** Throws when no answer came within the deadline (the provider may or may not have acted). */
  async call(method: 'GET' | 'POST', path: string, body?: unknown, key?: string): Promise<JsonAnswer> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key !== undefined) headers['idempotency-key'] = key;
    const res = await request(this.base + path, {
      method,
      headers,
      dispatcher: this.agent,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
