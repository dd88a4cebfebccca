// Unit tests of the ring library (what chapter 07 imports) and of the alternatives behind the ALGORITHM option.
import { describe, expect, it } from 'vitest';
import { ALGORITHMS, createPlacement, loadStdDevPercent, ModuloPlacement } from './algorithms.ts';
import { HASH_SPACE, hash48 } from './hash.ts';
import { jumpBucket } from './jump.ts';
import { HashRing } from './ring.ts';

const keys = Array.from({ length: 20_000 }, (_, i) => `key-${i}`);

describe('hash48', () => {
  it('is the first 48 bits of SHA-256, stable and within the space', () => {
    // SHA-256("abc") = ba7816bf8f01cfea...
    expect(hash48('abc')).toBe(0xba7816bf8f01);
    for (const k of keys.slice(0, 100)) expect(hash48(k)).toBeLessThan(HASH_SPACE);
  });
});

describe('HashRing', () => {
  it('maps a key to the first virtual node clockwise, wrapping past the top', () => {
    // A tiny ring with a hash we control: points at 100 and 200.
    const ring = new HashRing({ virtualNodes: 1, hash: (s) => ({ 'a#0': 100, 'b#0': 200 })[s] ?? Number(s) });
    ring.set('a').set('b');
    expect(ring.owner('50')).toBe('a');
    expect(ring.owner('100')).toBe('a');
    expect(ring.owner('150')).toBe('b');
    expect(ring.owner('250')).toBe('a'); // past the last point: round to the first
    expect(ring.owners('250', 5)).toEqual(['a', 'b']);
  });

  it('does not depend on the order servers join', () => {
    const a = new HashRing().set('s1').set('s2').set('s3', 2);
    const b = new HashRing().set('s3', 2).set('s1').set('s2');
    for (const k of keys.slice(0, 2000)) expect(a.owners(k, 3)).toEqual(b.owners(k, 3));
  });

  it('moves only the keys of the server that changed', () => {
    const ring = new HashRing();
    for (let s = 0; s < 8; s++) ring.set(`s${s}`);
    const before = keys.map((k) => ring.owner(k));
    ring.set('new');
    const added = keys.map((k) => ring.owner(k));
    let moved = 0;
    for (let i = 0; i < keys.length; i++)
      if (added[i] !== before[i]) {
        expect(added[i]).toBe('new');
        moved++;
      }
    expect(moved / (keys.length / 9)).toBeGreaterThan(0.7);
    expect(moved / (keys.length / 9)).toBeLessThan(1.3);
    ring.remove('new');
    expect(keys.map((k) => ring.owner(k))).toEqual(before);
  });

  it('gives distinct physical replicas and respects weights', () => {
    const ring = new HashRing().set('a').set('b', 3);
    for (const k of keys.slice(0, 500)) expect(new Set(ring.owners(k, 2)).size).toBe(2);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(ring.owner(k)!, (counts.get(ring.owner(k)!) ?? 0) + 1);
    expect(counts.get('b')! / keys.length).toBeGreaterThan(0.65);
    expect(counts.get('b')! / keys.length).toBeLessThan(0.85);
    const shares = [...ring.spaceShares().values()];
    expect(shares.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
  });

  it('has an empty ring with no owner', () => {
    expect(new HashRing().owner('x')).toBeUndefined();
    expect(new HashRing().owners('x', 3)).toEqual([]);
  });
});

describe('alternatives behind ALGORITHM', () => {
  it.each(ALGORITHMS)('%s places every key on a member, with distinct replicas, evenly', (name) => {
    const p = createPlacement(name);
    for (let s = 0; s < 6; s++) p.set(`s${s}`);
    const counts = new Map<string, number>();
    for (const k of keys) {
      const o = p.owner(k)!;
      expect(p.has(o)).toBe(true);
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    for (const k of keys.slice(0, 200)) {
      const r = p.owners(k, 3);
      expect(new Set(r).size).toBe(3);
      expect(r[0]).toBe(p.owner(k));
    }
    expect(loadStdDevPercent(counts, new Map(p.members().map((m) => [m.id, m.weight])))).toBeLessThan(15);
  });

  it('jump hash keeps keys when a bucket is appended, and only moves keys to the new bucket', () => {
    for (const k of keys.slice(0, 1000)) {
      const h = hash48(k);
      const b10 = jumpBucket(h, 10);
      const b11 = jumpBucket(h, 11);
      expect(b11 === b10 || b11 === 10).toBe(true);
    }
  });

  it('modulo hashing (the rehashing problem) moves most keys on a change', () => {
    const p = new ModuloPlacement();
    for (let s = 0; s < 10; s++) p.set(`s${s}`);
    const before = keys.map((k) => p.owner(k));
    p.set('s10');
    const moved = keys.filter((k, i) => p.owner(k) !== before[i]).length;
    expect(moved / keys.length).toBeGreaterThan(0.8);
  });
});
