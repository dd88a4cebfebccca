// MQ-C8, MQ-F4, MQ-F5: a cluster of brokers (a manifest with several nodes). Leaders and followers as
// describeTopic names them; a client that follows the spec's 307 to the leader; acks=all against stopped
// followers; kill -9 of a leader while a follower is out of sync.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange, HttpClient, SendOptions } from '../../core/http-client.ts';
import { timeScale } from '../../core/time-scale.ts';
import {
  type Acked,
  type Acks,
  type FetchResult,
  type MqApi,
  mqApi,
  okBody,
  type ProduceResult,
  produceAcked,
  type Topic,
  uniqueName,
  verifyAcked,
} from './api.ts';

type PartitionState = Topic['partitionStates'][number];

/** Sends through `node`'s broker and follows the spec's 307s (not_leader, not_controller), as an HTTP client does. */
function following(ctx: CheckContext, node?: string): Pick<HttpClient, 'send'> {
  const start = node ? ctx.http.withBaseUrl(ctx.target.nodeUrl(node)) : ctx.http;
  return {
    async send(o: SendOptions): Promise<Exchange> {
      let x = await start.send(o);
      for (let hop = 0; hop < 3 && x.status === 307; hop++) {
        const to = new URL(x.headers.location ?? '', ctx.target.baseUrl);
        x = await ctx.http.withBaseUrl(to.origin).send({ ...o, path: `${to.pathname}${to.search}` });
      }
      return x;
    },
  };
}

/** The brokers of the target, or a skip: these checks need a cluster the harness started. */
function brokers(ctx: CheckContext, least: number): string[] {
  ctx.require('process-control');
  const nodes = ctx.target.nodes;
  if (nodes.length < least)
    ctx.skip(
      `needs a cluster of at least ${least} brokers; the target has ${nodes.length} (grade manifest.cluster.json for replication)`,
    );
  return [...nodes];
}

/** Node names are the manifest's; the spec's broker names must be the same for the harness to find a leader. */
function stateOf(ctx: CheckContext, t: Topic, partition: number, nodes: readonly string[]): PartitionState {
  const s = t.partitionStates[partition]!;
  ctx.expect(
    s.leader !== undefined && s.replicas !== undefined && s.isr !== undefined,
    `${t.name}/${partition}: describeTopic names no leader, replicas or ISR in a cluster`,
  );
  for (const b of [s.leader!, ...s.replicas!, ...s.isr!])
    if (!nodes.includes(b))
      ctx.skip(`describeTopic names broker ${b}, not one of the manifest's nodes (${nodes.join(', ')})`);
  return s;
}

/** The API straight to one node, no redirect followed. */
const onNode = (ctx: CheckContext, node: string): MqApi => mqApi(ctx, ctx.http.withBaseUrl(ctx.target.nodeUrl(node)));

async function describe(ctx: CheckContext, api: MqApi, topic: string): Promise<Topic> {
  return okBody<Topic>(ctx, await api.describeTopic(topic), 200, `describing ${topic}`);
}

/** A bound in ms for something a correct cluster does within `ms` on an idle machine (scaled like the tests). */
const bound = (ms: number) => ms * timeScale();

/** Waits until `ok` holds for the topic's description, or fails with `what`. */
async function waitForState(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  ms: number,
  ok: (t: Topic) => boolean,
  what: string,
): Promise<Topic> {
  const until = Date.now() + bound(ms);
  for (;;) {
    const x = await api.describeTopic(topic);
    if (x.status === 200 && ok(x.body as Topic)) return x.body as Topic;
    if (Date.now() > until) ctx.fail(`${what} (waited ${bound(ms)} ms): ${JSON.stringify(x.body)}`, { exchange: x });
    await ctx.sleep(250);
  }
}

