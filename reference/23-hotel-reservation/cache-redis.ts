// Redis as the inventory cache (CACHE=redis, the default when REDIS_URL is given): the book's key
// hotelID_roomTypeID_date under this store's namespace, the value `version:totalInventory:totalReserved`, expiring
// the day after the night (the book's TTL for days that are past). The database stays the truth: Redis answers
// availability reads only, and a Redis that is down, slow or stale can make a search wrong, never a booking.
// - A write never replaces a newer version (a Lua script compares), so a late or repeated change cannot win.
// - enableOfflineQueue false and a short commandTimeout: while Redis is away a read costs at most that, then a
//   breaker skips Redis for a second and the reads go to the database.
// - The change stream keeps what Redis refused and applies it once Redis is back (cache.ts).
// - At start the namespace is emptied: changes a crashed predecessor had not applied yet went with it. Until it is
//   (Redis away at start, or the emptying failed), Redis is not used: reads go to the database, changes wait.
import { Redis } from 'ioredis';
import type { DependencyState } from '../kit/health.ts';
import { type CachedNight, ChangeStream, cacheKey, type InventoryCache, type InventoryChange } from './cache.ts';
import { dayNumber } from './dates.ts';
import { backingOff } from './stream-backoff.ts';

/** SET each key to its value unless the version cached is as new; EXPIREAT the night's end plus a day. */
const PUT_NEWER = `
for i = 1, #KEYS do
  local v = tonumber(ARGV[3 * i - 2])
  local cur = redis.call('GET', KEYS[i])
  if not cur or tonumber(string.match(cur, '^(-?%d+):')) < v then
    redis.call('SET', KEYS[i], ARGV[3 * i - 1])
    redis.call('EXPIREAT', KEYS[i], ARGV[3 * i])
  end
end
return 0`;

/** Rows per script call, so a backlog applied at once does not make one huge command. */
const ROWS_PER_CALL = 500;

type PutNewer = (numKeys: number, ...args: (string | number)[]) => Promise<number>;

export interface RedisInventoryCacheOptions {
  url: string;
  /** Key prefix: this store's, so services sharing a database share their cache. */
  namespace: string;
  withoutRoomType: boolean;
  log: (m: string) => void;
  /**
   * Longest wait for one command; default 250 ms: loopback Redis answers in well under 1 ms, but a busy machine's
   * event loop can hold a reply past 50 ms, and each such trip sends a second of reads to the database.
   */
  commandTimeoutMs?: number;
  /** How long Redis is skipped after a failure; default 1000 ms. */
  breakerMs?: number;
  /** MUTANT stream-backoff-grows: what the stream writes is refused for a delay that doubles with each refusal. */
  backoffGrows?: boolean;
  /** MUTANT stream-drops-refused: what Redis refused is dropped, not applied once it is back. */
  dropRefused?: boolean;
  /** MUTANT stream-stalls-after-flush: a change pushed during a successful write waits for the next push. */
  stallAfterFlush?: boolean;
  /** MUTANT redis-namespace-kept: the namespace is not emptied at start (a predecessor's entries stay). */
  keepNamespace?: boolean;
  /** MUTANT namespace-emptied-only-at-start: a Redis away at start is used as it is found once it is back. */
  emptyOnlyAtStart?: boolean;
  /** MUTANT namespace-emptied-one-page: how the namespace is emptied instead (namespace-one-page.ts). */
  unlinkWith?: (redis: Redis, namespace: string) => Promise<void>;
}

export class RedisInventoryCache implements InventoryCache {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private readonly putNewer: PutNewer;
  private readonly key: ReturnType<typeof cacheKey>;
  private readonly stream: ChangeStream;
  private skipUntil = 0;
  private down = false;
  /** Whether this process has emptied its namespace (a predecessor's entries gone): until then Redis is not used. */
  private emptied: boolean;
  private emptying: Promise<void> | null = null;

