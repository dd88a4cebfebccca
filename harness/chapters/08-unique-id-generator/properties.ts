// UID-I1..I6: the chapter's invariants as fast-check properties run over the wire against every node of the
// target, each with the check's seed and a shrunk counterexample when it fails.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import {
  expectIds,
  type IdApi,
  type Issued,
  layoutOf,
  MAX_ID,
  nodeApis,
  SKEW_MS,
  sleep,
  strictlyIncreasing,
} from './api.ts';

type Step = { node: number; count: number | null };

/** A request: one ID (count null) or a batch, to one of the target's nodes. */
function stepArb(nodes: number, maxBatch: number): fc.Arbitrary<Step> {
  return fc.record({
    node: fc.nat({ max: nodes - 1 }),
    count: fc.option(fc.integer({ min: 1, max: maxBatch }), { freq: 3, nil: null }),
  });
}

/** Remembers every ID seen in a check, with where it came from, and reports the first duplicate. */
class Seen {
  private readonly from = new Map<bigint, string>();
  duplicates: string[] = [];
  add(ids: bigint[], origin: string): void {
    for (const id of ids) {
      const prev = this.from.get(id);
      if (prev !== undefined) this.duplicates.push(`${id} from ${prev} and again from ${origin}`);
      else this.from.set(id, origin);
    }
  }
  get size(): number {
    return this.from.size;
  }
}

export async function uniqueEverywhere(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  const seen = new Seen();
  await ctx.property(fc.array(stepArb(nodes.length, 512), { minLength: 2, maxLength: 12 }), async (steps) => {
    // Every request of a run at once: concurrent clients, singles and batches, on all nodes.
    const answers = await Promise.all(
      steps.map(async (s) => {
        const n = nodes[s.node]!;
        const r = s.count === null ? await n.api.one() : await n.api.batch(s.count);
        return { r, name: n.name };
      }),
    );
    const before = seen.duplicates.length;
    for (const { r, name } of answers) seen.add(expectIds(ctx, r, `${name}`), name);
    const dup = seen.duplicates.slice(before);
    if (dup.length)
      ctx.fail(`${dup.length} duplicate IDs, e.g. ${dup.slice(0, 3).join('; ')}`, {
        exchange: answers[0]!.r.x,
      });
  });
  ctx.evidence.distinctIds = seen.size;
  ctx.evidence.nodes = nodes.map((n) => n.name);
}

export async function increasingPerNode(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  const last = new Map<string, bigint>();
  await ctx.property(fc.array(stepArb(nodes.length, 300), { minLength: 2, maxLength: 16 }), async (steps) => {
    // Sequential per node (each request sent after the previous answer came), nodes in parallel.
    await Promise.all(
      nodes.map(async (n, i) => {
        for (const s of steps.filter((x) => x.node === i)) {
          const r = s.count === null ? await n.api.one() : await n.api.batch(s.count);
          const ids = expectIds(ctx, r, n.name);
          const at = strictlyIncreasing(ids);
          ctx.expect(at < 0, `${n.name}: a batch decreases at index ${at}: ${ids[at - 1]} then ${ids[at]}`, r.x);
          const prev = last.get(n.name);
          ctx.expect(
            prev === undefined || ids[0]! > prev,
            `${n.name}: ${ids[0]} was issued after ${prev} but is not greater`,
            r.x,
          );
          last.set(n.name, ids[ids.length - 1]!);
        }
      }),
    );
  });
  await batchAcrossANewDigit(ctx, nodes[0]!);
}

/** How many IDs UID-I2 spends at most to reach the next power of ten (20 batches of 10,000). */
const DIGIT_BUDGET = 200_000n;

/**
 * A batch whose IDs gain a decimal digit (…999, 1000…) is still increasing: IDs are numbers, and an implementation
 * that orders them as strings puts "1000" before "999". Small IDs (a fresh ticket sequence) reach the next power of
 * ten within a few batches; a 63-bit Snowflake ID never does (its next power, 10^19, is above 2^63 - 1), and the
 * evidence says so.
 */
