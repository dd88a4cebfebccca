// CHAT-C3: every frame of the WebSocket (asyncapi.yaml) - auth and its refusals, send / sent, message, ack, sync /
// synced, heartbeat, the error frames and close codes - each frame validated against frames.schema.json.
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { chatCheck, sleep } from './api.ts';
import { newClientMessageId } from './device.ts';
import { ChatClient } from './ws-client.ts';

/** A token with its signature (the part after the last dot) altered: a forged token. */
function forged(token: string): string {
  const i = token.lastIndexOf('.');
  const sig = i >= 0 ? token.slice(i + 1) : token;
  const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  return i >= 0 ? `${token.slice(0, i + 1)}${flipped}` : `${flipped}x`;
}

export const webSocketConformance = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const [a, b] = [await w.user(), await w.user(['phone', 'laptop'])];
  const [server] = await w.servers(a.device);
  const g = await w.group(a, [b], 'c3');

  // Frames before auth, bad frames, and bad tokens.
  const anon = await ChatClient.connect(server!.url, w.log);
  anon.send({ type: 'heartbeat' });
  const na = await anon.waitFor((f) => f.type === 'error');
  ctx.expect(
    na?.code === 'not_authenticated',
    `a frame before auth answered ${JSON.stringify(na)}, not error not_authenticated`,
  );
  const from = anon.frames.length;
  anon.send('{not json', { valid: false, raw: true });
  const inv = await anon.waitFor((f) => f.type === 'error', 5000, from);
  ctx.expect(inv?.code === 'invalid_frame', `a frame that is not JSON answered ${JSON.stringify(inv)}`);
  anon.close();
  for (const [what, token] of [
    ['a forged token', forged(a.token)],
    ['garbage', 'not-a-token'],
  ] as const) {
    const c = await ChatClient.connect(server!.url, w.log);
    c.send({ type: 'auth', token });
    const closed = await c.waitClosed(6000);
    ctx.expect(
      closed?.code === 4001,
      `auth with ${what} ended in ${closed ? `close ${closed.code}` : 'no close'} (frames: ${JSON.stringify(c.frames)}), not close 4001`,
    );
  }

  // The exchange: auth, send / sent, message at every other device, ack, sync / synced, heartbeat.
  const auth = await a.device.connect();
  ctx.expect(
    auth.userId === a.userId && auth.deviceId === 'phone',
    `authenticated names ${auth.userId}/${auth.deviceId}`,
  );
  for (const d of b.devices) await d.connect();
  const text = 'hello, WebSocket';
  const clientMessageId = newClientMessageId();
  const { answer } = await a.device.send(g.channelId, text, clientMessageId);
  ctx.expect(
    answer?.type === 'sent' && answer.duplicate === false && answer.channelId === g.channelId,
    `send answered ${JSON.stringify(answer)}`,
  );
  const id = Number(answer!.messageId);
  for (const d of b.devices) {
    const m = await d.client!.waitFor((f) => f.type === 'message' && f.messageId === id);
    ctx.expect(
      m?.text === text && m.senderId === a.userId && m.clientMessageId === clientMessageId,
      `${d.label} got ${JSON.stringify(m)} for message ${id}`,
    );
  }
  // A second message, so synced's maxMessageId is the greatest of several (not the first, not a count).
  const id2 = await a.device.sendOk(g.channelId, 'and another');
  for (const d of b.devices) await d.waitSeen(g.channelId, [id2]);
  const ackFrom = b.device.client!.frames.length;
  b.device.client!.send({ type: 'ack', channelId: g.channelId, messageId: id });
  b.device.heartbeat();
  const { synced, messages } = await b.device.sync([{ channelId: g.channelId, curMaxMessageId: 0 }]);
  ctx.expect(messages.length === 0, `sync on a connection that already got messages ${id} and ${id2} sent them again`);
  const ch = (synced.channels as { channelId: string; maxMessageId: number }[]).find(
    (c) => c.channelId === g.channelId,
  );
  ctx.expect(
    ch?.maxMessageId === id2,
    `synced says ${JSON.stringify(synced.channels)}, not maxMessageId ${id2} for ${g.channelId} (messages ${id}, ${id2})`,
  );
  const err = b.device.client!.frames.slice(ackFrom).find((f) => f.type === 'error');
  ctx.expect(!err, `ack, heartbeat or sync answered ${JSON.stringify(err)}`);

  // Refused sends: not a member, no such channel; the connection stays usable.
  const other = await w.group(b, [], 'c3-other');
  const nm = await a.device.send(other.channelId, 'not mine');
  ctx.expect(
    nm.answer?.type === 'error' && nm.answer.code === 'not_member' && nm.answer.ref === nm.clientMessageId,
    `a send to a channel of others answered ${JSON.stringify(nm.answer)}`,
  );
  const nf = await a.device.send('c_999999999', 'nowhere');
  ctx.expect(
    nf.answer?.type === 'error' && nf.answer.code === 'not_found',
    `a send to no channel answered ${JSON.stringify(nf.answer)}`,
  );
  // The connection that sent a message gets `sent` for it, never its `message` frame as well (asyncapi: every device
  // of every member gets it, except the connection that sent it).
  const own = await a.device.sendOk(g.channelId, 'still here');
  await sleep(300);
  const echoed = a.device.client!.frames.filter(
    (f) => f.type === 'message' && f.channelId === g.channelId && f.messageId === own,
  );
  ctx.expect(!echoed.length, `the connection that sent message ${own} of ${g.channelId} got it as a message frame too`);
  // A refused send stores nothing: the other channel's history (read by its member) does not hold it.
  const leaked = (await w.history(b, other.channelId)).filter((m) => m.clientMessageId === nm.clientMessageId);
  ctx.expect(
    !leaked.length,
    `a send refused not_member is in ${other.channelId}'s history anyway as message ${leaked[0]?.messageId}`,
  );

  // JSON that is not a client frame (a send without its text, a type the spec does not have): error invalid_frame,
  // and the connection stays usable.
  const shapes = await ChatClient.connect(server!.url, w.log);
  shapes.send({ type: 'auth', token: a.token });
  await shapes.waitFor((f) => f.type === 'authenticated');
  for (const [what, frame] of [
    ['a send without its text', { type: 'send', channelId: g.channelId, clientMessageId: newClientMessageId() }],
    ['a frame of an unknown type', { type: 'shout', text: 'hi' }],
  ] as const) {
    const at = shapes.frames.length;
    shapes.send(frame, { valid: false });
    const answer = await shapes.waitFor((f) => f.type === 'error', timeLimit(5000), at);
    ctx.expect(
      answer?.code === 'invalid_frame',
      `${what} (${JSON.stringify(frame)}) answered ${answer ? JSON.stringify(answer) : `nothing within ${timeLimit(5000) / 1000} s`}, not error invalid_frame`,
    );
  }
  shapes.close();

  // A frame over 1 MiB is refused at the protocol level: close 1009.
  const big = await ChatClient.connect(server!.url, w.log);
  big.send({ type: 'auth', token: a.token });
  await big.waitFor((f) => f.type === 'authenticated');
  big.send(
    { type: 'send', channelId: g.channelId, clientMessageId: newClientMessageId(), text: 'w'.repeat(1_100_000) },
    { valid: false },
  );
  const tooBig = await big.waitClosed(5000);
  ctx.expect(
    tooBig?.code === 1009,
    `a frame of 1.1 MB ended in ${tooBig ? `close ${tooBig.code}` : 'no close'}, not 1009`,
  );
});
