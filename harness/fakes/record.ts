// What a fake received, in arrival order: the evidence chapter checks read ("the PSP saw one charge per
// idempotency key", "no SMS was sent twice"). Every request is recorded, including unmatched ones and ones a fault
// answered, before any handler runs.

export interface RecordedCall {
  /** Arrival order, from 1, per fake. */
  seq: number;
  /** Wall-clock arrival time, epoch milliseconds. */
  at: number;
  method: string;
  /** Full URL as the fake saw it (origin of the fake, path and query). */
  url: string;
  /** Path without the query string, for matching. */
  path: string;
  /** Request headers, names lower-cased. */
  headers: Record<string, string>;
  /** Raw request body as text ('' when there is none). */
  body: string;
  /** False when no handler matched (the fake answered 501). Set once the handlers ran. */
  matched: boolean;
  /** The injected fault that answered this call, if one did. */
  fault?: 'error5xx' | 'timeout' | 'slow' | 'reset';
}

export interface CallFilter {
  method?: string;
  /** Exact path, or a RegExp tested against the path. */
  path?: string | RegExp;
  /** Calls whose header has this value (name case-insensitive); `true` means only that it is present. */
  header?: { name: string; value?: string | true };
  matched?: boolean;
}

/** An append-only log; `calls` is the live array (read it, do not write to it). */
export class CallLog {
  readonly calls: RecordedCall[] = [];
  private readonly byRequest = new WeakMap<Request, RecordedCall>();

  /** Record a request as it arrives; reads a clone of the body, so handlers can still read the original. */
  async record(request: Request, at = Date.now()): Promise<RecordedCall> {
    const existing = this.byRequest.get(request);
    if (existing) return existing;
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    // Reserve the sequence number before awaiting the body, so order is arrival order.
    const call: RecordedCall = {
      seq: this.calls.length + 1,
      at,
      method: request.method.toUpperCase(),
      url: url.href,
      path: url.pathname,
      headers,
      body: '',
      matched: true,
    };
    this.calls.push(call);
    this.byRequest.set(request, call);
    if (request.body !== null && !request.bodyUsed) call.body = await request.clone().text();
    return call;
  }

  /** The recorded call for a request object seen by a handler, if it was recorded. */
  of(request: Request): RecordedCall | undefined {
    return this.byRequest.get(request);
  }

  filter(filter: CallFilter = {}): RecordedCall[] {
    return filterCalls(this.calls, filter);
  }

  clear(): void {
    this.calls.length = 0;
  }
}

export function filterCalls(calls: readonly RecordedCall[], filter: CallFilter = {}): RecordedCall[] {
  return calls.filter((c) => matchesFilter(c, filter));
}

export function matchesFilter(call: RecordedCall, filter: CallFilter): boolean {
  if (filter.method !== undefined && call.method !== filter.method.toUpperCase()) return false;
  if (filter.path !== undefined) {
    if (typeof filter.path === 'string' ? call.path !== filter.path : !filter.path.test(call.path)) return false;
  }
  if (filter.header !== undefined) {
    const value = call.headers[filter.header.name.toLowerCase()];
    if (value === undefined) return false;
    if (filter.header.value !== undefined && filter.header.value !== true && value !== filter.header.value)
      return false;
  }
  if (filter.matched !== undefined && call.matched !== filter.matched) return false;
  return true;
}

/** Parsed JSON body of a call; undefined when the body is empty or not JSON. */
export function jsonBody(call: RecordedCall): unknown {
  if (call.body === '') return undefined;
  try {
    return JSON.parse(call.body);
  } catch {
    return undefined;
  }
}

/** Calls grouped by a header's value (e.g. `Idempotency-Key`); calls without the header are left out. */
export function groupByHeader(calls: readonly RecordedCall[], name: string): Map<string, RecordedCall[]> {
  const groups = new Map<string, RecordedCall[]>();
  for (const call of calls) {
    const value = call.headers[name.toLowerCase()];
    if (value === undefined) continue;
    const list = groups.get(value);
    if (list) list.push(call);
    else groups.set(value, [call]);
  }
  return groups;
}

/** One line per call, for a failing check's evidence. */
export function describeCalls(calls: readonly RecordedCall[]): string {
  return calls
    .map((c) => `#${c.seq} ${c.method} ${c.path}${c.matched ? '' : ' (unmatched)'}${c.fault ? ` [${c.fault}]` : ''}`)
    .join('\n');
}
