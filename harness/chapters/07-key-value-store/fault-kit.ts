// What the KV-F checks share: the spec's stated bounds, the three-node cluster they need, values outside ASCII, and
// the re-read of every acknowledged write through every node.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { type KvApi, nodeApis } from './api.ts';

/**
 * Stated bounds (specs/07-key-value-store/README.md, faults). Each is checked against the bound plus the scheduling
 * delay measured during the check (harness/core/scheduling-slack.ts, recorded as evidence.schedulingSlack), capped
 * below what the wrong implementations show: they never detect, never deliver, or hold a request until the client's
 * 4.5 s deadline.
 */
export const DETECT_WITHIN_MS = 5000;
export const HINTS_WITHIN_MS = 5000;
export const ANSWER_WITHIN_MS = 3000;
/** QuorumNotReached's Retry-After (openapi.yaml): whole seconds, 1 to 10 (a node-to-node deadline to two detections). */
export const RETRY_AFTER_MAX_S = 10;

export function needCluster(ctx: CheckContext): {
  victim: string;
  others: { name: string; api: KvApi }[];
  all: { name: string; api: KvApi }[];
} {
  ctx.require('process-control');
  if (ctx.target.nodes.length < 3) ctx.skip('needs a cluster of three or more nodes');
  const all = nodeApis(ctx, 4500);
  const victim = ctx.target.nodes.at(-1)!;
  return { victim, others: all.filter((x) => x.name !== victim), all };
}

/** Values outside ASCII and the BMP: a store that mangles them (or counts them wrongly) shows it on the read. */
export const value = (tag: string) => `${tag}·é·😀`;

/**
 * Every write acknowledged in the whole check must read back, with every value acknowledged for its key, through
 * every node (R=2): after the kill, after the restart, after the writes that followed it.
 */
export async function expectAcknowledged(
  ctx: CheckContext,
  all: { name: string; api: KvApi }[],
  acked: Map<string, { value: string; dot: string; phase: string }[]>,
  when: string,
) {
  for (const [key, writes] of acked)
    for (const node of all) {
      const r = await node.api.get(key, { r: 2 });
      const values = r.siblings.map((s) => s.value);
      for (const w of writes)
        ctx.expect(
          r.status === 200 && values.includes(w.value),
          `${when}: ${key}=${JSON.stringify(w.value)} (${w.dot}), acknowledged ${w.phase}, reads as ` +
            `${r.status ?? r.x.error} ${JSON.stringify(values)} through ${node.name}`,
          r.x,
        );
    }
}

/**
 * A 503 quorum_not_reached whose Retry-After tells the client when to try again: whole seconds from 1 to 10
 * (openapi.yaml's QuorumNotReached). Blind bug retry-after-in-milliseconds (round 8): 1000, the node-to-node
 * deadline in milliseconds, would hold a client for a quarter of an hour.
 */
export function expectQuorumNotReached(ctx: CheckContext, x: Exchange, what: string): void {
  ctx.expectStatus(x, 503, 'quorum_not_reached');
  const header = x.headers['retry-after'];
  const seconds = /^[0-9]+$/.test(header ?? '') ? Number(header) : Number.NaN;
  ctx.expect(
    seconds >= 1 && seconds <= RETRY_AFTER_MAX_S,
    `${what}: the 503 quorum_not_reached says Retry-After: ${header === undefined ? '(none)' : `'${header}'`}, not ` +
      `whole seconds from 1 to ${RETRY_AFTER_MAX_S} (the replicas missed a node-to-node deadline of about a second; ` +
      'within two failure-detection bounds a stand-in takes their place or they are back)',
    x,
  );
}
