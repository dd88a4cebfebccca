// The storage engine's write and read paths: recovery from the commit log after a crash, reads across flushed
// SSTables and compactions, and the Bloom filter keeping misses off the disk.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Version } from '../clock.ts';
import { BloomFilter } from './bloom.ts';
import { StorageEngine } from './engine.ts';

const ver = (i: number, value = `v${i}`): Version => ({
  value,
  dot: `a:${i}`,
  past: { vv: { a: i - 1 }, dots: [] },
  ts: 0,
});

describe('storage engine', () => {
  it('recovers every applied write from the commit log when the process dies without closing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kv-engine-'));
    const e = new StorageEngine({ dir });
    for (let i = 1; i <= 100; i++) e.apply(`k${i % 10}`, ver(i));
    // No close(): what a kill -9 leaves behind.
    const again = new StorageEngine({ dir });
    for (let k = 0; k < 10; k++)
      expect(again.get(`k${k}`)?.map((v) => v.dot)).toEqual([`a:${90 + (k === 0 ? 10 : k)}`]);
    again.close();
  });

  it('reads through flushes and compactions, newest record wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kv-engine-'));
    const e = new StorageEngine({ dir, memtableBytes: 4096, maxTables: 3 });
    for (let i = 1; i <= 2000; i++) e.apply(`k${i % 97}`, ver(i));
    const s = e.engineStats();
    expect(s.flushes).toBeGreaterThan(3);
    expect(s.compactions).toBeGreaterThan(0);
    expect(e.get('k5')?.[0]?.dot).toBe('a:1945');
    expect(e.writeAmplification()).toBeGreaterThan(1);
    e.close();
    const reopened = new StorageEngine({ dir });
    expect(reopened.get('k5')?.[0]?.dot).toBe('a:1945');
    reopened.close();
  });

  it('has about 1% false positives at 10 bits per key, and no false negatives', () => {
    const b = BloomFilter.forKeys(10_000);
    for (let i = 0; i < 10_000; i++) b.add(`key${i}`);
    for (let i = 0; i < 10_000; i++) expect(b.mightContain(`key${i}`)).toBe(true);
    let fp = 0;
    for (let i = 0; i < 10_000; i++) if (b.mightContain(`other${i}`)) fp++;
    expect(fp / 10_000).toBeLessThan(0.03);
  });
});
