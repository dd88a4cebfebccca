// CHAT-F7: a chat server stalled (SIGSTOP: a long GC pause, a frozen VM) for 4 s while a member on the other server
// sends, several sends in flight at once. Its client, connected all along, gets every message once it runs again, in the channel's order: live on the
// same connection, or - if the server closes it - by sync after reconnecting. Nothing the relay carried while the
// server was stalled may be lost.
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck } from './api.ts';
import { expectLiveOrder } from './converge.ts';

/** How long the server is stalled. */
const STALL_MS = 4000;
/** Sends in flight at once during the stall: a busy channel, so the relay carries a lot while the server sleeps. */
const SENDERS = 3;
/** How long the resumed server may take to deliver what it missed: correctness, not speed. */
const CATCH_UP_MS = 10_000;

export const chatServerStalled = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  ctx.require('process-control');
  const [sender, member] = [await w.user(), await w.user()];
  const [victim, other] = await w.faultServers(sender.device);
  const g = await w.group(sender, [member], 'f7');
  await member.device.connectTo(victim);
  await sender.device.connectTo(other);
  const ids = [await sender.device.sendOk(g.channelId, 'before the stall')];
  ctx.expect(!(await member.device.waitSeen(g.channelId, ids)).length, 'the member missed a message before the stall');

  await ctx.target.pause(victim.name);
  try {
    const until = Date.now() + STALL_MS;
    const stream = async (k: number) => {
      for (let n = 0; Date.now() < until; n++)
        ids.push(await sender.device.sendOk(g.channelId, `during the stall ${k}-${n}`));
    };
    await Promise.all(Array.from({ length: SENDERS }, (_, k) => stream(k)));
  } finally {
    await ctx.target.resume(victim.name);
  }
  ids.push(await sender.device.sendOk(g.channelId, 'after the stall'));
  ctx.evidence.sentDuringStall = ids.length - 2;

  let missing = await member.device.waitSeen(g.channelId, ids, CATCH_UP_MS);
  const closed = member.device.client?.closed ?? null;
  ctx.evidence.memberConnectionClosed = closed;
  if (missing.length && closed) {
    // The server gave the connection up: the client reconnects and syncs, as the spec says.
    member.device.drop();
    await member.device.reconnect();
    await member.device.sync();
    missing = await member.device.waitSeen(g.channelId, ids, CATCH_UP_MS);
  }
  ctx.expect(
    !missing.length,
    `${member.device.label}, connected to ${victim.name} through its ${STALL_MS} ms stall, never got messages ${missing.join(', ')} ` +
      `(${closed ? `its connection closed ${closed.code}` : 'its connection stayed open'})`,
  );
  ctx.expect(!member.device.anomalies.length, member.device.anomalies[0]!);
  // Live order only for a connection that never synced (a sync answer may follow live frames).
  if (!closed)
    ctx.evidence.liveArrivalsInOrder = expectLiveOrder(ctx, g.channelId, [member.device], 'through the stall');
});
