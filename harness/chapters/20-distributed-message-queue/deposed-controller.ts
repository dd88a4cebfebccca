// MQ-F11's deposed-controller part: the controller is stopped (SIGSTOP) with a topic creation sent to it and not yet
// read, past the time another broker needs to take over and move the leadership of a partition the stopped one led;
// then it resumes and handles the creation with the states it had. Whatever it answers, the states it had must not
// win: no broker may describe that partition afterwards in an older leader epoch than its successor's election.
import type { CheckContext } from '../../core/check-context.ts';
import { type MqApi, mqApi, type Topic, uniqueName } from './api.ts';
import { bound, following, onNode, waitForState } from './cluster-client.ts';

/** How long after the resumed controller answered the brokers are watched for an older state (scaled). */
const WATCH_AFTER_MS = 1500;

export async function deposedControllerLoses(
  ctx: CheckContext,
  nodes: readonly string[],
  controller: string,
  topic: string,
  t: Topic,
  declaredMs: number,
): Promise<Record<string, unknown>> {
  const q = t.partitionStates.findIndex((s) => s.leader === controller);
  // The controller leads a partition of this topic unless an election moved it (the check's earlier steps do not);
  // without one the deposed controller's write cannot be provoked: skipped with that reason, never passed.
  if (q < 0)
    ctx.skip(`no partition of ${topic} is led by the controller ${controller} for its deposed-controller step`);
  const epochBefore = t.partitionStates[q]!.leaderEpoch!;
  const others = nodes.filter((b) => b !== controller);
  const api: MqApi = mqApi(ctx, following(ctx, others[0]));
  await ctx.target.pause(controller);
  ctx.changed(`paused (SIGSTOP) the controller ${controller}`);
  let created: Promise<Awaited<ReturnType<MqApi['createTopic']>>> | undefined;
  let successor: Topic;
  try {
    // Sent while it is stopped, on its open connection: read only when it resumes, with the states it had.
    created = onNode(ctx, controller).createTopic({ name: uniqueName('f11-deposed'), partitions: 1 });
    created.catch(() => undefined);
    successor = await waitForState(
      ctx,
      api,
      topic,
      declaredMs,
      (x) => (x.partitionStates[q]!.leaderEpoch ?? 0) > epochBefore && x.partitionStates[q]!.leader !== controller,
      `${topic}/${q}: no new leader while its leader, the controller ${controller}, was stopped (SIGSTOP)`,
    );
  } finally {
    await ctx.target.resume(controller);
    ctx.changed(`resumed (SIGCONT) ${controller}`);
  }
  const s = successor.partitionStates[q]!;
  const x = await created;
  // 201 is not wrong in itself (a broker may have forwarded it), but the states it was based on must not win.
  const until = Date.now() + bound(WATCH_AFTER_MS);
  const seen: string[] = [];
  do {
    for (const b of nodes) {
      const d = await onNode(ctx, b).describeTopic(topic);
      if (d.status !== 200) continue;
      const now = (d.body as Topic).partitionStates[q]!;
      ctx.expect(
        (now.leaderEpoch ?? 0) >= s.leaderEpoch!,
        `${topic}/${q}: after the controller ${controller}, stopped past its lease while ${s.leader} was elected in epoch ${s.leaderEpoch}, resumed and handled a topic creation (answered ${x.status ?? x.error}), ${b} describes it led by ${now.leader} in epoch ${now.leaderEpoch}: the deposed controller's states overwrote its successor's`,
        d,
      );
      seen.push(`${b}:${now.leader}@${now.leaderEpoch}`);
    }
    await ctx.sleep(200);
  } while (Date.now() < until);
  return {
    stopped: controller,
    partition: q,
    epochBefore,
    electedWhileStopped: `${s.leader}@${s.leaderEpoch}`,
    createAnswered: x.status ?? x.error,
    lastSeen: seen.slice(-nodes.length),
  };
}
