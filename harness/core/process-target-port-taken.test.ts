// A node whose port another process took between the harness's probe and its listen exits with EADDRINUSE: the
// start is tried again on new ports (the failed attempt's files kept aside); any other failure fails at once.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadManifest } from './manifest.ts';
import { ProcessTarget } from './process-target.ts';

const peer = fileURLToPath(new URL('../../fixtures/harness/peer-node.mjs', import.meta.url));

/** A node that fails its first start with `firstError` (on stderr, exit 1), then runs the peer fixture. */
function manifestFailingOnce(dir: string, firstError: string): string {
  const script = join(dir, 'fails-once.mjs');
  writeFileSync(
    script,
    `import { existsSync, writeFileSync } from 'node:fs';
const marker = ${JSON.stringify(join(dir, 'started-once'))};
if (!existsSync(marker)) {
  writeFileSync(marker, '');
  console.error(${JSON.stringify(firstError)});
  process.exit(1);
}
await import(${JSON.stringify(peer)});
`,
  );
  const file = join(dir, 'manifest.json');
  writeFileSync(
    file,
    JSON.stringify({
      contract: 1,
      chapter: '00-fixture',
      implementation: 'fails once',
      readiness: { timeoutMs: 10000 },
      stop: { graceMs: 2000 },
      nodes: [{ name: 'a', command: ['node', script], env: { PORT: '${port}', NAME: 'a' } }],
    }),
  );
  return file;
}

describe('ProcessTarget.start when a port is taken meanwhile', () => {
  it('starts again on new ports, keeping the failed attempt beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdgrade-pt-taken-'));
    const manifest = loadManifest(
      manifestFailingOnce(dir, 'startup failed: listen EADDRINUSE: address already in use'),
    );
    const t = await ProcessTarget.start({ manifest, runDir: join(dir, 'run') });
    try {
      const r = await fetch(`${t.nodeUrl('a')}/whoami`);
      expect(await r.json()).toEqual({ name: 'a' });
      expect(existsSync(join(dir, 'run', 'nodes-port-taken-1', 'a.log'))).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('fails at once on any other start-up error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdgrade-pt-other-'));
    const manifest = loadManifest(manifestFailingOnce(dir, 'startup failed: the schema is broken'));
    await expect(ProcessTarget.start({ manifest, runDir: join(dir, 'run') })).rejects.toThrow(/will not become ready/);
    expect(existsSync(join(dir, 'run', 'nodes-port-taken-1'))).toBe(false);
  });
});
