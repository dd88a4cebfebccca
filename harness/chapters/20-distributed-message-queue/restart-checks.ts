// MQ-F1, what a restart must not reset. A producer ID is unique (openapi.yaml initProducer), so one taken after a
// restart is new and its first batch is its own: appended at a new offset, never answered as another producer's
// repeat. And messages are kept for the topic's retention period whatever a restart did: everything is read again
// once the broker has run a while after its last start (its background passes, retention's among them, had time).
import type { CheckContext } from '../../core/check-context.ts';
import { type Acked, type MqApi, okBody, type ProduceResult, type Topic } from './api.ts';

/**
 * How long the check lets the restarted broker run before reading everything again. The spec names no retention
 * schedule; the reference looks every 5 s. A broker that looks later is graded on less, never failed by the wait.
 */
export const RUN_AFTER_RESTART_MS = 6000;

/**
 * Takes a producer ID and sends its first batch (sequence 0, one message) to `partition`: the ID must be none taken
 * before in this check (`taken`, across restarts) and the message appended after everything acknowledged there.
 */
export async function newProducerAppends(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  partition: number,
  taken: Set<string>,
  acked: Acked[],
  when: string,
): Promise<void> {
  const id = okBody<{ producerId: string }>(ctx, await api.initProducer(), 201, `${when}: initProducer`).producerId;
  ctx.expect(
    !taken.has(id),
    `${when}: initProducer answered ${id}, a producer ID it had already given in this check (before a restart): producer IDs are unique`,
  );
  taken.add(id);
  const value = `${when}: the first batch of producer ${id}`;
  const x = await api.produce(topic, { acks: 'all', producerId: id, sequence: 0, messages: [{ partition, value }] });
  const r = okBody<ProduceResult>(ctx, x, 200, `${when}: the first batch of a new producer`);
  const rec = r.records[0];
  const before = Math.max(-1, ...acked.filter((a) => a.partition === partition).map((a) => a.offset));
  ctx.expect(
    rec !== undefined && 'offset' in rec && rec.offset > before,
    `${when}: the first batch (sequence 0) of producer ${id}, new, was answered with offset ${rec && 'offset' in rec ? rec.offset : 'none'}, not after everything acknowledged on ${topic}/${partition} (up to ${before}): answered as another producer's batch`,
    x,
  );
  if (rec && 'offset' in rec) acked.push({ ...rec, key: null, value, tags: [] });
}

/**
 * Lets the restarted broker run RUN_AFTER_RESTART_MS, then checks no partition of `topic` starts past 0: with a
 * retention period of days, nothing may be removed (a removal names its cause here, before the read-back fails on it).
 */
export async function nothingRemovedAfterRunning(ctx: CheckContext, api: MqApi, topic: string): Promise<void> {
  await ctx.sleep(RUN_AFTER_RESTART_MS);
  const x = await api.describeTopic(topic);
  const t = okBody<Topic>(ctx, x, 200, `describing ${topic} ${RUN_AFTER_RESTART_MS} ms after the last restart`);
  const cut = t.partitionStates.filter((s) => s.logStartOffset !== 0);
  ctx.expect(
    cut.length === 0,
    `${RUN_AFTER_RESTART_MS} ms after the last restart, ${cut.map((s) => `${topic}/${s.partition} starts at ${s.logStartOffset}`).join(', ')}: closed segments were removed though the topic keeps messages ${t.retentionMs} ms`,
    x,
  );
}
