import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { matchesBook } from './book-figure.ts';
import { chapterEstimates, chapterSlugs, deriveTarget, getChapterEstimate, targetNames } from './chapters.ts';

const specsDir = fileURLToPath(new URL('../../specs/', import.meta.url));

describe('09-url-shortener estimate', () => {
  const slug = '09-url-shortener';

  it('derives ~1,160 writes/s and ~11,600 reads/s (book: ~1200 and 12000)', () => {
    const writes = deriveTarget(slug, 'writesPerSecond');
    expect(writes.value).toBeCloseTo(1157.407, 3);
    expect(writes.unit).toBe('req/s');
    expect(writes.formula).toBe('urlsPerDay / secondsPerDay');
    expect(writes.inputs).toEqual({ urlsPerDay: 100e6, secondsPerDay: 86_400 });
    const reads = deriveTarget(slug, 'readsPerSecond');
    expect(reads.value).toBeCloseTo(11_574.07, 2);
    expect(reads.formula).toBe('writesPerSecond * readsPerWrite');
  });

  it('derives 365 billion records, 100 bytes each, 36.5 TB in 10 years', () => {
    expect(deriveTarget(slug, 'recordsIn10Years').value).toBe(365e9);
    expect(deriveTarget(slug, 'bytesPerRecord')).toMatchObject({ value: 100, unit: 'bytes' });
    expect(deriveTarget(slug, 'storage10Years').value).toBe(36.5e12);
  });

  it('derives a 7-character code covering about 3.5 trillion URLs', () => {
    expect(deriveTarget(slug, 'codeLength').value).toBe(7);
    expect(deriveTarget(slug, 'codeCapacity').value).toBe(3_521_614_606_208);
  });

  it('agrees with every figure the book prints, within its rounding', () => {
    for (const [name, entry] of Object.entries(getChapterEstimate(slug).derived)) {
      if (entry.book) expect(matchesBook(entry.quantity.value, entry.book), name).toBe(true);
    }
  });

  it('gives a book assumption as a quantity too', () => {
    expect(deriveTarget(slug, 'urlsPerDay')).toMatchObject({ value: 100e6, unit: 'URLs/day' });
    expect(deriveTarget(slug, 'urlsPerDay').formula).toContain('100 mil URLs per day');
  });
});

describe('25-s3-object-storage estimate', () => {
  const slug = '25-s3-object-storage';

  it("derives the book's 0.68 billion objects and 0.68 TB of metadata, within its rounding", () => {
    expect(deriveTarget(slug, 'averageObjectMb').value).toBeCloseTo(59.3, 9);
    for (const [name, entry] of Object.entries(getChapterEstimate(slug).derived)) {
      if (entry.book) expect(matchesBook(entry.quantity.value, entry.book), name).toBe(true);
    }
  });

  it('derives 4.28 small-object PUTs/s (the objects over a year, 20% small) and 19 GETs for each', () => {
    const puts = deriveTarget(slug, 'smallPutsPerSecond');
    expect(puts.value).toBeCloseTo(4.278, 3);
    expect(puts.formula).toBe('objectsWrittenPerSecond * smallShare');
    expect(deriveTarget(slug, 'smallGetsPerSecond').value).toBeCloseTo(puts.value * 19, 9);
  });
});

describe('deriveTarget errors', () => {
  it('names the known estimates for an unknown name', () => {
    expect(() => deriveTarget('09-url-shortener', 'writesPerMinute')).toThrow(
      /no estimate named "writesPerMinute"\. Known names: writesPerSecond, readsPerSecond, /,
    );
    expect(targetNames('09-url-shortener')).toContain('bytesPerRecord');
  });

  it('names the known chapters for an unknown chapter', () => {
    expect(() => getChapterEstimate('99-nope')).toThrow(/Known chapters: .*09-url-shortener/);
    expect(() => deriveTarget('toString', 'x')).toThrow(/No back-of-the-envelope estimate/);
    expect(chapterSlugs).toEqual(Object.keys(chapterEstimates));
  });
});

describe('catalog targets resolve', () => {
  // Every `derive:` in any chapter's catalog.yaml must name an estimate here, in the target's unit.
  const catalogs = readdirSync(specsDir)
    .filter((d) => /^\d\d-/.test(d) && existsSync(`${specsDir}${d}/catalog.yaml`))
    .map(
      (d) =>
        parse(readFileSync(`${specsDir}${d}/catalog.yaml`, 'utf8')) as {
          chapter: string;
          targets?: { id: string; derive?: string; unit: string }[];
        },
    );

  it('every derive: names a quantity in the target’s unit', () => {
    const derived = catalogs.flatMap((c) => (c.targets ?? []).filter((t) => t.derive).map((t) => ({ c, t })));
    expect(derived.length).toBeGreaterThan(0);
    for (const { c, t } of derived) {
      expect(deriveTarget(c.chapter, t.derive!).unit, t.id).toBe(t.unit);
    }
  });
});
