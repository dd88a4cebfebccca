// KV-F3: a node cut off by a partition: the majority keeps hints for it and delivers them within the stated bound
// once the partition heals; the minority refuses W=2 writes with 503. Hints are stored writes: a node holding some
// that is killed -9 and restarted while the replica is still cut off holds them still, and hands them over.
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { freshKey, type KvApi, sleep } from './api.ts';
import { expectAcknowledged, expectQuorumNotReached, HINTS_WITHIN_MS, needCluster, value } from './fault-kit.ts';

async function hintsPending(all: { name: string; api: KvApi }[]): Promise<number> {
  let sum = 0;
  for (const n of all) sum += (await n.api.cluster()).view?.stats.hintsPending ?? 0;
  return sum;
}

/**
 * Kills -9 the node holding the most hints and starts it again, the partition still in place (so none of its hints
 * can have been delivered): it must hold at least as many as before. Polled up to the delivery bound, for a store
 * that loads its hints after it reports ready. A store that forgets them hands nothing over when the replica returns
 * (the book's hinted handoff), and a stand-in's hint counted towards W was a copy that did not outlive kill -9.
 */
async function hintsOutliveRestart(
  ctx: CheckContext,
  victim: string,
  others: { name: string; api: KvApi }[],
): Promise<void> {
  let holder: { name: string; api: KvApi } | undefined;
  let before = 0;
  for (const n of others) {
    const held = (await n.api.cluster()).view?.stats.hintsPending ?? 0;
    if (held > before) [holder, before] = [n, held];
  }
  if (!holder) return; // no hint at all: failed above
  await ctx.target.kill(holder.name);
  await ctx.target.start(holder.name);
  const started = Date.now();
  for (;;) {
    const after = (await holder.api.cluster()).view?.stats.hintsPending ?? 0;
    ctx.evidence.hintHolderRestarted = { node: holder.name, hintsBefore: before, hintsAfter: after };
    if (after >= before) break;
    if (Date.now() - started > checkSlack(ctx.evidence, 2000).bound(HINTS_WITHIN_MS))
      ctx.fail(
        `${holder.name} held ${before} hints for ${victim}, which was cut off; killed -9 and restarted (${victim} ` +
          `still cut off, so none could be delivered), it holds ${after} ${HINTS_WITHIN_MS / 1000} s later: hints ` +
          'are stored writes and must outlive a restart, to be handed over when the replica returns',
      );
    await sleep(250);
  }
}

/**
 * Every write acknowledged while the victim was cut off, of a key the victim replicates, is a hint on some node
 * (`stats.hintsPending` counts hinted writes): the sum over the majority reaches their number. Polled up to the
 * delivery bound, since a write may be acknowledged before the call to the cut-off replica gives up and leaves its
 * hint (blind bugs hints-pending-counts-replicas and hint-id-per-key, round 8).
 */
async function everyMissedWriteHinted(
  ctx: CheckContext,
  victim: string,
  others: { name: string; api: KvApi }[],
  keys: string[],
  again: Map<string, unknown>,
): Promise<void> {
  let want = 0;
  for (const key of keys) {
    const placed = await others[0]!.api.replica(key);
    if (placed.replicas.includes(victim)) want += again.has(key) ? 2 : 1;
  }
  const started = Date.now();
  for (;;) {
    const held = await hintsPending(others);
    ctx.evidence.hintsForMissedWrites = { want, held };
    if (held >= want) return;
    if (Date.now() - started > checkSlack(ctx.evidence, 2000).bound(HINTS_WITHIN_MS))
      ctx.fail(
        `with ${victim} cut off, ${want} writes of keys it replicates were acknowledged (4 keys written twice, ` +
          `concurrently), but ${others.map((x) => x.name).join(' and ')} hold ${held} hints (stats.hintsPending) ` +
          `${HINTS_WITHIN_MS / 1000} s later: every write a replica missed is a hinted write to hand over`,
      );
    await sleep(250);
  }
}

