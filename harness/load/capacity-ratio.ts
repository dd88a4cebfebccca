// The speed yardstick every chapter uses: an endpoint's closed-loop ceiling against a no-op node:http server's,
// probed alternately in the same run and repeated, with the median of each (bare numbers move 15-25% between runs
// on a shared 2-core machine; a same-run ratio of medians is what we report). The no-op server runs in a process of
// its own, as the implementation does and as the stepped capacity search's yardstick does (noop-process.ts): in
// the harness's process it shared an event loop with k6's output handling, which slowed the yardstick and
// flattered the implementation's ratio.
import { join } from 'node:path';
import type { Measurement } from '../core/grade-target.ts';
import { median, round3 } from '../core/stats.ts';
import { startNoopProcess } from './noop-process.ts';
import { type CapacityResult, type ProbeCapacityOptions, probeCapacity } from './probe-capacity.ts';

export interface CapacityRatioOptions {
  /** What is probed, e.g. "redirect". */
  label: string;
  url: string;
  method?: string;
  body?: string;
  rounds: number;
  probeS: number;
  vus?: number;
  outDir: string;
  k6: string;
  /** Units of work per request (e.g. IDs per batch): the endpoint's rate is multiplied by it. */
  perRequest?: number;
  unit?: string;
  onProgress?: (line: string) => void;
}

export interface CapacityRatio {
  ratio: number;
  endpoint: number;
  ceiling: number;
  errorRate: number;
}

/** What the probes run on; tests pass fakes. */
export interface CapacityRatioIo {
  startNoop: () => Promise<{ url: string; stop(): Promise<void> }>;
  probe: (o: ProbeCapacityOptions) => Promise<Pick<CapacityResult, 'rps' | 'errorRate' | 'badStatusRate'>>;
}

/** The no-op server in a process of its own, probed with k6 (capacity-probe.js). */
export const capacityRatioIo: CapacityRatioIo = { startNoop: () => startNoopProcess(), probe: probeCapacity };

export async function capacityRatio(
  o: CapacityRatioOptions,
  io: CapacityRatioIo = capacityRatioIo,
): Promise<CapacityRatio> {
  o.onProgress?.(
    `capacity probes: no-op server (own process) and ${o.label}, alternating, ${o.rounds} x ${o.probeS} s`,
  );
  const noop = await io.startNoop();
  const ceilings: number[] = [];
  const endpoint: number[] = [];
  let errors = 0;
  try {
    for (let i = 0; i < o.rounds; i++) {
      const common = { durationS: o.probeS, vus: o.vus ?? 32, k6: o.k6 };
      ceilings.push(
        (await io.probe({ ...common, url: `${noop.url}/`, outDir: join(o.outDir, `probe-noop-${i}`) })).rps,
      );
      const r = await io.probe({
        ...common,
        url: o.url,
        ...(o.method ? { method: o.method } : {}),
        ...(o.body !== undefined ? { body: o.body } : {}),
        outDir: join(o.outDir, `probe-${o.label.replace(/\W+/g, '-')}-${i}`),
      });
      endpoint.push(r.rps * (o.perRequest ?? 1));
      errors = Math.max(errors, r.errorRate, r.badStatusRate);
    }
  } finally {
    await noop.stop();
  }
  const ceiling = median(ceilings);
  const rate = median(endpoint);
  return { ratio: round3(rate / ceiling), endpoint: round3(rate), ceiling: round3(ceiling), errorRate: errors };
}

/** The ratio as a target measurement, with the no-op server as its yardstick. */
export function capacityMeasurement(
  c: CapacityRatio,
  o: Pick<CapacityRatioOptions, 'label' | 'rounds' | 'unit'>,
): Measurement {
  return {
    value: c.ratio,
    yardstick: {
      name: 'no-op node:http server in its own process, same machine, same run',
      value: c.ceiling,
      unit: 'req/s',
    },
    conditions: [{ ok: c.errorRate === 0, why: `${o.label} probe requests failed (error rate ${c.errorRate})` }],
    reason: `median of ${o.rounds}: ${o.label} ${c.endpoint} ${o.unit ?? 'req/s'} vs no-op ${c.ceiling} req/s`,
  };
}
