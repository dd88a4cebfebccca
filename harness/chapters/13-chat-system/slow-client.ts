// CHAT-F3: a client that stops reading while 16 MiB flow to its group is closed 4008 once the server's buffer for it
// passes its limit; the sender and a reading member are unaffected.
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, MAX_TEXT } from './api.ts';

/** What the slow-client check sends to a client that reads nothing: the spec's 8 MiB ceiling plus kernel buffers. */
export const FLOOD_BYTES = 16 * 1024 * 1024;

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
