// CHAT-I3: no duplicates - 1-3 resends with the same clientMessageId, one after another or at once, answer the first
// message's ID and store nothing new; the same client ID in another channel or from another member is a message
// of its own (the ID's scope is the channel and the sender). A resend that comes after many other messages of the
// channel is still recognised (no window of recent messages).
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
      // The client ID's scope is (channel, sender): the same ID in another channel, or from another member, is
      // another message, stored and delivered; a resend there is deduplicated there.
      const g2 = await w.group(a, [b], 'i3b');
      const elsewhere = await a.device.send(g2.channelId, 'same client ID, another channel', cid);
      ctx.expect(
        elsewhere.answer?.type === 'sent' &&
          elsewhere.answer.channelId === g2.channelId &&
          elsewhere.answer.duplicate === false,
        `the client ID ${cid}, used before in ${g.channelId}, sent to another channel ${g2.channelId} answered ` +
          `${JSON.stringify(elsewhere.answer)}, not a new message (sent, duplicate false)`,
      );
      const second = Number(elsewhere.answer.messageId);
      const fromB = await b.device.send(g.channelId, 'same client ID, another sender', cid);
      ctx.expect(
        fromB.answer?.type === 'sent' && fromB.answer.duplicate === false && fromB.answer.messageId !== first,
        `${b.device.label} sending client ID ${cid}, which ${a.device.label} used in the same channel, answered ` +
          `${JSON.stringify(fromB.answer)}, not a new message`,
      );
      const resent2 = await a.device.send(g2.channelId, 'same client ID, another channel', cid);
      ctx.expect(
        resent2.answer?.type === 'sent' && resent2.answer.messageId === second && resent2.answer.duplicate === true,
        `a resend of ${cid} in ${g2.channelId} answered ${JSON.stringify(resent2.answer)}, not message ${second} again`,
      );
      await sleep(150);
      const inG2 = (await w.history(a, g2.channelId)).filter((m) => m.clientMessageId === cid);
      ctx.expect(inG2.length === 1, `${g2.channelId}'s history holds ${inG2.length} messages with client ID ${cid}`);
      const inG = (await w.history(a, g.channelId)).filter((m) => m.clientMessageId === cid);
      ctx.expect(
        inG.length === 2 && new Set(inG.map((m) => m.senderId)).size === 2,
        `${g.channelId}'s history holds ${inG.length} messages with client ID ${cid} (one from each of two senders expected)`,
      );
      b.device.knowChannel(g2.channelId);
      const missing = await b.device.waitSeen(g2.channelId, [second]);
      ctx.expect(!missing.length, `${b.device.label} never got message ${second} of ${g2.channelId}`);
      a.device.drop();
      b.device.drop();
    },
    runs(ctx, 8),
  );
  // A late resend: 60 messages of another member came between the first send and its resend (a client that was
  // away while the group talked): still the first message, nothing stored again.
  const [a, b] = [await w.user(), await w.user()];
  const g = await w.group(a, [b], 'i3-late');
  await spread([a.device, b.device], servers);
  const cid = newClientMessageId();
  const first = await a.device.sendOk(g.channelId, 'resent late', cid);
  const between = 60;
  for (let i = 0; i < between; i++) await b.device.sendOk(g.channelId, `between ${i}`);
  const late = await a.device.send(g.channelId, 'resent late', cid);
  ctx.expect(
    late.answer?.type === 'sent' && late.answer.messageId === first && late.answer.duplicate === true,
    `a resend of ${cid} after ${between} other messages of the channel answered ${JSON.stringify(late.answer)}, ` +
      `not sent with message ${first} and duplicate true`,
  );
  const copies = (await w.history(a, g.channelId)).filter((m) => m.clientMessageId === cid);
  ctx.expect(
    copies.length === 1,
    `after a resend that came ${between} messages later the history holds ${copies.length} messages with client ID ${cid}`,
  );
  a.device.drop();
  b.device.drop();
});
