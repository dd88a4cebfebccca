// The running check's stop signal, for code that has no ctx at hand (a chapter's `sleep` helper, a raw fetch, a
// WebSocket). run-checks runs each check inside this scope, so a check stopped at its time limit stops waiting
// everywhere, not only in ctx.http and ctx.sleep. Outside a check (unit tests, load set-up) nothing is aborted.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { pinned } from './abort-signals.ts';
import { throwIfStopped } from './http-client.ts';

const scope = new AsyncLocalStorage<AbortSignal>();

export function runInCheckScope<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return scope.run(signal, fn);
}

/** The stop signal of the check this code runs for, if any. */
export function checkSignal(): AbortSignal | undefined {
  return scope.getStore();
}

/** Waits, unless the running check is stopped first (then throws CheckAborted). */
export async function sleep(ms: number): Promise<void> {
  const signal = scope.getStore();
  if (!signal) {
    await delay(Math.max(0, ms));
    return;
  }
  throwIfStopped(signal);
  try {
    await delay(Math.max(0, ms), undefined, { signal });
  } catch {
    throwIfStopped(signal);
  }
}

/** fetch that is cancelled when the running check is stopped (and by the caller's own signal). */
export function scopedFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const stop = scope.getStore();
  if (!stop) return fetch(input, init);
  throwIfStopped(stop);
  // the caller's signal pinned: any() alone would let a timeout signal be collected before it fires
  const signal = init.signal ? AbortSignal.any([pinned(init.signal), stop]) : stop;
  return fetch(input, { ...init, signal }).catch((e: unknown) => {
    throwIfStopped(stop);
    throw e;
  });
}

/** Runs `onStop` when the running check is stopped (e.g. terminate a WebSocket); returns the unsubscribe. */
export function onCheckStop(onStop: () => void): () => void {
  const signal = scope.getStore();
  if (!signal) return () => {};
  if (signal.aborted) {
    onStop();
    return () => {};
  }
  signal.addEventListener('abort', onStop, { once: true });
  return () => signal.removeEventListener('abort', onStop);
}
