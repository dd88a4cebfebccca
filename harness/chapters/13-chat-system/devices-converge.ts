// CHAT-I4: all devices of one user converge to the channel's history over send / away / back schedules.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, spread } from './api.ts';
import { expectConverged, runs } from './converge.ts';

export const devicesConverge = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  const step = fc.record({ device: fc.nat(3), action: fc.constantFrom('send', 'send', 'away', 'back') });
  await ctx.property(
    fc.array(step, { minLength: 3, maxLength: 10 }),
    async (plan) => {
      const u = await w.user(['phone', 'laptop', 'tablet']);
      const v = await w.user();
      const devices = [...u.devices, v.device];
      const g = await w.group(u, [v], 'i4');
      await spread(devices, servers);
      let n = 0;
      for (const s of plan) {
        const d = devices[s.device]!;
        if (s.action === 'away') d.drop();
        else if (s.action === 'back' && !d.client) {
          await d.connectTo(servers[++n % servers.length]!);
          await d.sync();
        } else if (s.action === 'send' && d.client) await d.sendOk(g.channelId, `s${n++}`);
      }
      for (const d of devices) {
        if (d.client) d.drop();
        await d.connectTo(servers[++n % servers.length]!);
        await d.sync();
      }
      await expectConverged(w, g.channelId, devices, `after every device reconnected and synced`);
      for (const d of devices) d.drop();
    },
    runs(ctx, 8),
  );
});