export async function partitionedNodeGetsHints(ctx: CheckContext): Promise<void> {
  const { victim, others, all } = needCluster(ctx);
  ctx.require('network-faults');
  if (!ctx.target.partition) ctx.skip('the target cannot be partitioned (needs a manifest and a fault proxy)');
  const keys = Array.from({ length: 12 }, (_, i) => freshKey(`f3-${i}`));
  const dots = new Map<string, string>();
  // Four keys get a second, concurrent (blind) write through the same node: two versions of one key the victim
  // missed, each a hint of its own (blind bug hint-id-per-key, round 8: the second was not hinted).
  const again = new Map<string, { value: string; dot: string }>();
  let refusedOnVictim = 0;
  // Hints left by earlier checks would count towards the ones this check expects: let them drain first (up to the
  // delivery bound; if some never do, the count below is left out and said so in the evidence).
  const drainStarted = Date.now();
  let leftOver = await hintsPending(all);
  while (leftOver > 0 && Date.now() - drainStarted < checkSlack(ctx.evidence, 2000).bound(HINTS_WITHIN_MS)) {
    await sleep(250);
    leftOver = await hintsPending(all);
  }
  ctx.evidence.hintsLeftByEarlierChecks = leftOver;
  await ctx.target.partition(
    [victim],
    others.map((x) => x.name),
  );
  try {
    for (const [i, key] of keys.entries()) {
      const a = await others[i % others.length]!.api.put(key, value(key), { w: 2 });
      ctx.expect(
        a.outcome === 'ok',
        `with ${victim} cut off, a W=2 write through ${others[i % others.length]!.name} answered ${a.x.status}`,
        a.x,
      );
      dots.set(key, a.dot!);
    }
    for (const [i, key] of keys.slice(0, 4).entries()) {
      const through = others[i % others.length]!; // the first write's coordinator, which holds its hint
      const a = await through.api.put(key, value(`${key}-2`), { w: 2 });
      ctx.expect(
        a.outcome === 'ok',
        `with ${victim} cut off, a second (blind) W=2 write of ${key} through ${through.name} answered ${a.x.status}`,
        a.x,
      );
      again.set(key, { value: value(`${key}-2`), dot: a.dot! });
    }
    // The minority cannot reach W=2 distinct replicas: the spec requires a 503 quorum_not_reached, not an
    // acknowledgement (the outcome of a 503 write is unknown, so these keys are not re-read).
    const v = all.find((x) => x.name === victim)!.api;
    for (let i = 0; i < 2; i++) {
      const key = freshKey('f3-minority');
      const m = await v.put(key, value(key), { w: 2 });
      if (m.x.status === 503) refusedOnVictim++;
      ctx.evidence.minorityWritesRefused = refusedOnVictim;
      ctx.expect(
        m.x.status === 503,
        `with ${victim} cut off from ${others.map((x) => x.name).join(' and ')}, a W=2 write through ${victim} ` +
          `answered ${m.x.status ?? m.x.error}${m.x.status === 200 ? ` (acks: ${(m.x.body as { acks: number }).acks})` : ''}: ` +
          'a node alone cannot have stored it on 2 distinct replicas; the minority must answer 503 quorum_not_reached',
        m.x,
      );
      expectQuorumNotReached(ctx, m.x, `with ${victim} cut off, a W=2 write through ${victim}`);
    }
    const pending = await hintsPending(others);
    ctx.evidence.hintsPendingDuringPartition = pending;
    if (pending === 0)
      ctx.fail(`no hint was stored while ${victim} was cut off: writes for it must be kept as hints (hinted handoff)`);
    if (leftOver === 0) await everyMissedWriteHinted(ctx, victim, others, keys, again);
    await hintsOutliveRestart(ctx, victim, others);
  } finally {
    await ctx.target.heal();
  }
  const started = Date.now();
  const victimApi = all.find((x) => x.name === victim)!.api;
  for (;;) {
    const pending = await hintsPending(all);
    let missing = 0;
    for (const key of keys) {
      const r = await victimApi.replica(key);
      // Only the keys the victim replicates (all of them when N is the cluster's size).
      const want = [dots.get(key), again.get(key)?.dot].filter((d) => d !== undefined);
      if (r.replicas.includes(victim) && !want.every((d) => r.versions?.some((x) => x.dot === d))) missing++;
    }
    if (pending === 0 && missing === 0) break;
    if (Date.now() - started > checkSlack(ctx.evidence, 2000).bound(HINTS_WITHIN_MS))
      ctx.fail(
        `${HINTS_WITHIN_MS / 1000} s after the partition healed, ${pending} hints are still pending and ${victim} ` +
          `lacks ${missing} of the ${keys.length} writes it missed`,
      );
    await sleep(250);
  }
  ctx.evidence.hintsDeliveredMs = Date.now() - started;
  // Keep writing after the fault, then re-read everything acknowledged in the check through every node.
  const acked = new Map<string, { value: string; dot: string; phase: string }[]>();
  for (const key of keys) {
    const second = again.get(key);
    acked.set(key, [
      { value: value(key), dot: dots.get(key)!, phase: 'during the partition' },
      ...(second ? [{ ...second, phase: 'during the partition (second, concurrent)' }] : []),
    ]);
  }
  for (const [i, node] of all.entries()) {
    const key = freshKey(`f3-after-${i}`);
    const a = await node.api.put(key, value(key), { w: 2 });
    ctx.expect(
      a.outcome === 'ok',
      `after healing, a W=2 write through ${node.name} answered ${a.x.status ?? a.x.error}`,
      a.x,
    );
    acked.set(key, [{ value: value(key), dot: a.dot!, phase: 'after healing' }]);
  }
  await expectAcknowledged(ctx, all, acked, 'after the partition healed');
}
