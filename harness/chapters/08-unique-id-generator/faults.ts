// UID-F1..F3: clock steps back, restart onto an earlier clock, and nodes misconfigured with one machine ID.
//
// Clock control (docs: specs/08-unique-id-generator/README.md): the harness steps a manifest node's clock by
// writing a libfaketime relative offset ("-3s", "+0") to `<dataDir>/faketime.rc`. A node runs under libfaketime
// with FAKETIME_TIMESTAMP_FILE=${dataDir}/faketime.rc, or reads that file itself (the reference does). A node
// that does neither is reported as skipped ("the clock step did not reach the node"), never as passed; one whose
// target declares the setting `clockControl: true` (the reference does) fails instead, since it claims to follow it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext } from '../../core/check-context.ts';
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
async function probe(
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
function expectRefusal(ctx: CheckContext, r: Issued, atMostS: number): void {
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
async function issueSome(ctx: CheckContext, api: IdApi, name: string, w: Watch, when: string): Promise<void> {
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
  if (w.refusals === 0 && w.slowest < stepMs / 3 && ctx.setting('clockControl', false))
    ctx.fail(
      `the clock step did not reach the node (no 503 clock_moved_backwards and no answer delayed), though the ` +
        `target declares clockControl: it must follow ${CLOCK_FILE} (see the chapter README)`,
    );
  if (w.refusals === 0 && w.slowest < stepMs / 3)
    ctx.skip(
      `the clock step did not reach the node (no 503 clock_moved_backwards and no answer delayed): run it under ` +
        `libfaketime with FAKETIME_TIMESTAMP_FILE=\${dataDir}/${CLOCK_FILE}, or read that file (see the chapter README)`,
    );
}

/** One clock fault of UID-F1: `before` (if any) is set first and IDs issued, then `during` for 1.2 s of probes. */
interface Step {
  label: string;
  before?: string;
  during: string;
  /** How far behind the node's last ID the clock is during the step. */
  behindMs: number;
}

/**
 * Multi-second and sub-second steps back (a sub-second one stays within the same second of the clock, where a
 * check made in whole seconds sees nothing), and a step forward and back again (IDs made in the future, then the
 * clock put right: behind them).
 */
const F1_STEPS: Step[] = [
  { label: 'a 3 s step back', during: '-3s', behindMs: 3000 },
  { label: 'a 300 ms step back', during: '-0.3s', behindMs: 300 },
  { label: 'a 2 s step forward, then back', before: '+2s', during: '+0', behindMs: 2000 },
];

export async function clockStepsBack(ctx: CheckContext): Promise<void> {
  const name = ctx.target.nodes[0]!;
  const api = nodeApis(ctx)[0]!.api;
  const w: Watch = { max: -1n, all: new Set(), refusals: 0, served: 0, slowest: 0 };
  setClock(ctx, name, '+0');
  await sleep(CLOCK_SETTLE_MS);
  await issueSome(ctx, api, name, w, 'before any clock step');
  const steps: Record<string, unknown>[] = [];
  for (const step of F1_STEPS) {
    // A step must show in some answer (a refusal or a delay), or it proved nothing. A short one can be missed when
    // the machine is slow (the clock passes the last ID before the first probe): it is tried up to three times.
    let bit = false;
    for (let attempt = 1; attempt <= 3 && !bit; attempt++) {
      const at = { refusals: w.refusals, served: w.served };
      w.slowest = 0;
      try {
        if (step.before) {
          setClock(ctx, name, step.before);
          await sleep(CLOCK_SETTLE_MS);
          await issueSome(ctx, api, name, w, `with its clock at ${step.before}`);
        }
        // Probed at once: answers before the node sees the step are fine, and the step then lands right after an ID.
        setClock(ctx, name, step.during);
        const until = Date.now() + 1200;
        for (let i = 0; Date.now() < until; i++)
          await probe(ctx, api, w, `${name} (${step.label})`, i % 2 === 1, Math.ceil(step.behindMs / 1000) + 1);
      } finally {
        setClock(ctx, name, '+0');
      }
      const refusals = w.refusals - at.refusals;
      bit = refusals > 0 || w.slowest >= step.behindMs / 3;
      steps.push({
        step: step.label,
        attempt,
        refusals,
        served: w.served - at.served,
        slowestMs: Math.round(w.slowest),
      });
      ctx.evidence.steps = steps;
      await sleep(CLOCK_SETTLE_MS);
      await recovers(ctx, api, w, name, 3000);
      // Keep issuing after the fault: nothing issued in the whole check comes back.
      await issueSome(ctx, api, name, w, `after ${step.label}`);
    }
    if (!bit) biteOrSkip(ctx, { ...w, refusals: 0 }, step.behindMs);
    // The spec: more than 5 ms back is refused (503 with Retry-After) until the clock is past the last ID; only a
    // smaller step is waited out. A step of a second or more that showed only as answers held back (no refusal in
    // any attempt) was waited out. Asked of long steps only: every probe during one lands while the clock is behind.
    const last = steps.filter((x) => x.step === step.label);
    if (step.behindMs >= 1000 && bit && last.every((x) => x.refusals === 0))
      ctx.fail(
        `${name} held its answers (slowest ${Math.max(...last.map((x) => Number(x.slowestMs)))} ms) through ` +
          `${step.label} instead of refusing with 503 clock_moved_backwards: only a step of up to 5 ms may be waited out`,
      );
  }
  ctx.evidence.refusals = w.refusals;
  ctx.evidence.idsChecked = w.all.size;
}

export async function restartOntoEarlierClock(ctx: CheckContext): Promise<void> {
  const name = ctx.target.nodes[0]!;
  const api = nodeApis(ctx)[0]!.api;
  const w: Watch = { max: -1n, all: new Set(), refusals: 0, served: 0, slowest: 0 };
  // Well beyond a restart's time on a loaded machine (seconds), so the restarted node's clock is still behind.
  const stepMs = 30_000;
  setClock(ctx, name, '+0');
  await sleep(CLOCK_SETTLE_MS);
  await issueSome(ctx, api, name, w, 'before the kill');
  // kill -9 right after the last answer, and start again on a clock 30 s behind: from the node's point of view,
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
  // Then the restart the 30 s step cannot show: the node's clock comes back just behind its last ID and passes it
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

export async function distinctMachineIds(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  if (nodes.length < 2)
    ctx.skip('needs two or more nodes to compare their machine IDs: give a manifest with several nodes');
  // Which (datacenter, machine) does each node stamp into the IDs it issues, single ones and batches? Decoded here
  // from the IDs, not taken from the manifest or from the node's own account.
  const stamp = new Map<string, string[]>();
  const owner = new Map<bigint, string>();
  const dups: string[] = [];
  for (const n of nodes) {
    const answers = [await n.api.one(), await n.api.one(), await n.api.batch(64)];
    const pairs = new Set<string>();
    for (const r of answers)
      for (const id of expectIds(ctx, r, n.name)) {
        pairs.add(`${layoutOf(id).datacenterId}/${layoutOf(id).machineId}`);
        const prev = owner.get(id);
        if (prev !== undefined && prev !== n.name) dups.push(`${id} from ${prev} and ${n.name}`);
        owner.set(id, n.name);
      }
    ctx.expect(
      pairs.size === 1,
      `${n.name} stamps several node IDs into its IDs: ${[...pairs].join(', ')}`,
      answers.at(-1)!.x,
    );
    const pair = [...pairs][0]!;
    stamp.set(pair, [...(stamp.get(pair) ?? []), n.name]);
  }
  ctx.evidence.nodeIds = Object.fromEntries([...stamp].map(([pair, names]) => [pair, names]));
  const shared = [...stamp].filter(([, names]) => names.length > 1);
  if (shared.length === 0) return;
  // Misconfigured: show the damage. Hammer the nodes that share a pair at once and collect the duplicates.
  const [pair, names] = shared[0]!;
  const sharing = nodes.filter((n) => names.includes(n.name));
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
