// UID-F2: killed and restarted onto a clock behind its last ID, and restarted (kill -9, graceful stop) onto a clock
// just behind it and asked while it passes: no duplicate or smaller ID.
import type { CheckContext } from '../../core/check-context.ts';
import { expectIds, type IdApi, type Issued, layoutOf, nodeApis, sleep } from './api.ts';
import {
  biteOrSkip,
  CLOCK_SETTLE_MS,
  expectRefusal,
  issueSome,
  probe,
  recovers,
  setClock,
  type Watch,
} from './clock-kit.ts';

export async function restartOntoEarlierClock(ctx: CheckContext): Promise<void> {
  const name = ctx.target.nodes[0]!;
  const api = nodeApis(ctx)[0]!.api;
  const w: Watch = { max: -1n, all: new Set(), refusals: 0, served: 0, slowest: 0 };
  // Well beyond a restart's time on a loaded machine (seconds), so the restarted node's clock is still behind; and
  // days, as a host whose clock battery died boots before NTP has set it: a node must trust what it kept on disk over
  // its clock however far apart they are (blind bug high-water-far-ahead-distrusted ignored a mark 10 minutes ahead).
  const stepMs = 2 * 86_400_000;
  setClock(ctx, name, '+0');
  await sleep(CLOCK_SETTLE_MS);
  await issueSome(ctx, api, name, w, 'before the kill');
  // kill -9 right after the last answer, and start again on a clock two days behind: from the node's point of view,
  // it restarts in a millisecond it (or an earlier run) has already used.
  await ctx.target.kill(name);
  try {
    setClock(ctx, name, `-${stepMs / 1000}s`);
    await ctx.target.start(name);
    const until = Date.now() + 1200;
    // Behind by the step, and by up to as much again as the node's own margin on disk (a lease) may add.
    for (let i = 0; Date.now() < until; i++) await probe(ctx, api, w, name, i % 2 === 1, (2 * stepMs) / 1000 + 1);
  } finally {
    setClock(ctx, name, '+0');
  }
  biteOrSkip(ctx, w, stepMs);
  await sleep(CLOCK_SETTLE_MS);
  await recovers(ctx, api, w, name, 3000);
  // Keep issuing after the restart: nothing issued before the kill comes back.
  await issueSome(ctx, api, name, w, 'after the restart');
  // Then the restart the long step cannot show: the node's clock comes back just behind its last ID and passes it
  // while the node is asked, after a kill -9 (what the node kept on disk must cover every ID it issued) and after a
  // graceful stop (the millisecond of its last ID is used up: nothing more may be issued in it).
  const crossings: Record<string, unknown>[] = [];
  // Twice each: where the node's last lease or last ID falls in time is chance, and each crossing samples it once.
  for (const how of ['kill', 'stop', 'kill', 'stop'] as const)
    crossings.push(await restartJustBehind(ctx, api, name, w, how));
  ctx.evidence.crossings = crossings;
  ctx.evidence.idsChecked = w.all.size;
}

/** How far behind its last ID the restarted node's clock is put, and how long it is asked while it passes it. */
const JUST_BEHIND_MS = 300;
const CROSSING_MS = 1500;
const ISSUE_BEFORE_MS = 700;
/** Concurrent clients while the clock passes the last ID: the more requests land near it, the surer the check. */
const CROSSING_CLIENTS = 24;
/** The batch asked just before a graceful stop (see restartJustBehind). */
const LAST_BATCH = 1000;

/**
 * Issues a batch (its IDs share a millisecond or two), restarts the node (kill -9 or graceful stop) and, once it is
 * up, puts its clock JUST_BEHIND_MS behind the last ID; then CROSSING_CLIENTS clients ask at once while it passes that
 * ID. Every ID issued must be new and greater than every ID issued before the restart; a refusal is the documented
 * 503. Order among the concurrent answers is not asked (they race); order against the previous run is.
 */