/** acks=all until answered 200 (503 not_enough_replicas is retried while the ISR regrows). */
async function produceRetrying(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  values: string[],
  ms: number,
): Promise<Acked[]> {
  const until = Date.now() + bound(ms);
  for (;;) {
    const x = await api.produce(topic, { acks: 'all', messages: values.map((value) => ({ partition: p, value })) });
    if (x.status === 200) {
      const r = okBody<ProduceResult>(ctx, x, 200, `producing to ${topic}/${p}`);
      ctx.expect(r.records.length === values.length, `${values.length} messages, ${r.records.length} acknowledged`, x);
      return r.records.map((rec, i) => ({ ...rec, key: null, value: values[i]! }));
    }
    if (Date.now() > until || (x.status !== 503 && x.status !== null))
      ctx.fail(`acks=all to ${topic}/${p} after the fault: ${x.status ?? x.error}, never 200`, {
        exchange: x,
      });
    // Counted: a retry is the spec's answer to 503 not_enough_replicas, bounded above, never silent.
    ctx.evidence.acksAllRetries = ((ctx.evidence.acksAllRetries as number | undefined) ?? 0) + 1;
    await ctx.sleep(500);
  }
}

/**
 * What an acks=all answer promises, checked against the model the moment it comes: every in-sync replica has the
 * batch, so `stopped` (SIGSTOPped by the harness: it cannot have it) is out of the ISR by then, and the batch is below
 * the high watermark, so a fetch reads it at once. The ISR is asked of the first node and of the leader; only both
 * still naming the stopped broker fails (one broker's view may lag the other's).
 */
async function expectAcksAllKept(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  batch: readonly Acked[],
  stopped: string,
  leader: string,
): Promise<void> {
  const last = batch.at(-1)!;
  const views = await Promise.all([api, onNode(ctx, leader)].map((a) => a.describeTopic(topic)));
  const isrs = views.map((x) => (x.status === 200 ? ((x.body as Topic).partitionStates[p]?.isr ?? []) : []));
  ctx.expect(
    !isrs.every((isr) => isr.includes(stopped)),
    `acks=all acknowledged ${topic}/${p} offset ${last.offset} while ${stopped} was stopped, yet the ISR still names it (${isrs.map((i) => `[${i.join(', ')}]`).join(' and ')}): an in-sync replica lacked the record`,
    views[1],
  );
  const x = await api.fetch(topic, p, { offset: batch[0]!.offset });
  const r = okBody<FetchResult>(ctx, x, 200, `fetching ${topic}/${p} right after acks=all`);
  ctx.expect(
    r.endOffset > last.offset && r.messages.some((m) => m.offset === last.offset),
    `acks=all acknowledged ${topic}/${p} offset ${last.offset}, but a fetch right after ends at ${r.endOffset}: what acks=all acknowledged is on every in-sync replica, so below the high watermark`,
    x,
  );
}

/** Within a bound, a broker that does not lead `p` sends its fetch on to `leader` (307 naming it), and following works. */
async function expectRedirectsTo(
  ctx: CheckContext,
  topic: string,
  p: number,
  via: string,
  leader: string,
): Promise<void> {
  const until = Date.now() + bound(5000);
  for (;;) {
    const x = await onNode(ctx, via).fetch(topic, p, { offset: 0 });
    const body = x.body as { code?: string; broker?: string };
    if (x.status === 307 && body.code === 'not_leader' && body.broker === leader) break;
    if (Date.now() > until)
      ctx.fail(
        `${via} answers a fetch of ${topic}/${p} with ${x.status} ${JSON.stringify(x.body)} ${bound(5000)} ms after ${leader} took the lead, not 307 not_leader naming ${leader}`,
        { exchange: x },
      );
    await ctx.sleep(250);
  }
  const followed = await mqApi(ctx, following(ctx, via)).fetch(topic, p, { offset: 0 });
  ctx.expect(
    followed.status === 200,
    `following ${via}'s 307 for ${topic}/${p} answered ${followed.status ?? followed.error}, not 200`,
    followed,
  );
}

