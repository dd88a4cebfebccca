// ProcessTarget.useDependency: the nodes are restarted pointing at another server for a dependency, and back at
// the one the target was started with. The fixture node answers /whoami with its NAME, set here to ${dep.db}.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifest } from './manifest.ts';
import { ProcessTarget } from './process-target.ts';
import { CapabilityMissing } from './target.ts';
import { timeLimit } from './time-scale.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdgrade-dep-'));
const script = fileURLToPath(new URL('../../fixtures/harness/peer-node.mjs', import.meta.url));
const manifestFile = join(dir, 'manifest.json');
writeFileSync(
  manifestFile,
  JSON.stringify({
    contract: 1,
    chapter: '00-fixture',
    implementation: 'dependency fixture',
    readiness: { timeoutMs: 10000 },
    stop: { graceMs: 2000 },
    dependencies: { db: { url: 'postgres://started-with:5432/x' } },
    nodes: [{ name: 'a', command: ['node', script], env: { PORT: '${port}', NAME: '${dep.db}' } }],
  }),
);
let t: ProcessTarget | undefined;
afterAll(async () => {
  await t?.close();
});

const whoami = async (url: string) => ((await (await fetch(`${url}/whoami`)).json()) as { name: string }).name;

describe('ProcessTarget.useDependency', () => {
  it(
    'restarts the nodes against another server, then back against the one it started with',
    async () => {
      t = await ProcessTarget.start({ manifest: loadManifest(manifestFile), runDir: dir, network: null });
      expect(await whoami(t.baseUrl)).toBe('postgres://started-with:5432/x');
      await t.useDependency('db', 'postgres://private:6543/y');
      expect(await whoami(t.baseUrl)).toBe('postgres://private:6543/y');
      expect(t.dependencies['db']?.url).toBe('postgres://private:6543/y');
      await expect(t.dependencies['db']!.setReachable(false)).rejects.toBeInstanceOf(CapabilityMissing);
      await t.useDependency('db', null);
      expect(await whoami(t.baseUrl)).toBe('postgres://started-with:5432/x');
      await expect(t.useDependency('cache', 'redis://x')).rejects.toBeInstanceOf(CapabilityMissing);
    },
    timeLimit(60_000),
  );
});
