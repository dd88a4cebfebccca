// Writes the four artefacts of a run side by side. Validation comes first: a report built from a document that
// breaks the schema would look plausible and be wrong.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResults } from '../results/types.ts';
import { renderHtml } from './render-html.ts';
import { renderJunit } from './render-junit.ts';
import { renderMarkdown } from './render-markdown.ts';
import { validateResults } from './validate-results.ts';

export interface ReportPaths {
  json: string;
  markdown: string;
  html: string;
  junit: string;
}

export class InvalidResultsError extends Error {
  constructor(readonly errors: string[]) {
    super(`results document does not match run-results.schema.json:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'InvalidResultsError';
  }
}

export async function writeReport(results: RunResults, dir: string): Promise<ReportPaths> {
  const outcome = validateResults(results);
  if (!outcome.ok) throw new InvalidResultsError(outcome.errors);
  const paths: ReportPaths = {
    json: join(dir, 'results.json'),
    markdown: join(dir, 'report.md'),
    html: join(dir, 'report.html'),
    junit: join(dir, 'junit.xml'),
  };
  await mkdir(dir, { recursive: true });
  await Promise.all([
    writeFile(paths.json, `${JSON.stringify(outcome.results, null, 2)}\n`),
    writeFile(paths.markdown, renderMarkdown(outcome.results)),
    writeFile(paths.html, renderHtml(outcome.results)),
    writeFile(paths.junit, renderJunit(outcome.results)),
  ]);
  return paths;
}