/** Within a bound, every broker's describeTopic names the same leader, leader epoch and ISR for `p` (any broker answers it). */
async function expectBrokersAgree(
  ctx: CheckContext,
  topic: string,
  p: number,
  nodes: readonly string[],
): Promise<void> {
  const until = Date.now() + bound(5000);
  for (;;) {
    const views = await Promise.all(nodes.map((b) => onNode(ctx, b).describeTopic(topic)));
    const seen = views.map((x, i) => {
      const s = x.status === 200 ? (x.body as Topic).partitionStates[p] : undefined;
      return `${nodes[i]}: ${s ? `leader ${s.leader}, epoch ${s.leaderEpoch}, isr [${[...(s.isr ?? [])].sort().join(', ')}]` : x.status}`;
    });
    const said = new Set(seen.map((v) => v.slice(v.indexOf(':'))));
    if (said.size === 1) return;
    if (Date.now() > until)
      ctx.fail(`${topic}/${p}: the brokers still describe it differently after ${bound(5000)} ms: ${seen.join('; ')}`);
    await ctx.sleep(250);
  }
}

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
  // Every partition holds exactly what the leaders acknowledged: no copy appended by a broker that redirected.
  const read = await verifyAcked(ctx, api, topic, acked, 'after producing through every broker');
  for (const [p, messages] of read)
    ctx.expect(
      messages.length === acked.filter((a) => a.partition === p).length,
      `${topic}/${p} holds ${messages.length} messages; ${acked.filter((a) => a.partition === p).length} were acknowledged`,
    );
  ctx.evidence.redirects = redirects;
}

/** Runs `f` with `paused` stopped (SIGSTOP), resuming them whatever happens. */
async function whilePaused<T>(ctx: CheckContext, paused: string[], f: () => Promise<T>): Promise<T> {
  for (const b of paused) await ctx.target.pause(b);
  ctx.changed(`paused ${paused.join(', ')}`);
  try {
    return await f();
  } finally {
    for (const b of paused) await ctx.target.resume(b);
  }
}

/**
 * One follower stopped (still in the ISR for the lag period), an acks=1 record: the other follower copies it, but it
 * is not below the high watermark until the stopped one has it too. endOffset is the high watermark on every broker,
 * so the running follower's may never be above the leader's (asked after it: the leader's only grows). Sampled for
 * a second; on a slow machine the ISR may shrink first, which makes the record committed and the check weaker for
 * that run, never wrong.
 */
async function endOffsetIsHighWatermarkEverywhere(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  leader: string,
  followers: string[],
): Promise<Acked[]> {
  const [running, stopped] = followers as [string, string];
  const value = `acks 1, ${stopped} stopped`;
  const samples: string[] = [];
  const acked = await whilePaused(ctx, [stopped], async () => {
    const one = await produceAcked(ctx, api, topic, [{ partition: p, value }], '1');
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      const f = await describe(ctx, onNode(ctx, running), topic);
      const l = await describe(ctx, onNode(ctx, leader), topic);
      const fe = f.partitionStates[p]!.endOffset;
      const le = l.partitionStates[p]!.endOffset;
      samples.push(`${running} ${fe} / ${leader} ${le}`);
      if (fe > le) {
        ctx.expect(
          false,
          `${topic}/${p}: follower ${running} describes endOffset ${fe}, above the leader ${leader}'s ${le} asked after it, while ${stopped} (in the ISR) was stopped: endOffset is the high watermark (what every in-sync replica has), not a replica's own log end`,
        );
        break;
      }
      await ctx.sleep(100);
    }
    return one;
  });
  ctx.evidence.endOffsetSamples = samples.slice(0, 12);
  return acked;
}

