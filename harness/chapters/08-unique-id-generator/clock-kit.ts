// What the clock checks (UID-F1, UID-F2) share: stepping a node's clock, and probing and issuing IDs against every ID
// the node issued in the check.
//
// Clock control (docs: specs/08-unique-id-generator/README.md): the harness steps a manifest node's clock by
// writing a libfaketime relative offset ("-3s", "+0") to `<dataDir>/faketime.rc`. A node runs under libfaketime
// with FAKETIME_TIMESTAMP_FILE=${dataDir}/faketime.rc, or reads that file itself (the reference does). A node
// that does neither is reported as skipped ("the clock step did not reach the node"), never as passed; one whose
// target declares the setting `clockControl: true` (the reference does) fails instead, since it claims to follow it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext } from '../../core/check-context.ts';
import { expectIds, type IdApi, type Issued, layoutOf, sleep } from './api.ts';

export const CLOCK_FILE = 'faketime.rc';
/** How long a node may take to see a new offset (libfaketime's cache, a polling reader). */
export const CLOCK_SETTLE_MS = 150;

/** libfaketime's absolute timestamp (UTC) of a whole second: the clock stops there. */
export function heldAt(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function setClock(ctx: CheckContext, node: string, offset: string): void {
  const dir = ctx.target.dataDir?.(node);
  if (!dir) ctx.skip('stepping the clock needs the data directory of a manifest-started node');
  writeFileSync(join(dir, CLOCK_FILE), `${offset}\n`);
}

export interface Watch {
  max: bigint;
  all: Set<bigint>;
  refusals: number;
  served: number;
  slowest: number;
}

/**
 * One request while the clock is off: a 200 must carry only new IDs greater than every ID the node issued before;
 * anything else must be the documented 503 clock_moved_backwards.
 */
export async function probe(
  ctx: CheckContext,
  api: IdApi,
  w: Watch,
  name: string,
  batch: boolean,
  retryAfterAtMostS = Number.POSITIVE_INFINITY,
): Promise<void> {
  const r: Issued = batch ? await api.batch(8) : await api.one();
  w.slowest = Math.max(w.slowest, r.x.durationMs);
  if (r.x.status === 503) {
    expectRefusal(ctx, r, retryAfterAtMostS);
    w.refusals++;
    return;
  }
  const ids = expectIds(ctx, r, name);
  for (const id of ids) {
    ctx.expect(
      !w.all.has(id),
      `${name} issued ${id} twice (${layoutOf(id).unixMs} ms, seq ${layoutOf(id).sequence})`,
      r.x,
    );
    ctx.expect(
      id > w.max,
      `${name} issued ${id} (${new Date(layoutOf(id).unixMs).toISOString()}) after ${w.max} ` +
        `(${new Date(layoutOf(w.max).unixMs).toISOString()}): smaller, so not sortable and open to duplicates`,
      r.x,
    );
    w.all.add(id);
    w.max = id;
  }
  w.served++;
}

/**
 * A refusal is 503 clock_moved_backwards whose Retry-After is whole seconds, at least 1 and no more than the clock is
 * behind (rounded up, plus a second for the moment between the node's answer and the harness's reading of it).
 */
export function expectRefusal(ctx: CheckContext, r: Issued, atMostS: number): void {
  ctx.expectStatus(r.x, 503, 'clock_moved_backwards');
  const ra = Number(r.x.headers['retry-after']);
  ctx.expect(
    Number.isInteger(ra) && ra >= 1 && ra <= atMostS,
    `a refusal says Retry-After: ${r.x.headers['retry-after']}, but the clock is at most ${atMostS - 1} s behind ` +
      '(Retry-After is whole seconds to wait)',
    r.x,
  );
}

/**
 * Issues IDs in batches, checking each against every ID the node issued in the whole check: none twice, each greater
 * than the last (used before the first fault and after each one: keep issuing, nothing reissued).
 */
export async function issueSome(ctx: CheckContext, api: IdApi, name: string, w: Watch, when: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const r = await api.batch(200);
    for (const id of expectIds(ctx, r, `${name} ${when}`)) {
      ctx.expect(
        !w.all.has(id),
        `${name} ${when} issued ${id} (${new Date(layoutOf(id).unixMs).toISOString()}, seq ` +
          `${layoutOf(id).sequence}) a second time in this check: an ID issued before the fault came back`,
        r.x,
      );
      ctx.expect(id > w.max, `${name} ${when} issued ${id}, not greater than ${w.max} issued before`, r.x);
      w.all.add(id);
      w.max = id;
    }
  }
}

/** After the clock is put right, the node must issue again (bigger IDs) within `withinMs`. */
export async function recovers(ctx: CheckContext, api: IdApi, w: Watch, name: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const before = w.served;
    await probe(ctx, api, w, name, true);
    if (w.served > before) return;
    await sleep(100);
  }
  ctx.fail(`${name} still refuses ${withinMs} ms after its clock was put right`);
}

export function biteOrSkip(ctx: CheckContext, w: Watch, stepMs: number): void {
  ctx.evidence.refusals = w.refusals;
  ctx.evidence.servedWhileBehind = w.served;
  ctx.evidence.slowestMs = Math.round(w.slowest);
  if (w.refusals === 0 && w.slowest < stepMs / 3 && ctx.setting('clockControl', false))
    ctx.fail(
      `the clock step did not reach the node (no 503 clock_moved_backwards and no answer delayed), though the ` +
        `target declares clockControl: it must follow ${CLOCK_FILE} (see the chapter README)`,
    );
  if (w.refusals === 0 && w.slowest < stepMs / 3)
    ctx.skip(
      `the clock step did not reach the node (no 503 clock_moved_backwards and no answer delayed): run it under ` +
        `libfaketime with FAKETIME_TIMESTAMP_FILE=\${dataDir}/${CLOCK_FILE}, or read that file (see the chapter README); ` +
        'the target does not declare clockControl',
    );
}
