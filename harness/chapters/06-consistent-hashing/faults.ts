// CH-F1, CH-F2: faults injected into a running target, and what "survive" means checked afterwards. Each records
// evidence that the fault really happened (a fault that did not bite proves nothing, and the check says so).
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { ownersOf, placementApi, runNonce, setMembership } from './api.ts';

/**
 * CH-F1: one client adds and removes servers while four others look keys up. Every lookup must answer 200, and each
 * server it names must have been a member at some moment of the request: a permanent member, or a server whose add
 * was sent before the answer came and whose removal (if any) was acknowledged after the request was sent.
 */
export async function membershipRace(ctx: CheckContext): Promise<void> {
  const api = placementApi(ctx.http);
  const nonce = runNonce();
  const permanent = Array.from({ length: 4 }, (_, i) => `perm-${i}-${nonce}`);
  const churn = Array.from({ length: 4 }, (_, i) => `churn-${i}-${nonce}`);
  await setMembership(
    ctx,
    api,
    permanent.map((id) => ({ id })),
  );
  const spans = new Map<string, { from: number; to: number }[]>();
  const keyPool = Array.from({ length: 200 }, (_, i) => `race/${nonce}/${i}`);
  const durationMs = 2500;
  const started = performance.now();
  let changes = 0;
  let lookups = 0;
  let overlapping = 0;
  let failure: { message: string; exchange: Exchange } | undefined;
  const changeTimes: { from: number; to: number }[] = [];
  // 2.5 s, or longer (up to 15 s) until the race has bitten: on a busy machine fewer requests fit in 2.5 s, and a
  // race that did not bite would be an error, not a verdict. Running longer only gives a wrong service more chances.
  const finished = () => {
    if (failure) return true;
    const ms = performance.now() - started;
    return ms >= durationMs && ((changes >= 10 && overlapping > 0) || ms >= 6 * durationMs);
  };

  const writer = async () => {
    const member = new Set<string>();
    for (let i = 0; !finished(); i++) {
      const id = churn[i % churn.length]!;
      const from = performance.now();
      if (member.has(id)) {
        const r = await api.remove(id);
        const to = performance.now();
        if (r.status !== 204) failure ??= { message: `removing ${id} answered ${r.status ?? r.error}`, exchange: r };
        spans.get(id)!.at(-1)!.to = to;
        member.delete(id);
        changeTimes.push({ from, to });
      } else {
        spans.set(id, [...(spans.get(id) ?? []), { from, to: Number.POSITIVE_INFINITY }]);
        const r = await api.add(id);
        if (r.status !== 201) failure ??= { message: `adding ${id} answered ${r.status ?? r.error}`, exchange: r };
        member.add(id);
        changeTimes.push({ from, to: performance.now() });
      }
      changes++;
    }
  };
  const wasMember = (id: string, t0: number, t1: number) =>
    permanent.includes(id) || (spans.get(id) ?? []).some((s) => s.from <= t1 && s.to >= t0);
  const reader = async (r: number) => {
    for (let i = 0; !finished(); i++) {
      const batch = i % 4 === 3;
      // A batch asks 500 keys twice (1,000 keys): answered against one membership, each key gets the same servers
      // at both of its places, whatever change races with it.
      const half = batch
        ? Array.from({ length: 500 }, (_, j) => `race/${nonce}/b/${(i * 7 + j + r * 131) % 2000}`)
        : [];
      const keys = batch ? [...half, ...half] : [keyPool[(i * 31 + r * 17) % keyPool.length]!];
      const t0 = performance.now();
      const res = batch ? await api.batch(keys) : await api.owner(keys[0]!);
      const t1 = performance.now();
      lookups++;
      if (changeTimes.some((c) => c.from <= t1 && c.to >= t0)) overlapping++;
      if (res.x.status !== 200) {
        failure ??= {
          message: `a lookup racing with membership changes answered ${res.x.status ?? res.x.error}`,
          exchange: res.x,
        };
        return;
      }
      if ('b' in res) {
        const results = res.b!.results;
        const torn = half.findIndex((_, j) => results[j]?.servers.join() !== results[j + half.length]?.servers.join());
        if (torn >= 0) {
          failure ??= {
            message: `a batch answered ${half[torn]} twice, [${results[torn]?.servers}] and [${results[torn + half.length]?.servers}]: its keys were not all answered against one membership (version ${res.b!.version})`,
            exchange: res.x,
          };
          return;
        }
      }
      const named =
        'b' in res ? res.b!.results.map((x) => x.servers[0]!) : [(res as { o: { server: string } }).o.server];
      for (const id of named) {
        if (!wasMember(id, t0, t1)) {
          failure ??= {
            message: `a lookup named ${id}, which was not a member at any moment of the request (its removal was acknowledged before the request was sent)`,
            exchange: res.x,
          };
          return;
        }
      }
    }
  };
  await Promise.all([writer(), reader(0), reader(1), reader(2), reader(3)]);
  ctx.evidence.membershipChanges = changes;
  ctx.evidence.lookups = lookups;
  ctx.evidence.lookupsOverlappingAChange = overlapping;
  ctx.evidence.raceMs = Math.round(performance.now() - started);
  if (failure) ctx.fail(failure.message, { exchange: failure.exchange });
  if (changes < 10 || overlapping === 0)
    throw new Error(`only ${changes} changes and ${overlapping} overlapping lookups: the race did not bite`);
}