export async function acksAllWaitsForIsr(ctx: CheckContext): Promise<void> {
  const nodes = brokers(ctx, 3);
  const api = mqApi(ctx, following(ctx));
  const topic = uniqueName('f4');
  okBody(ctx, await api.createTopic({ name: topic, partitions: 3, replicationFactor: 3 }), 201, 'creating');
  const t = await describe(ctx, api, topic);
  // A partition led by the first node (where a cluster's controller usually is, so stopping the others leaves it).
  const p = [0, 1, 2].find((x) => stateOf(ctx, t, x, nodes).leader === nodes[0]) ?? 0;
  const s = stateOf(ctx, t, p, nodes);
  const followers = s.replicas!.filter((b) => b !== s.leader);
  const acked = await produceAcked(ctx, api, topic, [{ partition: p, value: 'before: acks all' }], 'all');
  acked.push(...(await endOffsetIsHighWatermarkEverywhere(ctx, api, topic, p, s.leader!, followers)));
  const outcome = await whilePaused(ctx, followers, async () => {
    // acks=1 needs the leader alone.
    const one = await api.produce(topic, {
      acks: '1',
      messages: [{ partition: p, value: 'acks 1, followers stopped' }],
    });
    ctx.expect(one.status === 200, `acks=1 with the followers stopped answered ${one.status ?? one.error}`, one);
    acked.push({ ...(one.body as { records: Acked[] }).records[0]!, key: null, value: 'acks 1, followers stopped' });
    // Consumers read below the high watermark only: the acks=1 message is on the leader alone (until the ISR shrinks
    // to it), so a fetch may not answer it above the endOffset it reports.
    const read = await api.fetch(topic, p, { offset: 0 });
    const r = okBody<FetchResult>(ctx, read, 200, `fetching ${topic}/${p} with the followers stopped`);
    const beyond = r.messages.filter((m) => m.offset >= r.endOffset).map((m) => m.offset);
    ctx.expect(
      beyond.length === 0,
      `a fetch of ${topic}/${p} with both followers stopped answered offset ${beyond.join(', ')} at or past its endOffset ${r.endOffset} (the high watermark: what every in-sync replica has)`,
      read,
    );
    const started = Date.now();
    const all = await api.produce(topic, {
      acks: 'all' as Acks,
      messages: [{ partition: p, value: 'acks all, followers stopped' }],
    });
    ctx.expect(
      all.status !== 200,
      `acks=all to ${topic}/${p} was answered 200 after ${Date.now() - started} ms while both followers (${followers.join(', ')}) were stopped: acknowledged before any follower had the record`,
      all,
    );
    ctx.expect(
      all.status === null || (all.status === 503 && (all.body as { code?: string }).code === 'not_enough_replicas'),
      `acks=all with the followers stopped answered ${all.status}, not 503 not_enough_replicas (or no answer)`,
      all,
    );
    return { status: all.status ?? all.error, afterMs: Date.now() - started };
  });
  // Back: the followers catch up, rejoin the ISR, and acks=all is answered again.
  acked.push(...(await produceRetrying(ctx, api, topic, p, ['after: acks all'], 30_000)));
  await waitForState(
    ctx,
    api,
    topic,
    30_000,
    (x) => x.partitionStates[p]!.isr?.length === 3,
    `${topic}/${p}: the resumed followers are not back in the ISR`,
  );
  await verifyAcked(ctx, api, topic, acked, 'after the followers came back');
  ctx.evidence.partition = { partition: p, leader: s.leader, stopped: followers };
  ctx.evidence.acksAllWhileStopped = outcome;
}

