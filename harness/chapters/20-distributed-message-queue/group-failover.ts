// MQ-F11's consumer-group half: a group commits offsets on the controller, the controller is killed, and the new
// controller answers the group's committed offsets (the spec keeps a group's generation and committed offsets across
// a controller failover); the consumer, a member again, resumes at-least-once from its commit: nothing acknowledged
// is skipped, and nothing before the commit is read again.
import type { CheckContext } from '../../core/check-context.ts';
import {
  type Acked,
  type CommittedOffsets,
  expectSameMessage,
  type Membership,
  type MqApi,
  okBody,
  readPartition,
  uniqueName,
} from './api.ts';

export interface GroupBefore {
  group: string;
  member: Membership;
  /** What the group committed, by partition (null: never committed). */
  committed: (number | null)[];
}

/** The committed offsets, partition by partition, as the group's fetchOffsets answers them. */
function offsetsOf(r: CommittedOffsets): (number | null)[] {
  return r.offsets.map((o) => o.offset ?? null);
}

/**
 * Joins a fresh group to the topic (one member: every partition), reads `p` from its start and "processes" all but
 * its last message, then commits that (at-least-once: after processing) and 0 for `q`, leaving the third partition
 * uncommitted. Acknowledged: `acked` (on `p`, at least two).
 */
export async function commitBeforeFailover(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  q: number,
  acked: readonly Acked[],
): Promise<GroupBefore> {
  const group = uniqueName('f11-group');
  const member = okBody<Membership>(
    ctx,
    await api.join(group, { topic, sessionTimeoutMs: 60_000 }),
    200,
    `joining ${group} on the controller`,
  );
  ctx.expect(
    member.partitions.includes(p) && member.partitions.includes(q),
    `${group}: its only member owns ${member.partitions}`,
  );
  const { messages } = await readPartition(ctx, api, topic, p);
  const processed = messages.length - 1;
  ctx.expect(
    processed >= 1 && processed < acked.length,
    `${topic}/${p}: ${messages.length} messages read, ${acked.length} acknowledged`,
  );
  const offsets = [
    { partition: p, offset: processed },
    { partition: q, offset: 0 },
  ];
  const r = okBody<CommittedOffsets>(
    ctx,
    await api.commit(group, { memberId: member.memberId, generation: member.generation, offsets }),
    200,
    `${group}: committing ${JSON.stringify(offsets)}`,
  );
  return { group, member, committed: offsetsOf(r) };
}

/**
 * After the failover: the new controller answers the offsets committed before it (not a fresh group's, nor a 404);
 * the member heartbeats (the spec lets the new controller keep it, or answer 404 unknown_member: it joins again, in a
 * later generation); it resumes `p` from the committed offset and reads every acknowledged message from there, the
 * first being the one at the commit; and its next commit is taken.
 */
export async function resumeAfterFailover(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  p: number,
  before: GroupBefore,
  acked: readonly Acked[],
  killed: string,
): Promise<Record<string, unknown>> {
  const { group } = before;
  const x = await api.offsets(group);
  ctx.expect(
    x.status === 200,
    `${group}: after the controller ${killed} was killed, the new controller answers its committed offsets ${x.status ?? x.error} (committed before: ${JSON.stringify(before.committed)}): the group's commits were lost with the controller`,
    x,
  );
  const after = offsetsOf(okBody<CommittedOffsets>(ctx, x, 200, `${group}: fetching its offsets`));
  ctx.expect(
    JSON.stringify(after) === JSON.stringify(before.committed),
    `${group}: committed ${JSON.stringify(before.committed)} before the controller ${killed} was killed, the new controller answers ${JSON.stringify(after)}`,
    x,
  );

  const hb = await api.heartbeat(group, before.member.memberId);
  let member = before.member;
  if (hb.status === 404) {
    member = okBody<Membership>(
      ctx,
      await api.join(group, { topic, sessionTimeoutMs: 60_000 }),
      200,
      `${group}: joining again`,
    );
    ctx.expect(
      member.generation > before.member.generation,
      `${group}: joined again after the failover in generation ${member.generation}, not after ${before.member.generation} (the generation was lost with the controller)`,
    );
  } else member = okBody<Membership>(ctx, hb, 200, `${group}: the member's heartbeat after the failover`);

  const from = after[p]!;
  const { messages, endOffset } = await readPartition(ctx, api, topic, p, from);
  for (const a of acked.filter((m) => m.partition === p && m.offset >= from)) {
    const m = messages[a.offset - from];
    ctx.expect(
      m,
      `${group}: resuming ${topic}/${p} from its commit ${from}, acknowledged offset ${a.offset} is missing`,
    );
    expectSameMessage(ctx, m, a, `${group}: resuming ${topic}/${p} from its commit ${from}`);
  }
  const c = await api.commit(group, {
    memberId: member.memberId,
    generation: member.generation,
    offsets: [{ partition: p, offset: endOffset }],
  });
  const committed = offsetsOf(
    okBody<CommittedOffsets>(ctx, c, 200, `${group}: committing ${endOffset} after resuming`),
  );
  ctx.expect(
    committed[p] === endOffset,
    `${group}: committed ${endOffset} on ${p}, answered ${JSON.stringify(committed)}`,
    c,
  );
  return {
    group,
    committedBefore: before.committed,
    answeredAfter: after,
    rejoined: hb.status === 404,
    resumedFrom: from,
    readAfter: messages.length,
  };
}
