// MQ-F11: kill -9 of the controller while acks=all produces go on. Another broker is the controller within the
// declared controllerFailoverMs (the brokers' 307 not_controller names it, it answers a group operation itself and
// creates a topic), a partition the dead broker led gets a new leader from its ISR, and every message acknowledged
// with acks=all, before, during and after the failover, is at its offset; produces are answered again; and a
// consumer group's commits made on the dead controller are the new one's (group-failover.ts).
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  type Acked,
  appendedRecords,
  type MqApi,
  mqApi,
  okBody,
  type ProduceResult,
  type Topic,
  uniqueName,
  verifyAcked,
} from './api.ts';
import {
  bound,
  brokers,
  describe,
  following,
  onNode,
  produceRetrying,
  stateOf,
  waitForFullIsr,
  waitForState,
} from './cluster-client.ts';
import { deposedControllerLoses } from './deposed-controller.ts';
import { commitBeforeFailover, resumeAfterFailover } from './group-failover.ts';

/** The spec's default (Kafka's zookeeper.session.timeout.ms, 18 s): how long a cluster may be without a controller. */
export const SPEC_CONTROLLER_FAILOVER_MS = 18_000;

/**
 * The controller as `node` names it: itself when it answers a group operation (404 group_not_found for a group
 * nobody made), the broker its 307 not_controller names otherwise; null when it does not answer either way.
 */
export async function controllerSeenBy(ctx: CheckContext, node: string): Promise<{ name: string | null; x: Exchange }> {
  const x = await onNode(ctx, node).describeGroup(uniqueName('no-group'));
  const body = x.body as { code?: string; broker?: string } | undefined;
  if (x.status === 404 && body?.code === 'group_not_found') return { name: node, x };
  if (x.status === 307 && body?.code === 'not_controller' && body.broker) return { name: body.broker, x };
  return { name: null, x };
}

/** Waits until every live broker names one live broker the controller; fails past `ms` naming what each said. */
export async function waitForNewController(
  ctx: CheckContext,
  live: readonly string[],
  killed: string,
  ms: number,
  since: number,
): Promise<{ controller: string; afterMs: number }> {
  for (;;) {
    const seen = await Promise.all(live.map((b) => controllerSeenBy(ctx, b)));
    const names = new Set(seen.map((s) => s.name));
    const [name] = names;
    if (names.size === 1 && name && live.includes(name)) return { controller: name, afterMs: Date.now() - since };
    if (Date.now() - since > ms)
      ctx.fail(
        `${ms} ms after the controller ${killed} was killed (kill -9), the live brokers do not all name one live controller: ${live.map((b, i) => `${b} says ${seen[i]!.name ?? `${seen[i]!.x.status ?? seen[i]!.x.error}`}`).join('; ')}`,
        { exchange: seen[0]!.x },
      );
    await ctx.sleep(100);
  }
}

/** acks=all in a loop through `via` (following its 307s) until `stop()`; every 200 is recorded, nothing else retried silently. */
async function produceThroughout(
  ctx: CheckContext,
  via: MqApi,
  topic: string,
  p: number,
  stop: () => boolean,
  acked: Acked[],
  tries: { sent: number; refused: number },
): Promise<void> {
  for (let i = 0; !stop(); i++) {
    const values = [`during ${i} a`, `during ${i} b`];
    tries.sent++;
    const x = await via.produce(topic, { acks: 'all', messages: values.map((value) => ({ partition: p, value })) });
    if (x.status === 200) {
      const r = okBody<ProduceResult>(ctx, x, 200, `producing to ${topic}/${p} while the controller fails over`);
      acked.push(...appendedRecords(ctx, r, x).map((rec, j) => ({ ...rec, key: null, value: values[j]!, tags: [] })));
    } else {
      tries.refused++;
      await ctx.sleep(100);
    }
  }
}

/**
 * A fresh topic with a partition the controller leads, and the controller: asked after the topic is settled (every
 * partition's ISR whole), so a controller that changed meanwhile, or placement after earlier failovers, cannot leave
 * the check without a partition to fail over. After three topics without one: the reason to skip.
 */
async function topicLedByController(
  ctx: CheckContext,
  nodes: readonly string[],
): Promise<{ controller: string; api: MqApi; topic: string; p: number; t: Topic } | { skip: string }> {
  let why = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const seen = await controllerSeenBy(ctx, nodes[attempt % nodes.length]!);
    const controller = seen.name;
    // A skip, not a failure: the controller is found through the cluster's own 307s (MQ-C8 grades those); a target
    // that names none here has nothing this check can kill as "the controller", so it proves nothing either way.
    if (!controller || !nodes.includes(controller)) {
      why = `no node names a controller among the manifest's nodes (${seen.x.status}: ${JSON.stringify(seen.x.body)})`;
      continue;
    }
    const api = mqApi(
      ctx,
      following(
        ctx,
        nodes.find((b) => b !== controller),
      ),
    );
    const topic = uniqueName('f11');
    okBody(ctx, await api.createTopic({ name: topic, partitions: 3, replicationFactor: 3 }), 201, 'creating');
    const t = await waitForState(
      ctx,
      api,
      topic,
      30_000,
      (x) => x.partitionStates.every((s) => s.isr?.length === 3),
      `${topic}: not every partition's ISR holds its three replicas`,
    );
    // The controller again, now the topic is settled: the one this check kills is the one in charge at the kill.
    const now = (await controllerSeenBy(ctx, nodes.find((b) => b !== controller)!)).name;
    const p = [0, 1, 2].find((x) => stateOf(ctx, t, x, nodes).leader === now);
    if (now && p !== undefined)
      return {
        controller: now,
        api: mqApi(
          ctx,
          following(
            ctx,
            nodes.find((b) => b !== now),
          ),
        ),
        topic,
        p,
        t,
      };
    why = `no partition of ${topic} is led by the controller ${now}`;
  }
  return { skip: `three topics tried: ${why}` };
}

