import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResults } from '../results/types.ts';
import { loadFixture } from './test-support.ts';
import { InvalidResultsError, writeReport } from './write-report.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sdgrade-report-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('writeReport', () => {
  it('writes results.json, report.md, report.html and junit.xml into a new directory', async () => {
    const dir = join(await tempDir(), 'nested', 'run');
    const paths = await writeReport(loadFixture('sample-run'), dir);
    expect(paths).toEqual({
      json: join(dir, 'results.json'),
      markdown: join(dir, 'report.md'),
      html: join(dir, 'report.html'),
      junit: join(dir, 'junit.xml'),
    });
    expect(JSON.parse(await readFile(paths.json, 'utf8'))).toEqual(loadFixture('sample-run'));
    expect(await readFile(paths.markdown, 'utf8')).toMatch(/^# sdgrade run /);
    expect(await readFile(paths.html, 'utf8')).toMatch(/^<!doctype html>/);
    expect(await readFile(paths.junit, 'utf8')).toMatch(/^<\?xml /);
  });

  it('refuses an invalid document, listing the violations, and writes nothing', async () => {
    const dir = join(await tempDir(), 'out');
    const bad = loadFixture('sample-run') as unknown as Record<string, unknown>;
    bad['schemaVersion'] = 2;
    delete bad['environment'];
    const attempt = writeReport(bad as unknown as RunResults, dir);
    await expect(attempt).rejects.toBeInstanceOf(InvalidResultsError);
    await expect(attempt).rejects.toThrow(
      /does not match run-results.schema.json:\n {2}- \(document\): must have required property 'environment'\n {2}- \/schemaVersion: must be equal to constant \(1\)/,
    );
    await expect(readFile(join(dir, 'results.json'))).rejects.toThrow(/ENOENT/);
  });
});
