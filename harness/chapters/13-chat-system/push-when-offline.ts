// CHAT-I7: one push per message per subscribed device of a member with no connection (the harness's push provider
// fake, msw on a real port); none for a connected member or the sender.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, sleep } from './api.ts';
import { runs } from './converge.ts';
import { startPushProvider } from './push-provider.ts';

export const pushWhenOffline = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const provider = await startPushProvider(ctx.seed);
  try {
    await ctx.property(
      fc.integer({ min: 1, max: 4 }),
      async (count) => {
        const [a, off, on] = [await w.user(), await w.user(), await w.user()];
        const g = await w.group(a, [off, on], 'i7');
        for (const u of [off, on]) {
          const r = await w.x(
            w.http.PUT('/api/v1/me/devices/{deviceId}/push', {
              params: { path: { deviceId: 'phone' } },
              body: { endpoint: `${provider.url}/push/${u.userId}` },
              ...w.auth(u.token),
            }),
          );
          ctx.expectStatus(r, 204);
        }
        await a.device.connect();
        await on.device.connect();
        const ids: number[] = [];
        for (let i = 0; i < count; i++) ids.push(await a.device.sendOk(g.channelId, `push ${i}`));
        await on.device.waitSeen(g.channelId, ids);
        const deadline = Date.now() + 3000;
        while (provider.pushesFor(off.userId).length < count && Date.now() < deadline) await sleep(25);
        await sleep(300); // room for a wrong extra push to arrive
        const got = provider.pushesFor(off.userId);
        ctx.expect(!provider.violations.length, `a push did not fit PushNotification: ${provider.violations[0]}`);
        const gotIds = got
          .filter((p) => p.channelId === g.channelId)
          .map((p) => p.messageId)
          .sort((x, y) => x - y);
        ctx.expect(
          gotIds.join() === ids.join(),
          `the offline member got pushes for [${gotIds.join(', ')}], not one for each of [${ids.join(', ')}]`,
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
