// ListObjectVersions' pages with a delimiter, without a server: common prefixes counted once, a page that ends on
// one resumed after every key under it, and batches of the store read past a common prefix.
import { describe, expect, it } from 'vitest';
import type { VersionRow } from './metadata-store.ts';
import { type VersionsPage, versionsPageOf } from './versions-listing.ts';

/** `key` with `n` versions (seq n..1, newest first), keys in byte order. */
const rows = (spec: [string, number][]): VersionRow[] =>
  spec
    .map(([k, n]) => [Buffer.from(k), n] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]))
    .flatMap(([key, n]) =>
      Array.from({ length: n }, (_, i) => ({
        objectId: `${key}${n - i}`,
        key,
        size: 0,
        etag: '',
        lastModified: 0,
        versionId: `${key}@${n - i}`,
        seq: n - i,
        isMarker: false,
        isLatest: i === 0,
      })),
    );
const source = (all: VersionRow[]) => async (after: { key: Buffer; seq: number }, limit: number) =>
  all
    .filter((r) => Buffer.compare(r.key, after.key) > 0 || (r.key.equals(after.key) && r.seq < after.seq))
    .slice(0, limit);
const names = (p: VersionsPage) =>
  p.entries.map((e) => (e.kind === 'version' ? e.row.versionId : `P:${e.prefix.toString()}`));
const base = { prefix: Buffer.from('d/'), delimiter: Buffer.from('/'), keyMarker: undefined };

describe('versionsPageOf', () => {
  const all = rows([
    ['d/', 2],
    ['d/a/1', 3],
    ['d/a/2', 2],
    ['d/b', 1],
    ['e', 1],
  ]);
  it('rolls every version of a key under a common prefix into it, counted once', async () => {
    const p = await versionsPageOf(source(all), { ...base, maxKeys: 3, after: { key: Buffer.from('d/'), seq: 1e15 } });
    expect(names(p)).toEqual(['d/@2', 'd/@1', 'P:d/a/']);
    expect(p.next?.kind === 'prefix' && p.next.prefix.toString()).toBe('d/a/');
  });
  it('resumes after a common prefix named by key-marker', async () => {
    const marker = Buffer.from('d/a/');
    const p = await versionsPageOf(source(all), {
      ...base,
      maxKeys: 3,
      after: { key: marker, seq: 0 },
      keyMarker: marker,
    });
    expect(names(p)).toEqual(['d/b@1']);
    expect(p.next).toBeUndefined();
  });
  it('reads past a common prefix longer than a batch', async () => {
    const many = rows([
      ['d/x/1', 1200],
      ['d/y', 1],
    ]);
    const p = await versionsPageOf(source(many), { ...base, maxKeys: 2, after: { key: Buffer.from('d/'), seq: 1e15 } });
    expect(names(p)).toEqual(['P:d/x/', 'd/y@1']);
    expect(p.next).toBeUndefined();
  });
});
