// UID-F5's second part: a clock step back inside one batch. A batch is made in one go, so a step between two
// requests never lands in it; a held clock makes one that does: held at a whole second ahead of every ID, a batch of
// more than 4,096 uses up that millisecond and the node waits for the next one, which comes only when the clock is
// released. The harness releases it to the real clock, seconds behind the held one: a step back in the middle of
// the batch. The spec: a 200 holds exactly `count` new IDs, and a 503 clock_moved_backwards issues none (all or
// nothing); a batch cut short at the step and answered 200 fails.
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { expectIds, type IdApi, layoutOf, sleep, strictlyIncreasing } from './api.ts';
import { CLOCK_SETTLE_MS, expectRefusal, heldAt, recovers, setClock, type Watch } from './clock-kit.ts';

/**
 * One more than a millisecond's 4,096, so the batch must wait for the held clock to move, and a node that does not
 * wait (that takes the next millisecond at once) answers at once with one ID of a millisecond its clock never reached.
 */
const COUNT = 4097;
/** The spec's clock-skew bound: the node's clock and the harness's may differ by this much. */
const SKEW_MS = 10;

/**
 * Tries up to three times (a loaded machine may release the clock before the batch reached the held millisecond,
 * and the batch then runs on the real clock: no step inside it), each time with a longer wait before the release.
 * Returns what each try saw, for the evidence.
 */
export async function batchAcrossStepBack(ctx: CheckContext, api: IdApi, name: string, w: Watch): Promise<string[]> {
  const tries: string[] = [];
  let heldMs = 0;
  for (let attempt = 1; attempt <= 3; attempt++) {
    heldMs = Math.max(heldMs + 1000, (Math.floor(Date.now() / 1000) + 3) * 1000);
    setClock(ctx, name, heldAt(heldMs));
    await sleep(CLOCK_SETTLE_MS);
    const pending = api.batch(COUNT);
    await sleep(timeLimit(300 * attempt));
    const behindS = Math.ceil((heldMs - Date.now()) / 1000);
    setClock(ctx, name, '+0'); // the real clock, seconds behind the held one
    const r = await pending;
    const receivedAt = Date.now();
    let bit: boolean;
    if (r.x.status === 503) {
      expectRefusal(ctx, r, behindS + 1);
      w.refusals++;
      bit = true;
    } else {
      const ids = expectIds(ctx, r, `${name}, a batch of ${COUNT} across a step back`);
      ctx.expect(
        ids.length === COUNT,
        `${name} answered a batch of ${COUNT} with 200 and ${ids.length} IDs, its clock stepped back ${behindS} s in ` +
          'the middle of it: a 200 holds exactly count new IDs, and a step back refuses the whole batch (503, none issued)',
        r.x,
      );
      const at = strictlyIncreasing(ids);
      ctx.expect(at < 0, `${name}'s batch across a step back is not strictly increasing at index ${at}`, r.x);
      // The node's clock was held at heldMs and then put back to the real one: no ID can be of a later millisecond
      // than both (a node that took the next millisecond instead of waiting for it issued one of the future).
      const latestMs = Math.max(heldMs, receivedAt + SKEW_MS);
      for (const id of ids) {
        const l = layoutOf(id);
        ctx.expect(
          l.unixMs <= latestMs,
          `${name}'s batch of ${COUNT}, its clock held at ${heldAt(heldMs)}, issued ${id} of ` +
            `${new Date(l.unixMs).toISOString()} (seq ${l.sequence}), a millisecond its clock had not reached ` +
            `(answered at ${new Date(receivedAt).toISOString()}): when a millisecond's 4,096 run out the node waits ` +
            'for the next one',
          r.x,
        );
        ctx.expect(
          !w.all.has(id) && id > w.max,
          `${name}'s batch across a step back issued ${id} again or smaller`,
          r.x,
        );
        w.all.add(id);
        w.max = id;
      }
      bit = ids.some((id) => layoutOf(id).unixMs === heldMs);
      w.served++;
    }
    tries.push(`${heldAt(heldMs)}: ${r.x.status}${bit ? '' : ' (released before the batch reached the held ms)'}`);
    if (bit) break;
  }
  // The node is now behind its last ID: wait for the real clock to pass it, then it issues again.
  await sleep(Math.max(0, heldMs + 100 - Date.now()));
  await sleep(CLOCK_SETTLE_MS);
  await recovers(ctx, api, w, name, timeLimit(3000));
  return tries;
}
