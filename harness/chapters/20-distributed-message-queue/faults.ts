// MQ-F1..F3: kill -9 of the broker, a torn write and a flipped byte (in a value, in a tag) at a segment's tail, and
// a consumer that dies before committing (and, at-most-once.ts, one that dies after it). After every fault, everything acknowledged in the whole check is read back
// and the log is written again.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import {
  type Acked,
  type CommittedOffsets,
  expectIntact,
  expectSameMessage,
  type FetchResult,
  freshTopic,
  type Group,
  type Membership,
  type MqApi,
  mqApi,
  okBody,
  produceAcked,
  readPartition,
  uniqueName,
  verifyAcked,
} from './api.ts';
import { finishAtMostOnce, startAtMostOnce } from './at-most-once.ts';
import { clusterReplicas } from './at-most-once-failover.ts';
import { followingFrom } from './cluster-client.ts';
import { newProducerAppends, nothingRemovedAfterRunning, RUN_AFTER_RESTART_MS } from './restart-checks.ts';
import { expectFilteredPartition } from './tag-conformance.ts';

/** kill -9, check the broker is really down, start it again. */
async function crash(ctx: CheckContext, api: MqApi, topic: string): Promise<void> {
  await ctx.target.kill();
  const down = await api.describeTopic(topic);
  ctx.expect(down.status === null, 'the broker still answered after kill -9: the fault did not bite');
  await ctx.target.start();
  ctx.changed('killed (kill -9) and restarted the broker');
}

/** New messages after a fault: they must take offsets after every acknowledged one and read back. */
async function writeAgain(ctx: CheckContext, api: MqApi, topic: string, acked: Acked[], when: string): Promise<void> {
  const partitions = [...new Set(acked.map((a) => a.partition))];
  const fresh = await produceAcked(
    ctx,
    api,
    topic,
    partitions.map((p) => ({ partition: p, value: `${when}: written after the fault to ${p}` })),
  );
  for (const f of fresh) {
    const before = Math.max(...acked.filter((a) => a.partition === f.partition).map((a) => a.offset));
    ctx.expect(
      f.offset > before,
      `${when}: a new message on partition ${f.partition} got offset ${f.offset}, already acknowledged (up to ${before}) before the fault`,
    );
  }
  acked.push(...fresh);
}

/** What the second group of MQ-F1 commits on its topic's last partition (within the messages of the first round). */
const LAST_ONLY_OFFSET = 3;

