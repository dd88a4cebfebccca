// UID-F1..F3: clock steps back, restart onto an earlier clock, and nodes misconfigured with one machine ID.
//
// Clock control (docs: specs/08-unique-id-generator/README.md): the harness steps a manifest node's clock by
// writing a libfaketime relative offset ("-3s", "+0") to `<dataDir>/faketime.rc`. A node runs under libfaketime
// with FAKETIME_TIMESTAMP_FILE=${dataDir}/faketime.rc, or reads that file itself (the reference does). A node
// that does neither is reported as skipped ("the clock step did not reach the node"), never as passed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext } from '../../core/check-context.ts';
import { type SchedulingSlack, withSchedulingSlack } from '../../core/scheduling-slack.ts';
import { expectIds, type IdApi, type Issued, layoutOf, nodeApis, sleep } from './api.ts';

const CLOCK_FILE = 'faketime.rc';
/** How long a node may take to see a new offset (libfaketime's cache, a polling reader). */
const CLOCK_SETTLE_MS = 150;

function setClock(ctx: CheckContext, node: string, offset: string): void {
  const dir = ctx.target.dataDir?.(node);
  if (!dir) ctx.skip('stepping the clock needs the data directory of a manifest-started node');
  writeFileSync(join(dir, CLOCK_FILE), `${offset}\n`);
}

interface Watch {
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
async function probe(ctx: CheckContext, api: IdApi, w: Watch, name: string, batch: boolean): Promise<void> {
  const r: Issued = batch ? await api.batch(8) : await api.one();
  w.slowest = Math.max(w.slowest, r.x.durationMs);
  if (r.x.status === 503) {
    ctx.expectStatus(r.x, 503, 'clock_moved_backwards');
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

async function issueSome(ctx: CheckContext, api: IdApi, name: string, w: Watch): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const ids = expectIds(ctx, await api.batch(200), name);
    for (const id of ids) {
      w.all.add(id);
      if (id > w.max) w.max = id;
    }
  }
}

/** After the clock is put right, the node must issue again (bigger IDs) within `withinMs`. */
async function recovers(ctx: CheckContext, api: IdApi, w: Watch, name: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const before = w.served;
    await probe(ctx, api, w, name, true);
    if (w.served > before) return;
    await sleep(100);
  }
  ctx.fail(`${name} still refuses ${withinMs} ms after its clock was put right`);
}

function biteOrSkip(ctx: CheckContext, w: Watch, stepMs: number): void {
  ctx.evidence.refusals = w.refusals;
  ctx.evidence.servedWhileBehind = w.served;
  ctx.evidence.slowestMs = Math.round(w.slowest);
  if (w.refusals === 0 && w.slowest < stepMs / 3)
    ctx.skip(
      `the clock step did not reach the node (no 503 clock_moved_backwards and no answer delayed): run it under ` +
        `libfaketime with FAKETIME_TIMESTAMP_FILE=\${dataDir}/${CLOCK_FILE}, or read that file (see the chapter README)`,
    );
}

/** How long the harness probes a node while its clock is behind, before the scheduling slack. */
const PROBE_MS = 1200;

/**
 * Probes for PROBE_MS plus the scheduling slack measured so far: on a busy machine the node's poll of the clock
 * file and the harness's probes both run late, and a window spent waiting for the scheduler shows nothing. The cap
 * keeps the window well inside the clock step, so a node that ignores the step is still caught in it.
 */
async function probeWhileBehind(ctx: CheckContext, api: IdApi, w: Watch, name: string, slack: SchedulingSlack) {
  const started = Date.now();
  for (let i = 0; Date.now() - started < slack.bound(PROBE_MS); i++) await probe(ctx, api, w, name, i % 2 === 1);
}

export async function clockStepsBack(ctx: CheckContext): Promise<void> {
  const name = ctx.target.nodes[0]!;
  const api = nodeApis(ctx)[0]!.api;
  const w: Watch = { max: -1n, all: new Set(), refusals: 0, served: 0, slowest: 0 };
  const stepMs = 3000;
  await withSchedulingSlack(ctx.evidence, 1500, async (slack) => {
    setClock(ctx, name, '+0');
    await sleep(CLOCK_SETTLE_MS);
    await issueSome(ctx, api, name, w);
    try {
      setClock(ctx, name, `-${stepMs / 1000}s`);
      await sleep(slack.bound(CLOCK_SETTLE_MS));
      await probeWhileBehind(ctx, api, w, name, slack);
    } finally {
      setClock(ctx, name, '+0');
    }
  });
  biteOrSkip(ctx, w, stepMs);
  await sleep(CLOCK_SETTLE_MS);
  await recovers(ctx, api, w, name, 3000);
  ctx.evidence.idsChecked = w.all.size;
}

