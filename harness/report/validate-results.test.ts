import { describe, expect, it } from 'vitest';
import { loadFixture } from './test-support.ts';
import { validateResults } from './validate-results.ts';

describe('validateResults', () => {
  it('accepts both sample fixtures', () => {
    for (const name of ['sample-run', 'sample-run-regressed'] as const) {
      const outcome = validateResults(loadFixture(name));
      expect(outcome.ok ? [] : outcome.errors).toEqual([]);
    }
  });

  it('returns the document typed when it is valid', () => {
    const outcome = validateResults(loadFixture('sample-run'));
    expect(outcome.ok && outcome.results.chapters[0]?.chapter).toBe('09-url-shortener');
  });

  it('rejects a broken document and says where, listing every violation', () => {
    const doc = loadFixture('sample-run') as unknown as Record<string, unknown> & {
      chapters: Record<string, unknown>[];
    };
    delete doc['summary'];
    doc['startedAt'] = 'yesterday';
    doc['extra'] = true;
    const chapter = doc.chapters[0] as { checks: Record<string, unknown>[] };
    chapter.checks[0]!['status'] = 'passed';
    chapter.checks[1]!['id'] = 'url-c2';
    const outcome = validateResults(doc);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    const text = outcome.errors.join('\n');
    expect(text).toMatch(/\(document\): must have required property 'summary'/);
    expect(text).toMatch(/\/startedAt: must match format "date-time"/);
    expect(text).toMatch(/must NOT have additional properties \(extra\)/);
    expect(text).toMatch(
      /\/chapters\/0\/checks\/0\/status: must be equal to one of the allowed values \(pass, fail, skipped, error\)/,
    );
    expect(text).toMatch(/\/chapters\/0\/checks\/1\/id: must match pattern/);
  });

  it('rejects things that are not documents at all', () => {
    expect(validateResults(null).ok).toBe(false);
    expect(validateResults('{}').ok).toBe(false);
    expect(validateResults({ schemaVersion: 2 }).ok).toBe(false);
  });
});
