// What the cluster checks (MQ-C8, MQ-F4, MQ-F5) share: a client that follows the spec's 307s to the leader or the
// controller, the brokers of the target, each partition's state as describeTopic names it, bounded waits scaled like
// the tests, acks=all retried while the ISR regrows, and a broker stopped (SIGSTOP) for the length of a step.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange, HttpClient, SendOptions } from '../../core/http-client.ts';
import { timeScale } from '../../core/time-scale.ts';
import { type Acked, appendedRecords, type MqApi, mqApi, okBody, type ProduceResult, type Topic } from './api.ts';

export type PartitionState = Topic['partitionStates'][number];

/** Sends through `node`'s broker and follows the spec's 307s (not_leader, not_controller), as an HTTP client does. */
export function following(ctx: CheckContext, node?: string): Pick<HttpClient, 'send'> {
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

/** following() from the broker `from.node` names at each request (a check moves it off a broker it killed). */
export function followingFrom(ctx: CheckContext, from: { node?: string }): Pick<HttpClient, 'send'> {
  return { send: (o) => following(ctx, from.node).send(o) };
}

/** The brokers of the target, or a skip: these checks need a cluster the harness started. */
export function brokers(ctx: CheckContext, least: number): string[] {
  ctx.require('process-control');
  const nodes = ctx.target.nodes;
  if (nodes.length < least)
    ctx.skip(
      `needs a cluster of at least ${least} brokers; the target has ${nodes.length} (grade manifest.cluster.json for replication)`,
    );
  return [...nodes];
}

/** Node names are the manifest's; the spec's broker names must be the same for the harness to find a leader. */
export function stateOf(ctx: CheckContext, t: Topic, partition: number, nodes: readonly string[]): PartitionState {
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
export const onNode = (ctx: CheckContext, node: string): MqApi =>
  mqApi(ctx, ctx.http.withBaseUrl(ctx.target.nodeUrl(node)));

export async function describe(ctx: CheckContext, api: MqApi, topic: string): Promise<Topic> {
  return okBody<Topic>(ctx, await api.describeTopic(topic), 200, `describing ${topic}`);
}

/** A bound in ms for something a correct cluster does within `ms` on an idle machine (scaled like the tests). */
export const bound = (ms: number) => ms * timeScale();

/** Waits until `ok` holds for the topic's description, or fails with `what`. */
export async function waitForState(
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

/** Waits until another broker than `killed` leads partition `p` (within 30 s, scaled), or fails saying so. */
export function waitForNewLeader(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  killed: string,
): Promise<Topic> {
  return waitForState(
    ctx,
    api,
    topic,
    30_000,
    (x) => x.partitionStates[p]!.leader !== killed,
    `${topic}/${p}: no new leader after ${killed} was killed`,
  );
}

/** Waits until all three replicas of partition `p` are in its ISR (within 30 s, scaled), or fails with `what`. */
export function waitForFullIsr(ctx: CheckContext, api: MqApi, topic: string, p: number, what: string): Promise<Topic> {
  return waitForState(ctx, api, topic, 30_000, (x) => x.partitionStates[p]!.isr?.length === 3, what);
}

/** acks=all until answered 200 (503 not_enough_replicas is retried while the ISR regrows). */
export async function produceRetrying(
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
      return appendedRecords(ctx, r, x).map((rec, i) => ({ ...rec, key: null, value: values[i]!, tags: [] }));
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

/** Runs `f` with `paused` stopped (SIGSTOP), resuming them whatever happens. */
export async function whilePaused<T>(ctx: CheckContext, paused: string[], f: () => Promise<T>): Promise<T> {
  for (const b of paused) await ctx.target.pause(b);
  ctx.changed(`paused ${paused.join(', ')}`);
  try {
    return await f();
  } finally {
    for (const b of paused) await ctx.target.resume(b);
  }
}
