// CHAT-I2's forced race on the relay: one user's eight devices pipeline twenty sends each, four times, so several
// relay entries land in one millisecond (a Redis stream numbers them ms-seq). Each sender's connection must get
// every `message` of the channel before a `sent` with a higher ID (every earlier message of the channel reaches a
// connection before its `sent`).
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { type ChatServer, sleep, type World } from './api.ts';
import { expectLiveOrder, LIVE_MS } from './converge.ts';
import type { Device } from './device.ts';
import { newClientMessageId } from './device.ts';

/** Sending devices of one user, spread over the chat servers: many relay entries in one millisecond on Redis. */
const SENDERS = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'];
const SHARE = 20;
const BURSTS = 4;
const PROGRESS_MS = timeLimit(10_000);

export async function sendsRacing(w: World, servers: ChatServer[]): Promise<void> {
  const ctx: CheckContext = w.ctx;
  const sender = await w.user(SENDERS);
  const g = await w.group(sender, [await w.user()], 'i2-race');
  for (const [i, d] of sender.devices.entries()) await d.connectTo(servers[i % servers.length]!);
  for (let b = 0; b < BURSTS; b++) await pipelined(ctx, sender.devices, g.channelId, SHARE);
  // Every frame of the bursts is in: the last burst's answers came after every earlier message reached its sender.
  await sleep(LIVE_MS / 10);
  ctx.evidence.raceSentOrderChecked = expectLiveOrder(ctx, g.channelId, sender.devices, 'pipelined sends', {
    withSent: true,
  });
  for (const d of sender.devices) d.drop();
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