async function batchAcrossANewDigit(ctx: CheckContext, node: { name: string; api: IdApi }): Promise<void> {
  const [first] = expectIds(ctx, await node.api.one(), node.name);
  const power = 10n ** BigInt(first!.toString().length);
  if (power > MAX_ID || power - first! > DIGIT_BUDGET) {
    ctx.evidence.newDigitBatch = `not reached: the next power of ten after ${first} is ${power - first!} IDs away`;
    return;
  }
  let last = first!;
  while (last < power) {
    // Advance in batches of 10,000 until the power of ten is within reach, then one batch that spans it.
    const count = Number(power - last > 10_000n ? 10_000n : power - last + 9n);
    const r = await node.api.batch(count);
    const ids = expectIds(ctx, r, node.name);
    const at = strictlyIncreasing(ids);
    ctx.expect(
      at < 0,
      `${node.name}: a batch that spans ${power} decreases at index ${at}: ${ids[at - 1]} then ${ids[at]}`,
      r.x,
    );
    ctx.expect(ids[0]! > last, `${node.name}: ${ids[0]} was issued after ${last} but is not greater`, r.x);
    last = ids[ids.length - 1]!;
  }
  ctx.evidence.newDigitBatch = `a batch spanned ${power} (from ${first})`;
}

/** The node an ID came from, by the layout: its datacenter and machine fields. */
const workerOf = (id: bigint) => `${layoutOf(id).datacenterId}/${layoutOf(id).machineId}`;

export async function sortableAcrossNodes(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  // How many nodes the target really has: the workers stamped into the IDs it issues (a URL may front several
  // nodes behind a load balancer; a manifest's nodes may share one pair, which is UID-F3's to report).
  const workers = new Set<string>();
  for (const n of nodes)
    for (let i = 0; i < 8; i++) for (const id of expectIds(ctx, await n.api.one(), n.name)) workers.add(workerOf(id));
  ctx.evidence.workersSeen = [...workers];
  // Several node URLs are several nodes whatever their IDs carry (a ticket server's IDs have no worker fields);
  // only one URL whose IDs all carry one worker leaves nothing to compare.
  if (workers.size < 2 && nodes.length < 2)
    ctx.skip(
      `every ID the target issued carries one datacenter/machine (${[...workers].join()}) across ` +
        `${nodes.length} node URL(s): order across nodes needs IDs from two or more nodes`,
    );
  // Pairs of two different node URLs when there are several; a single URL (a load balancer) is asked twice.
  const pair = fc.tuple(fc.nat({ max: nodes.length - 1 }), fc.nat({ max: Math.max(0, nodes.length - 2) }));
  let acrossNodes = 0;
  await ctx.property(pair, async ([a, k]) => {
    const b = nodes.length > 1 ? (a + 1 + k) % nodes.length : a;
    const first = await nodes[a]!.api.one();
    const [x] = expectIds(ctx, first, nodes[a]!.name);
    // Beyond the spec's skew bound after the first answer came back.
    await sleep(SKEW_MS + 2);
    const second = await nodes[b]!.api.one();
    const [y] = expectIds(ctx, second, nodes[b]!.name);
    if (workerOf(x!) !== workerOf(y!) || a !== b) acrossNodes++;
    ctx.expect(
      y! > x!,
      `${nodes[b]!.name} (worker ${workerOf(y!)}) issued ${y} more than ${SKEW_MS} ms after ${nodes[a]!.name} ` +
        `(worker ${workerOf(x!)}) answered ${x}, and it is not greater` +
        ` (${layoutOf(y!).unixMs - layoutOf(x!).unixMs} ms apart by their timestamps)`,
      second.x,
    );
  });
  ctx.evidence.pairsAcrossNodes = acrossNodes;
  if (acrossNodes === 0)
    ctx.skip('no pair of IDs came from two different workers (datacenter/machine): nothing was compared across nodes');
}

