// CHAT-I2's forced race on the relay: one user's eight devices pipeline twenty sends each, four times, so several
// relay entries land in one millisecond (a Redis stream numbers them ms-seq). Each sender's connection must get
// every `message` of the channel before a `sent` with a higher ID (every earlier message of the channel reaches a
// connection before its `sent`). During the last three bursts a device of another member syncs while the sends are
// stored and relayed (sync-during-sends.ts).
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { type ChatServer, sleep, type World } from './api.ts';
import { expectLiveOrder, LIVE_MS } from './converge.ts';
import type { Device } from './device.ts';
import { newClientMessageId } from './device.ts';
import { expectSyncsHeld, type SyncingDevice, startSyncing } from './sync-during-sends.ts';

/** Sending devices of one user, spread over the chat servers: many relay entries in one millisecond on Redis. */
const SENDERS = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'];
const SHARE = 20;
const BURSTS = 4;
/** The member's devices that sync during a burst (every burst but the first, which makes a history to sync). */
const SYNCERS = ['r1', 'r2', 'r3'];
const PROGRESS_MS = timeLimit(10_000);

export async function sendsRacing(w: World, servers: ChatServer[]): Promise<void> {
  const ctx: CheckContext = w.ctx;
  const [sender, member] = [await w.user(SENDERS), await w.user(SYNCERS)];
  const g = await w.group(sender, [member], 'i2-race');
  for (const [i, d] of sender.devices.entries()) await d.connectTo(servers[i % servers.length]!);
  const syncing: SyncingDevice[] = [];
  for (let b = 0; b < BURSTS; b++) {
    const burst = pipelined(ctx, sender.devices, g.channelId, SHARE);
    const d = member.devices[b - 1];
    if (d) {
      // Once the burst's first answers are back, sends are being stored and relayed: connect and sync now.
      await untilAnswered(sender.devices, SENDERS.length * (b * SHARE + 1));
      syncing.push(await startSyncing(w, d, servers[b % servers.length]!, g.channelId));
    }
    await burst;
  }
  // Every frame of the bursts is in: the last burst's answers came after every earlier message reached its sender.
  await sleep(LIVE_MS / 10);
  ctx.evidence.raceSentOrderChecked = expectLiveOrder(ctx, g.channelId, sender.devices, 'pipelined sends', {
    withSent: true,
  });
  const acked = sender.devices.flatMap((d) =>
    d.client!.frames.filter((f) => f.type === 'sent' && f.channelId === g.channelId).map((f) => Number(f.messageId)),
  );
  ctx.evidence.raceSyncsWithSendsBetween = await expectSyncsHeld(ctx, syncing, g.channelId, [...new Set(acked)]);
  for (const d of sender.devices) d.drop();
  for (const s of syncing) s.client.terminate();
}

/** Until the sending devices have `n` `sent` answers in all (bounded: the burst itself reports a stall). */
async function untilAnswered(devices: Device[], n: number): Promise<void> {
  const count = () => devices.reduce((s, d) => s + d.client!.frames.filter((f) => f.type === 'sent').length, 0);
  for (const deadline = Date.now() + PROGRESS_MS; count() < n && Date.now() < deadline; ) await sleep(2);
}

/** Every sending device pipelines `share` sends; resolves with the IDs their `sent` answers named. */
async function pipelined(ctx: CheckContext, devices: Device[], channelId: string, share: number): Promise<number[]> {
  const from = devices.map((d) => d.client!.frames.length);
  const cids = devices.map(() => new Set<string>());
  for (let i = 0; i < share; i++)
    for (const [k, d] of devices.entries()) {
      const clientMessageId = newClientMessageId();
      cids[k]!.add(clientMessageId);
      d.client!.send({ type: 'send', channelId, clientMessageId, text: `race ${i}` });
    }
  const answers = () =>
    devices.flatMap((d, k) =>
      d.client!.frames.slice(from[k]).filter((f) => f.type === 'sent' && cids[k]!.has(String(f.clientMessageId))),
    );
  // No deadline on the whole: only on progress (a slow machine answers slower, not never).
  for (let n = answers().length, last = n, since = Date.now(); n < share * devices.length; n = answers().length) {
    if (n !== last) [last, since] = [n, Date.now()];
    else if (Date.now() - since > PROGRESS_MS)
      ctx.fail(`${share * devices.length} pipelined sends got ${n} sent answers, none more for ${PROGRESS_MS} ms`);
    await sleep(20);
  }
  return answers().map((f) => Number(f.messageId));
}