/**
 * CH-F2: lookups run against the service while a server joins; the service is killed with kill -9 right after the
 * join is acknowledged, and started again. Lookups during the outage may fail to connect (an unknown outcome), but
 * every answer must name a member, and after the restart the membership and every key's owner are as they were
 * right after the acknowledged join.
 */
export async function killUnderLoad(ctx: CheckContext): Promise<void> {
  const api = placementApi(ctx.http);
  const nonce = runNonce();
  const members = Array.from({ length: 8 }, (_, i) => ({ id: `node-${i}-${nonce}`, weight: 1 + (i % 3) }));
  await setMembership(ctx, api, members);
  const keys = Array.from({ length: 2000 }, (_, i) => `f2/${nonce}/${i}`);
  const joiner = `joiner-${nonce}`;
  const allowed = new Set([...members.map((m) => m.id), joiner]);
  let stop = false;
  let answered = 0;
  let refused = 0;
  let bad: { message: string; exchange: Exchange } | undefined;
  const reader = async (r: number) => {
    for (let i = 0; !stop; i++) {
      const { x, o } = await api.owner(keys[(i * 37 + r) % keys.length]!);
      if (x.status === null) {
        refused++;
        await sleep(20);
        continue;
      }
      answered++;
      if (!o) bad ??= { message: `a lookup under load answered ${x.status}`, exchange: x };
      else if (!allowed.has(o.server)) bad ??= { message: `a lookup named ${o.server}, never a member`, exchange: x };
    }
  };
  const readers = [0, 1, 2].map(reader);
  try {
    await sleep(300);
    const joined = await api.add(joiner, 2);
    ctx.expect(joined.status === 201, `adding ${joiner} answered ${joined.status ?? joined.error}`, joined);
    const expected = await ownersOf(ctx, api, keys);
    const { m: joinedRing } = await api.list();
    // The last change before the kill is a removal, killed right after its answer with nothing asked in between:
    // acknowledged means stored (a write-behind, or a removal kept in memory until the next change, is lost here).
    const victim = members[0]!.id;
    const removed = await api.remove(victim);
    ctx.expect(removed.status === 204, `removing ${victim} answered ${removed.status ?? removed.error}`, removed);
    await ctx.target.kill();
    const before = joinedRing && {
      ...joinedRing,
      version: joinedRing.version + 1,
      servers: joinedRing.servers.filter((s) => s.id !== victim),
    };
    await sleep(200);
    await ctx.target.start();
    await sleep(500);
    stop = true;
    await Promise.all(readers);
    ctx.evidence.lookupsAnswered = answered;
    ctx.evidence.lookupsRefusedDuringRestart = refused;
    if (bad) ctx.fail(bad.message, { exchange: bad.exchange });
    ctx.expect(refused > 0, 'no lookup failed while the service was down: the kill did not bite');
    ctx.expect(answered > 0, 'no lookup under load was answered: nothing was checked against the membership');
    const { x, m: after } = await api.list();
    const show = (ms: typeof before) => ms?.servers.map((s) => `${s.id}:${s.weight}`).join(',');
    ctx.expect(
      show(after) === show(before),
      `after kill -9 and restart the membership is [${show(after)}], not [${show(before)}]`,
      x,
    );
    // A restart is not a change: the version is the one of the last acknowledged change, not counted again.
    ctx.expect(
      after?.version === before?.version,
      `after kill -9 and restart the version is ${after?.version}, not ${before?.version} (the last acknowledged change)`,
      x,
    );
    // Keys of the servers still there kept their owners; the removed server's keys went to members.
    const again = await ownersOf(ctx, api, keys);
    const movedKeys = keys.filter((_, i) => expected[i]![0] !== victim && again[i]![0] !== expected[i]![0]);
    ctx.expect(movedKeys.length === 0, `${movedKeys.length} of ${keys.length} keys changed owner across the restart`);
    const onVictim = keys.filter((_, i) => again[i]![0] === victim);
    ctx.expect(onVictim.length === 0, `${onVictim.length} keys are on ${victim} after its acknowledged removal`);
  } finally {
    stop = true;
    await Promise.all(readers);
  }
}

