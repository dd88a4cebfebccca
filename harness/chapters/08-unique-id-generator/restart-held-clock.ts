// UID-F5: a restart within the same millisecond, made exact. The node's clock is held still (libfaketime's absolute
// form in the clock file) at a whole second ahead of every ID it issued; it issues IDs in that millisecond, stops
// gracefully and starts again with the clock still held there. The spec's rule: no ID of that millisecond is issued
// again (its sequence counts on, or the node waits for the next millisecond, or it refuses with 503). A node that
// waits, waits for as long as the clock is held: the harness releases it and the held request must then be answered
// with a new, greater ID. Then a step back inside one batch (batch-across-step.ts): all or nothing.
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { expectIds, type Issued, layoutOf, nodeApis, sleep } from './api.ts';
import { batchAcrossStepBack } from './batch-across-step.ts';
import {
  CLOCK_FILE,
  CLOCK_SETTLE_MS,
  expectRefusal,
  heldAt,
  issueSome,
  recovers,
  setClock,
  type Watch,
} from './clock-kit.ts';

/** IDs a held clock must put in its one millisecond before the stop (many: a reuse from 1 then repeats one). */
const IN_HELD_MS = 200;

export async function restartOntoHeldClock(ctx: CheckContext): Promise<void> {
  const name = ctx.target.nodes[0]!;
  const api = nodeApis(ctx)[0]!.api;
  const w: Watch = { max: -1n, all: new Set(), refusals: 0, served: 0, slowest: 0 };
  setClock(ctx, name, '+0');
  await sleep(CLOCK_SETTLE_MS);
  await issueSome(ctx, api, name, w, 'before the clock was held');
  // A whole second 2-3 s ahead: later than every ID so far and than a lease a node may keep ahead of its clock.
  const heldMs = (Math.floor(Date.now() / 1000) + 3) * 1000;
  const take = (r: Issued, when: string): bigint[] => {
    const ids = expectIds(ctx, r, `${name} ${when}`);
    for (const id of ids) {
      ctx.expect(!w.all.has(id), `${name} ${when} issued ${id} a second time in this check`, r.x);
      ctx.expect(id > w.max, `${name} ${when} issued ${id}, not greater than ${w.max} issued before`, r.x);
      w.all.add(id);
      w.max = id;
    }
    return ids;
  };
  let inHeld = 0;
  let stopped = false;
  try {
    setClock(ctx, name, heldAt(heldMs));
    const deadline = Date.now() + timeLimit(3000);
    while (inHeld < IN_HELD_MS && Date.now() < deadline) {
      const ids = take(await api.batch(100), `with its clock held at ${heldAt(heldMs)}`);
      inHeld += ids.filter((id) => layoutOf(id).unixMs === heldMs).length;
      if (inHeld === 0) await sleep(50);
    }
    ctx.evidence.heldAt = heldAt(heldMs);
    ctx.evidence.idsInHeldMillisecond = inHeld;
    if (inHeld < IN_HELD_MS)
      ctx.skip(
        `the clock hold did not reach the node (${inHeld} IDs in the held millisecond ${heldAt(heldMs)}): run it ` +
          `under libfaketime with FAKETIME_TIMESTAMP_FILE=\${dataDir}/${CLOCK_FILE} (and TZ=UTC), or read that ` +
          'file, whose absolute form "YYYY-MM-DD hh:mm:ss" holds the clock still (see the chapter README)',
      );
    const last = w.max;
    await ctx.target.stop(name);
    stopped = true;
    await ctx.target.start(name);
    stopped = false;
    // The clock is still held in the millisecond of the last ID: the first request must not reissue any of it.
    let answer: Issued | null = null;
    const first = api.one().then((r) => {
      answer = r;
      return r;
    });
    await Promise.race([first, sleep(timeLimit(2000))]);
    const check = (r: Issued, when: string) => {
      if (r.x.status === 503) {
        expectRefusal(ctx, r, 2);
        return;
      }
      if (r.x.status === null) return; // no answer (the node waited longer than the client): nothing issued seen
      for (const id of expectIds(ctx, r, `${name} ${when}`)) {
        const l = layoutOf(id);
        ctx.expect(
          !w.all.has(id) && id > last,
          `${name}, stopped after issuing ${inHeld} IDs in the millisecond ${heldAt(heldMs)} (the last ${last}) and ` +
            `restarted with its clock still held there, ${when} issued ${id} (${new Date(l.unixMs).toISOString()}, ` +
            `seq ${l.sequence}): ${w.all.has(id) ? 'issued before the restart too' : 'smaller than the last ID before the restart'}; ` +
            'a restarted node must not issue in a millisecond it used before (count on, wait, or refuse)',
          r.x,
        );
        w.all.add(id);
      }
    };
    const early = answer as Issued | null;
    ctx.evidence.firstRequest = early ? (early.x.status ?? early.x.error) : 'held (waiting for the next millisecond)';
    if (early) check(early, 'while its clock was held');
    // Release the clock (once the real one is past the held second, so it does not step back), then the held
    // request, if any, is answered.
    await sleep(Math.max(0, heldMs + 100 - Date.now()));
    setClock(ctx, name, '+0');
    if (!early) check(await first, 'once its clock was released');
  } finally {
    setClock(ctx, name, '+0');
    if (stopped) await ctx.target.start(name);
  }
  await sleep(CLOCK_SETTLE_MS);
  for (const id of w.all) if (id > w.max) w.max = id;
  await recovers(ctx, api, w, name, timeLimit(3000));
  await issueSome(ctx, api, name, w, 'after the restart on a held clock');
  // The hold reached the node (else skipped above): now a step back inside one batch (batch-across-step.ts).
  ctx.evidence.batchAcrossStep = await batchAcrossStepBack(ctx, api, name, w);
  await issueSome(ctx, api, name, w, 'after a step back inside a batch');
  ctx.evidence.idsChecked = w.all.size;
}
