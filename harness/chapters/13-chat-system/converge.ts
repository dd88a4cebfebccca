// What the CHAT-I properties share: the convergence assertion (every device has exactly the channel's history), the
// live-delivery bound and the run count.
import type { CheckContext } from '../../core/check-context.ts';
import type { User, World } from './api.ts';
import type { Device } from './device.ts';

/** Every device has exactly the channel's history (same IDs naming the same messages) and saw nothing odd. */
export async function expectConverged(w: World, channelId: string, devices: Device[], what: string): Promise<void> {
  const ctx: CheckContext = w.ctx;
  const history = await w.history(devices[0]!.user, channelId);
  const want = history.map((m) => `${m.messageId}:${m.clientMessageId}`).join(' ');
  for (const d of devices) {
    ctx.expect(!d.anomalies.length, `${what}: ${d.anomalies[0]}`);
    const got = [...(d.seen.get(channelId) ?? new Map()).entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([id, m]) => `${id}:${m.clientMessageId}`)
      .join(' ');
    if (got !== want)
      ctx.fail(`${what}: ${d.label} has [${got}] but the channel's history is [${want}]`, {
        counterexample: { device: d.label, seen: got, history: want },
      });
  }
}

/**
 * Live delivery keeps the channel's order: on each connection, a channel's `message` frames arrive in increasing
 * message ID (the spec: every device sees one order; a device's cur_max_message_id never skips a message it must
 * fetch later). With `withSent`, the sender's `sent` answers count too: no message with a lower ID may follow a
 * `sent` on its connection (the device's cur_max_message_id would have passed it). A `sent` that comes late, after
 * messages with higher IDs, loses nothing and is allowed. Only for connections that did not sync (a sync answer may
 * follow live frames).
 */
export function expectLiveOrder(
  ctx: CheckContext,
  channelId: string,
  devices: Device[],
  what: string,
  o: { withSent?: boolean } = {},
): number {
  let checked = 0;
  for (const d of devices) {
    const last = new Map<number, { id: number; sent?: true }>();
    for (const a of d.arrivals) {
      if (a.channelId !== channelId || (a.sent && !o.withSent)) continue;
      checked++;
      const before = last.get(a.conn);
      if (!a.sent && before !== undefined && a.messageId <= before.id) {
        const order = d.arrivals
          .filter((x) => x.channelId === channelId && x.conn === a.conn && (!x.sent || o.withSent))
          .map((x) => (x.sent ? `sent ${x.messageId}` : x.messageId));
        ctx.fail(
          `${what}: ${d.label} got message ${a.messageId} after ` +
            `${before.sent ? '`sent` for ' : ''}message ${before.id} of ${channelId} on one connection: ` +
            `live delivery is not in the channel's order (arrival order [${order.join(', ')}])`,
          { counterexample: { device: d.label, channelId, arrivals: order } },
        );
      }
      // The highest ID the connection has had so far (a late `sent` does not lower it).
      if (before === undefined || a.messageId > before.id)
        last.set(a.conn, a.sent ? { id: a.messageId, sent: true } : { id: a.messageId });
    }
  }
  return checked;
}

/**
 * Everything acknowledged in the whole check (client message ID -> the ID its `sent` named) is in the channel's
 * history exactly once, at that ID, from the sender that sent it (after a fault: nothing lost, moved or doubled).
 */
export async function expectAcknowledgedStored(
  w: World,
  as: User,
  channelId: string,
  acked: ReadonlyMap<string, { id: number; senderId: string }>,
  what: string,
): Promise<void> {
  const ctx: CheckContext = w.ctx;
  const history = await w.history(as, channelId);
  const byCid = new Map<string, number[]>();
  for (const m of history) byCid.set(m.clientMessageId, [...(byCid.get(m.clientMessageId) ?? []), m.messageId]);
  for (const [cid, a] of acked) {
    const stored = byCid.get(cid) ?? [];
    const m = history.find((h) => h.messageId === a.id);
    if (stored.length !== 1 || stored[0] !== a.id || m?.senderId !== a.senderId)
      ctx.fail(
        `${what}: message ${cid} was acknowledged as ${a.id} but the history holds it ` +
          `${stored.length ? `as [${stored.join(', ')}]` : 'nowhere'}`,
        { counterexample: { clientMessageId: cid, acknowledgedAs: a.id, stored } },
      );
  }
}

/** How soon a connected device must have a message (the spec's live-delivery bound). */
export const LIVE_MS = 3000;

export const runs = (ctx: CheckContext, max: number) => Math.max(1, Math.min(ctx.numRuns, max));
