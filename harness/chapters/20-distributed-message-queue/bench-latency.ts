// The micro-benchmark's end-to-end workload, as OpenMessaging's latency workloads measure it: one consumer reads the
// log's tail through the side's own client while one producer sends single 1 KiB messages (acks 1) at a fixed
// offered rate well under every side's capacity (so it measures latency, not queueing); each message's latency is
// its receipt by the consumer minus its send, both on this process's one clock (performance.now()).
import { setTimeout as sleep } from 'node:timers/promises';
import { timeLimit } from '../../core/time-scale.ts';
import type { QueueSide } from './bench-sides.ts';

/** Messages per second offered: about half the reference's one-at-a-time rate at load 30 on two cores (51/s in one run), a tenth at load 16. */
export const E2E_RATE = 50;
/** Time for the consumer's first read to reach its broker before the first send (so no message waits for it). */
const SETTLE_MS = 200;
/** A consumer that gets nothing for this long after the last send ends with what it has (the guard then tells). */
const IDLE_MS = 10_000;

export interface EndToEnd {
  messages: number;
  /** Each delivered message's send to receipt, ms, in the order received. */
  latenciesMs: number[];
  /** The largest delay of a send behind its schedule, ms (this process's own lag, not the side's). */
  maxSendLagMs: number;
}

/** The index a value starts with (bench-flow.ts's valuesFor), or -1. */
const indexOf = (value: string) => {
  const i = Number(value.slice(0, 8));
  return Number.isInteger(i) ? i : -1;
};

/**
 * Subscribes to `log` (fresh, empty), then sends `values` one per message at `rate` per second without waiting for
 * acknowledgements (an open model: a slow ack cannot slow the offered rate), and waits until the consumer has them
 * all or has been idle for IDLE_MS. Returns what the consumer received, in order, for the delivery guard.
 */
export async function endToEndPhase(
  side: QueueSide,
  log: string,
  values: readonly string[],
  rate: number,
): Promise<{ run: EndToEnd; delivered: string[] }> {
  const sentAt = new Array<number>(values.length);
  const delivered: string[] = [];
  const latenciesMs: number[] = [];
  let lastArrival = performance.now();
  let allIn: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allIn = resolve;
  });
  const sub = await side.subscribe(log, (value) => {
    const now = performance.now();
    lastArrival = now;
    delivered.push(value);
    const i = indexOf(value);
    if (i >= 0 && sentAt[i] !== undefined) latenciesMs.push(now - sentAt[i]!);
    if (delivered.length >= values.length) allIn();
  });
  try {
    await sleep(SETTLE_MS);
    const acks: Promise<void>[] = [];
    const start = performance.now();
    let maxSendLagMs = 0;
    for (let i = 0; i < values.length; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const now = performance.now();
      maxSendLagMs = Math.max(maxSendLagMs, now - due);
      sentAt[i] = now;
      acks.push(side.produce(log, [values[i]!], '1'));
    }
    await Promise.all(acks);
    lastArrival = Math.max(lastArrival, performance.now());
    const idle = timeLimit(IDLE_MS);
    while (delivered.length < values.length && performance.now() - lastArrival < idle)
      await Promise.race([done, sleep(100)]);
    return { run: { messages: values.length, latenciesMs, maxSendLagMs }, delivered };
  } finally {
    await sub.stop();
  }
}
