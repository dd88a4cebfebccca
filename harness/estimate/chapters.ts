// Each chapter's back-of-the-envelope numbers, from the book's inputs to the quantities the chapter's targets name
// (`derive: writesPerSecond` in specs/<slug>/catalog.yaml). A target's value is then a formula over the book's
// figures rather than a number typed in by hand. Adding a chapter is one more entry in `chapterEstimates`.
import { assumptionQuantity, type EstimateSet } from './estimate-set.ts';
import { codeLength, keyspaceSize } from './keyspace.ts';
import { type Quantity, renameInputs } from './quantity.ts';
import { daysIn, multiply, perSecond, storage, totalOver } from './rates.ts';

function urlShortener() {
  const assumptions = {
    urlsPerDay: { value: 100e6, unit: 'URLs/day', book: '100 mil URLs per day' },
    readsPerWrite: { value: 10, unit: 'reads/write', book: 'read-to-write ratio of 10:1' },
    years: { value: 10, unit: 'years', book: 'will run for 10 years' },
    averageUrlLength: { value: 100, unit: 'characters', book: 'Average URL length is 100 characters' },
    bytesPerCharacter: {
      value: 1,
      unit: 'byte/character',
      book: 'ours: ASCII URLs, one byte a character (what makes 365bil records come to 36.5 TB)',
    },
    alphabetSize: { value: 62, unit: 'characters', book: '[0-9a-zA-Z], which gives a max of 62 characters' },
  } as const;
  const a = assumptions;
  const days = daysIn(a.years.value);

  const writesPerSecond = renameInputs(perSecond(a.urlsPerDay.value, 'req/s'), { countPerDay: 'urlsPerDay' });
  const readsPerSecond = renameInputs(multiply(writesPerSecond, a.readsPerWrite.value), {
    base: 'writesPerSecond',
    factor: 'readsPerWrite',
  });
  const recordsIn10Years = renameInputs(totalOver(a.urlsPerDay.value, days, 'records'), {
    countPerDay: 'urlsPerDay',
  });
  const bytesPerRecord: Quantity = {
    value: a.averageUrlLength.value * a.bytesPerCharacter.value,
    unit: 'bytes',
    formula: 'averageUrlLength * bytesPerCharacter',
    inputs: { averageUrlLength: a.averageUrlLength.value, bytesPerCharacter: a.bytesPerCharacter.value },
  };
  const storage10Years = renameInputs(storage(a.urlsPerDay.value, bytesPerRecord.value, days), {
    countPerDay: 'urlsPerDay',
    bytesEach: 'bytesPerRecord',
  });
  const length = renameInputs(codeLength(a.alphabetSize.value, recordsIn10Years.value), {
    records: 'recordsIn10Years',
  });
  const codeCapacity = renameInputs(keyspaceSize(a.alphabetSize.value, length.value), { length: 'codeLength' });

  return {
    slug: '09-url-shortener',
    title: 'URL shortener',
    source: 'Chapter 9, "Back of the envelope calculation" and "Hash value length"',
    assumptions,
    derived: {
      writesPerSecond: {
        quantity: writesPerSecond,
        book: { text: '100 mil URLs per day -> ~1200 URLs per second', value: 1200, sigFigs: 2 },
      },
      readsPerSecond: {
        quantity: readsPerSecond,
        book: { text: '12000 reads per second', value: 12_000, sigFigs: 2 },
      },
      recordsIn10Years: {
        quantity: recordsIn10Years,
        book: { text: 'we need to support 365bil records', value: 365e9, sigFigs: 3 },
      },
      bytesPerRecord: {
        quantity: bytesPerRecord,
        book: { text: 'Average URL length is 100 characters', value: 100 },
        note: 'The URL alone; indexes and row overhead come on top in a real store.',
      },
      storage10Years: {
        quantity: storage10Years,
        book: { text: 'Storage requirements for 10y - 36.5 TB', value: 36.5e12, sigFigs: 3 },
      },
      codeLength: {
        quantity: length,
        book: { text: '62^n >= 365bil -> this results in n=7', value: 7 },
      },
      codeCapacity: {
        quantity: codeCapacity,
        book: { text: 'which can support ~3.5 trillion URLs', value: 3.5e12, sigFigs: 2 },
      },
    },
    notes: [
      'The book rounds 1,157 writes/s up to ~1,200 and reads to 12,000; targets use the unrounded values.',
      'Storage counts 100 bytes a record: the URL only, no index or row overhead.',
    ],
  } satisfies EstimateSet;
}

