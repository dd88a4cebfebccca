// The manifest target against a real two-node fixture: start, kill -9, restart on the same port, pause, and a
// partition between the nodes through the fault proxy, healed afterwards.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNetworkFaults } from '../faults/network-faults-toxiproxy.ts';
import { findToxiproxy } from '../tools/toxiproxy.ts';
import { loadManifest } from './manifest.ts';
import type { NetworkFaults } from './network-faults.ts';
import { ProcessTarget } from './process-target.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdgrade-pt-'));
const script = fileURLToPath(new URL('../../fixtures/harness/peer-node.mjs', import.meta.url));
const manifestFile = join(dir, 'manifest.json');
writeFileSync(
  manifestFile,
  JSON.stringify({
    contract: 1,
    chapter: '00-fixture',
    implementation: 'peer fixture',
    readiness: { timeoutMs: 10000 },
    stop: { graceMs: 2000 },
    nodes: ['a', 'b'].map((name) => ({
      name,
      command: ['node', script],
      env: { PORT: '${port}', NAME: '${name}', PEERS: '${peers}' },
    })),
  }),
);
let network: NetworkFaults;
let t: ProcessTarget;

const get = async (url: string) => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: r.status, body: (await r.json()) as Record<string, string> };
  } catch (e) {
    return { status: 0, body: { error: String(e) } };
  }
};

beforeAll(async () => {
  network = await startNetworkFaults((await findToxiproxy({ build: false })).path);
  t = await ProcessTarget.start({ manifest: loadManifest(manifestFile), runDir: dir, network });
});
afterAll(async () => {
  await t?.close();
  await network?.close();
});

describe('ProcessTarget', () => {
  it('gives each node its peers through proxies, and a partition cuts them both ways until healed', async () => {
    expect((await get(`${t.nodeUrl('a')}/peer/b`)).body).toEqual({ name: 'b' });
    await t.partition(['a'], ['b']);
    expect((await get(`${t.nodeUrl('a')}/peer/b`)).status).toBe(502);
    expect((await get(`${t.nodeUrl('b')}/peer/a`)).status).toBe(502);
    // The harness still reaches both nodes directly.
    expect((await get(`${t.nodeUrl('a')}/whoami`)).body).toEqual({ name: 'a' });
    await t.heal();
    expect((await get(`${t.nodeUrl('b')}/peer/a`)).body).toEqual({ name: 'a' });
  });

  it('kill -9 takes a node down and start brings it back on the same URL', async () => {
    const url = t.nodeUrl('b');
    await t.kill('b');
    expect((await get(`${url}/whoami`)).status).toBe(0);
    await t.start('b');
    expect((await get(`${url}/whoami`)).body).toEqual({ name: 'b' });
  });

  it('pause stops answering and heal resumes the node', async () => {
    await t.pause('a');
    expect((await get(`${t.nodeUrl('a')}/whoami`)).status).toBe(0);
    await t.heal();
    expect((await get(`${t.nodeUrl('a')}/whoami`)).body).toEqual({ name: 'a' });
  });

  it('restartAll (after a check that timed out) restarts every node and undoes pauses and partitions', async () => {
    const starts = () => t.logs().map((l) => (readFileSync(l.path, 'utf8').match(/^--- \S+ start /gm) ?? []).length);
    const before = starts();
    await t.pause('a');
    await t.partition(['a'], ['b']);
    await t.restartAll();
    expect(starts()).toEqual(before.map((n) => n + 1));
    expect((await get(`${t.nodeUrl('a')}/whoami`)).body).toEqual({ name: 'a' });
    expect((await get(`${t.nodeUrl('a')}/peer/b`)).body).toEqual({ name: 'b' });
  });

  it('captures each node log into the run folder', () => {
    expect(t.logs().map((l) => l.node)).toEqual(['a', 'b']);
  });
});
