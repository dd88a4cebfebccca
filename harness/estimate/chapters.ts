// Each chapter's back-of-the-envelope numbers, from the book's inputs to the quantities the chapter's targets name
// (`derive: writesPerSecond` in specs/<slug>/catalog.yaml). A target's value is then a formula over the book's
// figures rather than a number typed in by hand. Adding a chapter is one more entry in `chapterEstimates`.
import { assumptionQuantity, type EstimateSet } from './estimate-set.ts';
import { codeLength, keyspaceSize } from './keyspace.ts';
import { type Quantity, renameInputs } from './quantity.ts';
import { daysIn, multiply, perSecond, SECONDS_PER_DAY, storage, totalOver } from './rates.ts';

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

function s3ObjectStorage() {
  const assumptions = {
    capacityMb: { value: 1e11, unit: 'MB', book: 'Given 100PB of storage (10^11 MB)' },
    usage: { value: 0.4, unit: 'ratio', book: '40% of storage usage' },
    yearsToFill: { value: 1, unit: 'years', book: 'How much data do we store in a year? 100 petabytes' },
    smallShare: { value: 0.2, unit: 'ratio', book: 'we have 20% small (less than 1mb)' },
    midShare: { value: 0.6, unit: 'ratio', book: '60% mid-size (1-64mb)' },
    largeShare: { value: 0.2, unit: 'ratio', book: '20% large objects (greater than 64mb)' },
    smallMedianMb: { value: 0.5, unit: 'MB', book: 'median size per object type ... 0.5mb for small' },
    midMedianMb: { value: 32, unit: 'MB', book: '32mb for medium' },
    largeMedianMb: { value: 200, unit: 'MB', book: '200mb for large' },
    metadataBytes: { value: 1000, unit: 'bytes', book: 'If we assume metadata is 1kb' },
    readShare: { value: 0.95, unit: 'ratio', book: 'According to some Linkedin research, 95% of operations are reads' },
  } as const;
  const a = assumptions;
  const secondsPerYear = 365 * SECONDS_PER_DAY;
  const averageObjectMb: Quantity = {
    value:
      a.smallShare.value * a.smallMedianMb.value +
      a.midShare.value * a.midMedianMb.value +
      a.largeShare.value * a.largeMedianMb.value,
    unit: 'MB',
    formula: 'smallShare * smallMedianMb + midShare * midMedianMb + largeShare * largeMedianMb',
    inputs: {
      smallShare: a.smallShare.value,
      smallMedianMb: a.smallMedianMb.value,
      midShare: a.midShare.value,
      midMedianMb: a.midMedianMb.value,
      largeShare: a.largeShare.value,
      largeMedianMb: a.largeMedianMb.value,
    },
  };
  const objects: Quantity = {
    value: (a.capacityMb.value * a.usage.value) / averageObjectMb.value,
    unit: 'objects',
    formula: 'capacityMb * usage / averageObjectMb',
    inputs: { capacityMb: a.capacityMb.value, usage: a.usage.value, averageObjectMb: averageObjectMb.value },
  };
  const metadataTotal: Quantity = {
    value: objects.value * a.metadataBytes.value,
    unit: 'bytes',
    formula: 'objects * metadataBytes',
    inputs: { objects: objects.value, metadataBytes: a.metadataBytes.value },
  };
  const objectsWrittenPerSecond: Quantity = {
    value: objects.value / (a.yearsToFill.value * secondsPerYear),
    unit: 'req/s',
    formula: 'objects / (yearsToFill * secondsPerYear)',
    inputs: { objects: objects.value, yearsToFill: a.yearsToFill.value, secondsPerYear },
  };
  const smallPutsPerSecond: Quantity = {
    value: objectsWrittenPerSecond.value * a.smallShare.value,
    unit: 'req/s',
    formula: 'objectsWrittenPerSecond * smallShare',
    inputs: { objectsWrittenPerSecond: objectsWrittenPerSecond.value, smallShare: a.smallShare.value },
  };
  const readsPerWrite = a.readShare.value / (1 - a.readShare.value);
  const smallGetsPerSecond: Quantity = {
    value: smallPutsPerSecond.value * readsPerWrite,
    unit: 'req/s',
    formula: 'smallPutsPerSecond * readShare / (1 - readShare)',
    inputs: { smallPutsPerSecond: smallPutsPerSecond.value, readShare: a.readShare.value },
  };
  return {
    slug: '25-s3-object-storage',
    title: 'S3-like object storage',
    source: 'Chapter 25, "Back-of-the-envelope estimation" and "Object storage properties"',
    assumptions,
    derived: {
      averageObjectMb: { quantity: averageObjectMb },
      objects: {
        quantity: objects,
        book: {
          text: '100PB of storage ... and 40% of storage usage results in 0.68bil objects',
          value: 0.68e9,
          range: [0.67e9, 0.68e9],
          reading: '4 x 10^10 MB / 59.3 MB is 0.6745 billion: the book rounds it up to 0.68, not to 0.67',
        },
      },
      metadataTotal: {
        quantity: metadataTotal,
        book: {
          text: 'we need 0.68tb space to store metadata info',
          value: 0.68e12,
          range: [0.67e12, 0.68e12],
          reading: '0.6745 billion objects x 1 KB; rounded up as the object count is',
        },
      },
      objectsWrittenPerSecond: {
        quantity: objectsWrittenPerSecond,
        note: 'Ours: the book gives no rate; its objects, written over the year the interviewer names.',
      },
      smallPutsPerSecond: {
        quantity: smallPutsPerSecond,
        note: 'The small objects (< 1 MB) among them: the load test PUTs 0.5 MiB objects at this rate (SOS-T1).',
      },
      smallGetsPerSecond: {
        quantity: smallGetsPerSecond,
        note: '95% of operations are reads: 19 reads a write (SOS-T2).',
      },
    },
    notes: [
      'The book sizes storage and metadata, not traffic; the rates are its object count spread over one year.',
      'Reads are assumed to fall on small objects in the same share as writes.',
    ],
  } satisfies EstimateSet;
}

/** Every chapter with book numbers, by slug. Chapter 05 or 08 later: add `'08-unique-id-generator': idGenerator()`. */
export const chapterEstimates = {
  '08-unique-id-generator': uniqueIdGenerator(),
  '09-url-shortener': urlShortener(),
  '06-consistent-hashing': consistentHashing(),
  '25-s3-object-storage': s3ObjectStorage(),
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