export async function killBroker(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const api = mqApi(ctx);
  const P = 3;
  // Small segments: each round rolls several, so the restart reopens closed segments as well as the active one.
  const topic = await freshTopic(ctx, api, P, { segmentBytes: 1024 }, 'f1');
  const group = uniqueName('f1');
  const lastOnly = uniqueName('f1-last');
  const acked: Acked[] = [];
  const committed = new Map<number, number>();
  const producers = new Set<string>();
  await newProducerAppends(ctx, api, topic, 0, producers, acked, 'before the first kill');
  const rounds = 3;
  for (let round = 0; round < rounds; round++) {
    const when = `after kill -9 ${round + 1}`;
    // Batches with acks 1 and all, keyed, explicit and unkeyed, then a commit, then kill -9 right after the answer.
    for (let b = 0; b < 6; b++)
      acked.push(
        ...(await produceAcked(
          ctx,
          api,
          topic,
          Array.from({ length: 20 }, (_, i) => ({
            value: `r${round} b${b} m${i} ü😀`,
            ...(i % 3 === 0 ? { key: `key-${i}` } : i % 3 === 1 ? { partition: (b + i) % P } : {}),
            // Tags too: they must survive the kill with their message, and a filtered fetch answer as before it.
            ...(i % 4 === 0 ? { tags: [`round-${round}`] } : i % 4 === 1 ? { tags: ['odd', `b${b}`] } : {}),
          })),
          b % 2 ? '1' : 'all',
        )),
      );
    const m = okBody<Membership>(ctx, await api.join(group, { topic, sessionTimeoutMs: 60_000 }), 200, 'joining');
    const offsets = m.partitions.map((p) => ({
      partition: p,
      offset: acked.filter((a) => a.partition === p).length - round,
    }));
    // Two commits, the first partition alone and then the rest: each committed offset must survive the kill, not
    // only those of the last commit.
    for (const part of [offsets.slice(0, 1), offsets.slice(1)].filter((o) => o.length > 0))
      okBody(
        ctx,
        await api.commit(group, { memberId: m.memberId, generation: m.generation, offsets: part }),
        200,
        `committing partitions ${part.map((o) => o.partition).join(', ')}`,
      );
    for (const o of offsets) committed.set(o.partition, o.offset);
    // A second group commits the last partition alone (its others never): after the kill it must read back on that
    // partition, and null on the others, not on the first (offsets kept by partition, not by place).
    if (round === 0) {
      const l = okBody<Membership>(ctx, await api.join(lastOnly, { topic, sessionTimeoutMs: 60_000 }), 200, 'joining');
      okBody(
        ctx,
        await api.commit(lastOnly, {
          memberId: l.memberId,
          generation: l.generation,
          offsets: [{ partition: P - 1, offset: LAST_ONLY_OFFSET }],
        }),
        200,
        `committing ${lastOnly}'s partition ${P - 1} alone`,
      );
    }
    await crash(ctx, api, topic);
    // Everything acknowledged in the whole check, every committed offset, then new writes.
    await verifyAcked(ctx, api, topic, acked, when);
    for (let p = 0; p < P; p++) {
      const log: Acked[] = [];
      for (const a of acked) if (a.partition === p) log[a.offset] = a;
      await expectFilteredPartition(ctx, api, topic, p, log, ['round-0', 'odd'], `${when}: tags round-0,odd`);
    }
    const ox = await api.offsets(group);
    const got = okBody<CommittedOffsets>(ctx, ox, 200, `${when}: reading the committed offsets`).offsets;
    for (const [p, o] of committed)
      ctx.expect(
        got[p]?.offset === o,
        `${when}: partition ${p}'s committed offset is ${got[p]?.offset}, ${o} was committed before the kill`,
        ox,
      );
    const lx = await api.offsets(lastOnly);
    const one = okBody<CommittedOffsets>(ctx, lx, 200, `${when}: reading ${lastOnly}'s committed offsets`).offsets;
    const want = Array.from({ length: P }, (_, p) => (p === P - 1 ? LAST_ONLY_OFFSET : null));
    ctx.expect(
      JSON.stringify(want.map((_, p) => one.find((o) => o.partition === p)?.offset)) === JSON.stringify(want),
      `${when}: ${lastOnly}, which committed partition ${P - 1} alone (offset ${LAST_ONLY_OFFSET}), reads back ${JSON.stringify(one)}, not ${JSON.stringify(want)} by partition`,
      lx,
    );
    await writeAgain(ctx, api, topic, acked, when);
    await newProducerAppends(ctx, api, topic, 0, producers, acked, when);
  }
  // The closed segments reopened at the restart are still there once the broker has run a while (retention counts
  // the messages' age, 14 days here, not the time since the start).
  await nothingRemovedAfterRunning(ctx, api, topic);
  await verifyAcked(ctx, api, topic, acked, `${RUN_AFTER_RESTART_MS} ms after the last restart`);
  ctx.evidence.acknowledged = acked.length;
  ctx.evidence.kills = rounds;
}

