// CHAT-I3: no duplicates - 1-3 resends with the same clientMessageId, one after another or at once, answer the first
// message's ID and store nothing new.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, sleep, spread } from './api.ts';
import { runs } from './converge.ts';
import { newClientMessageId } from './device.ts';

export const noDuplicates = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  await ctx.property(
    fc.record({ resends: fc.integer({ min: 1, max: 3 }), together: fc.boolean() }),
    async (p) => {
      const [a, b] = [await w.user(), await w.user()];
      const g = await w.group(a, [b], 'i3');
      await spread([a.device, b.device], servers);
      const cid = newClientMessageId();
      const first = await a.device.sendOk(g.channelId, 'once', cid);
      const again = p.together
        ? await Promise.all(Array.from({ length: p.resends }, () => a.device.send(g.channelId, 'once', cid)))
        : await (async () => {
            const out = [];
            for (let i = 0; i < p.resends; i++) out.push(await a.device.send(g.channelId, 'once', cid));
            return out;
          })();
      for (const r of again)
        ctx.expect(
          r.answer?.type === 'sent' && r.answer.messageId === first && r.answer.duplicate === true,
          `a resend of ${cid} answered ${JSON.stringify(r.answer)}, not sent with message ${first} and duplicate true`,
        );
      await sleep(150);
      const copies = (await w.history(a, g.channelId)).filter((m) => m.clientMessageId === cid);
      ctx.expect(copies.length === 1, `the history holds ${copies.length} messages with client ID ${cid}`);
      const atB = [...(b.device.seen.get(g.channelId) ?? new Map()).values()].filter((m) => m.clientMessageId === cid);
      ctx.expect(atB.length === 1, `${b.device.label} got ${atB.length} messages with client ID ${cid}`);
      a.device.drop();
      b.device.drop();
    },
    runs(ctx, 8),
  );
});
