// When a saved run's verdicts may be reused by --resume: only for the same sample, graded by the same code.
import { describe, expect, it } from 'vitest';
import { type Checkpoint, checkpointFile, gradingPaths, type RunIdentity, whyNotResumable } from './checkpoint.ts';
import { headCommit } from './recorded-score.ts';

const identity: RunIdentity = {
  chapter: '06-consistent-hashing',
  seed: 7,
  sample: 40,
  files: ['reference/06-consistent-hashing/ring.ts'],
  variants: ['default'],
  runs: 15,
  realDeps: false,
};

describe('--resume checkpoints', () => {
  it('names the partial file beside the run file', () => {
    expect(checkpointFile('/r/mutate/06-consistent-hashing-seed7.json')).toBe(
      '/r/mutate/06-consistent-hashing-seed7.partial.json',
    );
  });

  it('refuses another sample: seed, size, files, variants, runs or real services', () => {
    const c: Checkpoint = { ...identity, commit: 'HEAD', measuredAt: '2026-12-06', mutants: [] };
    expect(whyNotResumable(c, { ...identity, seed: 8 })).toMatch(/its seed was 7, this run's is 8/);
    expect(whyNotResumable(c, { ...identity, sample: 20 })).toMatch(/its sample was 40/);
    expect(whyNotResumable(c, { ...identity, variants: ['default', 'maglev'] })).toMatch(/its variants/);
    expect(whyNotResumable(c, { ...identity, realDeps: true })).toMatch(/its realDeps/);
  });

  it('refuses a commit this repository does not have, and one before a change to the grading paths', () => {
    const c: Checkpoint = { ...identity, commit: 'f'.repeat(40), measuredAt: '2026-12-06', mutants: [] };
    const why = whyNotResumable(c, identity);
    // a checkout with uncommitted changes there says that first; otherwise the unknown commit
    expect(why).toMatch(/not in this repository|uncommitted changes/);
    // the chapter's first commit: its reference has changed since
    const head = headCommit();
    if (head) {
      const old: Checkpoint = { ...c, commit: 'HEAD~300' };
      expect(whyNotResumable(old, identity)).toMatch(
        /changed since its commit|uncommitted changes|not in this repository/,
      );
    }
  });

  it("covers the chapter's code, the kit, the harness and the pins, but not the judgments and the recorded score", () => {
    const p = gradingPaths('06-consistent-hashing');
    expect(p).toEqual(expect.arrayContaining(['reference/06-consistent-hashing', 'reference/kit', 'harness']));
    expect(p).toContain(':(exclude)specs/06-consistent-hashing/mutate-equivalent.yaml');
    // another chapter's checks are not this run's
    expect(p).toContain(':(exclude)harness/chapters/07-key-value-store');
    expect(p).not.toContain(':(exclude)harness/chapters/06-consistent-hashing');
  });
});