  constructor(private readonly o: RedisInventoryCacheOptions) {
    this.emptied = o.keepNamespace === true;
    this.key = cacheKey(o.withoutRoomType);
    this.redis = new Redis(o.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: o.commandTimeoutMs ?? 250,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
      connectionName: 'sdgrade-reference/23-hotel-reservation',
    });
    this.redis.on('error', (e: Error) => this.markDown(e.message));
    this.redis.on('close', () => this.markDown('connection closed'));
    this.redis.on('ready', () => {
      this.skipUntil = 0;
      if (this.down) o.log('inventory cache (Redis) is back; using it again');
      this.down = false;
      if (!this.emptied) void this.emptyNamespace();
    });
    this.redis.defineCommand('hrPutNewer', { lua: PUT_NEWER });
    this.putNewer = (this.redis as unknown as { hrPutNewer: PutNewer }).hrPutNewer.bind(this.redis);
    if (o.backoffGrows) this.write = backingOff(this.write.bind(this));
    if (o.unlinkWith) this.unlinkNamespace = () => o.unlinkWith!(this.redis, o.namespace);
    this.stream = new ChangeStream((batch) => this.write(batch), o.log, o.dropRefused, o.stallAfterFlush);
  }

  /**
   * Connects and empties the namespace (a crashed predecessor's unapplied changes went with it); if Redis is away the
   * service starts anyway and uses it once it is back.
   */
  async open(timeoutMs = 2000): Promise<void> {
    const timeout = new Promise<false>((ok) => setTimeout(ok, timeoutMs, false).unref());
    const connected = this.redis.connect().then(
      () => true,
      () => false,
    );
    if (!(await Promise.race([connected, timeout]))) {
      this.markDown('not reachable at startup');
      // MUTANT namespace-emptied-only-at-start: once it is back, Redis is used with what a predecessor left there.
      if (this.o.emptyOnlyAtStart) this.emptied = true;
      return; // emptied when it is ready (the 'ready' handler)
    }
    await this.emptyNamespace();
  }

  /** Empties the namespace once (the first time Redis is ready); a failure is tried again a second later. */
  private emptyNamespace(): Promise<void> {
    if (this.emptied) return Promise.resolve();
    this.emptying ??= this.unlinkNamespace().then(
      () => {
        this.emptied = true;
        this.emptying = null;
      },
      (e: Error) => {
        this.emptying = null;
        this.o.log(`inventory cache (Redis): could not empty ${this.o.namespace}*, not used until it is: ${e.message}`);
        setTimeout(() => {
          if (this.redis.status === 'ready') void this.emptyNamespace();
        }, 1000).unref();
      },
    );
    return this.emptying;
  }

  private async unlinkNamespace(): Promise<void> {
    // On a connection of its own, without the 250 ms bound a big namespace could pass.
    const admin = this.redis.duplicate({ commandTimeout: 10_000 });
    try {
      await admin.connect();
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${this.o.namespace}*`, 'COUNT', 1000);
        if (keys.length) await admin.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      admin.disconnect();
    }
  }

  private usable(): boolean {
    return this.emptied && this.redis.status === 'ready' && Date.now() >= this.skipUntil;
  }

  async get(hotelId: string, roomTypeId: string, dates: readonly string[]): Promise<(CachedNight | undefined)[]> {
    if (!this.usable() || dates.length === 0) return dates.map(() => undefined);
    try {
      const values = await this.redis.mget(...dates.map((d) => this.o.namespace + this.key(hotelId, roomTypeId, d)));
      return values.map((v, i) => (v ? parsed(v, dates[i]!) : undefined));
    } catch (e) {
      this.trip((e as Error).message);
      return dates.map(() => undefined);
    }
  }

  async put(change: InventoryChange): Promise<void> {
    await this.write([change]).catch(() => undefined);
  }

  changed(change: InventoryChange): void {
    this.stream.push(change);
  }

  private async write(batch: readonly InventoryChange[]): Promise<void> {
    if (!this.usable()) throw new Error('inventory cache (Redis) unavailable');
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const c of batch)
      for (const row of c.rows) {
        keys.push(this.o.namespace + this.key(c.hotelId, c.roomTypeId, row.date));
        args.push(row.version, `${row.version}:${row.totalInventory}:${row.totalReserved}`, expiry(row.date));
      }
    try {
      for (let i = 0; i < keys.length; i += ROWS_PER_CALL) {
        const k = keys.slice(i, i + ROWS_PER_CALL);
        await this.putNewer(k.length, ...k, ...args.slice(3 * i, 3 * (i + k.length)));
      }
    } catch (e) {
      this.trip((e as Error).message);
      throw e;
    }
  }

  health(): DependencyState {
    return this.usable() ? 'up' : 'down';
  }

  async close(): Promise<void> {
    this.stream.close();
    this.down = false; // closing is not an outage
    this.redis.removeAllListeners('close');
    this.redis.disconnect();
  }

  private trip(reason: string): void {
    this.skipUntil = Date.now() + (this.o.breakerMs ?? 1000);
    this.markDown(reason);
  }

  private markDown(reason: string): void {
    if (this.down) return;
    this.down = true;
    this.o.log(`inventory cache (Redis) is down (${reason}); availability is read from the database until it is back`);
  }
}

function parsed(value: string, date: string): CachedNight | undefined {
  const [version, totalInventory, totalReserved] = value.split(':').map(Number);
  if (![version, totalInventory, totalReserved].every(Number.isInteger)) return undefined;
  return { date, version: version!, totalInventory: totalInventory!, totalReserved: totalReserved! };
}

/** Unix seconds at the end of the day after the night: past nights leave the cache on their own. */
function expiry(date: string): number {
  return (dayNumber(date) + 2) * 86_400;
}
