// CHAT-I1: one order - batches of concurrent sends from six devices on every chat server; a batch sent after the
// previous one was acknowledged must sort after it, every device gets the messages live in ID order, and every
// device ends with the channel's history.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, spread } from './api.ts';
import { expectConverged, expectLiveOrder, LIVE_MS, runs } from './converge.ts';

export const oneOrder = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  ctx.evidence.servers = servers.map((s) => s.name);
  // Batches of sends: within a batch at once, from several devices; each batch after the previous was acknowledged.
  let arrivalsChecked = 0;
  const batches = fc.array(fc.array(fc.nat(5), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 5 });
  await ctx.property(
    batches,
    async (plan) => {
      const users = [
        await w.user(['phone', 'laptop']),
        await w.user(['phone', 'laptop']),
        await w.user(['phone', 'laptop']),
      ];
      const devices = users.flatMap((u) => u.devices);
      const g = await w.group(users[0]!, users.slice(1), 'i1');
      await spread(devices, servers);
      const idsOfBatch: number[][] = [];
      for (const batch of plan) {
        idsOfBatch.push(
          await Promise.all(batch.map((i, k) => devices[i]!.sendOk(g.channelId, `b${idsOfBatch.length}-${k}`))),
        );
      }
      for (let j = 1; j < idsOfBatch.length; j++) {
        const before = Math.max(...idsOfBatch.slice(0, j).flat());
        const first = Math.min(...idsOfBatch[j]!);
        if (first <= before)
          ctx.fail(
            `message ${first} was sent after message ${before} was acknowledged, yet sorts before it: ` +
              'members ordering by message ID see them in an order that is not the order they were sent in',
            { counterexample: { plan, idsOfBatch } },
          );
      }
      const all = idsOfBatch.flat();
      ctx.expect(
        new Set(all).size === all.length,
        `two sends were acknowledged with one message ID: ${JSON.stringify(idsOfBatch)}`,
      );
      for (const d of devices) {
        const missing = await d.waitSeen(g.channelId, all, LIVE_MS);
        ctx.expect(!missing.length, `${d.label} did not get messages ${missing.join(', ')} within ${LIVE_MS} ms`);
      }
      await expectConverged(w, g.channelId, devices, 'one order');
      // The senders' `sent` answers too: each comes after every message of the channel with a lower ID.
      arrivalsChecked += expectLiveOrder(ctx, g.channelId, devices, 'one order', { withSent: true });
      for (const d of devices) d.drop();
    },
    runs(ctx, 6),
  );
  ctx.evidence.liveArrivalsInOrder = arrivalsChecked;
});
