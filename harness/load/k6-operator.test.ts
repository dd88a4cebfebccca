// The k6 Operator bundle for chapter 09: a real `k6 archive` of the script (with what it opens), a TestRun with
// parallelism, a ConfigMap holding the archive, and the description grade-load reads back.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadDir } from '../core/paths.ts';
import { timeLimit } from '../core/time-scale.ts';
import { findK6 } from '../tools/k6.ts';
import { readLoadManifest } from './chapter-k6.ts';
import { type Emitted, emitK6Operator, RUNNER_ARGUMENTS } from './k6-operator.ts';

let dir: string;
let emitted: Emitted;

beforeAll(async () => {
  const k6 = await findK6({ build: false, onProgress: () => {} });
  dir = await mkdtemp(join(tmpdir(), 'sdgrade-operator-'));
  emitted = await emitK6Operator({
    chapter: '09-url-shortener',
    script: join(loadDir, '09-url-shortener.js'),
    env: { TARGET_URL: 'http://shortener.default.svc:8090', PROFILE: 'full' },
    profile: 'full',
    parallelism: 4,
    outDir: dir,
    k6: k6.path,
    k6Version: k6.version,
  });
}, timeLimit(60_000));

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('emitK6Operator', () => {
  it('writes a TestRun with parallelism whose runners write raw samples to stdout', () => {
    const doc = parse(readFileSync(emitted.testRun, 'utf8'));
    expect(doc).toEqual({
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name: 'sdgrade-09-url-shortener-full' },
      spec: {
        parallelism: 4,
        script: { configMap: { name: 'sdgrade-09-url-shortener-full', file: 'archive.tar' } },
        arguments: RUNNER_ARGUMENTS,
      },
    });
    expect(RUNNER_ARGUMENTS).toContain('--out csv=/dev/stdout');
  });

  it('puts the k6 archive (script, lib, generated targets and -e values) in a ConfigMap', async () => {
    const doc = parse(readFileSync(emitted.configMap, 'utf8'));
    expect(doc.kind).toBe('ConfigMap');
    expect(doc.metadata.name).toBe('sdgrade-09-url-shortener-full');
    const tar = Buffer.from(doc.binaryData['archive.tar'], 'base64');
    expect(tar.equals(readFileSync(emitted.archive))).toBe(true);
    const listing = execFileSync('tar', ['tf', emitted.archive], { encoding: 'utf8' });
    expect(listing).toMatch(/09-url-shortener\.js/);
    expect(listing).toMatch(/lib\/open-model\.js/);
    expect(listing).toMatch(/generated\/targets\.json/);
    const metadata = JSON.parse(execFileSync('tar', ['xOf', emitted.archive, 'metadata.json'], { encoding: 'utf8' }));
    expect(metadata.env).toEqual({ TARGET_URL: 'http://shortener.default.svc:8090', PROFILE: 'full' });
  });

  it('says what each runner must write and leaves the description grade-load reads', () => {
    const readme = readFileSync(emitted.readme, 'utf8');
    expect(readme).toContain('kubectl apply -f configmap.yaml -f testrun.yaml');
    expect(readme).toContain('kubectl logs "$pod"');
    expect(readme).toContain(`node bin/sdgrade.js grade-load 09-url-shortener --from ${dir}`);
    expect(readLoadManifest(dir)).toMatchObject({
      chapter: '09-url-shortener',
      profile: 'full',
      segments: 4,
      script: 'load/09-url-shortener.js',
    });
  });
});