function uniqueIdGenerator() {
  const assumptions = {
    idsPerSecond: { value: 10_000, unit: 'IDs/s', book: 'We should be able to generate 10,000 IDs per second' },
    timestampBits: { value: 41, unit: 'bits', book: 'Timestamp - 41 bits. Milliseconds since epoch' },
    datacenterBits: { value: 5, unit: 'bits', book: 'Datacenter ID - 5 bits, which enables 32 data centers max' },
    machineBits: { value: 5, unit: 'bits', book: 'Machine ID - 5 bits, which enables 32 machines per data center' },
    sequenceBits: {
      value: 12,
      unit: 'bits',
      book: 'Sequence number ... incremented ... Reset to 0 on every millisecond (12 bits in the figure)',
    },
  } as const;
  const a = assumptions;
  const idsPerMillisecondPerMachine: Quantity = {
    value: 2 ** a.sequenceBits.value,
    unit: 'IDs/ms',
    formula: '2 ^ sequenceBits',
    inputs: { sequenceBits: a.sequenceBits.value },
  };
  const idsPerSecondPerMachine: Quantity = {
    value: 2 ** a.sequenceBits.value * 1000,
    unit: 'IDs/s',
    formula: '2 ^ sequenceBits * msPerSecond',
    inputs: { sequenceBits: a.sequenceBits.value, msPerSecond: 1000 },
  };
  const msPerYear = 365.25 * 86_400_000;
  const timestampYears: Quantity = {
    value: 2 ** a.timestampBits.value / msPerYear,
    unit: 'years',
    formula: '2 ^ timestampBits / msPerYear',
    inputs: { timestampBits: a.timestampBits.value, msPerYear },
  };
  const nodes: Quantity = {
    value: 2 ** (a.datacenterBits.value + a.machineBits.value),
    unit: 'machines',
    formula: '2 ^ (datacenterBits + machineBits)',
    inputs: { datacenterBits: a.datacenterBits.value, machineBits: a.machineBits.value },
  };
  return {
    slug: '08-unique-id-generator',
    title: 'Unique ID generator',
    source: 'Chapter 8, "Understand the problem" and "Twitter snowflake approach"',
    assumptions,
    derived: {
      idsPerMillisecondPerMachine: { quantity: idsPerMillisecondPerMachine },
      idsPerSecondPerMachine: {
        quantity: idsPerSecondPerMachine,
        note: "The layout's physical limit per machine: 4,096 IDs a millisecond, then the generator waits.",
      },
      timestampYears: {
        quantity: timestampYears,
        book: {
          text: 'Allows 69 years max',
          value: 69,
          range: [69, 70],
          reading: '69.7 years, which the book truncates to 69',
        },
      },
      maxMachines: { quantity: nodes, note: '32 data centers x 32 machines.' },
    },
    notes: ['1 + 41 + 5 + 5 + 12 = 64 bits; the sign bit stays 0, so every ID is a positive signed 64-bit integer.'],
  } satisfies EstimateSet;
}

function consistentHashing() {
  const assumptions = {
    keys: { value: 100, unit: 'keys', book: 'For example, K=100, N=10 -> 10 re-mappings' },
    servers: { value: 10, unit: 'servers', book: 'For example, K=100, N=10 -> 10 re-mappings' },
    stdDevAt100VirtualNodes: {
      value: 10,
      unit: '%',
      book: 'between 100-200 virtual nodes leads to a standard deviation between 5-10% (10% at 100)',
    },
    stdDevAt200VirtualNodes: {
      value: 5,
      unit: '%',
      book: 'between 100-200 virtual nodes leads to a standard deviation between 5-10% (5% at 200)',
    },
  } as const;
  const keysMoved: Quantity = {
    value: assumptions.keys.value / assumptions.servers.value,
    unit: 'keys',
    formula: 'keys / servers',
    inputs: { keys: assumptions.keys.value, servers: assumptions.servers.value },
  };
  return {
    slug: '06-consistent-hashing',
    title: 'Consistent hashing',
    source: 'Chapter 6, "Consistent hashing" and "Virtual nodes"',
    assumptions,
    derived: {
      keysMovedOnChange: {
        quantity: keysMoved,
        book: { text: 'K=100, N=10 -> 10 re-mappings', value: 10 },
        note: 'The optimum a change of one server can reach: only K/N keys move (CH-T3 is a ratio to it).',
      },
    },
    notes: ['The standard deviations are of keys per server, as a percentage of the mean (CH-T1, CH-T2).'],
  } satisfies EstimateSet;
}

/** Every chapter with book numbers, by slug. Chapter 05 or 08 later: add `'08-unique-id-generator': idGenerator()`. */
export const chapterEstimates = {
  '08-unique-id-generator': uniqueIdGenerator(),
  '09-url-shortener': urlShortener(),
  '06-consistent-hashing': consistentHashing(),
} as const satisfies Record<string, EstimateSet>;

export type ChapterSlug = keyof typeof chapterEstimates;
export const chapterSlugs = Object.keys(chapterEstimates) as ChapterSlug[];

function isChapterSlug(slug: string): slug is ChapterSlug {
  return Object.hasOwn(chapterEstimates, slug);
}

/** A chapter's estimate set; throws naming the chapters that have one. */
export function getChapterEstimate(slug: string): EstimateSet {
  if (!isChapterSlug(slug)) {
    throw new Error(
      `No back-of-the-envelope estimate for chapter "${slug}". Known chapters: ${chapterSlugs.join(', ')}`,
    );
  }
  return chapterEstimates[slug];
}

/** The names deriveTarget accepts for a chapter: its derived quantities, then its assumptions. */
export function targetNames(slug: string): string[] {
  const set = getChapterEstimate(slug);
  return [...Object.keys(set.derived), ...Object.keys(set.assumptions)];
}

/**
 * The quantity a catalog target names with `derive:`, with the formula and inputs that produced it. A book
 * assumption can be named too (a target that is the book's figure as given). Throws listing the known names.
 */
export function deriveTarget(slug: string, name: string): Quantity {
  const set = getChapterEstimate(slug);
  const derived = Object.hasOwn(set.derived, name) ? set.derived[name] : undefined;
  if (derived) return derived.quantity;
  const assumption = Object.hasOwn(set.assumptions, name) ? set.assumptions[name] : undefined;
  if (assumption) return assumptionQuantity(assumption);
  throw new Error(`Chapter ${slug} has no estimate named "${name}". Known names: ${targetNames(slug).join(', ')}`);
}