export async function layoutDecodes(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  await ctx.property(stepArb(nodes.length, 64), async (s) => {
    const n = nodes[s.node]!;
    const r: Issued = s.count === null ? await n.api.one() : await n.api.batch(s.count);
    const ids = expectIds(ctx, r, n.name);
    ctx.expect(r.node, `${n.name}: the answer does not say which node made it`, r.x);
    for (const id of ids) {
      const l = layoutOf(id);
      ctx.expect(
        l.datacenterId === r.node.datacenterId && l.machineId === r.node.machineId,
        `${id} carries datacenter ${l.datacenterId} machine ${l.machineId}, but node ${r.node.name} is datacenter ` +
          `${r.node.datacenterId} machine ${r.node.machineId}`,
        r.x,
      );
      ctx.expect(
        l.unixMs >= r.sentAt - SKEW_MS && l.unixMs <= r.receivedAt + SKEW_MS,
        `${id} says ${new Date(l.unixMs).toISOString()}, outside the request's window ` +
          `${new Date(r.sentAt).toISOString()} .. ${new Date(r.receivedAt).toISOString()} (± ${SKEW_MS} ms)`,
        r.x,
      );
    }
    // The service's own decoding agrees with the layout.
    const d = await n.api.decode(ids[0]!.toString());
    const l = layoutOf(ids[0]!);
    ctx.expect(
      d.decoded?.unixMs === l.unixMs &&
        d.decoded.datacenterId === l.datacenterId &&
        d.decoded.machineId === l.machineId &&
        d.decoded.sequence === l.sequence,
      `the service decodes ${ids[0]} as ${JSON.stringify(d.decoded)}; the layout gives ${JSON.stringify(l)}`,
      d.x,
    );
  });
}

export async function fitsIn63Bits(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  await ctx.property(stepArb(nodes.length, 256), async (s) => {
    const n = nodes[s.node]!;
    const r = s.count === null ? await n.api.one() : await n.api.batch(s.count);
    ctx.expect(r.x.status === 200, `${n.name} answered ${r.x.status ?? r.x.error}`, r.x);
    for (const id of r.ids) {
      const ok = /^(0|[1-9][0-9]*)$/.test(id) && BigInt(id) <= MAX_ID;
      ctx.expect(ok, `${id} is not an integer from 0 to 2^63 - 1 (a sign bit of 0 in 64 bits)`, r.x);
    }
  });
}

const BATCH = 10_000;

export async function noWrapAtExhaustion(ctx: CheckContext): Promise<void> {
  const nodes = nodeApis(ctx);
  const seen = new Seen();
  let ids = 0;
  let runOut = 0;
  // Batches of 10,000 (each more than two milliseconds of one machine's sequence space, so each runs it out),
  // several at once on one node.
  const arb = fc.record({ node: fc.nat({ max: nodes.length - 1 }), parallel: fc.integer({ min: 1, max: 3 }) });
  await ctx.property(
    arb,
    async ({ node, parallel }) => {
      const n = nodes[node]!;
      const before = seen.duplicates.length;
      const answers = await Promise.all(Array.from({ length: parallel }, () => n.api.batch(BATCH)));
      for (const r of answers) {
        const got = expectIds(ctx, r, n.name);
        ctx.expect(got.length === BATCH, `${n.name}: asked for ${BATCH} IDs, got ${got.length}`, r.x);
        const at = strictlyIncreasing(got);
        ctx.expect(at < 0, `${n.name}: a batch decreases at index ${at}: ${got[at - 1]} then ${got[at]}`, r.x);
        // Running the sequence out must not spill into the node fields: every ID still carries this node's
        // datacenter and machine (a 4,097th sequence number carried into them would be another node's ID).
        const foreign = got.find((id) => {
          const l = layoutOf(id);
          return l.datacenterId !== r.node?.datacenterId || l.machineId !== r.node?.machineId;
        });
        if (foreign !== undefined)
          ctx.fail(
            `${n.name} (datacenter ${r.node?.datacenterId}, machine ${r.node?.machineId}) issued ${foreign} in a batch ` +
              `of ${BATCH}, which carries datacenter ${layoutOf(foreign).datacenterId} machine ` +
              `${layoutOf(foreign).machineId} sequence ${layoutOf(foreign).sequence}: the sequence overflowed into the node fields`,
            { exchange: r.x },
          );
        seen.add(got, n.name);
        ids += got.length;
        // Whether the batch ran a millisecond out at all (a node slower than 4,096 IDs per millisecond never does).
        runOut += got.filter((id) => layoutOf(id).sequence === 4095).length;
      }
      const dup = seen.duplicates.slice(before);
      if (dup.length)
        ctx.fail(
          `${dup.length} duplicate IDs under ${parallel} concurrent batches of ${BATCH} on ${n.name}, ` +
            `e.g. ${dup.slice(0, 3).join('; ')}`,
          { exchange: answers[0]!.x },
        );
    },
    Math.max(5, Math.round(ctx.numRuns / 3)),
  );
  ctx.evidence.idsChecked = ids;
  ctx.evidence.millisecondsRunOut = runOut;
}
