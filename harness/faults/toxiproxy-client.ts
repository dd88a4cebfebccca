// Typed client for toxiproxy's HTTP API (v2.x), on global fetch. The harness puts a proxy between an
// implementation and each dependency, then adds toxics (latency, resets, ...) or disables the proxy (a stopped
// dependency or a partition) while a scenario runs.
import { freePort } from './free-port.ts';

export type ToxicStream = 'upstream' | 'downstream';

interface ToxicCommon {
  /** Default: "<type>_<stream>", as toxiproxy names it. */
  name?: string;
  /** upstream = client -> server bytes, downstream = server -> client (toxiproxy's default). */
  stream?: ToxicStream;
  /** Probability (0..1) that a connection gets the toxic (default 1). */
  toxicity?: number;
}

/** The toxics toxiproxy 2.5 knows, with their attributes. Times are milliseconds. */
export type Toxic = ToxicCommon &
  (
    | { type: 'latency'; attributes: { latency: number; jitter?: number } }
    // rate in KB/s
    | { type: 'bandwidth'; attributes: { rate: number } }
    // delay (ms) before the connection is closed after the upstream closed
    | { type: 'slow_close'; attributes: { delay: number } }
    // stops all data, closes the connection after `timeout` ms (0 = holds it open, silent)
    | { type: 'timeout'; attributes: { timeout: number } }
    // TCP RST after `timeout` ms (0 = at once)
    | { type: 'reset_peer'; attributes: { timeout: number } }
    // closes the connection after `bytes` bytes
    | { type: 'limit_data'; attributes: { bytes: number } }
    // splits data into small packets: sizes in bytes, delay in microseconds
    | { type: 'slicer'; attributes: { average_size: number; size_variation?: number; delay?: number } }
  );

export type ToxicType = Toxic['type'];

/** A toxic as toxiproxy reports it. */
export interface ToxicInfo {
  name: string;
  type: ToxicType;
  stream: ToxicStream;
  toxicity: number;
  attributes: Record<string, number>;
}

export interface ProxyInfo {
  name: string;
  /** The real listen address, "127.0.0.1:PORT" (never port 0). */
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicInfo[];
  /** Host and port parsed from `listen`, for building URLs. */
  host: string;
  port: number;
}

export interface CreateProxyOptions {
  name: string;
  /** "127.0.0.1:PORT" of the real dependency. */
  upstream: string;
  /** Default "127.0.0.1:0": any free port; the returned ProxyInfo has the real one. Must be a loopback host. */
  listen?: string;
  enabled?: boolean;
}

export class ToxiproxyError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ToxiproxyError';
  }
}

type ProxyRef = string | { name: string };

const nameOf = (p: ProxyRef): string => (typeof p === 'string' ? p : p.name);

function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i < 0) throw new Error(`not a host:port address: ${addr}`);
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(addr.slice(i + 1)) };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

interface RawProxy {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics?: ToxicInfo[] | null;
}

function toProxyInfo(raw: RawProxy): ProxyInfo {
  const { host, port } = splitHostPort(raw.listen);
  return { ...raw, toxics: raw.toxics ?? [], host, port };
}

export class ToxiproxyClient {
  /** @param apiUrl e.g. "http://127.0.0.1:8474" */
  constructor(
    readonly apiUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, signal: AbortSignal.timeout(this.timeoutMs) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const res = await fetch(this.apiUrl + path, init);
    const text = await res.text();
    if (!res.ok) {
      let detail = text;
      try {
        detail = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the raw text
      }
      throw new ToxiproxyError(`toxiproxy ${method} ${path} -> ${res.status}: ${detail.trim()}`, res.status);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** True once the API answers; used while the server starts. */
  async isUp(): Promise<boolean> {
    try {
      const res = await fetch(`${this.apiUrl}/version`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  async version(): Promise<string> {
    const res = await fetch(`${this.apiUrl}/version`, { signal: AbortSignal.timeout(this.timeoutMs) });
    return (await res.text()).trim();
  }

  async listProxies(): Promise<Record<string, ProxyInfo>> {
    const raw = await this.request<Record<string, RawProxy>>('GET', '/proxies');
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, toProxyInfo(v)]));
  }

  async getProxy(proxy: ProxyRef): Promise<ProxyInfo> {
    return toProxyInfo(await this.request<RawProxy>('GET', `/proxies/${encodeURIComponent(nameOf(proxy))}`));
  }

  /** Creates a proxy and returns it with its real listen address. */
  async createProxy(opts: CreateProxyOptions): Promise<ProxyInfo> {
    const listen = opts.listen ?? '127.0.0.1:0';
    // A toxiproxy proxy is an open relay to its upstream: it must never be reachable from other machines.
    if (!LOOPBACK.has(splitHostPort(listen).host)) {
      throw new Error(`proxy ${opts.name}: listen address ${listen} is not loopback; use 127.0.0.1`);
    }
    const created = toProxyInfo(
      await this.request<RawProxy>('POST', '/proxies', {
        name: opts.name,
        listen,
        upstream: opts.upstream,
        enabled: opts.enabled ?? true,
      }),
    );
    if (created.port !== 0 || !created.enabled) return created;
    // toxiproxy 2.x reports the bound port for "…:0" (it reads the listener's address after binding); this is
    // the fallback should a version not do so: bind a port we chose.
    const port = await freePort();
    return this.updateProxy(created, { listen: `${created.host}:${port}` });
  }

  /** Changes listen/upstream/enabled; unspecified fields keep their values. */
  async updateProxy(
    proxy: ProxyRef,
    change: Partial<Pick<ProxyInfo, 'listen' | 'upstream' | 'enabled'>>,
  ): Promise<ProxyInfo> {
    return toProxyInfo(await this.request<RawProxy>('POST', `/proxies/${encodeURIComponent(nameOf(proxy))}`, change));
  }

  /**
   * Disabled = the proxy stops listening and closes its open connections, so clients get "connection refused":
   * how the harness simulates a stopped dependency or a network partition. Re-enabling listens on the same port.
   */
  async setEnabled(proxy: ProxyRef, enabled: boolean): Promise<ProxyInfo> {
    return this.updateProxy(proxy, { enabled });
  }

  async deleteProxy(proxy: ProxyRef): Promise<void> {
    await this.request<void>('DELETE', `/proxies/${encodeURIComponent(nameOf(proxy))}`);
  }

  async listToxics(proxy: ProxyRef): Promise<ToxicInfo[]> {
    return (
      (await this.request<ToxicInfo[] | null>('GET', `/proxies/${encodeURIComponent(nameOf(proxy))}/toxics`)) ?? []
    );
  }

  async addToxic(proxy: ProxyRef, toxic: Toxic): Promise<ToxicInfo> {
    const stream = toxic.stream ?? 'downstream';
    const body = {
      name: toxic.name ?? `${toxic.type}_${stream}`,
      type: toxic.type,
      stream,
      toxicity: toxic.toxicity ?? 1,
      attributes: toxic.attributes,
    };
    return this.request<ToxicInfo>('POST', `/proxies/${encodeURIComponent(nameOf(proxy))}/toxics`, body);
  }

  async removeToxic(proxy: ProxyRef, toxic: string | { name: string }): Promise<void> {
    const p = encodeURIComponent(nameOf(proxy));
    await this.request<void>('DELETE', `/proxies/${p}/toxics/${encodeURIComponent(nameOf(toxic))}`);
  }

  /** Re-enables every proxy and removes every toxic (proxies themselves stay). */
  async resetAll(): Promise<void> {
    await this.request<void>('POST', '/reset');
  }
}
