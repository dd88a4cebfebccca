// CHAT-F1: kill -9 of a chat server with clients connected and one send in flight: its clients see the close,
// discovery stops naming it within DISCOVERY_FORGETS_MS, they reconnect elsewhere, sync and resend - no loss, no
// duplicate.
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { chatCheck, sleep, spread, storedCopies } from './api.ts';
import { expectAcknowledgedStored, expectLiveOrder } from './converge.ts';
import { type Device, newClientMessageId } from './device.ts';

/** How long a dead chat server may stay in service discovery (the spec's bound). */
export const DISCOVERY_FORGETS_MS = 5000;

async function expectAllSeen(ctx: CheckContext, devices: Device[], channelId: string, ids: number[], what: string) {
  for (const d of devices) {
    ctx.expect(!d.anomalies.length, `${what}: ${d.anomalies[0]}`);
    const missing = await d.waitSeen(channelId, ids);
    ctx.expect(!missing.length, `${what}: ${d.label} is missing acknowledged messages ${missing.join(', ')}`);
  }
}

export const chatServerKilled = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const users = [await w.user(), await w.user(), await w.user(), await w.user()];
  const devices = users.map((u) => u.device);
  const [victim, , servers] = await w.faultServers(devices[0]!, ' to fail over to');
  const g = await w.group(users[0]!, users.slice(1), 'f1');
  await spread(devices, servers);
  const onVictim = devices.filter((d) => d.server === victim.name);
  const survivors = devices.filter((d) => d.server !== victim.name);
  const ids: number[] = [];
  /** Everything acknowledged in the check: client message ID -> its ID and sender. */
  const acked = new Map<string, { id: number; senderId: string }>();
  const sendOk = async (d: Device, text: string, cid = newClientMessageId()) => {
    const id = await d.sendOk(g.channelId, text, cid);
    acked.set(cid, { id, senderId: d.user.userId });
    return id;
  };
  for (const d of devices) ids.push(await sendOk(d, `before ${d.label}`));
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
  for (const d of survivors) ids.push(await sendOk(d, `during ${d.label}`));

  // Discovery must stop handing out the dead server.
  // Within the bound plus the scheduling delay measured meanwhile (evidence.schedulingSlack, at most 3 s): a
  // discovery that never forgets the dead server is still caught.
  const slack = checkSlack(ctx.evidence, 3000);
  const forgetsWithinMs = () => slack.bound(DISCOVERY_FORGETS_MS);
  let listed = true;
  while (Date.now() - killedAt < forgetsWithinMs()) {
    listed = (await w.servers(survivors[0]!)).some((s) => s.name === victim.name);
    if (!listed) break;
    await sleep(200);
  }
  ctx.evidence.discoveryForgotMs = listed ? null : Date.now() - killedAt;
  ctx.expect(!listed, `discovery still hands out ${victim.name} ${forgetsWithinMs()} ms after it was killed`);

  for (const d of onVictim) {
    await d.reconnect();
    ctx.expect(d.server !== victim.name, `${d.label} reconnected to the killed server`);
    await d.sync();
  }
  const resent = await sendOk(inflight, 'in flight', cid);
  ids.push(resent);
  for (const d of devices) ids.push(await sendOk(d, `after ${d.label}`));
  await expectAllSeen(ctx, devices, g.channelId, ids, 'after reconnecting');
  ctx.expect(
    (await storedCopies(w, inflight, g.channelId, cid)) === 1,
    `the message in flight at the kill is stored more than once after its resend`,
  );
  // Re-verified after the fault: every message acknowledged in the check, before, during and after the kill, is
  // stored once at its ID; the survivors, never disconnected, got them live in the channel's order.
  await expectAcknowledgedStored(w, users[0]!, g.channelId, acked, 'after the kill');
  ctx.evidence.acknowledged = acked.size;
  ctx.evidence.liveArrivalsInOrder = expectLiveOrder(ctx, g.channelId, survivors, 'through the kill');
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
