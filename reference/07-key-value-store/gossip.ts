// Gossip-based failure detection (the book's "Failure detection"): each node keeps a membership list of heartbeat
// counters, increments its own every tick and sends the list to a random peer, which merges it (higher heartbeat
// wins) and answers its own. A member whose heartbeat has not grown for `failAfterMs` is marked down. Nobody is
// declared down on one failed call: only the lack of news from every source (the book's "at least another source").
// A heartbeat is (generation, counter), compared generation first, as Cassandra's gossip does: the counter restarts
// at 0 with the process, and without a new generation the others would ignore a restarted node until its counter
// passed the one they remember, about as long as it had been up before the crash.
import type { Peers } from './peers.ts';

/** One member's heartbeat on the wire: its generation (a new one per process start), then its counter. */
export interface Beat {
  generation: number;
  heartbeat: number;
}

interface MemberState extends Beat {
  /** Local time the heartbeat last grew (-Infinity: never heard of). */
  heardAt: number;
}

export interface GossipOptions {
  self: string;
  /** This process's generation: greater than any earlier run of the node (see `nextGeneration` in main.ts). */
  generation: number;
  peers: Peers;
  intervalMs: number;
  failAfterMs: number;
  /** MUTANT gossip-off: no gossip is sent. */
  off?: boolean;
  /** MUTANT no-failure-detection: a member once heard of is never marked down. */
  neverDown?: boolean;
  /** MUTANT last-heard-in-seconds: the view's lastHeardMsAgo is in seconds. */
  lastHeardInSeconds?: boolean;
}

export class Gossip {
  readonly members = new Map<string, MemberState>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: GossipOptions) {
    this.members.set(o.self, { generation: o.generation, heartbeat: 0, heardAt: performance.now() });
    for (const p of o.peers.names)
      this.members.set(p, { generation: 0, heartbeat: 0, heardAt: Number.NEGATIVE_INFINITY });
  }

  start(): void {
    if (this.o.off) return;
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
  }

  private async tick(): Promise<void> {
    const me = this.members.get(this.o.self)!;
    me.heartbeat++;
    me.heardAt = performance.now();
    const names = this.o.peers.names;
    if (names.length === 0) return;
    const target = names[Math.floor(Math.random() * names.length)]!;
    try {
      const answer = await this.o.peers.call<{ members: Record<string, Beat> }>(
        target,
        '/internal/v1/gossip',
        { from: this.o.self, members: this.list() },
        Math.min(this.o.peers.timeoutMs || 1000, 1000),
      );
      this.merge(answer.members);
    } catch {
      /* a silent peer is detected by its heartbeat not growing, not by one failed call */
    }
  }

  list(): Record<string, Beat> {
    return Object.fromEntries(
      [...this.members].map(([n, s]) => [n, { generation: s.generation, heartbeat: s.heartbeat }]),
    );
  }

  merge(list: Record<string, Beat>): void {
    const now = performance.now();
    for (const [name, beat] of Object.entries(list)) {
      if (name === this.o.self) continue;
      const s = this.members.get(name);
      if (!s || typeof beat?.generation !== 'number' || typeof beat.heartbeat !== 'number') continue;
      // A newer generation is news whatever its counter; within one generation the counter must grow.
      if (beat.generation > s.generation || (beat.generation === s.generation && beat.heartbeat > s.heartbeat)) {
        s.generation = beat.generation;
        s.heartbeat = beat.heartbeat;
        s.heardAt = now;
      }
    }
  }

  isAlive(name: string): boolean {
    if (name === this.o.self) return true;
    const s = this.members.get(name);
    if (!s || s.heardAt === Number.NEGATIVE_INFINITY) return false;
    if (this.o.neverDown) return true;
    return performance.now() - s.heardAt < this.o.failAfterMs;
  }

  view(): { name: string; status: 'alive' | 'down'; heartbeat: number; lastHeardMsAgo: number }[] {
    const now = performance.now();
    const unit = this.o.lastHeardInSeconds ? 1000 : 1;
    return [...this.members].map(([name, s]) => ({
      name,
      status: this.isAlive(name) ? 'alive' : 'down',
      heartbeat: s.heartbeat,
      lastHeardMsAgo: Number.isFinite(s.heardAt) ? Math.max(0, Math.round((now - s.heardAt) / unit)) : 2_147_483_647,
    }));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
