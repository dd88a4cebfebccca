// The one way checks talk HTTP to a target: every exchange is validated against the spec and recorded, so a
// violation anywhere in any suite fails the check that caused it, with the exchange attached.
import createClient, { type Client } from 'openapi-fetch';
import type { RecordedExchange } from '../results/types.ts';
import { timeoutOr } from './abort-signals.ts';
import type { ExchangeValidator } from './exchange-validator.ts';

export interface Exchange {
  method: string;
  url: string;
  path: string;
  requestBody?: unknown;
  status: number | null;
  headers: Record<string, string>;
  bodyText: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  body: unknown;
  /** Network error or timeout: the outcome of the request is unknown. */
  error?: string;
  violations: string[];
  durationMs: number;
}

export interface SendOptions {
  method: string;
  path: string;
  json?: unknown;
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** False for deliberately bad input: the request is then not checked against the spec (the response still is). */
  validRequest?: boolean;
  /** Override the base URL (e.g. to go through a fault proxy). */
  baseUrl?: string;
}

/** Thrown by a typed client when no response came (reset, refused, timeout); carries the exchange. */
export class ExchangeError extends Error {
  constructor(readonly exchange: Exchange) {
    super(`${exchange.method} ${exchange.url}: ${exchange.error}`);
  }
}

/**
 * Thrown by every request of a check once the check was stopped (it timed out): no request of a stopped check goes
 * out, and none still waiting on a response survives the abort.
 */
export class CheckAborted extends Error {}

/** Throws CheckAborted when the check's signal was aborted. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new CheckAborted(`the check was stopped: ${String(signal.reason?.message ?? signal.reason)}`);
}

/** Collects exchanges; the first one with violations is kept as the evidence of a failure. */
export class ExchangeSink {
  count = 0;
  violating: Exchange[] = [];
  last: Exchange | null = null;
  record(x: Exchange): void {
    this.count++;
    this.last = x;
    if (x.violations.length) this.violating.push(x);
  }
}

export function toRecorded(x: Exchange): RecordedExchange {
  const clip = (s: string) => (s.length > 4000 ? `${s.slice(0, 4000)}... (${s.length} bytes)` : s);
  return {
    request: { method: x.method, url: x.url, ...(x.requestBody !== undefined ? { body: x.requestBody } : {}) },
    response:
      x.status === null
        ? null
        : { status: x.status, headers: x.headers, body: x.body !== undefined ? x.body : clip(x.bodyText) },
    violations: x.error ? [...x.violations, `error: ${x.error}`] : x.violations,
  };
}

const exchanges = new WeakMap<Response, Exchange>();

/** The validated exchange behind a Response returned by a typed client (safe under concurrency, unlike `last`). */
export function exchangeOf(res: Response): Exchange {
  const x = exchanges.get(res);
  if (!x) throw new Error('this Response did not come through HttpClient.typed()');
  return x;
}

/** The exchange behind a typed client's call, whether it got a response or a network error. */
export async function exchangeFrom(call: Promise<{ response: Response }>): Promise<Exchange> {
  try {
    return exchangeOf((await call).response);
  } catch (e) {
    if (e instanceof ExchangeError) return e.exchange;
    throw e;
  }
}

export class HttpClient {
  constructor(
    readonly baseUrl: string,
    private readonly validator: ExchangeValidator,
    private readonly sink: ExchangeSink,
    /** The check's signal: aborted when the check is stopped, which cancels every request in flight. */
    readonly signal?: AbortSignal,
  ) {}

  withBaseUrl(baseUrl: string): HttpClient {
    return new HttpClient(baseUrl, this.validator, this.sink, this.signal);
  }

  async send(o: SendOptions): Promise<Exchange> {
    throwIfStopped(this.signal);
    const url = (o.baseUrl ?? this.baseUrl).replace(/\/$/, '') + o.path;
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    let body: string | undefined;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] = o.contentType ?? 'application/json';
    } else if (o.rawBody !== undefined) {
      body = o.rawBody;
      if (o.contentType) headers['content-type'] = o.contentType;
    }
    const started = performance.now();
    const x: Exchange = {
      method: o.method.toUpperCase(),
      url,
      path: o.path,
      requestBody: o.json,
      status: null,
      headers: {},
      bodyText: '',
      body: undefined,
      violations: [],
      durationMs: 0,
    };
    const signal = timeoutOr(o.timeoutMs ?? 10_000, this.signal);
    try {
      const res = await fetch(url, {
        method: x.method,
        headers,
        body,
        redirect: 'manual',
        signal,
      });
      x.status = res.status;
      res.headers.forEach((v, k) => {
        x.headers[k] = v;
      });
      x.bodyText = await res.text();
      if ((x.headers['content-type'] ?? '').includes('json')) {
        try {
          x.body = JSON.parse(x.bodyText);
        } catch {
          x.body = undefined;
        }
      }
    } catch (e) {
      throwIfStopped(this.signal);
      const err = e as Error & { cause?: { code?: string; message?: string } };
      x.error = err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.cause?.message ?? err.message);
    }
    x.durationMs = performance.now() - started;
    if (x.status !== null) {
      x.violations = this.validator.validate({
        method: x.method,
        path: o.path,
        requestBody: o.json,
        validRequest: o.validRequest !== false,
        status: x.status,
        headers: x.headers,
        bodyText: x.bodyText,
      });
    }
    this.sink.record(x);
    return x;
  }

  /** A typed client generated from the spec (openapi-fetch) whose every exchange is validated and recorded too. */
  typed<Paths extends {}>(): Client<Paths> {
    const recordingFetch = async (input: Request): Promise<Response> => {
      const u = new URL(input.url);
      const text = input.body ? await input.text() : undefined;
      const ctype = input.headers.get('content-type') ?? undefined;
      let json: unknown;
      if (text !== undefined && ctype?.includes('json')) json = JSON.parse(text);
      // The caller's headers (e.g. Authorization) go along; the body's own are set by send().
      const headers: Record<string, string> = {};
      input.headers.forEach((v, k) => {
        if (k !== 'content-type' && k !== 'content-length') headers[k] = v;
      });
      const x = await this.send({
        method: input.method,
        path: u.pathname + u.search,
        ...(Object.keys(headers).length ? { headers } : {}),
        ...(json !== undefined ? { json, contentType: ctype } : {}),
        ...(json === undefined && text !== undefined ? { rawBody: text, contentType: ctype } : {}),
        baseUrl: `${u.protocol}//${u.host}`,
      });
      if (x.status === null) throw new ExchangeError(x);
      const res = new Response(x.status === 204 || x.status === 304 ? null : x.bodyText, {
        status: x.status,
        headers: x.headers,
      });
      exchanges.set(res, x);
      return res;
    };
    return createClient<Paths>({ baseUrl: this.baseUrl, fetch: recordingFetch });
  }
}
