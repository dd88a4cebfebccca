// What the CHAT-I properties share: the convergence assertion (every device has exactly the channel's history), the
// live-delivery bound and the run count.
import type { CheckContext } from '../../core/check-context.ts';
import type { World } from './api.ts';
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

/** How soon a connected device must have a message (the spec's live-delivery bound). */
export const LIVE_MS = 3000;

export const runs = (ctx: CheckContext, max: number) => Math.max(1, Math.min(ctx.numRuns, max));
