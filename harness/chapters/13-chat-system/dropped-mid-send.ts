// CHAT-F2: a connection dropped 0-120 ms after a send left, then a resend on a new connection: one message stored and
// delivered.
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, sleep, storedCopies } from './api.ts';
import { newClientMessageId } from './device.ts';

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
    const copies = await storedCopies(w, a.device, g.channelId, cid);
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
