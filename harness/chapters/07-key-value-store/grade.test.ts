// Grades the chapter 07 reference the way a user grades theirs: a 3-node cluster from its manifest with the fault
// proxy between every pair of nodes (a short seeded fault schedule: kill -9, pause, partition, latency, a replaced
// node), then by URL (process and network faults skipped with the reason), then every mutant, then the k6 YCSB smoke.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradeChapter } from '../../core/grade-chapter.ts';
import { loadManifest } from '../../core/manifest.ts';
import type { NetworkFaults } from '../../core/network-faults.ts';
import { ProcessTarget } from '../../core/process-target.ts';
import { startNetworkFaults } from '../../faults/network-faults-toxiproxy.ts';
import { findK6 } from '../../tools/k6.ts';
import { findToxiproxy } from '../../tools/toxiproxy.ts';
import {
  describeMutants,
  describeVariants,
  expectMeasuredRatio,
  expectValidResults,
  failures,
  gradeByManifest,
  skipReasons,
  statusLines,
  timeLimit,
} from '../grade-test-kit.ts';
import { findVariant, variantManifest } from '../variants.ts';
import { keyValueStore } from './index.ts';

let network: NetworkFaults;
beforeAll(async () => {
  network = await startNetworkFaults((await findToxiproxy({ build: false })).path);
});
afterAll(async () => {
  await network?.close();
});

const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-07-test-'));
const base = { module: keyValueStore, runDir, runSeed: 42, numRuns: 8, load: null, onProgress: () => {} } as const;

describe('07-key-value-store reference', () => {
  it(
    'passes every check on a 3-node cluster by manifest, and every fault bit',
    async () => {
      const r = await gradeByManifest({ ...base, target: { manifest: keyValueStore.referenceManifest }, network });
      expect(failures(r)).toEqual([]);
      expect(statusLines(r), skipReasons(r)).toEqual(keyValueStore.catalog.checks.map((c) => `${c.id} pass`));
      const ev = (id: string) => r.checks.find((c) => c.id === id)!.evidence as Record<string, unknown>;
      const schedules = ev('KV-I1').schedules as { schedule: { fault: string }[]; acknowledged: number }[];
      expect(schedules.length).toBeGreaterThanOrEqual(2);
      expect(new Set(schedules.flatMap((s) => s.schedule.map((f) => f.fault)))).toEqual(
        new Set(['kill', 'pause', 'partition', 'latency']),
      );
      for (const s of schedules) expect(s.acknowledged).toBeGreaterThan(0);
      expect(ev('KV-I4').keysMissingOnReplacement).toBeGreaterThan(0);
      expect(ev('KV-F3').hintsPendingDuringPartition).toBeGreaterThan(0);
      expect((ev('KV-F3').hintHolderRestarted as { hintsBefore: number }).hintsBefore).toBeGreaterThan(0);
      expect(ev('KV-I2').slowLinks).toMatch(/\+300 ms/);
    },
    timeLimit(240_000),
  );

  it(
    'passes by URL, and reports the process-level and network faults as skipped (never passed)',
    async () => {
      const started = await ProcessTarget.start({
        manifest: loadManifest(keyValueStore.referenceManifest),
        runDir: join(runDir, 'by-url'),
      });
      try {
        const r = await gradeChapter({
          ...base,
          network: null,
          target: { url: started.baseUrl },
          only: ['KV-C1', 'KV-C2', 'KV-C4', 'KV-C5', 'KV-C6', 'KV-I3', 'KV-I1', 'KV-I4', 'KV-I5', 'KV-F1', 'KV-F3'],
        });
        expect(failures(r)).toEqual([]);
        for (const id of ['KV-I1', 'KV-I4', 'KV-I5', 'KV-F1', 'KV-F3']) {
          const c = r.checks.find((x) => x.id === id)!;
          expect(c.status, id).toBe('skipped');
          expect(c.reason, id).toMatch(/manifest/);
        }
      } finally {
        await started.close();
      }
    },
    timeLimit(60_000),
  );

  it(
    'passes on 4 nodes with N=3: forwarding by non-replicas, sloppy quorum with a stand-in node, per-key replicas',
    async () => {
      const r = await gradeChapter({
        ...base,
        target: { manifest: variantManifest(keyValueStore, findVariant(keyValueStore, 'four-nodes')) },
        network,
        only: ['KV-C3', 'KV-C4', 'KV-I3', 'KV-I4', 'KV-F2', 'KV-F3'],
      });
      expect(failures(r)).toEqual([]);
      // A W=3 write with a replica paused is acknowledged: the fourth node stood in for it.
      expect(r.checks.find((c) => c.id === 'KV-F2')!.evidence?.w3Answer).toBe(200);
    },
    timeLimit(90_000),
  );

  describeMutants(keyValueStore, { numRuns: 8, mutantTimeoutMs: 120_000 });
  // four-nodes: every check passes on a cluster larger than N, where non-replicas forward (KV-C1 checks the quorum).
  describeVariants(keyValueStore, {
    base: {
      ...base,
      get network() {
        return network;
      },
    },
    timeoutMs: 240_000,
    mustPass: ['KV-C1', 'KV-F2'],
  });

  it(
    'runs the k6 YCSB smoke profile and maps it into valid results with every load target',
    async () => {
      const k6 = await findK6({ build: false });
      const r = await gradeChapter({
        ...base,
        network: null,
        target: { manifest: keyValueStore.referenceManifest },
        only: ['KV-C5'],
        load: 'smoke',
        k6: { path: k6.path, version: k6.version },
      });
      expect(r.load?.scenarios.map((s) => s.name)).toEqual(['ycsb_a', 'ycsb_b', 'ycsb_c', 'ycsb_d', 'ycsb_f']);
      for (const s of r.load!.scenarios) {
        expect(s.rps, s.name).toBeGreaterThan(0);
        expectMeasuredRatio(s.errorRate, s.name);
      }
      const byId = Object.fromEntries(r.targets.map((t) => [t.id, t]));
      for (const id of ['KV-T1', 'KV-T2', 'KV-T3', 'KV-T4', 'KV-T5', 'KV-T6', 'KV-T7', 'KV-T8'])
        expect(byId[id], id).toBeTruthy();
      expectMeasuredRatio(byId['KV-T7']!.value, 'KV-T7');
      expect(byId['KV-T8']!.yardstick?.value).toBeGreaterThan(0);
      // Capacity per node within KV-T6, searched side by side with the no-op server; the book gives no rate.
      expect(r.load?.capacity?.map((c) => [c.target, c.latency.id, c.bookRate, c.nodesNeeded])).toEqual([
        ['KV-T6', 'KV-T6', 0, null],
      ]);
      for (const c of r.load!.capacity!) expect(c.steps?.length && c.yardstickSteps?.length).toBeGreaterThan(0);
      expectValidResults(r, k6.version);
    },
    timeLimit(210_000),
  );
});
