// How brokers call each other: JSON over HTTP POST with a time limit, and the readiness ping the controller's
// health checks use.
/** How often the cluster's loops run (state pulls, ISR upkeep) and a failed follower fetch is retried. */
export const POLL_MS = 200;
/** How often the controller health-checks the brokers. */
export const HEALTH_MS = 250;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function rpc<T>(base: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return (await res.json()) as T;
}

export async function ping(base: string): Promise<boolean> {
  try {
    const res = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(HEALTH_MS * 2) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