async function restartJustBehind(
  ctx: CheckContext,
  api: IdApi,
  name: string,
  w: Watch,
  how: 'kill' | 'stop',
): Promise<Record<string, unknown>> {
  setClock(ctx, name, '+0');
  await sleep(CLOCK_SETTLE_MS);
  await issueSome(ctx, api, name, w, `before the ${how}`);
  // Then several clients ask for single IDs without pause for longer than a node would reasonably keep a lease on its
  // clock (the reference's is 250 ms), and the node is stopped while they do: the last ID then falls at any point of
  // whatever the node kept on disk, not by chance at its start. Every answer that still comes counts (requests the
  // kill cuts off do not: their IDs are unknown).
  let stopping = false;
  const issuer = async () => {
    while (!stopping) {
      const r = await api.one();
      if (stopping && r.x.status !== 200) return;
      for (const id of expectIds(ctx, r, `${name} before the ${how}`)) {
        ctx.expect(!w.all.has(id), `${name} before the ${how} issued ${id} a second time in this check`, r.x);
        w.all.add(id);
        if (id > w.max) w.max = id;
      }
    }
  };
  // A failure while issuing is kept and thrown once the node is down; errors after the stop began (the kill
  // cutting requests off) are expected.
  let failure: unknown;
  const issuers = Array.from({ length: 4 }, () =>
    issuer().catch((e: unknown) => {
      if (!stopping) failure ??= e;
    }),
  );
  await sleep(ISSUE_BEFORE_MS);
  stopping = true;
  if (how === 'kill') await ctx.target.kill(name);
  await Promise.all(issuers);
  if (failure !== undefined) throw failure;
  if (how === 'stop') {
    // The last answer before the stop is a large batch, so the millisecond of the last ID holds many sequence
    // numbers: a restarted node that reuses that millisecond then reissues one of them. (After single IDs only, its
    // last millisecond often held one number, and a reuse from 1 stayed new and greater: unseen.)
    const last = await api.batch(LAST_BATCH);
    for (const id of expectIds(ctx, last, `${name} just before the stop`)) {
      ctx.expect(!w.all.has(id), `${name} just before the stop issued ${id} a second time in this check`, last.x);
      w.all.add(id);
      if (id > w.max) w.max = id;
    }
    await ctx.target.stop(name);
  }
  const before = w.max;
  const lastMs = layoutOf(before).unixMs;
  let served = 0;
  let refusals = 0;
  try {
    setClock(ctx, name, '-30s');
    await ctx.target.start(name);
    // The node's clock is the real one plus the offset: put it JUST_BEHIND_MS behind the last ID from now on.
    const behindNow = Date.now() - (lastMs - JUST_BEHIND_MS);
    setClock(ctx, name, `-${(behindNow / 1000).toFixed(3)}s`);
    const until = Date.now() + CROSSING_MS;
    const client = async (k: number) => {
      for (let i = 0; Date.now() < until; i++) {
        const r: Issued = (i + k) % 4 === 3 ? await api.batch(8) : await api.one();
        if (r.x.status === 503) {
          // Until the node reads the new offset its clock is still 30 s behind: a Retry-After up to that is right.
          expectRefusal(ctx, r, 32);
          refusals++;
          continue;
        }
        for (const id of expectIds(ctx, r, `${name} restarted (${how}) onto a clock passing its last ID`)) {
          const l = layoutOf(id);
          ctx.expect(
            !w.all.has(id) && id > before,
            `${name}, restarted after a ${how === 'kill' ? 'kill -9' : 'graceful stop'} onto a clock ` +
              `${JUST_BEHIND_MS} ms behind its last ID ${before} (${new Date(lastMs).toISOString()}), issued ${id} ` +
              `(${new Date(l.unixMs).toISOString()}, seq ${l.sequence}): ` +
              (w.all.has(id) ? 'issued before the restart too' : 'smaller than an ID issued before the restart'),
            r.x,
          );
          w.all.add(id);
        }
        served++;
      }
    };
    await Promise.all(Array.from({ length: CROSSING_CLIENTS }, (_, k) => client(k)));
  } finally {
    setClock(ctx, name, '+0');
  }
  await sleep(CLOCK_SETTLE_MS);
  // The concurrent answers raced; from here on the node's IDs are compared with the greatest it has issued.
  for (const id of w.all) if (id > w.max) w.max = id;
  await recovers(ctx, api, w, name, 3000);
  await issueSome(ctx, api, name, w, `after the ${how} and the crossing`);
  return { how, lastMs, served, refusals };
}
