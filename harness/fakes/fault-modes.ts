// Faults a fake can be told to inject, in front of every handler: the third party is down (5xx), hangs (timeout),
// is slow, or drops the connection (reset). One FaultControl per fake; `set` changes what the next calls get.
//
// What a client sees (verified over a real port by fault-modes.test.ts; in-process msw gives the same outcomes):
// - error5xx: the status (default 503) with an application/problem+json body, code `fault_injected`.
// - timeout:  no response at all; the fake holds the request until the client gives up (the connection closes),
//             `delayMs` passes (default 30 s) or the fake stops, then destroys the socket. A client with a deadline
//             sees its own timeout (AbortSignal.timeout -> TimeoutError); one without sees a reset after `delayMs`.
// - slow:     the normal answer, `delayMs` (default 1 s) later.
// - reset:    the TCP connection is destroyed with nothing written: fetch rejects with TypeError('fetch failed')
//             whose cause is UND_ERR_SOCKET ("other side closed"). In-process, msw rejects fetch with
//             TypeError('Failed to fetch') (no socket, so no cause code).
// Faults other than `slow` answer before any handler runs: the fake did not act on the request (a 5xx or reset
// from a PSP here means "the charge was not created"), so a checker can count on the fake's state.
import { HttpResponse, http, type RequestHandler } from 'msw';
import { type Random, seededRandom } from './prng.ts';
import { fakeProblem, problemResponse } from './problem.ts';

export type FaultMode = 'none' | 'error5xx' | 'timeout' | 'slow' | 'reset';
export type ActiveFaultMode = Exclude<FaultMode, 'none'>;

export interface FaultSettings {
  mode: FaultMode;
  /** error5xx: the status to answer, 500-599 (default 503). */
  status?: number;
  /** timeout: the longest a request is held (default 30 000 ms); slow: the added delay (default 1 000 ms). */
  delayMs?: number;
  /** Each call the setting applies to gets the fault with this probability (seeded PRNG; default 1). */
  probability?: number;
  /** Apply only to the next N calls (each of them still subject to `probability`); then back to normal. */
  times?: number;
}

export interface FaultDecision {
  mode: ActiveFaultMode;
  status: number;
  delayMs: number;
}

export interface FiredFault {
  /** Which call since the control was created (1-based, counting every call the fake received). */
  call: number;
  at: number;
  mode: ActiveFaultMode;
  method: string;
  path: string;
}

export const DEFAULT_FAULT_STATUS = 503;
export const DEFAULT_TIMEOUT_HOLD_MS = 30_000;
export const DEFAULT_SLOW_DELAY_MS = 1_000;

export interface FaultControl {
  /** Replace the current setting. Throws RangeError for out-of-range values. */
  set(settings: FaultSettings): void;
  /** Back to `{ mode: 'none' }`. */
  clear(): void;
  readonly settings: Readonly<FaultSettings>;
  /** Calls the current setting still applies to (Infinity when no `times` was given, 0 once used up). */
  readonly remaining: number;
  /** Every fault that fired, in order. */
  readonly fired: readonly FiredFault[];
  /**
   * Decide whether this request gets a fault; decided once per Request object (later calls return the same
   * answer). Consumes `times` and one PRNG draw when a probability below 1 is set.
   */
  decide(request: Request): FaultDecision | null;
  /** Wait `ms`, ending early when any signal aborts or `releaseAll` is called. */
  hold(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void>;
  /** End every hold now (stop() of a fake calls this so no timer outlives it). */
  releaseAll(): void;
  /** Requests being held right now (timeouts and slow calls). */
  readonly holding: number;
}

export interface FaultControlOptions {
  /** Seed of the PRNG for `probability`, so a run replays exactly. */
  seed: number;
  /** Named in injected problem bodies. */
  name?: string;
}

export function createFaultControl(options: FaultControlOptions): FaultControl {
  const random: Random = seededRandom(options.seed);
  let settings: FaultSettings = { mode: 'none' };
  let remaining = Number.POSITIVE_INFINITY;
  let calls = 0;
  const fired: FiredFault[] = [];
  const decisions = new WeakMap<Request, FaultDecision | null>();
  const holds = new Set<() => void>();

  const decideFresh = (): FaultDecision | null => {
    calls++;
    if (settings.mode === 'none' || remaining <= 0) return null;
    remaining--;
    const p = settings.probability ?? 1;
    if (p < 1 && random() >= p) return null;
    return {
      mode: settings.mode,
      status: settings.status ?? DEFAULT_FAULT_STATUS,
      delayMs: settings.delayMs ?? (settings.mode === 'timeout' ? DEFAULT_TIMEOUT_HOLD_MS : DEFAULT_SLOW_DELAY_MS),
    };
  };

  return {
    set(next) {
      validate(next);
      settings = { ...next };
      remaining = next.times ?? Number.POSITIVE_INFINITY;
    },
    clear() {
      settings = { mode: 'none' };
      remaining = Number.POSITIVE_INFINITY;
    },
    get settings() {
      return settings;
    },
    get remaining() {
      return settings.mode === 'none' ? 0 : remaining;
    },
    fired,
    decide(request) {
      if (decisions.has(request)) return decisions.get(request) ?? null;
      const decision = decideFresh();
      decisions.set(request, decision);
      if (decision) {
        const url = new URL(request.url);
        fired.push({ call: calls, at: Date.now(), mode: decision.mode, method: request.method, path: url.pathname });
      }
      return decision;
    },
    hold(ms, ...signals) {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          holds.delete(done);
          for (const s of signals) s?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        holds.add(done);
        for (const s of signals) {
          if (s?.aborted) return done();
          s?.addEventListener('abort', done, { once: true });
        }
      });
    },
    releaseAll() {
      for (const done of [...holds]) done();
    },
    get holding() {
      return holds.size;
    },
  };
}

