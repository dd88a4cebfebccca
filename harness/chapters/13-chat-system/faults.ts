// CHAT-F1..F3: a chat server killed under its clients, a connection dropped mid-send, and a client that stops reading.
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, type Device, MAX_TEXT, newClientMessageId, sleep, spread, type World } from './api.ts';

/** How long a dead chat server may stay in service discovery (the spec's bound). */
export const DISCOVERY_FORGETS_MS = 5000;
/** What the slow-client check sends to a client that reads nothing: the spec's 8 MiB ceiling plus kernel buffers. */
export const FLOOD_BYTES = 16 * 1024 * 1024;

async function expectAllSeen(ctx: CheckContext, devices: Device[], channelId: string, ids: number[], what: string) {
  for (const d of devices) {
    ctx.expect(!d.anomalies.length, `${what}: ${d.anomalies[0]}`);
    const missing = await d.waitSeen(channelId, ids);
    ctx.expect(!missing.length, `${what}: ${d.label} is missing acknowledged messages ${missing.join(', ')}`);
  }
}

async function historyOnce(w: World, as: Device, channelId: string, cid: string): Promise<number> {
  return (await w.history(as.user, channelId)).filter((m) => m.clientMessageId === cid).length;
}

export const chatServerKilled = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const users = [await w.user(), await w.user(), await w.user(), await w.user()];
  const devices = users.map((u) => u.device);
  const servers = await w.servers(devices[0]!);
  if (servers.length < 2) ctx.skip(`needs two chat servers to fail over to; discovery lists ${servers.length}`);
  const victim = servers[0]!;
  if (!ctx.target.nodes.includes(victim.name))
    ctx.skip(
      `discovery names chat server ${victim.name}, which is no node of the manifest (${ctx.target.nodes.join(', ')}): name the nodes as discovery does`,
    );
  const g = await w.group(users[0]!, users.slice(1), 'f1');
  await spread(devices, servers);
  const onVictim = devices.filter((d) => d.server === victim.name);
  const survivors = devices.filter((d) => d.server !== victim.name);
  const ids: number[] = [];
  for (const d of devices) ids.push(await d.sendOk(g.channelId, `before ${d.label}`));
  await expectAllSeen(ctx, devices, g.channelId, ids, 'before the kill');

  // One send in flight as the server dies; its client resends it after reconnecting.
  const inflight = onVictim[0]!;
  const cid = newClientMessageId();
  inflight.client!.send({ type: 'send', channelId: g.channelId, clientMessageId: cid, text: 'in flight' });
  await ctx.target.kill(victim.name);
  const killedAt = Date.now();
  for (const d of onVictim) {
    const closed = await d.client!.waitClosed(5000);
    ctx.expect(closed, `${d.label}: the connection stayed open after its chat server was killed`);
    d.drop();
  }
  for (const d of survivors) ids.push(await d.sendOk(g.channelId, `during ${d.label}`));

  // Discovery must stop handing out the dead server.
  let listed = true;
  while (Date.now() - killedAt < DISCOVERY_FORGETS_MS) {
    listed = (await w.servers(survivors[0]!)).some((s) => s.name === victim.name);
    if (!listed) break;
    await sleep(200);
  }
  ctx.evidence.discoveryForgotMs = listed ? null : Date.now() - killedAt;
  ctx.expect(!listed, `discovery still hands out ${victim.name} ${DISCOVERY_FORGETS_MS} ms after it was killed`);

  for (const d of onVictim) {
    await d.reconnect();
    ctx.expect(d.server !== victim.name, `${d.label} reconnected to the killed server`);
    await d.sync();
  }
  const resent = await inflight.sendOk(g.channelId, 'in flight', cid);
  ids.push(resent);
  for (const d of devices) ids.push(await d.sendOk(g.channelId, `after ${d.label}`));
  await expectAllSeen(ctx, devices, g.channelId, ids, 'after reconnecting');
  ctx.expect(
    (await historyOnce(w, inflight, g.channelId, cid)) === 1,
    `the message in flight at the kill is stored more than once after its resend`,
  );
  const history = await w.history(users[0]!, g.channelId);
  ctx.expect(new Set(history.map((m) => m.messageId)).size === history.length, 'the history repeats a message ID');
  for (const d of devices) {
    const seen = [...(d.seen.get(g.channelId)?.keys() ?? [])].sort((a, b) => a - b).join();
    ctx.expect(
      seen === history.map((m) => m.messageId).join(),
      `${d.label} has [${seen}], the history is [${history.map((m) => m.messageId).join()}]`,
    );
  }
});

