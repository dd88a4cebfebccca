import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findK6 } from '../tools/k6.ts';
import { type NoopServer, startNoopServer } from './noop-server.ts';
import { probeCapacity } from './probe-capacity.ts';

let k6: string;
let noop: NoopServer;
let dir: string;

beforeAll(async () => {
  k6 = (await findK6({ build: false, onProgress: () => {} })).path;
  noop = await startNoopServer();
  dir = await mkdtemp(join(tmpdir(), 'sdgrade-probe-'));
});

afterAll(async () => {
  await noop?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('probeCapacity measures the no-op server', async () => {
  const r = await probeCapacity({ url: `${noop.url}/`, durationS: 3, vus: 8, outDir: dir, k6 });
  console.log(`no-op server capacity: ${Math.round(r.rps)} req/s, p99 ${r.p99.toFixed(2)} ms (3 s, 8 VUs)`);
  expect(r.rps).toBeGreaterThan(0);
  expect(r.errorRate).toBe(0);
  expect(r.badStatusRate).toBe(0);
  expect(r.p99).toBeGreaterThan(0);
});
