// Compaction without a server: garbage reclaimed, live entries read back exactly, the ratio kept to on the timer's
// passes, and a pass stopped in the middle (as a crash stops it) finished after a restart with nothing lost.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Compactor } from './compaction.ts';
import { DataStore } from './data-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(dir?: string): { dir: string; data: DataStore; compactor: Compactor } {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'sdgrade-25-compaction-'));
  if (!dir) dirs.push(d);
  const data = new DataStore(d, { fileBytes: 64 * 1024, verifyChecksum: true });
  const compactor = new Compactor(data, { intervalMs: 0, garbageRatio: 0.5, batchObjects: 4 }, () => {});
  return { dir: d, data, compactor };
}

const body = (i: number) => Buffer.alloc(1000 + i * 10, i);
const files = (dir: string) => readdirSync(join(dir, 'data')).filter((f) => f.endsWith('.dat'));

describe('compaction', () => {
  it('rewrites a file without its garbage and every live entry reads back exactly', async () => {
    const { dir, data, compactor } = store();
    for (let i = 0; i < 20; i++) data.append(`o${i}`, body(i));
    for (let i = 0; i < 20; i += 2) data.drop(`o${i}`);
    const before = data.usage();
    expect(before).toHaveLength(1);
    const r = await compactor.run({ minRatio: 0 });
    expect(r.done).toBe(true);
    expect(r.batches).toBe(3); // 10 live entries, 4 a batch
    expect(r.reclaimedBytes).toBe(before[0]!.size - before[0]!.live);
    expect(files(dir)).not.toContain(before[0]!.name);
    for (let i = 1; i < 20; i += 2) expect(data.read(`o${i}`).equals(body(i))).toBe(true);
    expect(data.usage().every((f) => f.size === f.live)).toBe(true);
    data.append('new', body(99));
    expect(data.read('new').equals(body(99))).toBe(true);
    data.close();
  });

  it('leaves a file below the garbage ratio to the on-demand pass', async () => {
    const { data, compactor } = store();
    for (let i = 0; i < 10; i++) data.append(`o${i}`, body(i));
    data.drop('o0');
    expect((await compactor.run({ minRatio: 0.5 })).files).toEqual([]);
    expect((await compactor.run({ minRatio: 0 })).files).toHaveLength(1);
    data.close();
  });

  it('loses nothing when stopped after a batch and restarted, and finishes on the next pass', async () => {
    const first = store();
    for (let i = 0; i < 20; i++) first.data.append(`o${i}`, body(i));
    for (let i = 0; i < 20; i += 3) first.data.drop(`o${i}`);
    const stopped = await first.compactor.run({ minRatio: 0, maxBatches: 1 });
    expect(stopped).toMatchObject({ done: false, batches: 1, moved: 4 });
    first.data.close(); // as a kill leaves it: the old file still there, part of its entries moved
    // A file no mapping entry names (an output no batch was mapped into) is removed at start-up.
    writeFileSync(join(first.dir, 'data', '000000.dat'), 'half-made');
    const again = store(first.dir);
    expect(existsSync(join(first.dir, 'data', '000000.dat'))).toBe(false);
    const live = [...Array(20).keys()].filter((i) => i % 3 !== 0);
    for (const i of live) expect(again.data.read(`o${i}`).equals(body(i))).toBe(true);
    expect((await again.compactor.run({ minRatio: 0 })).done).toBe(true);
    for (const i of live) expect(again.data.read(`o${i}`).equals(body(i))).toBe(true);
    expect(again.data.usage().every((f) => f.size === f.live)).toBe(true);
    again.data.close();
  });
});
