// CHAT-I5: sync sends exactly the messages after cur_max_message_id (or after the device's last ack), in order. The
// ack is the device's own (another device of the user acking further moves nothing), and a cursor given in the sync,
// 0 included, wins over any ack.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, sleep } from './api.ts';
import { runs } from './converge.ts';

export const syncFromCursor = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  const arb = fc.record({ count: fc.integer({ min: 2, max: 8 }), cursorAt: fc.nat(8), ackAt: fc.nat(8) });
  await ctx.property(
    arb,
    async (p) => {
      const [a, b] = [await w.user(), await w.user(['phone', 'laptop'])];
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
      check(
        (await b.device.sync([{ channelId: g.channelId, curMaxMessageId: cursor }])).messages,
        cursor,
        'with a cursor',
      );
      // No cursor: the device's last ack is where it starts - its own, not the phone's, which acks the last message.
      const laptop = b.devices[1]!;
      await laptop.connectTo(servers[0]!);
      const last = ids[ids.length - 1]!;
      const acked = p.ackAt === 0 ? 0 : ids[(p.ackAt - 1) % (ids.length - 1)]!;
      if (acked) laptop.client!.send({ type: 'ack', channelId: g.channelId, messageId: acked });
      b.device.client!.send({ type: 'ack', channelId: g.channelId, messageId: last });
      await sleep(100);
      laptop.drop();
      await laptop.connectTo(servers[1 % servers.length]!);
      check((await laptop.sync([])).messages, acked, `without a cursor after ack ${acked} (the phone acked ${last})`);
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
});
