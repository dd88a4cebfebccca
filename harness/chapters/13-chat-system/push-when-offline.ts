// CHAT-I7: one push per message per subscribed device of a member with no connection (the harness's push provider
// fake, msw on a real port); none for a connected member or the sender. The subscription that counts is the device's
// latest (an earlier endpoint gets nothing), each subscribed device of the member gets its own (a second device's
// subscription replaces nothing of the first's), a resend (duplicate) pushes nothing more, and a long text's push
// still fits PushNotification (preview at most 100 characters).
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { chatCheck, sleep } from './api.ts';
import { LIVE_MS, runs } from './converge.ts';
import { newClientMessageId } from './device.ts';
import { startPushProvider } from './push-provider.ts';

export const pushWhenOffline = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const provider = await startPushProvider(ctx.seed);
  let run = 0;
  try {
    await ctx.property(
      fc.record({ count: fc.integer({ min: 1, max: 4 }), longBy: fc.integer({ min: 1, max: 400 }) }),
      async ({ count, longBy }) => {
        const [a, off, on] = [await w.user(), await w.user(), await w.user()];
        const g = await w.group(a, [off, on], 'i7');
        // Each device subscribes twice: the second endpoint replaces the first (setPushSubscription).
        for (const u of [off, on])
          for (const key of [`${u.userId}-replaced`, u.userId]) {
            const r = await w.x(
              w.http.PUT('/api/v1/me/devices/{deviceId}/push', {
                params: { path: { deviceId: 'phone' } },
                body: { endpoint: `${provider.url}/push/${key}` },
                ...w.auth(u.token),
              }),
            );
            ctx.expectStatus(r, 204);
          }
        // The absent member's second device, subscribed after the first: each device gets its own pushes (a
        // subscription replaces only the same device's earlier one, not the user's other devices').
        const tablet = await w.x(
          w.http.PUT('/api/v1/me/devices/{deviceId}/push', {
            params: { path: { deviceId: 'tablet' } },
            body: { endpoint: `${provider.url}/push/${off.userId}-tablet` },
            ...w.auth(off.token),
          }),
        );
        ctx.expectStatus(tablet, 204);
        await a.device.connect();
        await on.device.connect();
        // Every other run the absent member was connected and its connection dropped without a close frame (a
        // phone losing its network): a dropped connection is no open connection, whatever the close code. The
        // chat server learns of the drop a moment later, so probes in a direct channel go until one is pushed.
        const dropped = run++ % 2 === 0;
        if (dropped) {
          const d = await w.direct(a, off);
          await off.device.connect();
          off.device.drop();
          const until = Date.now() + timeLimit(LIVE_MS);
          const probed = () => provider.pushesFor(off.userId).some((x) => x.channelId === d.channelId);
          while (!probed() && Date.now() < until) {
            await a.device.sendOk(d.channelId, 'probe');
            const next = Date.now() + 250;
            while (!probed() && Date.now() < next) await sleep(25);
          }
          ctx.expect(
            probed(),
            `${off.username}'s connection was dropped (no close frame) and it got no push in ${timeLimit(LIVE_MS)} ms of messages: a dropped connection still counts as open`,
          );
        }
        const ids: number[] = [];
        // The first text is longer than a preview (100 characters): the push must still fit PushNotification.
        const texts = Array.from({ length: count }, (_, i) => (i ? `push ${i}` : `push 0 ${'p'.repeat(100 + longBy)}`));
        const first = newClientMessageId();
        for (const [i, text] of texts.entries())
          ids.push(await a.device.sendOk(g.channelId, text, i ? undefined : first));
        // A resend (a client that lost `sent`) stores nothing new, so it pushes nothing new either.
        const resent = await a.device.send(g.channelId, texts[0]!, first);
        ctx.expect(
          resent.answer?.type === 'sent' && resent.answer.duplicate === true,
          `a resend answered ${JSON.stringify(resent.answer)?.slice(0, 300)}`,
        );
        await on.device.waitSeen(g.channelId, ids);
        const deadline = Date.now() + 3000;
        const pushed = () => provider.pushesFor(off.userId).length + provider.pushesFor(`${off.userId}-tablet`).length;
        while (pushed() < 2 * count && Date.now() < deadline) await sleep(25);
        await sleep(300); // room for a wrong extra push to arrive
        const got = provider.pushesFor(off.userId);
        ctx.expect(!provider.violations.length, `a push did not fit PushNotification: ${provider.violations[0]}`);
        for (const [device, pushes] of [
          ['phone', got],
          ['tablet', provider.pushesFor(`${off.userId}-tablet`)],
        ] as const) {
          const gotIds = pushes
            .filter((p) => p.channelId === g.channelId && p.deviceId === device)
            .map((p) => p.messageId)
            .sort((x, y) => x - y);
          ctx.expect(
            gotIds.join() === ids.join(),
            `the offline member's ${device} got pushes for [${gotIds.join(', ')}], not one for each of [${ids.join(', ')}] (the first was resent once; both devices subscribed)`,
          );
        }
        const stale = [off, on].flatMap((u) => provider.pushesFor(`${u.userId}-replaced`));
        ctx.expect(
          !stale.length,
          `${stale.length} pushes went to a device's replaced endpoint, not to the subscription that replaced it`,
        );
        const wrong = provider.pushesFor(on.userId);
        ctx.expect(!wrong.length, `the connected member got ${wrong.length} pushes`);
        ctx.expect(!provider.pushesFor(a.userId).length, 'the sender got a push for its own message');
        a.device.drop();
        on.device.drop();
      },
      runs(ctx, 3),
    );
    ctx.evidence.pushes = provider.count();
  } finally {
    await provider.stop();
  }
});