/** The newest segment of a partition, by the spec README's layout: <dataDir>/<topic>-<p>/<20 digits>.log. */
function newestSegment(ctx: CheckContext, topic: string, partition: number): string {
  const dataDir = ctx.target.dataDir?.();
  if (!dataDir) ctx.skip('tearing a segment needs the data directory of a manifest-started broker');
  const dir = join(dataDir, `${topic}-${partition}`);
  if (!existsSync(dir))
    ctx.skip(
      `no ${topic}-${partition}/ in the data directory: the log is not kept in the layout the spec README gives`,
    );
  const logs = readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .sort();
  if (logs.length === 0) ctx.skip(`no <20-digit offset>.log segment in ${dir}`);
  return join(dir, logs.at(-1)!);
}

/** Where the last copy of `value`'s bytes sits in the segment (the record the check damages). */
function valueAt(ctx: CheckContext, file: string, value: string): number {
  const at = readFileSync(file).lastIndexOf(Buffer.from(value, 'utf8'));
  if (at < 0)
    ctx.skip(`the last value produced is not in ${file} as UTF-8 bytes: the check cannot find the record to damage`);
  return at;
}

/**
 * After a damage to the last record: every earlier acknowledged message is there and intact, the damaged one is
 * gone or intact (never garbage), no message served fails its CRC, and new writes continue.
 */
async function verifyAfterDamage(
  ctx: CheckContext,
  api: MqApi,
  topic: string,
  acked: Acked[],
  damaged: Acked,
  when: string,
): Promise<void> {
  const { messages, endOffset } = await readPartition(ctx, api, topic, 0);
  for (const m of messages) expectIntact(ctx, m, when);
  for (const a of acked) {
    const m = messages[a.offset];
    ctx.expect(m, `${when}: offset ${a.offset}, acknowledged before the damaged record, is gone (end ${endOffset})`);
    expectSameMessage(ctx, m, a, when);
  }
  const served = messages[damaged.offset];
  if (served) expectSameMessage(ctx, served, damaged, `${when}: the damaged record was served`);
  ctx.expect(
    endOffset === damaged.offset,
    `${when}: the log ends at ${endOffset}; recovery should drop only the damaged record at ${damaged.offset}`,
  );
  const next = await produceAcked(ctx, api, topic, [{ partition: 0, value: `${when}: after recovery` }]);
  ctx.expect(
    next[0]!.offset === endOffset,
    `${when}: the next message took offset ${next[0]!.offset}, not ${endOffset}`,
  );
  acked.push(...next);
}

export async function tornSegmentTail(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const api = mqApi(ctx);
  const topic = await freshTopic(ctx, api, 1, {}, 'f2');
  const acked: Acked[] = [];
  const last = (tag: string) => `${tag}-${uniqueName('tail')}-${'z'.repeat(200)}`;
  const damage: Record<string, unknown>[] = [];

  for (const how of ['torn', 'flipped', 'flipped tag'] as const) {
    acked.push(
      ...(await produceAcked(
        ctx,
        api,
        topic,
        Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `${how} ${i} ü😀`, key: i % 2 ? `k${i}` : null })),
      )),
    );
    // The tags are stored under the record's checksum too: the third victim carries one, and the bit flipped is in it.
    const tag = `crc-${randomBytes(8).toString('hex')}`;
    const [victim] = await produceAcked(ctx, api, topic, [
      { partition: 0, value: last(how.replace(' ', '-')), ...(how === 'flipped tag' ? { tags: [tag] } : {}) },
    ]);
    let damaged = true;
    await ctx.target.kill();
    ctx.changed('killed (kill -9), damaged a segment tail and restarted the broker');
    try {
      const file = newestSegment(ctx, topic, 0);
      const at = valueAt(ctx, file, victim!.value);
      if (how === 'torn') {
        // A torn write: the file ends in the middle of the last record's value.
        truncateSync(file, at + 100);
      } else if (how === 'flipped tag') {
        // A flipped bit inside the last record's tag (`c` becomes `g`): a broker that stores the tag beside its value
        // must catch it by the checksum. One that keeps tags elsewhere is not damaged here (said in the evidence).
        const bytes = readFileSync(file);
        const tagAt = bytes.lastIndexOf(Buffer.from(tag, 'utf8'));
        if (tagAt > at) {
          bytes[tagAt]! ^= 0x04;
          writeFileSync(file, bytes);
        } else damaged = false;
        damage.push({ how, tagFound: damaged, at: tagAt, offset: victim!.offset });
      } else {
        // A flipped bit inside the last record's value: the record is whole, its CRC fails.
        const bytes = readFileSync(file);
        bytes[at + 100]! ^= 0x04;
        writeFileSync(file, bytes);
      }
      if (how !== 'flipped tag')
        damage.push({ how, file: file.split('/').slice(-2).join('/'), at: at + 100, offset: victim!.offset });
    } finally {
      // Up again whatever happened (a skip because the layout is not the spec README's leaves it running too).
      await ctx.target.start();
    }
    if (damaged) await verifyAfterDamage(ctx, api, topic, acked, victim!, `after a ${how} tail`);
    else acked.push(victim!);
  }
  // One more kill -9 without damage: what was written after the recoveries must survive too (a recovery that
  // left the damaged bytes in place loses it now).
  await ctx.target.kill();
  await ctx.target.start();
  const { messages } = await readPartition(ctx, api, topic, 0);
  for (const m of messages) expectIntact(ctx, m, 'after a clean kill -9 following the recoveries');
  await verifyAcked(ctx, api, topic, acked, 'after a clean kill -9 following the recoveries');
  ctx.evidence.damage = damage;
  ctx.evidence.acknowledged = acked.length;
}

