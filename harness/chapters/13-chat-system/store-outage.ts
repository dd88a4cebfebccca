// CHAT-F5: the store (Redis) cut off while clients send. A chat server must not acknowledge what it could not store:
// every send during the outage is answered, within SEND_ANSWER_MS, with `sent` for a stored message or the
// `unavailable` error frame (the spec: "resend it with the same clientMessageId"); nothing acknowledged is lost or
// stored twice; and sends are acknowledged again within RECOVERY_MS of the store coming back.
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { chatCheck, sleep } from './api.ts';
import { newClientMessageId } from './device.ts';

/** How long the store stays cut. */
const OUTAGE_MS = 2000;
/** A send is answered within this, store or no store (no hanging). */
export const SEND_ANSWER_MS = 5000;
/** After the store is back, a send is acknowledged again within this (the spec's bound). */
export const RECOVERY_MS = 5000;

export const storeOutage = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  ctx.require('dependency:redis');
  ctx.require('network-faults');
  const redis = ctx.target.dependencies.redis!;
  const [a, b] = [await w.user(), await w.user()];
  const g = await w.group(a, [b], 'f5');
  const servers = await w.servers(a.device);
  await a.device.connectTo(servers[0]!);
  await b.device.connectTo(servers[1 % servers.length]!);
  /** clientMessageId -> the message ID its `sent` named. */
  const acked = new Map<string, number>();
  const refused: string[] = [];
  // The bounds plus the scheduling delay measured during the check (evidence.schedulingSlack), at most 2.5 s: a chat
  // server that hangs a send, or never recovers, is still caught.
  const slack = checkSlack(ctx.evidence, 2500);
  const sendOnce = async (text: string, cid = newClientMessageId()) => {
    const started = Date.now();
    const answerMs = slack.bound(SEND_ANSWER_MS);
    const { answer } = await a.device.send(g.channelId, text, cid, answerMs);
    const tookMs = Date.now() - started;
    ctx.expect(answer, `a send got no answer within ${answerMs} ms (${text})`);
    if (answer.type === 'sent') acked.set(cid, Number(answer.messageId));
    else {
      ctx.expect(
        answer.code === 'unavailable',
        `a send while the store was unreachable answered ${JSON.stringify(answer)}, not sent or unavailable`,
      );
      refused.push(cid);
    }
    return { ok: answer.type === 'sent', tookMs };
  };
  for (let i = 0; i < 3; i++) ctx.expect((await sendOnce(`before ${i}`)).ok, 'a send failed before the outage');

  await redis.setReachable(false);
  let during = 0;
  try {
    const until = Date.now() + OUTAGE_MS;
    // HTTP while the store is unreachable: 503 unavailable with Retry-After (the spec), never a 500 or a hang.
    const probe = await w.x(
      w.http.GET('/api/v1/channels/{channelId}/messages', {
        params: { path: { channelId: g.channelId } },
        ...w.auth(a.token),
      }),
    );
    ctx.expectStatus(probe, 503, 'unavailable');
    ctx.expect(
      Boolean(probe.headers?.['retry-after']),
      'a 503 while the store was unreachable came without Retry-After',
      probe,
    );
    while (Date.now() < until) {
      await sendOnce(`during ${during++}`);
      await sleep(100);
    }
  } finally {
    await redis.setReachable(true);
  }
  const backAt = Date.now();
  ctx.evidence.sendsDuringOutage = during;
  ctx.evidence.refusedDuringOutage = refused.length;

  let recovered = false;
  for (let n = 0; !recovered && Date.now() - backAt < slack.bound(RECOVERY_MS); n++) {
    recovered = (await sendOnce(`after ${n}`)).ok;
    if (!recovered) await sleep(200);
  }
  ctx.evidence.recoveredMs = recovered ? Date.now() - backAt : null;
  ctx.expect(recovered, `no send was acknowledged within ${RECOVERY_MS} ms of the store coming back`);
  // The refused ones, resent as the spec says: stored once each.
  for (const cid of refused) {
    const { answer } = await a.device.send(g.channelId, 'resent', cid, SEND_ANSWER_MS);
    ctx.expect(answer?.type === 'sent', `the resend of ${cid} answered ${JSON.stringify(answer)}`);
    acked.set(cid, Number(answer.messageId));
  }

  // The API servers may answer 503 until their own store connection is back.
  for (const until = Date.now() + slack.bound(RECOVERY_MS); ; await sleep(200)) {
    const r = await w.x(
      w.http.GET('/api/v1/channels/{channelId}/messages', {
        params: { path: { channelId: g.channelId } },
        ...w.auth(a.token),
      }),
    );
    if (r.status === 200) break;
    ctx.expect(r.status === 503 && Date.now() < until, `history after the outage answered ${r.status ?? r.error}`, r);
  }
  const history = await w.history(a, g.channelId);
  const byCid = new Map<string, number[]>();
  for (const m of history) byCid.set(m.clientMessageId, [...(byCid.get(m.clientMessageId) ?? []), m.messageId]);
  for (const [cid, id] of acked) {
    const stored = byCid.get(cid) ?? [];
    if (stored.length !== 1 || stored[0] !== id)
      ctx.fail(
        `message ${cid} was acknowledged as ${id} but the history holds it ${stored.length ? `as [${stored.join(', ')}]` : 'nowhere'}`,
        { counterexample: { clientMessageId: cid, acknowledgedAs: id, stored } },
      );
  }
  // Proof the fault bit: with the store cut, some send must have been refused (or, above, lost).
  if (!refused.length)
    throw new Error('every send during the outage was acknowledged and stored: the fault did not bite');
  // The other member gets every acknowledged message (live, or by sync after the outage).
  const ids = [...acked.values()];
  if ((await b.device.waitSeen(g.channelId, ids)).length) {
    // Not all live: a fresh connection and a sync from the start of the channel must fill the gap.
    await b.device.connectTo(servers[1 % servers.length]!);
    await b.device.sync([{ channelId: g.channelId, curMaxMessageId: 0 }]);
  }
  const missing = await b.device.waitSeen(g.channelId, ids, 1000);
  ctx.expect(!missing.length, `${b.device.label} never got acknowledged messages ${missing.join(', ')}`);
});
