// Waits until a target's readiness endpoint answers 200, with a deadline and a clear error that says what was seen.

export interface WaitReadyOptions {
  timeoutMs: number;
  /** Returns a reason to stop waiting early (e.g. the process exited). */
  abortReason?: () => string | null;
}

export async function waitReady(url: string, o: WaitReadyOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const abort = o.abortReason?.();
    if (abort) throw new Error(`${url} will not become ready: ${abort}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      last = err.cause?.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} was not ready within ${o.timeoutMs} ms (last: ${last})`);
}
