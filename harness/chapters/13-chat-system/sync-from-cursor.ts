// CHAT-I5: sync sends exactly the messages after cur_max_message_id (or after the device's last ack), in order. The
// ack is the device's own (another device of the user acking further moves nothing), and a cursor given in the sync,
// 0 included, wins over any ack. A cursor naming a channel the user is not a member of gets nothing of it, and a
// device more than a page (1,000) behind gets everything.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { chatCheck, sleep } from './api.ts';
import { runs } from './converge.ts';
import { newClientMessageId } from './device.ts';

/** The bulk send's bound on progress: this long without one more `sent` answer fails (scaled like every answer). */
const PROGRESS_MS = timeLimit(10_000);

export const syncFromCursor = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  // A channel the syncing users are not members of, with a message in it: a cursor naming it gets nothing of it.
  const insider = await w.user();
  const priv = await w.group(probe, [insider], 'i5-private');
  await probe.device.connectTo(servers[0]!);
  await probe.device.sendOk(priv.channelId, 'members only');
  probe.device.drop();
  const arb = fc.record({ count: fc.integer({ min: 2, max: 8 }), cursorAt: fc.nat(8), ackAt: fc.nat(8) });
  await ctx.property(
    arb,
    async (p) => {
      // The sender's device is a 'laptop' too: device IDs are the clients' own, so an ack is the user's device's
      // (the sender's laptop acking the last message moves nothing of b's laptop).
      const [a, b] = [await w.user(['laptop']), await w.user(['phone', 'laptop'])];
      const g = await w.group(a, [b], 'i5');
      await a.device.connectTo(servers[0]!);
      const ids: number[] = [];
      for (let i = 0; i < p.count; i++) ids.push(await a.device.sendOk(g.channelId, `n${i}`));
      const check = (got: unknown[], after: number, how: string) => {
        const want = ids.filter((id) => id > after);
        const gotIds = got.map((f) => (f as { messageId: number }).messageId);
        if (gotIds.join() !== want.join())
          ctx.fail(
            `sync ${how} (cur_max_message_id ${after}) sent messages [${gotIds.join(', ')}], not [${want.join(', ')}]`,
            {
              counterexample: p,
            },
          );
      };
      // An explicit cursor, on a fresh connection (on the other server).
      const cursor = p.cursorAt === 0 ? 0 : ids[(p.cursorAt - 1) % ids.length]!;
      await b.device.connectTo(servers[1 % servers.length]!);
      const withCursor = await b.device.sync([
        { channelId: g.channelId, curMaxMessageId: cursor },
        { channelId: priv.channelId, curMaxMessageId: 0 },
      ]);
      const leaked = withCursor.messages.filter((m) => m.channelId === priv.channelId).length;
      const named = (withCursor.synced.channels as { channelId: string }[]).some((c) => c.channelId === priv.channelId);
      if (leaked || named)
        ctx.fail(
          `a sync naming ${priv.channelId}, a channel the user is not a member of, sent ${leaked} of its messages` +
            `${named ? ' and named it in synced' : ''}: sync covers the user's own channels only`,
          { counterexample: p },
        );
      check(withCursor.messages, cursor, 'with a cursor');
      // No cursor: the device's last ack is where it starts - its own, not the phone's, which acks the last message.
      const laptop = b.devices[1]!;
      await laptop.connectTo(servers[0]!);
      const last = ids[ids.length - 1]!;
      const acked = p.ackAt === 0 ? 0 : ids[(p.ackAt - 1) % (ids.length - 1)]!;
      if (acked) laptop.client!.send({ type: 'ack', channelId: g.channelId, messageId: acked });
      b.device.client!.send({ type: 'ack', channelId: g.channelId, messageId: last });
      a.device.client!.send({ type: 'ack', channelId: g.channelId, messageId: last });
      await sleep(100);
      laptop.drop();
      await laptop.connectTo(servers[1 % servers.length]!);
      // In turn with no cursor at all and with a cursor for another channel only: a channel the sync does not name
      // starts after the device's ack either way.
      const otherOnly = p.ackAt % 2 === 1;
      check(
        (await laptop.sync(otherOnly ? [{ channelId: priv.channelId, curMaxMessageId: 0 }] : [])).messages.filter(
          (m) => m.channelId === g.channelId,
        ),
        acked,
        `${otherOnly ? `naming only ${priv.channelId}` : 'without a cursor'} after ack ${acked} (the phone and the sender's laptop acked ${last})`,
      );
      // A cursor in the sync wins over the device's ack, 0 as well (a device that lost its local history).
      laptop.client!.send({ type: 'ack', channelId: g.channelId, messageId: last });
      await sleep(100);
      laptop.drop();
      await laptop.connectTo(servers[0]!);
      check(
        (await laptop.sync([{ channelId: g.channelId, curMaxMessageId: 0 }])).messages,
        0,
        `with cursor 0 after ack ${last}`,
      );
      for (const d of [a.device, ...b.devices]) d.drop();
    },
    runs(ctx, 8),
  );
  // A device more than a page behind: 1,012 messages (sync reads the store a page at a time: every page comes).
  // Four devices of the sender send at once, each pipelining its share, so it costs little time.
  const [x, y] = [await w.user(['d1', 'd2', 'd3', 'd4']), await w.user()];
  const big = await w.group(x, [y], 'i5-big');
  for (const [i, d] of x.devices.entries()) await d.connectTo(servers[i % servers.length]!);
  const share = 253;
  const total = share * x.devices.length;
  for (const d of x.devices)
    for (let i = 0; i < share; i++)
      d.client!.send({ type: 'send', channelId: big.channelId, clientMessageId: newClientMessageId(), text: `b${i}` });
  const answered = () =>
    x.devices.reduce((n, d) => n + (d.client?.frames.filter((f) => f.type === 'sent').length ?? 0), 0);
  // No deadline on the whole: only on progress (a slow machine answers slower, not never).
  for (let n = answered(), last = n, since = Date.now(); n < total; n = answered()) {
    if (n !== last) [last, since] = [n, Date.now()];
    else if (Date.now() - since > PROGRESS_MS)
      ctx.fail(`${total} pipelined sends got ${n} sent answers, none more for ${PROGRESS_MS} ms`);
    await sleep(50);
  }
  await y.device.connectTo(servers[1 % servers.length]!);
  const all = await y.device.sync([{ channelId: big.channelId, curMaxMessageId: 0 }]);
  const got = all.messages.filter((m) => m.channelId === big.channelId).map((m) => Number(m.messageId));
  const inOrder = got.every((id, i) => id === i + 1);
  ctx.expect(
    got.length === total && inOrder,
    `a sync from cursor 0 of a channel with ${total} messages sent ${got.length} (${inOrder ? 'in order' : 'not 1, 2, 3, ...'}` +
      `${got.length ? `, last ${got[got.length - 1]}` : ''}), not all ${total}`,
  );
  ctx.evidence.bigSync = got.length;
  for (const d of [...x.devices, y.device]) d.drop();
});
