// --fail-fast: the first failed check stops the run; the rest are reported skipped with that reason, never passed.
import { describe, expect, it } from 'vitest';
import type { ChapterModule } from '../chapters/chapter-module.ts';
import type { Catalog } from './catalog.ts';
import type { ExchangeValidator } from './exchange-validator.ts';
import { runChecks } from './run-checks.ts';
import { UrlTarget } from './url-target.ts';

const catalog: Catalog = {
  chapter: '99-fake',
  title: 'fake',
  book: 'none',
  idPrefix: 'FK',
  checks: [
    { id: 'FK-C1', kind: 'conformance', title: 'passes', covers: [] },
    { id: 'FK-C2', kind: 'conformance', title: 'fails', covers: [] },
    { id: 'FK-I1', kind: 'property', title: 'would pass', covers: [] },
  ],
  targets: [],
};
const ran: string[] = [];
const module = {
  slug: '99-fake',
  catalog,
  specFile: '',
  referenceManifest: '',
  mutants: [],
  checks: {
    'FK-C1': async () => void ran.push('FK-C1'),
    'FK-C2': async (ctx) => {
      ran.push('FK-C2');
      ctx.fail('broken on purpose');
    },
    'FK-I1': async () => void ran.push('FK-I1'),
  },
} as ChapterModule;

describe('runChecks --fail-fast', () => {
  it('stops at the first failure and reports the rest skipped with the reason', async () => {
    const base = {
      module,
      target: new UrlTarget('http://127.0.0.1:9', 'fake'),
      validator: {} as ExchangeValidator,
      network: null,
      runSeed: 1,
      numRuns: 1,
      onProgress: () => {},
    };
    ran.length = 0;
    const r = (await runChecks({ ...base, failFast: true })).checks;
    expect(ran).toEqual(['FK-C1', 'FK-C2']);
    expect(r.map((c) => c.status)).toEqual(['pass', 'fail', 'skipped']);
    expect(r[2]?.reason).toMatch(/--fail-fast after FK-C2 failed/);
    ran.length = 0;
    const all = (await runChecks(base)).checks;
    expect(ran).toEqual(['FK-C1', 'FK-C2', 'FK-I1']);
    expect(all.map((c) => c.status)).toEqual(['pass', 'fail', 'pass']);
  });
});