export async function restartOntoEarlierClock(ctx: CheckContext): Promise<void> {
  const name = ctx.target.nodes[0]!;
  const api = nodeApis(ctx)[0]!.api;
  const w: Watch = { max: -1n, all: new Set(), refusals: 0, served: 0, slowest: 0 };
  let stepMs = 10_000;
  await withSchedulingSlack(ctx.evidence, 1500, async (slack) => {
    setClock(ctx, name, '+0');
    await sleep(CLOCK_SETTLE_MS);
    await issueSome(ctx, api, name, w);
    try {
      // kill -9 right after the last answer, and start again on a clock stepMs behind: from the node's point of
      // view, it restarts in a millisecond it (or an earlier run) has already used. A restart slower than the step
      // (a busy machine) ends after the node's clock has passed its last IDs, and shows nothing: then once more,
      // with a step longer than twice the restart measured (bounded: one retry).
      for (let attempt = 1; ; attempt++) {
        const lastAnswerAt = Date.now();
        await ctx.target.kill(name);
        setClock(ctx, name, `-${stepMs / 1000}s`);
        await ctx.target.start(name);
        const restartMs = Date.now() - lastAnswerAt;
        ctx.evidence.restartMs = restartMs;
        ctx.evidence.clockStepMs = stepMs;
        if (restartMs < stepMs / 2 || attempt === 2) break;
        stepMs = Math.ceil((stepMs + 2 * restartMs) / 1000) * 1000;
      }
      await probeWhileBehind(ctx, api, w, name, slack);
    } finally {
      setClock(ctx, name, '+0');
    }
  });
  biteOrSkip(ctx, w, stepMs);
  await sleep(CLOCK_SETTLE_MS);
  await recovers(ctx, api, w, name, 3000);
  ctx.evidence.idsChecked = w.all.size;
}

export async function distinctMachineIds(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  if (nodes.length < 2)
    ctx.skip('needs two or more nodes to compare their machine IDs: give a manifest with several nodes');
  // Which (datacenter, machine) does each node stamp into its IDs?
  const stamp = new Map<string, string[]>();
  for (const n of nodes) {
    const r = await n.api.batch(16);
    const pairs = new Set(
      expectIds(ctx, r, n.name).map((id) => `${layoutOf(id).datacenterId}/${layoutOf(id).machineId}`),
    );
    ctx.expect(pairs.size === 1, `${n.name} stamps several node IDs into its IDs: ${[...pairs].join(', ')}`, r.x);
    const pair = [...pairs][0]!;
    stamp.set(pair, [...(stamp.get(pair) ?? []), n.name]);
  }
  ctx.evidence.nodeIds = Object.fromEntries([...stamp].map(([pair, names]) => [pair, names]));
  const shared = [...stamp].filter(([, names]) => names.length > 1);
  if (shared.length === 0) return;
  // Misconfigured: show the damage. Hammer the nodes that share a pair at once and collect the duplicates.
  const [pair, names] = shared[0]!;
  const sharing = nodes.filter((n) => names.includes(n.name));
  const owner = new Map<bigint, string>();
  const dups: string[] = [];
  for (let round = 0; round < 10 && dups.length === 0; round++) {
    const answers = await Promise.all(
      sharing.flatMap((n) => [0, 1].map(async () => ({ n: n.name, r: await n.api.batch(2048) }))),
    );
    for (const { n, r } of answers)
      for (const id of expectIds(ctx, r, n)) {
        const prev = owner.get(id);
        if (prev !== undefined && prev !== n) dups.push(`${id} from ${prev} and ${n}`);
        owner.set(id, n);
      }
  }
  ctx.evidence.duplicatesFound = dups.length;
  ctx.fail(
    `nodes ${names.join(' and ')} share datacenter/machine ${pair}; ` +
      (dups.length
        ? `${dups.length} duplicate IDs between them, e.g. ${dups.slice(0, 3).join('; ')}`
        : 'no duplicate caught in 10 rounds, but any two IDs they make in one millisecond can collide'),
  );
}
