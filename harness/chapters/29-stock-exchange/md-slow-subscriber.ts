// SE-I12: subscribers that do not read. The spec: a subscriber that does not read, with more than 8 MiB of its own
// frames unsent, is closed with 1008; the bound is per subscriber (one that reads is never closed for another's
// backlog) and the stream never holds up the exchange (orders are answered whatever a subscriber does). A paused
// client only shows any of it once the kernel's socket buffers between it and the server are full (about 4 MiB on
// Linux's defaults: the server's send buffer grows to tcp_wmem's 4 MiB while the paused client's receive buffer
// stays at its first size), so the check streams 8 MiB + that allowance (kernel-allowance.ts: the host's own settings
// on a loopback target) of frames: tens of thousands of orders.
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { CASH, freshSymbol, freshUser, fund, gatewaySettings, type Order, okBody, seApi } from './api.ts';
import { kernelAllowance } from './kernel-allowance.ts';
import { show, withLog } from './md-check-kit.ts';
import { MdClient, replay } from './md-client.ts';

const MiB = 1024 * 1024;
/** The spec's bound on a subscriber's unsent frames. */
export const UNSENT_BOUND = 8 * MiB;
/** Paused subscribers: together they pass 8 MiB unsent long before any one of them does. */
const PAUSED = 3;
const BUYERS = 48;
/** Every frame type on each buy: a trade, its candle, the l2update and the l1 frame of the best ask's new size. */
const CHANNELS = 'channels=l2,l1,candles&resolution=86400';
const PRICE = 98_765_432;
/**
 * How long the set-up and the buys may take (about 25,000 buys: 50-90 s at load average 11-13 on two cores; 10,900
 * in 220 s at load 25), longer on a runner that says it is busy (SDGRADE_TIME_SCALE: the check's own time limit, 180 s,
 * grows with it).
 */
const PLACING_MS = timeLimit(110_000);

