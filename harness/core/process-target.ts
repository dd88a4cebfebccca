// A target started from a manifest: the harness owns its processes, so it can kill -9, pause, resume and restart
// each node with the same port and data directory, and it captures each node's output into the run's folder.
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { releasePort, stablePort } from '../faults/free-port.ts';
import { fillPlaceholders, type LoadedManifest } from './manifest.ts';
import { type FaultProxy, hostPort, type NetworkFaults, throughProxy } from './network-faults.ts';
import { launchNode, type NodeState, portTakenMeanwhile, signalNode, waitNodeExit } from './node-process.ts';
import { CapabilityMissing, type DependencyHandle, type Target } from './target.ts';

export interface ProcessTargetOptions {
  manifest: LoadedManifest;
  runDir: string;
  /** Extra environment for every node (e.g. MUTANT=...), applied after the manifest's. */
  envOverrides?: Record<string, string>;
  variant?: string;
  network?: NetworkFaults | null;
  /** Ignore the manifest's dependencies: every node runs on its embedded defaults. */
  embedded?: boolean;
  onProgress?: (line: string) => void;
}

export class ProcessTarget implements Target {
  readonly mode = 'manifest' as const;
  readonly processControl = true;
  readonly implementation: string;
  readonly manifestFile: string;
  readonly variant?: string;
  readonly dependencies: Record<string, DependencyHandle> = {};
  private readonly states = new Map<string, NodeState>();
  private readonly depUrls: Record<string, string> = {};
  private readonly proxies: FaultProxy[] = [];
  /** The dependencies as the target was started with them, while useDependency has swapped one. */
  private readonly startedWith = new Map<string, { url: string; handle: DependencyHandle }>();
  /** One fault proxy per ordered pair of nodes ("a->b"): what node a uses to reach node b. */
  private readonly links = new Map<string, FaultProxy>();
  /** One fault proxy per node and ${link:NAME} of its env ("node|NAME"): how that node alone reaches the URL. */
  private readonly envLinks = new Map<string, FaultProxy>();
  /** ${sharedDir}: one folder every node of this start sees (e.g. an embedded store several processes share). */
  private readonly sharedDir: string;

  private constructor(private readonly o: ProcessTargetOptions) {
    this.implementation = o.manifest.implementation;
    this.manifestFile = o.manifest.file;
    if (o.variant) this.variant = o.variant;
    this.sharedDir = join(o.runDir, 'shared');
  }