export async function consumerDiesBeforeCommit(ctx: CheckContext): Promise<void> {
  // Through the spec's 307s (a cluster's groups live on the controller, its partitions on their leaders), from a
  // broker the check moves off one it killed.
  const entry: { node?: string } = {};
  const api = mqApi(ctx, followingFrom(ctx, entry));
  // The at-most-once group's consumer is killed after its commit first: its session runs out beside A's.
  const atMostOnce = await startAtMostOnce(ctx, api, entry);
  // Replicated on a cluster as the at-most-once topic is (a broker was killed and restarted just before).
  const replicas = clusterReplicas(ctx);
  const topic = await freshTopic(ctx, api, 2, replicas ? { replicationFactor: replicas } : {}, 'f3');
  // A batch per partition (a cluster's partitions may have different leaders: one batch to both is 422).
  const acked: Acked[] = [];
  for (const p of [0, 1])
    acked.push(
      ...(await produceAcked(
        ctx,
        api,
        topic,
        Array.from({ length: 6 }, (_, i) => ({ partition: p, value: `work item ${2 * i + p}` })),
      )),
    );
  const group = uniqueName('f3');
  const sessionMs = 3000;
  // Consumer A owns both partitions, takes every message, processes and commits only part of partition 0, then dies
  // (no leave, no more heartbeats).
  const a = okBody<Membership>(ctx, await api.join(group, { topic, sessionTimeoutMs: sessionMs }), 200, 'A joins');
  ctx.expect(a.partitions.join() === '0,1', `the only member owns ${a.partitions}`);
  let ha = a;
  let lastHeartbeatSent = 0;
  for (const p of [0, 1]) {
    const got = okBody<FetchResult>(ctx, await api.fetch(topic, p, { offset: 0 }), 200, `A fetches ${p}`);
    ctx.expect(got.messages.length === 6, `A fetched ${got.messages.length} messages from partition ${p}, not 6`);
    // Alive while it works: a heartbeat after each fetch (a slow machine must not expire A before it commits).
    lastHeartbeatSent = Date.now();
    ha = okBody<Membership>(ctx, await api.heartbeat(group, a.memberId), 200, "A's heartbeat");
  }
  okBody(
    ctx,
    await api.commit(group, {
      memberId: a.memberId,
      generation: ha.generation,
      offsets: [{ partition: 0, offset: 2 }],
    }),
    200,
    'A commits partition 0 at 2',
  );
  const diedAt = Date.now();

  // Consumer B joins (a 60 s session: it needs no heartbeat while it waits). Only describeGroup is asked until A's
  // session is over: the coordinator's own view must drop A and give B both partitions, without a heartbeat to
  // prompt it.
  const b = okBody<Membership>(ctx, await api.join(group, { topic, sessionTimeoutMs: 60_000 }), 200, 'B joins');
  const slack = checkSlack(ctx.evidence, 10_000);
  for (;;) {
    const gx = await api.describeGroup(group);
    const g = okBody<Group>(ctx, gx, 200, 'describing the group');
    if (g.members.length === 1 && g.members[0]!.memberId === b.memberId && g.members[0]!.partitions.join() === '0,1')
      break;
    const bound = slack.bound(sessionMs * 3);
    if (Date.now() - diedAt > bound)
      ctx.fail(
        `A stopped heartbeating ${Date.now() - diedAt} ms ago (session ${sessionMs} ms) and describeGroup still ` +
          `says ${JSON.stringify(g.members)}: a dead consumer stays a member, its partitions reach nobody`,
        { exchange: gx },
      );
    await ctx.sleep(250);
  }
  // B learns it from its heartbeat, in a new generation (a rebalance is a new generation, whatever caused it).
  const owned = okBody<Membership>(ctx, await api.heartbeat(group, b.memberId), 200, "B's heartbeat");
  ctx.expect(
    owned.partitions.join() === '0,1' && owned.generation > b.generation,
    `after A expired, B is told partitions [${owned.partitions}] in generation ${owned.generation} (it joined in ${b.generation}): the rebalance needs both partitions and a new generation`,
  );
  // Not before the session ran out: the coordinator got A's last heartbeat after it was sent, so a correct one
  // reassigns no earlier than sessionMs after that (a slow machine only makes this later).
  const sinceHeartbeat = Date.now() - lastHeartbeatSent;
  ctx.evidence.reassignedAfterMs = sinceHeartbeat;
  ctx.expect(
    sinceHeartbeat >= sessionMs,
    `A's partitions went to B ${sinceHeartbeat} ms after A's last heartbeat was sent: before its ${sessionMs} ms session ran out`,
  );

  // B resumes from the committed offsets (nothing committed: from the start) and gets everything A did not commit.
  const ox = await api.offsets(group);
  const offsets = okBody<CommittedOffsets>(ctx, ox, 200, 'reading the offsets').offsets;
  ctx.expect(
    offsets[0]?.offset === 2 && offsets[1]?.offset === null,
    `committed offsets are ${JSON.stringify(offsets)}`,
    ox,
  );
  const redelivered = new Map<number, string[]>();
  for (const p of [0, 1]) {
    const from = offsets[p]?.offset ?? 0;
    const { messages } = await readPartition(ctx, api, topic, p, from);
    redelivered.set(
      p,
      messages.map((m) => m.value),
    );
    const due = acked.filter((x) => x.partition === p && x.offset >= (p === 0 ? 2 : 0));
    for (const d of due)
      ctx.expect(
        messages.some((m) => m.offset === d.offset && m.value === d.value),
        `partition ${p} offset ${d.offset} (${d.value}) was fetched by A but never committed, and B does not get it again`,
      );
  }
  // The dead consumer is fenced: it can no longer move the offsets it held.
  const zombie = await api.commit(group, {
    memberId: a.memberId,
    generation: ha.generation,
    offsets: [{ partition: 1, offset: 6 }],
  });
  ctx.expect(
    zombie.status === 404 || zombie.status === 409,
    `a commit by the expired member answered ${zombie.status ?? zombie.error}, not 404 unknown_member or 409`,
    zombie,
  );
  ctx.evidence.redelivered = Object.fromEntries([...redelivered].map(([p, v]) => [p, v.length]));
  await api.leave(group, b.memberId);
  await finishAtMostOnce(ctx, api, atMostOnce);
}
