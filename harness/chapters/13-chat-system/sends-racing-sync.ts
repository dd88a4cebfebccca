// CHAT-I2's forced race: a device connects and syncs while one user's three devices keep dozens of sends each in
// flight to the channel, so live messages are stored (and relayed, several in one millisecond on a Redis stream)
// while the sync is being answered. The syncing connection must end with every message after its cursor, sync and
// live together, none lost (the spec: live messages that arrive during a sync follow its answer); the senders'
// connections must get each `message` before a `sent` with a higher ID (every earlier message of the channel
// reaches a connection before its `sent`).
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { type ChatServer, sleep, type World } from './api.ts';
import { expectLiveOrder, LIVE_MS } from './converge.ts';
import type { Device } from './device.ts';
import { newClientMessageId } from './device.ts';
import { ChatClient, type Frame } from './ws-client.ts';

const ROUNDS = 3;
/** Sending devices of one user, spread over the chat servers: many relay entries in one millisecond on Redis. */
const SENDERS = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'];
/** Sends per sending device per round: enough to outlast a sync's answer on any machine (checked in evidence). */
const SHARE = 20;
const PROGRESS_MS = timeLimit(10_000);

export async function sendsRacingSync(w: World, servers: ChatServer[]): Promise<void> {
  const ctx: CheckContext = w.ctx;
  const [sender, reader] = [await w.user(SENDERS), await w.user(ROUNDS_DEVICES)];
  const g = await w.group(sender, [reader], 'i2-race');
  for (const [i, d] of sender.devices.entries()) await d.connectTo(servers[i % servers.length]!);
  // A history to sync first, so the sync's answer takes a while.
  await pipelined(ctx, sender.devices, g.channelId, SHARE);
  let raced = 0;
  for (const [round, d] of reader.devices.entries()) {
    const inFlight = pipelined(ctx, sender.devices, g.channelId, SHARE);
    // Connect and sync once the round's first answers are back: sends are being stored and relayed from then on.
    await untilAnswered(sender.devices, SENDERS.length * (round + 1) * SHARE + 3);
    const client = await authAndSync(w, d, servers[round % servers.length]!, g.channelId);
    const synced = client.frames.findIndex((f) => f.type === 'synced');
    const syncedUpTo = Math.max(0, ...frameIds(client.frames.slice(0, synced), g.channelId));
    const acked = await inFlight;
    if (syncedUpTo < Math.max(...acked)) raced++;
    const ids = allAcked(sender.devices, g.channelId);
    const deadline = Date.now() + LIVE_MS;
    const lost = () => {
      const got = new Set(frameIds(client.frames, g.channelId));
      return ids.filter((id) => !got.has(id));
    };
    while (lost().length && Date.now() < deadline) await sleep(20);
    const got = frameIds(client.frames, g.channelId);
    if (lost().length)
      ctx.fail(
        `${d.label} sent auth and a sync from 0 at once while ${SENDERS.length * SHARE} sends were in flight: its connection never ` +
          `got messages ${summarise(lost())} (sync answered up to ${syncedUpTo}, ${got.length} message frames in all): ` +
          'live messages that arrive during a sync must follow its answer, not replace it',
        { counterexample: { round, syncedUpTo, frames: summarise(got) } },
      );
    client.terminate();
  }
  ctx.evidence.raceRoundsWithSendsDuringSync = `${raced} of ${ROUNDS}`;
  ctx.evidence.raceSentOrderChecked = expectLiveOrder(ctx, g.channelId, sender.devices, 'sends racing a sync', {
    withSent: true,
  });
  for (const d of sender.devices) d.drop();
}

const ROUNDS_DEVICES = Array.from({ length: ROUNDS }, (_, i) => `r${i + 1}`);

/**
 * Opens a connection and sends `auth` and a sync from 0 back to back: frames are handled in order, so nothing is
 * live on it before the sync is being answered, and every message stored before the answer must come in it (the
 * rest live, after it). A sync sent after live messages arrived may leave out what they passed ("never a message
 * twice on one connection"), which is not what this judges.
 */
async function authAndSync(w: World, d: Device, target: ChatServer, channelId: string): Promise<ChatClient> {
  const ctx: CheckContext = w.ctx;
  const client = await ChatClient.connect(target.url, w.log);
  client.send({ type: 'auth', token: d.token });
  client.send({ type: 'sync', cursors: [{ channelId, curMaxMessageId: 0 }] });
  const end = await client.waitFor((f) => f.type === 'synced' || f.type === 'error', SYNC_MS);
  if (end?.type !== 'synced')
    return ctx.fail(
      `${d.label} sent auth and sync at once to ${target.name}: answered ${end ? JSON.stringify(end) : `no synced within ${SYNC_MS} ms (closed: ${JSON.stringify(client.closed)})`}`,
    );
  return client;
}

const SYNC_MS = timeLimit(10_000);

function frameIds(frames: readonly Frame[], channelId: string): number[] {
  return frames.filter((f) => f.type === 'message' && f.channelId === channelId).map((f) => Number(f.messageId));
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

async function untilAnswered(devices: Device[], n: number): Promise<void> {
  const count = () => devices.reduce((s, d) => s + d.client!.frames.filter((f) => f.type === 'sent').length, 0);
  for (const deadline = Date.now() + PROGRESS_MS; count() < n && Date.now() < deadline; ) await sleep(2);
}

function allAcked(devices: Device[], channelId: string): number[] {
  const ids = devices.flatMap((d) =>
    d.client!.frames.filter((f) => f.type === 'sent' && f.channelId === channelId).map((f) => Number(f.messageId)),
  );
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** "1-40, 45, 50-52": long ID lists made readable. */
function summarise(ids: number[]): string {
  const s = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
