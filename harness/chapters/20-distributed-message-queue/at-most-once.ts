// MQ-F3's at-most-once half: consumers that commit before they process (the spec's "fetch, commit, then process").
// The broker owes such a group "never twice": no offset a member has committed past is delivered to the group again,
// across a consumer killed after its commit (before processing) and rebalances (a member joining, one leaving). The
// consumers here start each partition where fetchOffsets says, as the spec's consumer does, so a duplicate can only
// come from a committed offset the broker hands back older than an acknowledged commit: the check asserts that at
// every hand-over and after every round of commits. (Across a kill -9 of the broker the same hand-over is MQ-F1's:
// it kills the broker right after commits and reads every committed offset back exactly. On a cluster, where MQ-F1
// is not graded, the consumer's crash after its commit comes with a kill -9 of the controller, the group's
// coordinator: at-most-once-failover.ts.)
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import {
  type CommittedOffsets,
  type FetchResult,
  freshTopic,
  type Group,
  type Membership,
  type MqApi,
  okBody,
  produceAcked,
  uniqueName,
} from './api.ts';
import { type CoordinatorKilled, clusterReplicas, killGroupCoordinator } from './at-most-once-failover.ts';

const P = 4;
/** Messages a consumer takes from a partition per round (the first of each fetch answer). */
const TAKE = 2;
const SESSION_MS = 3000;

export interface AtMostOnce {
  topic: string;
  group: string;
  /** Per partition, the offset past which the group has committed (every acknowledged commit, in order). */
  committed: number[];
  /** Per partition, the offsets the group took (committed past): each must be taken once. */
  taken: Set<number>[];
  /** Per partition, the offsets processed (taken and not lost to a crash). */
  processed: Set<number>[];
  /** When the crashed consumer's last call was sent. */
  crashedAt: number;
  rounds: number;
  handOvers: string[];
  /** On a cluster: the controller killed right after the crashed consumer's commits, and what the new one answered. */
  failover?: CoordinatorKilled;
}

/**
 * One round of an at-most-once consumer on its partitions: fetchOffsets, a fetch of each partition from there, the
 * commits of every partition at once (as per-partition loops send them), then the processing, unless it crashes
 * first. A commit refused (a rebalance fenced it) processes nothing.
 */
async function round(
  ctx: CheckContext,
  api: MqApi,
  s: AtMostOnce,
  m: Membership,
  when: string,
  crashBeforeProcessing = false,
): Promise<void> {
  const ox = await api.offsets(s.group);
  const start = okBody<CommittedOffsets>(ctx, ox, 200, `${when}: reading the committed offsets`).offsets;
  const fetched = await Promise.all(
    m.partitions.map(async (p) => {
      const from = start.find((o) => o.partition === p)?.offset ?? 0;
      // The hand-over: a member starts a partition where the group committed, never before (those offsets were
      // taken already: delivered again) nor after (invariant 5: reads back exactly as committed).
      ctx.expect(
        from === s.committed[p],
        `${when}: partition ${p} is handed to ${m.memberId} at offset ${from}, but the group had committed past ${s.committed[p]}${from < s.committed[p]! ? ` (acknowledged): offsets ${from}..${s.committed[p]! - 1} would be delivered to the group a second time (at-most-once: never twice)` : ''}`,
        ox,
      );
      const fx = await api.fetch(s.topic, p, { offset: from });
      const got = okBody<FetchResult>(ctx, fx, 200, `${when}: fetching partition ${p} from ${from}`).messages;
      return { p, msgs: got.slice(0, TAKE) };
    }),
  );
  const commits = await Promise.all(
    fetched
      .filter((f) => f.msgs.length > 0)
      .map(async (f) => {
        const next = f.msgs.at(-1)!.offset + 1;
        const x = await api.commit(s.group, {
          memberId: m.memberId,
          generation: m.generation,
          offsets: [{ partition: f.p, offset: next }],
        });
        ctx.expect(
          x.status === 200,
          `${when}: committing partition ${f.p} at ${next} answered ${x.status ?? x.error}`,
          x,
        );
        return { ...f, next };
      }),
  );
  for (const c of commits) {
    for (const msg of c.msgs) {
      ctx.expect(
        !s.taken[c.p]!.has(msg.offset),
        `${when}: partition ${c.p} offset ${msg.offset} was delivered to the group and committed past a second time (at-most-once: never twice)`,
      );
      s.taken[c.p]!.add(msg.offset);
      if (!crashBeforeProcessing) s.processed[c.p]!.add(msg.offset);
    }
    s.committed[c.p] = c.next;
  }
  s.rounds++;
  // Right after the commits (sent at once): each of its partitions reads back as committed, none lost to another
  // commit's write (the next owner would take those offsets again).
  const rx = await api.offsets(s.group);
  const back = okBody<CommittedOffsets>(ctx, rx, 200, `${when}: reading the offsets back`).offsets;
  for (const p of m.partitions) {
    const got = back.find((o) => o.partition === p)?.offset ?? 0;
    ctx.expect(
      got === s.committed[p],
      `${when}: right after the commits partition ${p}'s committed offset reads back ${got}, not ${s.committed[p]} (committed and acknowledged)`,
      rx,
    );
  }
}

