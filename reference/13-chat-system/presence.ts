// The presence servers: a user is online from their first connection (or heartbeat) until no heartbeat has come for
// the presence timeout. A disconnect alone changes nothing (the book's answer to flaky mobile networks); the
// timeout decides. Each change is handed to `onChange`, which fans it out to the user's friends.
export type Status = 'online' | 'offline';

export interface PresenceState {
  status: Status;
  since: string;
}

export class Presence {
  private readonly seen = new Map<string, { status: Status; since: string; lastBeat: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly timeoutMs: number,
    private readonly onChange: (userId: string, state: PresenceState) => void,
  ) {
    // Sweep often enough that "offline" comes at most 10% of the timeout late.
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.floor(timeoutMs / 10)));
    this.sweeper.unref();
  }

  beat(userId: string, now = Date.now()): void {
    const s = this.seen.get(userId);
    if (s && s.status === 'online') {
      s.lastBeat = now;
      return;
    }
    const next = { status: 'online' as const, since: new Date(now).toISOString(), lastBeat: now };
    this.seen.set(userId, next);
    this.onChange(userId, { status: next.status, since: next.since });
  }

  /** Only for the offline-on-disconnect mutant: the naive presence the book warns against. */
  markOffline(userId: string, now = Date.now()): void {
    const s = this.seen.get(userId);
    if (!s || s.status === 'offline') return;
    s.status = 'offline';
    s.since = new Date(now).toISOString();
    this.onChange(userId, { status: s.status, since: s.since });
  }

  state(userId: string): PresenceState {
    const s = this.seen.get(userId);
    return s ? { status: s.status, since: s.since } : { status: 'offline', since: new Date(0).toISOString() };
  }

  private sweep(now = Date.now()): void {
    for (const [userId, s] of this.seen) {
      if (s.status === 'online' && now - s.lastBeat > this.timeoutMs) this.markOffline(userId, now);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