export async function controllerFailover(ctx: CheckContext): Promise<void> {
  const nodes = brokers(ctx, 3);
  const declared = ctx.setting('controllerFailoverMs', SPEC_CONTROLLER_FAILOVER_MS);
  const limit = bound(declared);
  const found = await topicLedByController(ctx, nodes);
  // Without a controller named, or a partition it leads, the failover cannot be graded: said so, never passed.
  if ('skip' in found) ctx.skip(found.skip);
  const { controller, api, topic, p, t } = found;
  const live = nodes.filter((b) => b !== controller);
  const isrBefore = stateOf(ctx, t, p, nodes).isr!;
  const acked = await produceRetrying(ctx, api, topic, p, ['A 0', 'A 1', 'A 2'], 15_000);
  // A consumer group commits on the controller (all but the last message of p processed) just before the kill.
  const group = await commitBeforeFailover(ctx, api, topic, p, (p + 1) % 3, acked);

  // acks=all goes on through a broker that stays up, across the kill and the failover.
  let stopped = false;
  const during: Acked[] = [];
  const tries = { sent: 0, refused: 0 };
  const loop = produceThroughout(ctx, api, topic, p, () => stopped, during, tries);
  await ctx.sleep(300);
  await ctx.target.kill(controller);
  const killedAt = Date.now();
  ctx.changed(`killed (kill -9) the controller ${controller}`);
  let elected: { controller: string; afterMs: number };
  let leader: string;
  let leaderAfterMs: number;
  try {
    elected = await waitForNewController(ctx, live, controller, limit, killedAt);
    // The partition the dead controller led: a new leader from its ISR, within the same bound.
    for (;;) {
      const x = await api.describeTopic(topic);
      const s = x.status === 200 ? (x.body as typeof t).partitionStates[p] : undefined;
      if (s?.leader && s.leader !== controller) {
        ctx.expect(
          isrBefore.includes(s.leader),
          `${topic}/${p}: ${s.leader} leads after ${controller} died, but the ISR was [${isrBefore.join(', ')}]`,
          x,
        );
        leader = s.leader;
        leaderAfterMs = Date.now() - killedAt;
        break;
      }
      if (Date.now() - killedAt > limit)
        ctx.fail(`${topic}/${p}: still no leader but ${controller} ${limit} ms after it (the controller) was killed`, {
          exchange: x,
        });
      await ctx.sleep(100);
    }
  } finally {
    stopped = true;
    await loop;
  }
  acked.push(...during);

  // Produces are answered again; the new controller does a controller's work (a topic is created).
  acked.push(...(await produceRetrying(ctx, api, topic, p, ['C 0', 'C 1'], 15_000)));
  okBody(
    ctx,
    await api.createTopic({ name: uniqueName('f11-after'), partitions: 1 }),
    201,
    'creating a topic after the failover',
  );
  await verifyAcked(
    ctx,
    api,
    topic,
    acked,
    `after the controller ${controller} was killed and ${leader} took ${topic}/${p}`,
  );
  // The group's commits survived the controller: the consumer resumes from them.
  const groupAfter = await resumeAfterFailover(ctx, api, topic, p, group, acked, controller);

  // The dead broker comes back as an ordinary broker and rejoins the ISR (the cluster whole for the next check).
  await ctx.target.start(controller);
  await waitForFullIsr(ctx, api, topic, p, `${topic}/${p}: ${controller} did not rejoin the ISR after its restart`);
  await verifyAcked(ctx, api, topic, acked, `after ${controller} came back`);
  // The new controller stopped past its lease with a topic creation pending: its stale states must not win.
  const settled = await describe(ctx, api, topic);
  const deposed = await deposedControllerLoses(ctx, nodes, elected.controller, topic, settled, declared);
  await verifyAcked(ctx, api, topic, acked, `after the deposed controller ${elected.controller} resumed`);
  ctx.evidence.controllerFailover = {
    killed: controller,
    newController: elected.controller,
    controllerAfterMs: elected.afterMs,
    partition: p,
    newLeader: leader,
    leaderAfterMs,
    boundMs: limit,
    declaredMs: declared,
    acknowledged: acked.length,
    acknowledgedDuringFailover: during.length,
    producesRefusedDuringFailover: tries.refused,
    group: groupAfter,
    deposed,
  };
}