/**
 * CH-F3: a restart is not a change. After a history whose placement is not the one the members in join order would
 * give from scratch (the oldest server re-weighted up, then a middle one removed: jump hash then moves its last bucket
 * into the hole), the service is stopped and started again: the membership, the version, and every key's owner and
 * replicas are as they were just before. State a placement keeps beyond the member list must be kept too.
 */
export async function restartKeepsOwners(ctx: CheckContext): Promise<void> {
  const api = placementApi(ctx.http);
  const nonce = runNonce();
  // The last to join has an all-digit ID (the spec allows one): a store keeping the servers as keys of a JSON object
  // would give them back integer-like keys first, out of joining order.
  const digits = String(1_000_000 + Math.floor(Math.random() * 9_000_000));
  const members = Array.from({ length: 6 }, (_, i) => ({ id: i === 5 ? digits : `f3-${i}-${nonce}`, weight: 1 }));
  await setMembership(ctx, api, members);
  const reweighted = await api.add(members[0]!.id, 2);
  ctx.expect(
    reweighted.status === 200,
    `re-weighting ${members[0]!.id} answered ${reweighted.status ?? reweighted.error}`,
    reweighted,
  );
  const removed = await api.remove(members[2]!.id);
  ctx.expect(removed.status === 204, `removing ${members[2]!.id} answered ${removed.status ?? removed.error}`, removed);
  const keys = Array.from({ length: 2000 }, (_, i) => `f3/${nonce}/${i}`);
  const before = await ownersOf(ctx, api, keys, 3);
  const listed = await api.list();
  ctx.expect(listed.m, `listing servers answered ${listed.x.status ?? listed.x.error}`, listed.x);
  await ctx.target.stop();
  await ctx.target.start();
  const again = await api.list();
  const show = (m: typeof listed.m | null) =>
    `${m?.servers.map((s) => `${s.id}:${s.weight}`).join(',')} v${m?.version}`;
  ctx.expect(
    show(again.m) === show(listed.m),
    `after a restart the membership is [${show(again.m)}], not [${show(listed.m)}]`,
    again.x,
  );
  const after = await ownersOf(ctx, api, keys, 3);
  const moved = keys.flatMap((_, i) => (after[i]!.join() === before[i]!.join() ? [] : [i]));
  ctx.evidence.keysCompared = keys.length;
  if (moved.length > 0) {
    const i = moved[0]!;
    ctx.fail(
      `${moved.length} of ${keys.length} keys changed owner or replicas across a restart with no change, e.g. ${keys[i]}: [${before[i]}] before, [${after[i]}] after`,
    );
  }
  // An emptied ring is a membership too: every server removed, then a restart keeps its version (an empty store is
  // not a fresh start; the version only ever increases).
  await setMembership(ctx, api, []);
  const emptied = await api.list();
  ctx.expect(emptied.m, `listing servers answered ${emptied.x.status ?? emptied.x.error}`, emptied.x);
  await ctx.target.stop();
  await ctx.target.start();
  const reopened = await api.list();
  ctx.expect(
    show(reopened.m) === show(emptied.m),
    `after every server was removed and a restart, the membership is [${show(reopened.m)}], not [${show(emptied.m)}]`,
    reopened.x,
  );
}