  /**
   * Starts every node. A node's port is probed free and then bound by the node, and another process on the machine
   * (a parallel run picks from the same range) can take it in between: then the node exits with EADDRINUSE, and the
   * whole start is tried again on new ports (up to three times), the failed attempt's files kept beside it.
   */
  static async start(o: ProcessTargetOptions): Promise<ProcessTarget> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ProcessTarget.startOnce(o);
      } catch (e) {
        if (attempt >= START_ATTEMPTS || !portTakenMeanwhile(join(o.runDir, 'nodes'))) throw e;
        for (const d of ['nodes', 'shared'])
          if (existsSync(join(o.runDir, d)))
            renameSync(join(o.runDir, d), join(o.runDir, `${d}-port-taken-${attempt}`));
      }
    }
  }

  private static async startOnce(o: ProcessTargetOptions): Promise<ProcessTarget> {
    const t = new ProcessTarget(o);
    try {
      await t.prepareDependencies();
      mkdirSync(t.sharedDir, { recursive: true });
      const taken = new Set<number>();
      for (const n of o.manifest.nodes) {
        // Not the kernel's pick: that range also serves outgoing connections, which could take a port while its
        // node is down for a restart. Two nodes of one start never share one (neither has bound it yet).
        let port = await stablePort();
        while (taken.has(port)) port = await stablePort();
        taken.add(port);
        const dataDir = join(o.runDir, 'nodes', n.name, 'data');
        mkdirSync(dataDir, { recursive: true });
        const logPath = join(o.runDir, 'nodes', `${n.name}.log`);
        t.states.set(n.name, {
          name: n.name,
          port,
          url: `http://127.0.0.1:${port}`,
          dataDir,
          logPath,
          log: createWriteStream(logPath, { flags: 'a' }),
          child: null,
          exit: null,
          paused: false,
        });
      }
      await t.prepareLinks();
      await Promise.all(o.manifest.nodes.map((n) => t.start(n.name)));
      return t;
    } catch (e) {
      await t.close();
      throw e;
    }
  }

  private async prepareDependencies(): Promise<void> {
    if (this.o.embedded) return;
    for (const [name, dep] of Object.entries(this.o.manifest.dependencies ?? {})) {
      const raw = fillPlaceholders(dep.url, { port: 0, host: '', dataDir: '', url: '', name, peers: '', deps: {} });
      if (!raw) continue; // not configured: the implementation uses its embedded default
      const net = this.o.network;
      if (!net) {
        this.depUrls[name] = raw;
        const missing = async (): Promise<never> => {
          throw new CapabilityMissing(`no fault proxy is available to stop or slow ${name} (Toxiproxy was not found)`);
        };
        this.dependencies[name] = { name, url: raw, setReachable: missing, addToxic: missing, removeToxic: missing };
        continue;
      }
      const proxy = await net.proxy(`dep-${name}`, hostPort(raw));
      this.proxies.push(proxy);
      const url = throughProxy(raw, proxy.listen);
      this.depUrls[name] = url;
      this.dependencies[name] = {
        name,
        url,
        setReachable: (r) => proxy.setEnabled(r),
        addToxic: (t) => proxy.addToxic(t),
        removeToxic: (n) => proxy.removeToxic(n),
      };
    }
  }

  /**
   * With a fault proxy and more than one node, every node reaches every other node through a proxy of its own, so a
   * partition can cut a->b and b->a without touching the harness's own traffic to either.
   */
  private async prepareLinks(): Promise<void> {
    const net = this.o.network;
    if (!net) return;
    // ${link:NAME}: the node's own proxy to that URL, so one node can be cut off from a service the others still reach.
    for (const n of this.o.manifest.nodes) {
      for (const v of Object.values(n.env ?? {})) {
        for (const [, name] of v.matchAll(/\$\{link:([^}]+)\}/g)) {
          const url = process.env[name!];
          if (!url || this.envLinks.has(`${n.name}|${name}`)) continue;
          const p = await net.proxy(`env-${name}-${n.name}`, hostPort(url));
          this.proxies.push(p);
          this.envLinks.set(`${n.name}|${name}`, p);
        }
      }
    }
    if (this.states.size < 2) return;
    for (const from of this.states.values()) {
      for (const to of this.states.values()) {
        if (from === to) continue;
        const p = await net.proxy(`link-${from.name}-${to.name}`, `127.0.0.1:${to.port}`);
        this.proxies.push(p);
        this.links.set(`${from.name}->${to.name}`, p);
      }
    }
  }

  /** The proxy node `from` uses to reach node `to` (for latency between nodes), if links are proxied. */
  link(from: string, to: string): FaultProxy | undefined {
    return this.links.get(`${from}->${to}`);
  }

  /** The proxy through which `node` reaches the URL its manifest env names as ${link:NAME}, if there is one. */
  envLink(node: string, name: string): FaultProxy | undefined {
    return this.envLinks.get(`${node}|${name}`);
  }

  async useDependency(name: string, url: string | null): Promise<void> {
    const current = this.dependencies[name];
    if (!current || this.depUrls[name] === undefined)
      throw new CapabilityMissing(`the target was not started with a ${name} dependency`);
    if (!this.startedWith.has(name)) this.startedWith.set(name, { url: this.depUrls[name], handle: current });
    const original = this.startedWith.get(name)!;
    if (url === null) {
      this.depUrls[name] = original.url;
      this.dependencies[name] = original.handle;
      this.startedWith.delete(name);
    } else {
      const missing = async (): Promise<never> => {
        throw new CapabilityMissing(`${name} was swapped for ${url}, which has no fault proxy in front of it`);
      };
      this.depUrls[name] = url;
      this.dependencies[name] = { name, url, setReachable: missing, addToxic: missing, removeToxic: missing };
    }
    for (const n of this.states.keys()) await this.stop(n);
    for (const n of this.states.keys()) await this.start(n);
  }

  /** Cuts every link between the two groups, both ways. `heal()` restores them. */
  async partition(a: string[], b: string[]): Promise<void> {
    if (!this.links.size)
      throw new CapabilityMissing('partitions need a fault proxy (Toxiproxy) and at least two nodes');
    for (const x of a) {
      for (const y of b) {
        await this.links.get(`${x}->${y}`)?.setEnabled(false);
        await this.links.get(`${y}->${x}`)?.setEnabled(false);
      }
    }
  }

  get baseUrl(): string {
    return this.nodeUrl();
  }

  get nodes(): string[] {
    return [...this.states.keys()];
  }

  dataDir(node?: string): string {
    return this.state(node).dataDir;
  }

  nodeUrl(node?: string): string {
    return this.state(node).url;
  }

  private state(node?: string): NodeState {
    const s = node ? this.states.get(node) : this.states.values().next().value;
    if (!s) throw new Error(`no node ${node ?? '(first)'} in ${this.manifestFile}`);
    return s;
  }

  async start(node?: string): Promise<void> {
    const s = this.state(node);
    if (s.child && s.exit === null) throw new Error(`node ${s.name} is already running`);
    const spec = this.o.manifest.nodes.find((n) => n.name === s.name)!;
    // name=url of every other node, through this node's links when they are proxied.
    const peers = [...this.states.values()]
      .filter((x) => x !== s)
      .map(
        (x) =>
          `${x.name}=${this.links.has(`${s.name}->${x.name}`) ? `http://${this.links.get(`${s.name}->${x.name}`)!.listen}` : x.url}`,
      )
      .join(',');
    const values = {
      port: s.port,
      host: '127.0.0.1',
      dataDir: s.dataDir,
      sharedDir: this.sharedDir,
      url: s.url,
      name: s.name,
      peers,
      deps: this.depUrls,
      links: Object.fromEntries(
        [...this.envLinks]
          .filter(([k]) => k.startsWith(`${s.name}|`))
          .map(([k, p]) => {
            const name = k.slice(s.name.length + 1);
            const url = process.env[name]!;
            const via = throughProxy(url, p.listen);
            return [name, url.endsWith('/') ? via : via.replace(/\/$/, '')];
          }),
      ),
    };
    for (const d of Object.keys(this.o.manifest.dependencies ?? {})) values.deps[d] ??= '';
    // A variable the manifest sets to an empty value is removed, not inherited from the harness's environment.
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries({ ...(spec.env ?? {}), ...(this.o.envOverrides ?? {}) })) {
      const filled = fillPlaceholders(v, values);
      if (filled !== '') env[k] = filled;
      else delete env[k];
    }
    const [cmd, ...args] = spec.command.map((c) => fillPlaceholders(c, values));
    this.o.onProgress?.(`starting ${s.name} on ${s.url}`);
    await launchNode(s, cmd!, args, { cwd: this.o.manifest.workDir, env, readiness: this.o.manifest.readiness ?? {} });
  }

  async kill(node?: string): Promise<void> {
    const s = this.state(node);
    signalNode(s, 'SIGKILL');
    await waitNodeExit(s, 10_000);
  }

  async pause(node?: string): Promise<void> {
    const s = this.state(node);
    signalNode(s, 'SIGSTOP');
    s.paused = true;
  }

  async resume(node?: string): Promise<void> {
    const s = this.state(node);
    signalNode(s, 'SIGCONT');
    s.paused = false;
  }

  async heal(): Promise<void> {
    for (const s of this.states.values()) {
      if (s.exit !== null) {
        this.o.onProgress?.(`healing: ${s.name} was down (${s.exit}); starting it again`);
        await this.start(s.name);
      } else if (s.paused) await this.resume(s.name);
    }
    for (const d of Object.values(this.dependencies)) await d.setReachable(true).catch(() => {});
    for (const l of [...this.links.values(), ...this.envLinks.values()]) await l.setEnabled(true);
  }

  async restartAll(): Promise<void> {
    for (const s of this.states.values()) if (s.paused) await this.resume(s.name).catch(() => {});
    for (const d of Object.values(this.dependencies)) await d.setReachable(true).catch(() => {});
    for (const l of [...this.links.values(), ...this.envLinks.values()]) await l.setEnabled(true);
    for (const n of this.states.keys()) await this.stop(n);
    await Promise.all([...this.states.keys()].map((n) => this.start(n)));
  }

  async stop(node?: string): Promise<void> {
    const s = this.state(node);
    if (!s.child || s.exit !== null) return;
    const stop = this.o.manifest.stop ?? {};
    try {
      process.kill(-s.child.pid!, 'SIGCONT'); // a paused node cannot handle SIGTERM
      signalNode(s, stop.signal ?? 'SIGTERM');
    } catch {
      return;
    }
    if (!(await waitNodeExit(s, stop.graceMs ?? 5000))) {
      s.log.write(`--- did not stop within ${stop.graceMs ?? 5000} ms; SIGKILL\n`);
      try {
        signalNode(s, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await waitNodeExit(s, 5000);
    }
  }

  logs(): { node: string; path: string }[] {
    return [...this.states.values()].map((s) => ({ node: s.name, path: s.logPath }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.states.keys()].map((n) => this.stop(n)));
    const flushed: Promise<void>[] = [];
    for (const s of this.states.values()) {
      // Output a dead child had buffered in its pipes can still arrive after 'exit': detach the pipes first, so it
      // is dropped instead of written to an ended log (an uncaught "write after end" seen at load 35).
      s.child?.stdout?.unpipe(s.log);
      s.child?.stderr?.unpipe(s.log);
      // Written out before close() returns: a failed start reads the logs for why (portTakenMeanwhile).
      flushed.push(new Promise<void>((resolve) => s.log.end(resolve)));
    }
    await Promise.all(flushed);
    await Promise.all(this.proxies.map((p) => p.remove().catch(() => {})));
    for (const s of this.states.values()) releasePort(s.port);
  }
}

/** Starts tried before a node's port taken by another process fails the start. */
const START_ATTEMPTS = 3;