export const droppedMidSend = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  // From "gone before the frame left" to "gone after the server stored it": every case must end in one message.
  for (const delayMs of [0, 5, 20, 60, 120]) {
    const [a, b] = [await w.user(), await w.user()];
    const g = await w.group(a, [b], 'f2');
    await a.device.connectTo(servers[0]!);
    await b.device.connectTo(servers[1 % servers.length]!);
    const cid = newClientMessageId();
    a.device.client!.send({
      type: 'send',
      channelId: g.channelId,
      clientMessageId: cid,
      text: `dropped after ${delayMs} ms`,
    });
    if (delayMs) await sleep(delayMs);
    a.device.drop();
    await a.device.connectTo(servers[1 % servers.length]!);
    const first = await a.device.sendOk(g.channelId, `dropped after ${delayMs} ms`, cid);
    const again = await a.device.send(g.channelId, `dropped after ${delayMs} ms`, cid);
    ctx.expect(
      again.answer?.type === 'sent' && again.answer.messageId === first && again.answer.duplicate === true,
      `the second resend of ${cid} answered ${JSON.stringify(again.answer)}, not message ${first} again`,
    );
    await b.device.waitSeen(g.channelId, [first]);
    await sleep(100);
    const copies = await historyOnce(w, a.device, g.channelId, cid);
    if (copies !== 1)
      ctx.fail(
        `a send dropped ${delayMs} ms after it left, then resent on a new connection, is stored ${copies} times`,
        {
          counterexample: { delayMs, clientMessageId: cid },
        },
      );
    const atB = [...(b.device.seen.get(g.channelId)?.values() ?? [])].filter((m) => m.clientMessageId === cid).length;
    ctx.expect(atB === 1, `${b.device.label} got the resent message ${atB} times`);
    a.device.drop();
    b.device.drop();
  }
});

export const slowClient = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const [a, slow, reader] = [await w.user(), await w.user(), await w.user()];
  const servers = await w.servers(a.device);
  const g = await w.group(a, [slow, reader], 'f3');
  await slow.device.connectTo(servers[0]!);
  await reader.device.connectTo(servers[0]!);
  await a.device.connectTo(servers[1 % servers.length]!);
  slow.device.client!.pause();
  const text = 'z'.repeat(MAX_TEXT);
  const ids: number[] = [];
  const started = Date.now();
  // Pipelined, 16 sends in flight: the flood is about the receiving side, not the sender's round trips.
  for (let sent = 0; sent < FLOOD_BYTES; sent += 16 * text.length)
    ids.push(...(await Promise.all(Array.from({ length: 16 }, () => a.device.sendOk(g.channelId, text)))));
  ctx.evidence.floodBytes = ids.length * text.length;
  ctx.evidence.floodMs = Date.now() - started;
  // The others are unaffected: the reader gets everything.
  const missing = await reader.device.waitSeen(g.channelId, ids, 20_000);
  ctx.expect(
    !missing.length,
    `a reading member missed ${missing.length} of ${ids.length} messages while another did not read`,
  );
  slow.device.client!.resume();
  // Read until the close comes, or until nothing more arrives for 2 s (a server that never closes it).
  let closed = null;
  for (let seen = -1; !closed && slow.device.client!.frames.length !== seen; ) {
    seen = slow.device.client!.frames.length;
    closed = await slow.device.client!.waitClosed(2000);
  }
  ctx.evidence.slowClientClose = closed;
  ctx.evidence.slowClientGot = slow.device.seen.get(g.channelId)?.size ?? 0;
  ctx.expect(
    closed?.code === 4008,
    closed
      ? `the client that did not read was closed with ${closed.code}, not 4008 too_slow`
      : `the server kept a client that read nothing for ${ids.length * text.length} bytes, and then everything (it got ${ctx.evidence.slowClientGot} messages): no back-pressure policy`,
  );
  ctx.expect(a.device.client?.open && reader.device.client?.open, 'the sender or the reader lost its connection');
});