export async function leaderFailover(ctx: CheckContext): Promise<void> {
  const nodes = brokers(ctx, 3);
  const api = mqApi(ctx, following(ctx));
  const topic = uniqueName('f5');
  okBody(ctx, await api.createTopic({ name: topic, partitions: 3, replicationFactor: 3 }), 201, 'creating');
  const t = await describe(ctx, api, topic);
  // A partition whose leader and first follower (its successor by replica order) are not the first node, so the
  // node the harness talks to stays up and in sync throughout.
  const p = [0, 1, 2].find((x) => {
    const s = stateOf(ctx, t, x, nodes);
    const next = s.replicas!.filter((b) => b !== s.leader)[0];
    return s.leader !== nodes[0] && next !== nodes[0];
  });
  if (p === undefined) ctx.skip('no partition has a leader and a first follower other than the first node');
  const s = stateOf(ctx, t, p, nodes);
  const leader = s.leader!;
  const [lagging, inSync] = s.replicas!.filter((b) => b !== leader) as [string, string];
  const batch = (tag: string, k: number) =>
    Array.from({ length: k }, (_, i) => ({ partition: p, value: `${tag} ${i}` }));
  const acked = await produceAcked(ctx, api, topic, batch('A', 20), 'all');

  // One follower stops; acks=all waits until the leader drops it from the ISR, then goes on with the other.
  await ctx.target.pause(lagging);
  ctx.changed(`paused ${lagging}`);
  try {
    // A lone message first: acks=all may answer it only once the stopped follower is out of the ISR (it cannot have
    // it), and then it is readable at once (an off-by-one or a quorum of copies shows on one record).
    const lone = await produceRetrying(ctx, api, topic, p, ['B lone'], 30_000);
    await expectAcksAllKept(ctx, api, topic, p, lone, lagging, leader);
    acked.push(...lone);
    acked.push(
      ...(await produceRetrying(
        ctx,
        api,
        topic,
        p,
        batch('B', 20).map((m) => m.value),
        30_000,
      )),
    );
    await waitForState(
      ctx,
      api,
      topic,
      15_000,
      (x) => !x.partitionStates[p]!.isr?.includes(lagging),
      `${topic}/${p}: acks=all was answered while ${lagging} was stopped, yet the ISR still names it`,
    );
    acked.push(...(await produceAcked(ctx, api, topic, batch('C', 20), 'all')));
    // The leader dies; the out-of-sync follower is back (alive, but missing B and C) before a new leader is chosen.
    await ctx.target.kill(leader);
    ctx.changed(`killed (kill -9) ${leader}`);
  } finally {
    await ctx.target.resume(lagging);
  }
  const after = await waitForState(
    ctx,
    api,
    topic,
    30_000,
    (x) => x.partitionStates[p]!.leader !== leader,
    `${topic}/${p}: no new leader after ${leader} was killed`,
  );
  const newLeader = after.partitionStates[p]!.leader!;
  await verifyAcked(ctx, api, topic, acked, `after ${leader} was killed and ${newLeader} took over`);
  // The live broker that does not lead now sends clients to the new leader, not the old (or preferred) one.
  const bystander = nodes.find((b) => b !== leader && b !== newLeader);
  if (bystander) await expectRedirectsTo(ctx, topic, p, bystander, newLeader);
  const before = Math.max(...acked.map((a) => a.offset));
  const fresh = await produceRetrying(
    ctx,
    api,
    topic,
    p,
    batch('D', 10).map((m) => m.value),
    30_000,
  );
  ctx.expect(
    fresh[0]!.offset > before,
    `the first message after the failover took offset ${fresh[0]!.offset}, already acknowledged with acks=all (up to ${before})`,
  );
  acked.push(...fresh);

  // The old leader comes back as a follower and catches up; then the new leader dies too: whoever leads next must
  // hold every acknowledged message at its offset (the old leader's copy included, if it is chosen).
  await ctx.target.start(leader);
  await waitForState(
    ctx,
    api,
    topic,
    30_000,
    (x) => x.partitionStates[p]!.isr?.length === 3,
    `${topic}/${p}: ${leader} and ${lagging} are not both back in the ISR`,
  );
  await expectBrokersAgree(ctx, topic, p, nodes);
  // The first node is not killed (a cluster's controller usually lives there, and the reference's is not failed
  // over yet): when it leads now, the old leader's copy is graded only by its rejoining the ISR; said in evidence.
  ctx.evidence.secondKill = newLeader !== nodes[0];
  if (newLeader !== nodes[0]) {
    await ctx.target.kill(newLeader);
    ctx.changed(`killed (kill -9) ${newLeader}`);
    const third = await waitForState(
      ctx,
      api,
      topic,
      30_000,
      (x) => x.partitionStates[p]!.leader !== newLeader,
      `${topic}/${p}: no new leader after ${newLeader} was killed`,
    );
    await verifyAcked(
      ctx,
      api,
      topic,
      acked,
      `after ${newLeader} was killed too, led by ${third.partitionStates[p]!.leader}`,
    );
    await ctx.target.start(newLeader);
  }
  ctx.evidence.failover = { partition: p, killed: leader, lagging, inSync, newLeader, acknowledged: acked.length };
}
