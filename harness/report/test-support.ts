// Fixture loading for the report tests: each call returns a fresh copy, so a test can mutate it freely.
import { readFileSync } from 'node:fs';
import type { RunResults } from '../results/types.ts';

export type FixtureName = 'sample-run' | 'sample-run-regressed';

export function loadFixture(name: FixtureName): RunResults {
  const url = new URL(`../../fixtures/results/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as RunResults;
}

/** A run whose only chapter has no load section and no targets: the sparse case renderers must survive. */
export function sparseRun(): RunResults {
  const run = loadFixture('sample-run');
  const chapter = run.chapters[0]!;
  delete chapter.load;
  chapter.targets = [];
  chapter.checks = chapter.checks.slice(0, 2);
  chapter.counts = { pass: 2, fail: 0, skipped: 0, error: 0 };
  run.summary = { ...chapter.counts };
  return run;
}

export const XSS = '<script>alert("x")</script> & <img src=x onerror=alert(1)> | pipe';
