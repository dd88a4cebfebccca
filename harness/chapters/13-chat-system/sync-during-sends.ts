// CHAT-I2's sync racing live sends: a device sends `auth` and syncs from 0 back to back, then syncs again and again,
// while pipelined sends are stored and relayed. What a device is owed is well defined whatever the timing (the spec:
// a sync answers up to each channel's greatest ID when it began, named in `synced`; live messages that arrive
// meanwhile follow `synced`; none twice on one connection, and a sync from below what came live still sends the
// older ones). So on its connection:
//   - every acknowledged message arrives (live or by sync), once;
//   - each `synced` is a cut: every message frame of the channel before it has an ID <= its maxMessageId, every one
//     after it an ID above (a live message sent while the sync was answered lands before `synced` with a higher ID).
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { ChatServer, World } from './api.ts';
import { sleep } from './api.ts';
import { LIVE_MS } from './converge.ts';
import type { Device } from './device.ts';
import { ChatClient, type Frame } from './ws-client.ts';

/** Syncs from 0 each syncing device sends behind its first (each one is a chance for a live frame to slip in). */
const SYNCS = 8;
const SYNC_MS = timeLimit(10_000);

export interface SyncingDevice {
  device: Device;
  client: ChatClient;
  server: string;
}

/** Opens a connection and sends `auth`, then SYNCS syncs from 0, back to back; does not wait for the answers. */
export async function startSyncing(w: World, d: Device, target: ChatServer, channelId: string) {
  const client = await ChatClient.connect(target.url, w.log);
  client.send({ type: 'auth', token: d.token });
  for (let i = 0; i < SYNCS; i++) client.send({ type: 'sync', cursors: [{ channelId, curMaxMessageId: 0 }] });
  return { device: d, client, server: target.name } satisfies SyncingDevice;
}

/**
 * Once the sends are answered: each syncing connection got every acknowledged ID once, and each `synced` cut its
 * message frames. Returns how many syncs had a message stored while they were answered (the race was on).
 */
export async function expectSyncsHeld(
  ctx: CheckContext,
  syncing: SyncingDevice[],
  channelId: string,
  acked: number[],
): Promise<number> {
  let raced = 0;
  for (const s of syncing) {
    const what = `${s.device.label}@${s.server} (auth and ${SYNCS} syncs from 0 sent at once while sends were in flight)`;
    const syncs = await untilSynced(ctx, s, what);
    const ids = () => messageIds(s.client.frames, channelId);
    for (const deadline = Date.now() + LIVE_MS; missing(ids(), acked).length && Date.now() < deadline; )
      await sleep(20);
    const lost = missing(ids(), acked);
    if (lost.length)
      ctx.fail(`${what} never got acknowledged messages ${summarise(lost)} (live or by sync)`, {
        counterexample: { frames: order(s.client.frames, channelId) },
      });
    const twice = ids().filter((id, i, all) => all.indexOf(id) !== i);
    if (twice.length)
      ctx.fail(`${what} got messages ${summarise(twice)} twice on one connection`, {
        counterexample: { frames: order(s.client.frames, channelId) },
      });
    raced += expectCuts(ctx, s, channelId, what, syncs);
  }
  return raced;
}

async function untilSynced(ctx: CheckContext, s: SyncingDevice, what: string): Promise<Frame[]> {
  const synced = () => s.client.frames.filter((f) => f.type === 'synced');
  for (let n = synced().length, since = Date.now(); n < SYNCS; n = synced().length) {
    const bad = s.client.frames.find((f) => f.type === 'error');
    if (bad || s.client.closed)
      return ctx.fail(`${what}: answered ${bad ? JSON.stringify(bad) : `close ${JSON.stringify(s.client.closed)}`}`);
    await s.client.waitFor((f) => f.type === 'synced', SYNC_MS, s.client.frames.length);
    if (synced().length === n && Date.now() - since > SYNC_MS)
      return ctx.fail(`${what}: ${n} of ${SYNCS} syncs answered, none more within ${SYNC_MS} ms`);
    if (synced().length !== n) since = Date.now();
  }
  return synced();
}

/** Every `synced` splits the connection's message frames of the channel at its maxMessageId. */
function expectCuts(ctx: CheckContext, s: SyncingDevice, channelId: string, what: string, syncs: Frame[]): number {
  let raced = 0;
  let previous = -1;
  for (const synced of syncs) {
    const at = s.client.frames.indexOf(synced);
    const max = (synced.channels as { channelId: string; maxMessageId: number }[]).find(
      (c) => c.channelId === channelId,
    )?.maxMessageId;
    if (max === undefined) return ctx.fail(`${what}: synced does not name ${channelId}: ${JSON.stringify(synced)}`);
    const before = messageIds(s.client.frames.slice(0, at), channelId);
    const after = messageIds(s.client.frames.slice(at + 1), channelId);
    const above = before.filter((id) => id > max);
    const below = after.filter((id) => id <= max);
    if (above.length || below.length)
      ctx.fail(
        `${what}: synced named ${max} as the greatest message ID but ` +
          (above.length
            ? `messages ${summarise(above)} came before it: live messages that arrive during a sync must follow its synced`
            : `messages ${summarise(below)} came after it: the sync's answer must hold every message up to the ID it names`),
        { counterexample: { synced: max, frames: order(s.client.frames, channelId) } },
      );
    if (previous >= 0 && max > previous) raced++;
    previous = max;
  }
  return raced;
}

function messageIds(frames: readonly Frame[], channelId: string): number[] {
  return frames.filter((f) => f.type === 'message' && f.channelId === channelId).map((f) => Number(f.messageId));
}

function missing(got: number[], want: number[]): number[] {
  const have = new Set(got);
  return want.filter((id) => !have.has(id));
}

/** The connection's message and synced frames in arrival order, shortened: "1-40, synced 40, 45". */
function order(frames: readonly Frame[], channelId: string): string {
  const parts: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length) parts.push(summarise(run, false));
    run = [];
  };
  for (const f of frames)
    if (f.type === 'message' && f.channelId === channelId) run.push(Number(f.messageId));
    else if (f.type === 'synced') {
      flush();
      parts.push(`synced ${JSON.stringify(f.channels)}`);
    }
  flush();
  return parts.join(', ');
}

/** "1-40, 45, 50-52": long ID lists made readable (sorted unless told to keep the order). */
function summarise(ids: number[], sort = true): string {
  const s = sort ? [...ids].sort((a, b) => a - b) : ids;
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
