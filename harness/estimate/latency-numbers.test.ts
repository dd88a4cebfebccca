import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { latencyConclusions, latencyNumbers, latencyOf } from './latency-numbers.ts';
import { powersOfTwo } from './power-of-two.ts';

const bookFile = fileURLToPath(new URL('../../../shared/book/chapters/03-back-of-the-envelope.md', import.meta.url));
const nsPer: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6 };

describe('BOE-E5 latency numbers', () => {
  it('BOE-E5 has the book’s thirteen rows in order, in nanoseconds', () => {
    expect(latencyNumbers).toHaveLength(13);
    expect(latencyOf('L1 cache reference').ns).toBe(0.5);
    expect(latencyOf('Main memory reference').ns).toBe(100);
    expect(latencyOf('Read 1mb sequentially from memory').ns).toBe(250_000);
    expect(latencyOf('Round trip within same DC').ns).toBe(500_000);
    expect(latencyOf('Disk seek').ns).toBe(10_000_000);
    expect(latencyOf('Send packet CA->Netherlands->CA').ns).toBe(150_000_000);
  });

  it('BOE-E5 every ns value is the figure the book’s own line states', () => {
    for (const row of latencyNumbers) {
      const figures = [...row.book.matchAll(/([\d,.]+)(ns|us|ms)/g)];
      expect(figures.length).toBeGreaterThan(0);
      for (const [, number, unit] of figures) {
        expect(Number(number!.replaceAll(',', '')) * nsPer[unit!]!).toBe(row.ns);
      }
      expect(row.book.startsWith(`${row.operation} == `)).toBe(true);
    }
  });

  it('BOE-E5 the ordering behind the book’s conclusions holds', () => {
    expect(latencyOf('Read 1mb sequentially from memory').ns).toBeLessThan(
      latencyOf('Read 1mb sequentially from disk').ns,
    );
    expect(latencyOf('Compress 1kb').ns).toBeLessThan(latencyOf('Round trip within same DC').ns);
    expect(latencyConclusions).toContain('Memory is fast, disk is slow');
    expect(() => latencyOf('SSD read')).toThrow(/Known: L1 cache reference/);
  });

  it.skipIf(!existsSync(bookFile))('BOE-E4 BOE-E5 rows match the book’s text verbatim', () => {
    const text = readFileSync(bookFile, 'utf8');
    for (const row of latencyNumbers) expect(text).toContain(` * ${row.book}\n`);
    for (const c of latencyConclusions) expect(text).toContain(` * ${c}\n`);
    for (const p of powersOfTwo) expect(text).toContain(` * ${p.book}\n`);
  });
});