/** Joins a member and asks its heartbeat until the group has settled with the live members named. */
async function settled(ctx: CheckContext, api: MqApi, s: AtMostOnce, ids: string[], when: string) {
  const told: Membership[] = [];
  for (const id of ids)
    told.push(okBody<Membership>(ctx, await api.heartbeat(s.group, id), 200, `${when}: a heartbeat`));
  const owned = told.flatMap((t) => t.partitions).sort((a, b) => a - b);
  ctx.expect(
    owned.join() === Array.from({ length: P }, (_, p) => p).join(),
    `${when}: the live members own [${owned}] between them, not each of the ${P} partitions once`,
  );
  return told;
}

/**
 * The first part, run before MQ-F3's own consumer: Z joins beside Y (a rebalance) and leaves (another), Y leaves;
 * then X takes two rounds, the second committed and never processed (killed after its commit: it stops heartbeating,
 * never leaves). Its session runs out while MQ-F3 waits for its own consumer's; on a cluster the controller is
 * killed (kill -9) right after X's commits too (`entry`: the broker `api` sends to first, moved off the dead one).
 */
export async function startAtMostOnce(ctx: CheckContext, api: MqApi, entry: { node?: string }): Promise<AtMostOnce> {
  // Replicated on a cluster, so the partitions outlive the controller's kill.
  const replicas = clusterReplicas(ctx);
  const topic = await freshTopic(ctx, api, P, replicas ? { replicationFactor: replicas } : {}, 'f3-amo');
  // A batch per partition: on a cluster each partition's leader takes its own (several leaders in one batch: 422).
  for (let p = 0; p < P; p++)
    await produceAcked(
      ctx,
      api,
      topic,
      Array.from({ length: 7 * TAKE }, (_, i) => ({ partition: p, value: `at most once ${p}/${i}` })),
    );
  const s: AtMostOnce = {
    topic,
    group: uniqueName('f3-amo'),
    committed: Array(P).fill(0),
    taken: Array.from({ length: P }, () => new Set()),
    processed: Array.from({ length: P }, () => new Set()),
    crashedAt: 0,
    rounds: 0,
    handOvers: [],
  };
  const join = async (who: string, sessionTimeoutMs = 60_000) =>
    okBody<Membership>(ctx, await api.join(s.group, { topic, sessionTimeoutMs }), 200, `${who} joins`);
  const leave = async (who: string, m: Membership) => {
    const x = await api.leave(s.group, m.memberId);
    ctx.expect(x.status === 204, `${who} leaving answered ${x.status ?? x.error}`, x);
  };
  const y = await join('Y');
  await round(ctx, api, s, y, 'Y, first round');
  const z = await join('Z');
  s.handOvers.push('join');
  const both = await settled(ctx, api, s, [y.memberId, z.memberId], 'after Z joined');
  await Promise.all(both.map((m) => round(ctx, api, s, m, `${m.memberId === z.memberId ? 'Z' : 'Y'}, after Z joined`)));
  await leave('Z', z);
  s.handOvers.push('leave');
  const [alone] = await settled(ctx, api, s, [y.memberId], 'after Z left');
  await round(ctx, api, s, alone!, 'Y, after Z left');
  await leave('Y', y);
  const x = await join('X', SESSION_MS);
  await round(ctx, api, s, x, 'X, after Y left');
  s.crashedAt = Date.now();
  await round(ctx, api, s, x, 'X, killed after its commit', true);
  if (replicas) s.failover = await killGroupCoordinator(ctx, api, entry, topic, s.group, s.committed);
  return s;
}

/**
 * The rest, once MQ-F3's own consumer is done: X's session over (on a cluster: X gone with the controller), W takes
 * every partition and must start each where X committed (X's last messages skipped, never delivered again).
 */
export async function finishAtMostOnce(ctx: CheckContext, api: MqApi, s: AtMostOnce): Promise<void> {
  const slack = checkSlack(ctx.evidence, 10_000);
  for (;;) {
    const gx = await api.describeGroup(s.group);
    if (okBody<Group>(ctx, gx, 200, 'describing the at-most-once group').members.length === 0) break;
    if (Date.now() - s.crashedAt > slack.bound(SESSION_MS * 3))
      ctx.fail(`X stopped ${Date.now() - s.crashedAt} ms ago (session ${SESSION_MS} ms) and is still a member`, {
        exchange: gx,
      });
    await ctx.sleep(250);
  }
  const w = okBody<Membership>(
    ctx,
    await api.join(s.group, { topic: s.topic, sessionTimeoutMs: 60_000 }),
    200,
    'W joins',
  );
  s.handOvers.push(s.failover ? 'controller failover' : 'expiry');
  await round(
    ctx,
    api,
    s,
    w,
    s.failover ? `W, after the controller ${s.failover.killed} was killed` : "W, after X's session ran out",
  );
  await api.leave(s.group, w.memberId);
  // The fault bit: X's last round was committed on every partition and never processed (skipped, not redelivered).
  const skippedByCrash = s.taken.reduce((n, t, p) => n + t.size - s.processed[p]!.size, 0);
  ctx.expect(
    skippedByCrash === P * TAKE,
    `X's crash left ${skippedByCrash} messages committed and unprocessed, not ${P * TAKE}`,
  );
  ctx.evidence.atMostOnce = {
    rounds: s.rounds,
    handOvers: s.handOvers,
    taken: s.taken.reduce((n, t) => n + t.size, 0),
    skippedByCrash,
    ...(s.failover ? { controllerKilled: s.failover } : {}),
  };
}
