// MQ-C8, a topic's own settings on every broker of a cluster and acks=all over two partitions of one leader. A topic
// created with minInsyncReplicas 1 (not the default 2) is described with it by every broker, which includes the
// leaders that apply it (openapi.yaml: acks=all needs the topic's minInsyncReplicas). And an acks=all batch to two
// partitions led by one broker, whose ends differ, is answered 200 once each partition's in-sync replicas have its
// own records: each waits for its own high watermark, not for another partition's offsets.
import type { CheckContext } from '../../core/check-context.ts';
import { type Acked, type MqApi, mqApi, okBody, produceAcked, type Topic, uniqueName } from './api.ts';
import { bound, describe, following, onNode, stateOf } from './cluster-client.ts';

/** Waits until `node` knows the topic (a broker learns of it from the controller), then answers its description. */
async function describedBy(ctx: CheckContext, node: string, topic: string): Promise<Topic> {
  const until = Date.now() + bound(10_000);
  for (;;) {
    const x = await onNode(ctx, node).describeTopic(topic);
    if (x.status === 200) return x.body as Topic;
    if (Date.now() > until || x.status !== 404)
      ctx.fail(`${node} did not describe ${topic} (created through the cluster): ${x.status ?? x.error}`, {
        exchange: x,
      });
    await ctx.sleep(100);
  }
}

/** Returns what was acknowledged, for the caller's read-back. */
export async function topicSettingsEverywhere(
  ctx: CheckContext,
  nodes: readonly string[],
  api: MqApi,
): Promise<{ topic: string; acked: Acked[] }> {
  const topic = uniqueName('c8m');
  const partitions = 2 * nodes.length;
  const viaLast = mqApi(ctx, following(ctx, nodes.at(-1)));
  const created = { name: topic, partitions, replicationFactor: nodes.length, minInsyncReplicas: 1 };
  okBody(ctx, await viaLast.createTopic(created), 201, 'creating a topic with minInsyncReplicas 1');
  const seen: Record<string, unknown> = {};
  for (const b of nodes) {
    const t = await describedBy(ctx, b, topic);
    seen[b] = t.minInsyncReplicas ?? null;
    // The field is optional in the schema: a broker that names it names the topic's.
    ctx.expect(
      t.minInsyncReplicas === undefined || t.minInsyncReplicas === 1,
      `${b} describes ${topic} with minInsyncReplicas ${t.minInsyncReplicas}; it was created with 1`,
    );
  }
  ctx.evidence.minInsyncDescribed = seen;
  // Two partitions with one leader (2 x brokers partitions: some broker leads two), their ends made to differ.
  const t = await describe(ctx, api, topic);
  const byLeader = new Map<string, number[]>();
  for (let p = 0; p < partitions; p++) {
    const leader = stateOf(ctx, t, p, nodes).leader!;
    byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
  }
  const [leader, [a, b] = []] = [...byLeader].find(([, ps]) => ps.length >= 2) ?? ['', []];
  if (a === undefined || b === undefined) ctx.fail(`no broker leads two of ${topic}'s ${partitions} partitions`);
  const acked = await produceAcked(
    ctx,
    api,
    topic,
    [0, 1, 2].map((i) => ({ partition: a, value: `c8 ahead ${i}` })),
    'all',
  );
  const started = Date.now();
  const x = await api.produce(topic, {
    acks: 'all',
    messages: [
      { partition: a, value: `c8 two partitions, on ${a}` },
      { partition: b, value: `c8 two partitions, on ${b}` },
    ],
  });
  const ms = Date.now() - started;
  ctx.expect(
    x.status === 200,
    `an acks=all batch to ${topic}/${a} (end 3) and ${topic}/${b} (end 0), both led by ${leader}, with every replica running, answered ${x.status ?? x.error} after ${ms} ms, not 200: each partition's in-sync replicas had its records`,
    x,
  );
  const records = (x.body as { records?: { partition: number; offset: number; timestamp: number }[] }).records ?? [];
  records.forEach((r, i) => {
    acked.push({ ...r, key: null, value: `c8 two partitions, on ${i === 0 ? a : b}`, tags: [] });
  });
  ctx.evidence.twoPartitionAcksAll = { leader, partitions: [a, b], status: x.status ?? x.error, ms };
  return { topic, acked };
}
