// MQ-C8: a cluster of brokers (a manifest with several nodes). Leaders and followers as describeTopic names them;
// a broker that does not lead a partition redirects its produce and fetch (307 not_leader) and appends nothing.
import type { CheckContext } from '../../core/check-context.ts';
import { type Acked, mqApi, okBody, produceAcked, uniqueName, verifyAcked } from './api.ts';
import { brokers, describe, following, stateOf } from './cluster-client.ts';
import { topicSettingsEverywhere } from './leadership-config.ts';

export async function clusterLeadership(ctx: CheckContext): Promise<void> {
  const nodes = brokers(ctx, 2);
  const api = mqApi(ctx, following(ctx));
  const n = nodes.length;
  const tooMany = await api.createTopic({ name: uniqueName('c8'), partitions: 1, replicationFactor: n + 1 });
  ctx.expect(
    tooMany.status === 422 && (tooMany.body as { code?: string }).code === 'insufficient_brokers',
    `replicationFactor ${n + 1} on ${n} brokers answered ${tooMany.status}, not 422 insufficient_brokers`,
    tooMany,
  );
  // Created through the last broker: it creates or sends the client on to the one that does.
  const topic = uniqueName('c8');
  const viaLast = mqApi(ctx, following(ctx, nodes.at(-1)));
  okBody(ctx, await viaLast.createTopic({ name: topic, partitions: n, replicationFactor: n }), 201, 'creating');
  const t = await describe(ctx, api, topic);
  const acked: Acked[] = [];
  const redirects: Record<string, unknown>[] = [];
  for (let p = 0; p < n; p++) {
    const s = stateOf(ctx, t, p, nodes);
    ctx.expect(
      new Set(s.replicas).size === n && s.replicas!.includes(s.leader!),
      `${topic}/${p}: replicas ${s.replicas} are not ${n} distinct brokers including the leader ${s.leader}`,
    );
    for (const b of nodes.filter((x) => x !== s.leader)) {
      // Straight to a broker that does not lead p: a 307 to the leader, nothing appended there.
      const direct = mqApi(ctx, ctx.http.withBaseUrl(ctx.target.nodeUrl(b)));
      const value = `to ${b}, not the leader of ${p}`;
      const x = await direct.produce(topic, { acks: '1', messages: [{ partition: p, value }] });
      const body = x.body as { code?: string; broker?: string };
      ctx.expect(
        x.status === 307 && body.code === 'not_leader' && body.broker === s.leader,
        `a produce to ${topic}/${p} sent to ${b} (the leader is ${s.leader}) answered ${x.status} ${JSON.stringify(x.body)}, not 307 not_leader naming ${s.leader}`,
        x,
      );
      const f = await direct.fetch(topic, p, { offset: 0 });
      ctx.expect(
        f.status === 307 && (f.body as { code?: string }).code === 'not_leader',
        `a fetch of ${topic}/${p} from ${b} answered ${f.status}, not 307 not_leader`,
        f,
      );
      redirects.push({ partition: p, broker: b, leader: s.leader, location: x.headers.location });
      // Following the redirect: produced on the leader, with acks=all, so the record is below the high watermark (what
      // a fetch may read) once acknowledged; with acks=1 a fetch right after could still end before it (CI saw that).
      acked.push(...(await produceAcked(ctx, mqApi(ctx, following(ctx, b)), topic, [{ partition: p, value }], 'all')));
    }
  }
  // A delayed message: a cluster that cannot keep them refuses the batch (422 delay_not_supported), one that can
  // answers its deliverAt and no offset (a minute on: not readable during this check); never appended at once.
  const delayed = await api.produce(topic, {
    acks: 'all',
    messages: [{ partition: 0, value: 'c8 delayed', delayMs: 60_000 }],
  });
  const record = (delayed.body as { records?: Record<string, unknown>[] }).records?.[0];
  ctx.expect(
    (delayed.status === 422 && (delayed.body as { code?: string }).code === 'delay_not_supported') ||
      (delayed.status === 200 && record !== undefined && 'deliverAt' in record && !('offset' in record)),
    `a produce of a message with delayMs 60000 to the cluster answered ${delayed.status} ${JSON.stringify(delayed.body)}, not 422 delay_not_supported nor its deliverAt without an offset`,
    delayed,
  );
  // Every partition holds exactly what the leaders acknowledged: no copy appended by a broker that redirected.
  const read = await verifyAcked(ctx, api, topic, acked, 'after producing through every broker');
  for (const [p, messages] of read)
    ctx.expect(
      messages.length === acked.filter((a) => a.partition === p).length,
      `${topic}/${p} holds ${messages.length} messages; ${acked.filter((a) => a.partition === p).length} were acknowledged`,
    );
  ctx.evidence.redirects = redirects;
  // A topic's minInsyncReplicas on every broker, and acks=all over two partitions of one leader.
  const settings = await topicSettingsEverywhere(ctx, nodes, api);
  await verifyAcked(ctx, api, settings.topic, settings.acked, 'after acks=all over two partitions');
}
