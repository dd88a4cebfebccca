// CHAT-I2: no loss - devices leave and come back (on another chat server) between sends; a connected one gets every
// acknowledged message live within LIVE_MS, an absent one by sync; and bursts of pipelined sends from eight devices
// (sends-racing.ts).
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, spread } from './api.ts';
import { expectConverged, LIVE_MS, runs } from './converge.ts';
import { sendsRacing } from './sends-racing.ts';

export const noLoss = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  ctx.evidence.servers = servers.map((s) => s.name);
  const round = fc.record({ sender: fc.nat(3), away: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) });
  await ctx.property(
    fc.array(round, { minLength: 2, maxLength: 6 }),
    async (plan) => {
      const users = [await w.user(), await w.user(), await w.user(), await w.user()];
      const devices = users.map((u) => u.device);
      const g = await w.group(users[0]!, users.slice(1), 'i2');
      await spread(devices, servers);
      let next = 0;
      const sent: number[] = [];
      for (const r of plan) {
        for (const [i, d] of devices.entries()) {
          if (r.away[i] && d.client) d.drop();
          else if (!r.away[i] && !d.client) {
            // Back, on the other chat server this time, and catch up.
            await d.connectTo(servers[(i + ++next) % servers.length]!);
            await d.sync();
          }
        }
        const online = devices.filter((d) => d.client);
        const sender = online[r.sender % Math.max(1, online.length)];
        if (!sender) continue;
        const id = await sender.sendOk(g.channelId, `m${sent.length}`);
        sent.push(id);
        for (const d of online) {
          if (d === sender) continue;
          const missing = await d.waitSeen(g.channelId, [id], LIVE_MS);
          if (missing.length)
            ctx.fail(
              `${d.label} was connected but did not get message ${id} from ${sender.label} live within ${LIVE_MS} ms`,
              {
                counterexample: plan,
              },
            );
        }
      }
      for (const d of devices) {
        if (!d.client) {
          await d.connectTo(servers[0]!);
          await d.sync();
        }
        const missing = await d.waitSeen(g.channelId, sent);
        ctx.expect(
          !missing.length,
          `${d.label} never got acknowledged messages ${missing.join(', ')} (live or by sync)`,
        );
      }
      await expectConverged(w, g.channelId, devices, 'no loss');
      for (const d of devices) d.drop();
    },
    runs(ctx, 6),
  );
  await sendsRacing(w, servers);
});
