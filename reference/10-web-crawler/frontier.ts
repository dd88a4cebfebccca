// The URL frontier of the book: front queues ordered by priority (here the depth, so the crawl is breadth-first)
// and one back queue per host. A host hands out one URL at a time and never sooner than the politeness delay after
// its previous response; among the hosts that are ready, the one whose next URL is shallowest goes first.
import type { QueuedUrl } from './store.ts';

/** What the crawler asks of a parsed robots.txt (robots-parser's Robot). */
export interface Robot {
  isDisallowed(url: string, ua?: string): boolean | undefined;
}

interface HostQueue {
  /** Back queue: this host's URLs, by depth (front priority), then arrival. */
  queue: QueuedUrl[];
  /** Requests in flight to the host (1 at most, unless mutated). */
  busy: number;
  /** Earliest time (performance.now()) the next request may start. */
  nextAt: number;
  /** Its robots.txt rules: undefined until fetched, null when it has none. */
  robots: Robot | null | undefined;
}

export class Frontier {
  private readonly hosts = new Map<string, HostQueue>();
  private count = 0;

  constructor(private readonly perHost: number) {}

  get size(): number {
    return this.count;
  }

  host(name: string): HostQueue {
    let h = this.hosts.get(name);
    if (!h) {
      h = { queue: [], busy: 0, nextAt: 0, robots: undefined };
      this.hosts.set(name, h);
    }
    return h;
  }

  push(u: QueuedUrl, atFront = false): void {
    const q = this.host(new URL(u.url).hostname).queue;
    if (atFront) q.unshift(u);
    else {
      // Keep the back queue in depth order: insert after the last URL of the same or a smaller depth.
      let i = q.length;
      while (i > 0 && q[i - 1]!.depth > u.depth) i--;
      q.splice(i, 0, u);
    }
    this.count++;
  }

  /** The next URL whose host may be asked now, or null; the host is then busy until release(). */
  take(now: number): { host: string; item: QueuedUrl } | null {
    let best: string | null = null;
    let bestDepth = Number.POSITIVE_INFINITY;
    for (const [name, h] of this.hosts) {
      if (h.queue.length === 0 || h.busy >= this.perHost || h.nextAt > now) continue;
      if (h.queue[0]!.depth < bestDepth) {
        best = name;
        bestDepth = h.queue[0]!.depth;
      }
    }
    if (best === null) return null;
    const h = this.hosts.get(best)!;
    h.busy++;
    this.count--;
    return { host: best, item: h.queue.shift()! };
  }

  /** When the soonest waiting host becomes ready (Infinity if none waits on time alone). */
  nextReadyAt(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const h of this.hosts.values()) if (h.queue.length > 0 && h.busy < this.perHost && h.nextAt < t) t = h.nextAt;
    return t;
  }

  /** The host's request is over: the next may start `delayMs` after now (after the response, as the book's delay). */
  release(host: string, now: number, delayMs: number): void {
    const h = this.host(host);
    h.busy--;
    h.nextAt = Math.max(h.nextAt, now + delayMs);
  }

  /** Drops every queued URL (the job is done: nothing waits to be fetched any more). */
  clear(): void {
    for (const h of this.hosts.values()) h.queue.length = 0;
    this.count = 0;
  }
}