export async function slowSubscribers(ctx: CheckContext): Promise<void> {
  // Within the runner's time limit of a check: a machine too slow to stream it all by then skips the bound's part.
  const placeUntil = Date.now() + PLACING_MS;
  const api = seApi(ctx);
  const { limit, windowMs } = gatewaySettings(ctx);
  const symbol = freshSymbol();
  const allowance = kernelAllowance(ctx.target.baseUrl);
  ctx.evidence.kernelAllowance = allowance.source;
  const target = UNSENT_BOUND + allowance.bytes;
  // Each buy of one share takes one from a resting sell big enough for all of them (the seller's daily risk limit
  // is 1,000,000 shares; about 26,000 buys are needed at some 570 bytes of frames each).
  const SHARES = 200_000;
  const seller = freshUser('se-i12-seller');
  await fund(ctx, api, seller, { [symbol]: SHARES });
  okBody<Order>(
    ctx,
    await api.place({ userId: seller, symbol, side: 'sell', price: PRICE, quantity: SHARES }),
    201,
    'the resting sell the buys take from',
  );
  const perBuyer = Math.ceil(SHARES / BUYERS);
  const buyers = Array.from({ length: BUYERS }, () => freshUser('se-i12-buyer'));
  for (const b of buyers) await fund(ctx, api, b, { [CASH]: PRICE * perBuyer });

  await withLog(ctx, async (log) => {
    const reader = await MdClient.open(ctx, log, symbol, CHANNELS);
    const paused: MdClient[] = [];
    for (let i = 0; i < PAUSED; i++) {
      const c = await MdClient.open(ctx, log, symbol, CHANNELS);
      c.pause();
      paused.push(c);
    }
    let bought = 0;
    let problem: string | null = null;
    const done = () =>
      problem !== null ||
      reader.closed !== null ||
      reader.bytes >= target ||
      bought >= SHARES ||
      Date.now() > placeUntil;
    const answerLimit = timeLimit(20_000);
    const worker = async (userId: string) => {
      // Each buyer keeps to the order rate limit (a sliding window): at most `limit` sends within `windowMs`.
      const sent: number[] = [];
      for (let n = 0; n < perBuyer && !done(); n++) {
        if (sent.length >= limit) {
          const wait = sent[sent.length - limit]! + windowMs + 20 - Date.now();
          if (wait > 0) await sleep(wait);
        }
        sent.push(Date.now());
        const x = await ctx.http.send({
          method: 'POST',
          path: '/v1/order',
          json: { userId, symbol, side: 'buy', price: PRICE, orderType: 'limit', quantity: 1 },
          headers: { authorization: `Bearer ${api.keyOf(userId)}` },
          timeoutMs: answerLimit,
        });
        if (x.status === 429) {
          await sleep(1000 * Number(x.headers['retry-after'] ?? 1));
          continue;
        }
        if (x.status !== 201) {
          problem ??=
            x.error === 'timeout'
              ? `an order was not answered within ${answerLimit / 1000} s while ${PAUSED} subscribers did not read (after ${bought} buys, ${reader.bytes} bytes of frames): the stream holds up the exchange`
              : `a buy answered ${x.status ?? x.error}: ${x.bodyText.slice(0, 200)}`;
          return;
        }
        bought++;
      }
    };
    const started = Date.now();
    await Promise.all(buyers.map(worker));
    ctx.evidence.buys = bought;
    ctx.evidence.frameBytes = reader.bytes;
    ctx.evidence.seconds = Math.round((Date.now() - started) / 1000);
    if (problem) ctx.fail(problem);
    ctx.expect(
      reader.closed === null,
      `a subscriber that reads was closed (${show(reader.closed)}) after ${reader.bytes} bytes of frames while ${PAUSED} others did not read: the 8 MiB bound is each subscriber's own unsent frames`,
    );
    if (reader.bytes < target && Date.now() > placeUntil)
      ctx.skip(
        `this machine answered ${bought} buys in ${Math.round(PLACING_MS / 1000)} s (its set-up included), ${reader.bytes} bytes of frames, short of the ${target} the 8 MiB bound needs (every order was answered and the subscriber that reads was not closed)`,
      );
    ctx.expect(
      reader.bytes >= target,
      `${bought} buys (every share of the resting sell) made only ${reader.bytes} bytes of frames, short of ${target}`,
    );
    // Now the paused subscribers read again: each was more than 8 MiB behind, so each must have been closed with
    // 1008 after a gapless prefix of the stream. (A server whose closing handshake timed out while the client did
    // not read may have dropped the connection: then it ends abnormally, 1006, after fewer frames.)
    // The reader's last seq once the stream is quiet: a paused subscriber that gets that far was never closed.
    const lastSeq = (c: MdClient) => Math.max(-1, ...c.frames.slice(-8).map((f) => Number(f.seq ?? -1)));
    let quiet = -1;
    while (lastSeq(reader) !== quiet) {
      quiet = lastSeq(reader);
      await reader.until(() => lastSeq(reader) !== quiet, timeLimit(1000));
    }
    for (const c of paused) c.resume();
    const closes: string[] = [];
    for (const [i, c] of paused.entries()) {
      const ended = await c.until(() => c.closed !== null || lastSeq(c) >= quiet, timeLimit(30_000));
      closes.push(`${c.closed?.code ?? 'open'} after ${c.bytes} bytes`);
      ctx.evidence.paused = closes.join(', ');
      ctx.expect(
        ended && c.closed !== null,
        `subscriber ${i + 1} did not read while ${reader.bytes} bytes of frames were sent (more than 8 MiB + ${allowance.bytes} bytes for the kernel's socket buffers: ${allowance.source}); reading again it got ${c.bytes} bytes, ${lastSeq(c) >= quiet ? 'every frame up to the last' : 'and in 30 s'} without being closed: a subscriber over 8 MiB behind is closed with 1008`,
      );
      ctx.expect(
        c.closed!.code === 1008 || (c.closed!.code === 1006 && c.bytes < reader.bytes - UNSENT_BOUND),
        `subscriber ${i + 1}, more than 8 MiB behind, was closed with ${show(c.closed)} after ${c.bytes} of ${reader.bytes} bytes, not 1008`,
      );
      const r = replay(c.frames, symbol);
      ctx.expect(
        r.errors.length === 0,
        `subscriber ${i + 1}'s frames before its close: ${r.errors.slice(0, 3).join('; ')}`,
      );
    }
    const r = replay(reader.frames, symbol);
    ctx.expect(r.errors.length === 0, `the subscriber that read: ${r.errors.slice(0, 3).join('; ')}`);
  });
}
