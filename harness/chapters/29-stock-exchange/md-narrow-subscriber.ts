// SE-I7's narrow subscriber: it joins a symbol whose book is some thousand levels deep over a narrow connection
// (md-narrow-client.ts), so the server cannot hand the snapshot to the kernel at once, and reads nothing while orders
// are answered. Those orders' updates must come after the snapshot, the first with the next seq: a server that
// registers a subscriber only once its snapshot is written loses them (blind bug ws-register-after-snapshot-flush).
// With a small book, or a client whose kernel takes the snapshot whole, that window closes before any other request
// is handled, so no check over an ordinary connection sees it.
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { CASH, freshSymbol, freshUser, fund, gatewaySettings, type Order, okBody, type SeApi } from './api.ts';
import { same, show, withLog } from './md-check-kit.ts';
import { MdClient, replay, streamUrl } from './md-client.ts';
import { NarrowClient } from './md-narrow-client.ts';

/**
 * The book's depth: asks at distinct 8-digit prices with 4-digit sizes, 31 bytes a level, a snapshot of about 100 KB.
 * Over the narrow connection the server's kernel takes some 40-60 KB of it (its send queue, in the evidence as
 * serverKernel), so about half stays in the server process while the subscriber does not read (inServerProcess).
 */
export const NARROW_LEVELS = 3300;
/** Orders answered while the narrow subscriber does not read. */
const WHILE_PAUSED = 10;

/** NARROW_LEVELS resting sells, each seller within the order rate limit, at once. */
async function deepBook(ctx: CheckContext, api: SeApi, symbol: string): Promise<void> {
  const perUser = Math.max(1, Math.min(80, gatewaySettings(ctx).limit));
  const sellers = Math.ceil(NARROW_LEVELS / perUser);
  await Promise.all(
    Array.from({ length: sellers }, async (_, s) => {
      const user = freshUser('i7n');
      const levels = Array.from({ length: perUser }, (_, j) => s * perUser + j).filter((i) => i < NARROW_LEVELS);
      const sizes = levels.map((i) => 1000 + ((i * 37) % 9000));
      await fund(ctx, api, user, { [symbol]: sizes.reduce((a, b) => a + b, 0) });
      for (const [j, i] of levels.entries())
        okBody<Order>(
          ctx,
          await api.place({ userId: user, symbol, side: 'sell', price: 90_000_000 + i, quantity: sizes[j]! }),
          201,
          'a resting sell deepening the book',
        );
    }),
  );
}

export async function narrowSubscriber(ctx: CheckContext, api: SeApi): Promise<void> {
  const started = Date.now();
  await withLog(ctx, async (log) => {
    const symbol = freshSymbol();
    await deepBook(ctx, api, symbol);
    const buyer = freshUser('i7n');
    await fund(ctx, api, buyer, { [CASH]: 1_000_000 });
    const early = await MdClient.open(ctx, log, symbol);
    ctx.expect(await early.until(() => early.frames.length > 0), 'a subscriber got no snapshot within 5 s');
    const narrow = await NarrowClient.open(log, streamUrl(ctx, symbol));
    if (typeof narrow === 'string') {
      ctx.evidence.narrowSubscriber = `not run: ${narrow}`;
      return;
    }
    // Buys that rest below the asks: an l2update each, published while the narrow subscriber reads nothing.
    const buy = async (i: number) =>
      okBody<Order>(
        ctx,
        await api.place({ userId: buyer, symbol, side: 'buy', price: 1000 + i, quantity: 1 }),
        201,
        'a resting buy',
      );
    for (let i = 0; i < WHILE_PAUSED; i++) await buy(i);
    ctx.expect(
      await early.until(() => early.count('l2update') >= WHILE_PAUSED),
      `${WHILE_PAUSED} orders were accepted; ${early.count('l2update')} l2updates came`,
    );
    narrow.read();
    ctx.expect(
      await narrow.until(() => narrow.frames.length > 0, timeLimit(10_000)),
      `a subscriber of a book of ${NARROW_LEVELS} levels got no snapshot within 10 s of reading`,
    );
    // One more once it has its snapshot, so a subscriber registered only then still sees an update.
    await buy(WHILE_PAUSED);
    ctx.expect(
      await early.until(() => early.count('l2update') > WHILE_PAUSED),
      `${WHILE_PAUSED + 1} orders were accepted; ${early.count('l2update')} l2updates came`,
    );
    const e = replay(early.frames, symbol, true);
    await narrow.until(() => narrow.frames.at(-1)?.seq === e.lastSeq);
    const r = replay(narrow.frames, symbol);
    const what = `a subscriber that joined a book of ${NARROW_LEVELS} levels over a narrow connection and read nothing while ${WHILE_PAUSED} orders were answered`;
    ctx.expect(
      r.errors.length === 0,
      `${what}: ${r.errors.slice(0, 3).join('; ')} (every update after the snapshot must come, the first with the next seq)`,
    );
    const snap = narrow.frames[0]!;
    const atSnap = e.bookAt.get(r.snapshotSeq);
    ctx.expect(
      atSnap !== undefined && same({ bids: snap.bids, asks: snap.asks }, atSnap),
      `${what}: its snapshot at seq ${r.snapshotSeq} is not the first subscriber's book at that seq (${atSnap ? 'it differs' : 'not reached'})`,
    );
    const earlyBySeq = new Map(early.frames.slice(1).map((f) => [f.seq, f]));
    for (const f of narrow.frames.slice(1))
      ctx.expect(
        same(f, earlyBySeq.get(f.seq)),
        `${what}: update seq ${String(f.seq)} differs between subscribers: ${show(f)} and ${show(earlyBySeq.get(f.seq))}`,
      );
    ctx.expect(
      r.lastSeq === e.lastSeq,
      `${what}: its stream ends at seq ${r.lastSeq} (snapshot ${r.snapshotSeq}); the first subscriber's at ${e.lastSeq}`,
    );
    // Whether the window was open: the snapshot's bytes still in the server process (its write not completed) while
    // the orders were answered, neither in this client, its kernel nor the server's kernel (known for a server on
    // this host). The frame's header (4 bytes up to 64 KiB, else 10) counts too.
    const snapshotBytes = narrow.sizes[0]!;
    const onWire = snapshotBytes + (snapshotBytes > 0xffff ? 10 : 4);
    const kernel = narrow.reading?.serverKernel ?? null;
    ctx.evidence.narrowSubscriber = {
      levels: NARROW_LEVELS,
      snapshotBytes,
      ...narrow.opened,
      ...narrow.reading,
      inServerProcess: kernel === null ? null : onWire - (narrow.opened?.early ?? 0) - narrow.reading!.queued - kernel,
      ordersWhilePaused: WHILE_PAUSED,
      ms: Date.now() - started,
    };
  });
}
