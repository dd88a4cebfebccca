// The fault proxy seen by the rest of the harness: a named TCP proxy in front of an upstream, which can be
// disabled (a stopped service or a partition) or given toxics (latency, resets, ...). Backed by Toxiproxy.

import type { Toxic } from '../faults/toxiproxy-client.ts';

export type { Toxic };

export interface FaultProxy {
  readonly name: string;
  /** host:port the proxy listens on. */
  readonly listen: string;
  readonly upstream: string;
  setEnabled(enabled: boolean): Promise<void>;
  addToxic(t: Toxic): Promise<string>;
  removeToxic(name: string): Promise<void>;
  /** Deletes the proxy (its connections close). */
  remove(): Promise<void>;
}

export interface NetworkFaults {
  proxy(name: string, upstream: string): Promise<FaultProxy>;
  close(): Promise<void>;
}

/** Rewrites a service URL (redis://, postgres://, http://) so that it points at the proxy's listen address. */
export function throughProxy(url: string, listen: string): string {
  const u = new URL(url);
  const [host, port] = listen.split(':');
  u.hostname = host!;
  u.port = port!;
  return u.toString();
}

export function hostPort(url: string): string {
  const u = new URL(url);
  const defaults: Record<string, string> = {
    'redis:': '6379',
    'postgres:': '5432',
    'postgresql:': '5432',
    'http:': '80',
  };
  return `${u.hostname}:${u.port || defaults[u.protocol] || ''}`;
}

/** Runs fn with the proxy disabled (a stopped dependency, a partition) and always enables it again afterwards. */
export async function withDisabled<T>(p: FaultProxy, fn: () => Promise<T>): Promise<T> {
  await p.setEnabled(false);
  try {
    return await fn();
  } finally {
    await p.setEnabled(true);
  }
}

/** Runs fn with the toxic in place and always removes it afterwards (the final heal), even if fn throws. */
export async function withToxic<T>(
  p: Pick<FaultProxy, 'addToxic' | 'removeToxic'>,
  t: Toxic,
  fn: () => Promise<T>,
): Promise<T> {
  const name = await p.addToxic(t);
  try {
    return await fn();
  } finally {
    await p.removeToxic(name);
  }
}
