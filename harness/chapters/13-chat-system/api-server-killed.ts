// CHAT-F4: an API server killed -9 mid-traffic. The API servers are stateless (the book's), so the others answer
// sign-in, history and discovery with the sessions the dead one issued; the WebSocket traffic, which never needed
// an API server, goes on: nothing acknowledged is lost or stored twice, and presence (heartbeats through the chat
// servers) does not flap.
// The API servers are the manifest's nodes whose names start with `api` (docs: specs/13-chat-system/README.md).
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, sleep, spread, type World } from './api.ts';
import { expectLiveOrder } from './converge.ts';
import type { Device } from './device.ts';

/** The manifest's API servers, as the spec names them. */
export const apiServers = (nodes: readonly string[]) => nodes.filter((n) => n.startsWith('api'));

/** Sends round-robin from the devices until stopped; keeps every acknowledged (message ID, client ID). */
function startTraffic(devices: Device[], channelId: string) {
  const acked = new Map<number, string>();
  const refused: string[] = [];
  let stop = false;
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      const d = devices[i % devices.length]!;
      const { answer, clientMessageId } = await d.send(channelId, `f4 ${i}`);
      if (answer?.type === 'sent') acked.set(Number(answer.messageId), clientMessageId);
      else refused.push(`${d.label}: ${JSON.stringify(answer)}`);
      await sleep(25);
    }
  })();
  return {
    acked,
    refused,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

async function expectAnswers(w: World, as: Device, ctx: CheckContext, survivor: string): Promise<void> {
  const u = as.user;
  const s = await w.x(
    w.http.POST('/api/v1/sessions', {
      body: { username: u.username, password: 'correct-horse-battery', deviceId: 'f4-new' },
    }),
  );
  ctx.expect(s.status === 201, `sign-in through ${survivor} answered ${s.status ?? s.error}`, s);
  const servers = await w.x(w.http.GET('/api/v1/chat-server', w.auth(u.token)));
  ctx.expect(
    servers.status === 200,
    `discovery through ${survivor}, with a session the killed API server issued, answered ${servers.status ?? servers.error}`,
    servers,
  );
}

export const apiServerKilled = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  ctx.require('process-control');
  const apis = apiServers(ctx.target.nodes);
  if (apis.length < 2)
    ctx.skip(
      `needs two API servers: manifest nodes whose names start with "api" (the manifest has ${ctx.target.nodes.join(', ')})`,
    );
  const [victim, survivor] = [apis[0]!, apis[1]!];
  w.useApiServer(ctx.target.nodeUrl(victim));
  const watcher = await w.user();
  const users = [await w.user(), await w.user(), await w.user()];
  for (const u of users) await w.befriend(u, watcher);
  const g = await w.group(users[0]!, users.slice(1), 'f4');
  const devices = users.map((u) => u.device);
  const servers = await w.servers(watcher.device);
  await watcher.device.connectTo(servers[0]!);
  await spread(devices, servers);
  const timeoutMs = Number(watcher.device.authenticated!.presenceTimeoutMs);
  const intervalMs = Number(watcher.device.authenticated!.heartbeatIntervalMs);
  if (timeoutMs > 10_000)
    ctx.skip(`the presence timeout is ${timeoutMs} ms; this check outlasts it, so it needs one of 10 s or less`);
  const all = [watcher.device, ...devices];
  const beat = setInterval(() => {
    for (const d of all) d.heartbeat();
  }, intervalMs);
  const presenceFrom = watcher.device.presence.length;
  const traffic = startTraffic(devices, g.channelId);
  try {
    await sleep(500);
    await ctx.target.kill(victim);
    const killedAt = Date.now();
    w.useApiServer(ctx.target.nodeUrl(survivor));
    await expectAnswers(w, users[1]!.device, ctx, survivor);
    // Outlast the presence timeout: a presence that needed the dead server would go offline now.
    while (Date.now() - killedAt < timeoutMs + 1000) await sleep(100);
  } finally {
    await traffic.stop();
    clearInterval(beat);
  }
  ctx.evidence.acknowledged = traffic.acked.size;
  ctx.evidence.refused = traffic.refused.length;
  ctx.expect(traffic.acked.size > 0, 'no send was acknowledged while the API server was killed');
  // Keep sending after the fault: each device once more, through the surviving API server's world.
  for (const d of devices) {
    const { answer, clientMessageId } = await d.send(g.channelId, `f4 after ${d.label}`);
    ctx.expect(
      answer?.type === 'sent',
      `${d.label}: a send after the API server died answered ${JSON.stringify(answer)}`,
    );
    traffic.acked.set(Number(answer.messageId), clientMessageId);
  }

  // History through the survivor, with a token the dead server issued: every acknowledged message, once.
  const history = await w.history(users[0]!, g.channelId);
  const byId = new Map(history.map((m) => [m.messageId, m.clientMessageId]));
  const cids = history.map((m) => m.clientMessageId);
  ctx.expect(new Set(cids).size === cids.length, `the history stores a client message ID twice`);
  for (const [id, cid] of traffic.acked)
    ctx.expect(byId.get(id) === cid, `acknowledged message ${id} (${cid}) is not in the history as sent`);
  const ids = [...traffic.acked.keys()];
  for (const d of devices) {
    ctx.expect(!d.anomalies.length, d.anomalies[0]!);
    const missing = await d.waitSeen(g.channelId, ids);
    ctx.expect(!missing.length, `${d.label} never got acknowledged messages ${missing.join(', ')}`);
  }
  // None of them synced: every message reached them live, in the channel's order.
  ctx.evidence.liveArrivalsInOrder = expectLiveOrder(ctx, g.channelId, devices, 'through the API server kill');
  const flaps = watcher.device.presence.slice(presenceFrom).filter((p) => p.status === 'offline');
  ctx.expect(
    !flaps.length,
    `friends connected and heart-beating were shown offline after an API server died: ${JSON.stringify(flaps[0])}`,
  );
  for (const u of users) {
    const r = await w.x(
      w.http.GET('/api/v1/users/{userId}/presence', {
        params: { path: { userId: u.userId } },
        ...w.auth(watcher.token),
      }),
    );
    ctx.expectStatus(r, 200);
    ctx.expect((r.body as { status: string }).status === 'online', `${u.username} is not online`, r);
  }
});
