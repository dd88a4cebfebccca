// Timeouts that cannot be lost. On Node 20, AbortSignal.any() holds its source signals weakly, and a signal from
// AbortSignal.timeout() is held strongly only while it has an 'abort' listener: a timeout passed only through any()
// (or a fetch wrapped by another any(), as scopedFetch does) can be garbage-collected before it fires, and the
// request then waits for undici's own 300 s headers timeout instead. Seen in this repo: once the request loop's code
// was optimised, a 20 s answer bound never fired (harness/core/abort-signals.test.ts reproduces it). An 'abort'
// listener pins a timeout signal until it fires; one shared listener function, so a signal never gathers many.
const keepAlive = (): void => {};

/** The signal, held strongly until it aborts (for a timeout signal; any other signal is held by its controller). */
export function pinned(signal: AbortSignal): AbortSignal {
  signal.addEventListener('abort', keepAlive, { once: true });
  return signal;
}

/** Aborted after `ms` (a TimeoutError, as AbortSignal.timeout) or when `stop` aborts, whichever comes first. */
export function timeoutOr(ms: number, stop?: AbortSignal | null): AbortSignal {
  const timeout = pinned(AbortSignal.timeout(ms));
  return stop ? AbortSignal.any([stop, timeout]) : timeout;
}
