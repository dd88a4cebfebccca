// The listing's page boundaries and tokens, and the Range header's forms, without a server.
import { describe, expect, it } from 'vitest';
import { decodeToken, encodeToken, listPage } from './listing.ts';
import type { ObjectRow } from './metadata-store.ts';
import { parseRange } from './object-operations.ts';

const rows = (keys: string[]): ObjectRow[] =>
  keys
    .map((k) => Buffer.from(k))
    .sort(Buffer.compare)
    .map((key, i) => ({ objectId: String(i), key, size: 0, etag: '', lastModified: 0 }));
const source = (all: ObjectRow[]) => async (start: Buffer, limit: number) =>
  all.filter((r) => Buffer.compare(r.key, start) >= 0).slice(0, limit);
const names = (p: Awaited<ReturnType<typeof listPage>>) =>
  p.entries.map((e) => (e.kind === 'object' ? e.row.key.toString() : `P:${e.prefix.toString()}`));

describe('listPage', () => {
  const all = rows(['a', 'b/1', 'b/2', 'b/c/3', 'c', 'd']);
  it('rolls keys up by delimiter and resumes after a common prefix', async () => {
    const first = await listPage(source(all), {
      prefix: Buffer.alloc(0),
      delimiter: Buffer.from('/'),
      maxKeys: 2,
      after: undefined,
    });
    expect(names(first)).toEqual(['a', 'P:b/']);
    const second = await listPage(source(all), {
      prefix: Buffer.alloc(0),
      delimiter: Buffer.from('/'),
      maxKeys: 2,
      after: first.next,
    });
    expect(names(second)).toEqual(['c', 'd']);
    expect(second.next).toBeUndefined();
  });
  it('walks every key once across pages of one, and reads the store in batches', async () => {
    const many = rows(Array.from({ length: 1200 }, (_, i) => `k${String(i).padStart(4, '0')}`));
    const seen: string[] = [];
    let after: { key: Buffer; isPrefix: boolean } | undefined;
    do {
      const page = await listPage(source(many), {
        prefix: Buffer.from('k'),
        delimiter: undefined,
        maxKeys: 1000,
        after,
      });
      seen.push(...names(page));
      after = page.next;
    } while (after);
    expect(seen).toEqual(many.map((r) => r.key.toString()));
  });
  it('round-trips its tokens and refuses others', () => {
    const t = { key: Buffer.from('ü/😀'), isPrefix: true };
    expect(decodeToken(encodeToken(t))).toEqual(t);
    expect(decodeToken('!!')).toBeUndefined();
    expect(decodeToken('Ag')).toBeUndefined();
  });
});

describe('parseRange', () => {
  it('reads the three forms, clamps the end, and refuses a start past the end', () => {
    expect(parseRange('bytes=2-4', 10)).toEqual({ first: 2, last: 4 });
    expect(parseRange('bytes=8-', 10)).toEqual({ first: 8, last: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ first: 7, last: 9 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ first: 5, last: 9 });
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=4-2', 10)).toBeUndefined();
    expect(parseRange('items=1-2', 10)).toBeUndefined();
  });
});