function validate(s: FaultSettings): void {
  const modes: FaultMode[] = ['none', 'error5xx', 'timeout', 'slow', 'reset'];
  if (!modes.includes(s.mode)) throw new RangeError(`unknown fault mode ${JSON.stringify(s.mode)}`);
  if (s.status !== undefined && !(Number.isInteger(s.status) && s.status >= 500 && s.status <= 599)) {
    throw new RangeError(`fault status must be an integer 500-599, got ${s.status}`);
  }
  if (s.delayMs !== undefined && !(Number.isFinite(s.delayMs) && s.delayMs >= 0)) {
    throw new RangeError(`fault delayMs must be >= 0, got ${s.delayMs}`);
  }
  if (s.probability !== undefined && !(s.probability >= 0 && s.probability <= 1)) {
    throw new RangeError(`fault probability must be in [0, 1], got ${s.probability}`);
  }
  if (s.times !== undefined && !(Number.isInteger(s.times) && s.times >= 0)) {
    throw new RangeError(`fault times must be a non-negative integer, got ${s.times}`);
  }
}

/**
 * The response a decided fault answers with. `reset` and the end of a `timeout` are `HttpResponse.error()`: msw
 * in-process turns it into a rejected fetch; on a real port startFakeService turns it into a destroyed socket.
 * `clientGone` ends a timeout hold early (on a real port: the client closed the connection).
 */
export async function faultResponse(
  faults: FaultControl,
  decision: FaultDecision,
  request: Request,
  clientGone?: AbortSignal,
  name = 'fake',
): Promise<Response> {
  switch (decision.mode) {
    case 'error5xx': {
      const path = new URL(request.url).pathname;
      const detail = `${name}: injected ${decision.status} on ${request.method} ${path}`;
      return problemResponse(fakeProblem(decision.status, 'fault_injected', detail));
    }
    case 'timeout':
      await faults.hold(decision.delayMs, request.signal, clientGone);
      return HttpResponse.error();
    case 'reset':
      return HttpResponse.error();
    case 'slow':
      // Not reached: slow is applied by delaying and then letting the handlers answer.
      return HttpResponse.error();
  }
}

export interface FaultHandlerOptions {
  /** Called first for every request (e.g. to record it). */
  onRequest?: (request: Request) => Promise<void> | void;
  /** Called once a fault is decided for a request. */
  onFault?: (request: Request, decision: FaultDecision) => void;
  /** The signal that says the client went away, for a request (real port only). */
  clientGone?: (request: Request) => AbortSignal | undefined;
  name?: string;
}

/**
 * One msw handler that goes in front of all others. It uses a custom predicate so that it only *matches* a request
 * that gets a fault: every other request is left to the handlers (and an unhandled one stays unhandled, so
 * `onUnhandledRequest: 'error'` still fires). `slow` is applied inside the predicate (delay, then no match).
 */
export function faultHandler(faults: FaultControl, options: FaultHandlerOptions = {}): RequestHandler {
  return http.all(
    async ({ request }) => {
      await options.onRequest?.(request);
      const decision = faults.decide(request);
      if (!decision) return false;
      options.onFault?.(request, decision);
      if (decision.mode === 'slow') {
        await faults.hold(decision.delayMs, request.signal, options.clientGone?.(request));
        return false;
      }
      return true;
    },
    async ({ request }) => {
      const decision = faults.decide(request);
      if (!decision) return HttpResponse.error(); // unreachable: the predicate matched only with a decision
      return faultResponse(faults, decision, request, options.clientGone?.(request), options.name);
    },
  );
}

/** The handlers with the fault handler in front: use with setupServer when you only need faults in-process. */
export function withFaults(handlers: readonly RequestHandler[], faults: FaultControl): RequestHandler[] {
  return [faultHandler(faults), ...handlers];
}
