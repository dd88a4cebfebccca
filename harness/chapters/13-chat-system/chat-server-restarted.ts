// CHAT-F6: a chat server stopped, then killed -9, each time started again. Stopping closes its clients' WebSockets
// with 1001 (asyncapi: "the server is stopping"); after a kill -9 and a restart, the connections it held died with it:
// a member whose device was on it and did not come back has no open connection, so a message gets it a push - while
// the server is down (once discovery no longer names it) and after its restart.
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, sleep } from './api.ts';
import { startPushProvider } from './push-provider.ts';

/** How long a push, or the restarted server's return to discovery, may take: correctness, not speed. */
const WAIT_MS = 10_000;

export const chatServerRestarted = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  ctx.require('process-control');
  const [sender, away] = [await w.user(), await w.user()];
  const [victim, other] = await w.faultServers(sender.device);
  const provider = await startPushProvider(ctx.seed);
  try {
    const sub = await w.x(
      w.http.PUT('/api/v1/me/devices/{deviceId}/push', {
        params: { path: { deviceId: away.device.deviceId } },
        body: { endpoint: `${provider.url}/push/${away.userId}` },
        ...w.auth(away.token),
      }),
    );
    ctx.expectStatus(sub, 204);
    const g = await w.group(sender, [away], 'f6');
    await sender.device.connectTo(other);

    // A graceful stop: every client of the server gets close 1001.
    await away.device.connectTo(victim);
    await ctx.target.stop(victim.name);
    const stopped = await away.device.client!.waitClosed(WAIT_MS);
    ctx.expect(
      stopped?.code === 1001,
      `stopping ${victim.name} ended its client's WebSocket with ${stopped ? `close ${stopped.code}` : 'no close'}, not 1001`,
    );
    away.device.drop();
    await ctx.target.start(victim.name);

    // kill -9 with the member connected, then a restart; the member stays away.
    await away.device.connectTo(victim);
    await ctx.target.kill(victim.name);
    await away.device.client!.waitClosed(WAIT_MS);
    away.device.drop();
    // While it is down: once discovery no longer names it, the member's connection there is no open connection
    // either, so a message gets it one push already (a connection recorded on a dead server does not count).
    const goneBy = Date.now() + WAIT_MS;
    while ((await w.servers(sender.device)).some((s) => s.name === victim.name) && Date.now() < goneBy)
      await sleep(200);
    const pushes = () => provider.pushesFor(away.userId).filter((p) => p.channelId === g.channelId);
    const downId = await sender.device.sendOk(g.channelId, 'while it is down');
    const downBy = Date.now() + WAIT_MS;
    while (!pushes().some((p) => p.messageId === downId) && Date.now() < downBy) await sleep(50);
    const whileDown = pushes().filter((p) => p.messageId === downId).length;
    ctx.expect(
      whileDown === 1,
      `${away.username}, whose only connection died with ${victim.name}, got ${whileDown} pushes for message ${downId} ` +
        `sent while ${victim.name} was down (no longer in discovery), not 1: a connection on a dead chat server counts as open`,
    );
    await ctx.target.start(victim.name);
    const backBy = Date.now() + WAIT_MS;
    while (!(await w.servers(sender.device)).some((s) => s.name === victim.name) && Date.now() < backBy)
      await sleep(200);
    const id = await sender.device.sendOk(g.channelId, 'after the restart');
    const pushedBy = Date.now() + WAIT_MS;
    while (!pushes().some((p) => p.messageId === id) && Date.now() < pushedBy) await sleep(50);
    await sleep(300); // room for a wrong extra push to arrive
    const got = pushes().filter((p) => p.messageId === id).length;
    ctx.expect(!provider.violations.length, `a push did not fit PushNotification: ${provider.violations[0]}`);
    ctx.expect(
      got === 1,
      `${away.username}, whose only connection died with ${victim.name}, got ${got} pushes for message ${id} sent after ` +
        `${victim.name} restarted, not 1: the restarted server still counts the connections it held before the kill`,
    );
    ctx.evidence.pushesAfterRestart = got;
  } finally {
    await provider.stop();
  }
});
