// A restarted node must be news to the others at once, whatever its uptime before the crash: its heartbeat counter
// starts at 0 again, so only a newer generation can beat the counter they remember (Cassandra's gossip).
import { describe, expect, it } from 'vitest';
import { Gossip } from './gossip.ts';
import type { Peers } from './peers.ts';

const peers = (names: string[]) => ({ names, timeoutMs: 1000 }) as unknown as Peers;
const observer = () =>
  new Gossip({ self: 'n1', generation: 1, peers: peers(['n3']), intervalMs: 200, failAfterMs: 50 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gossip generations', () => {
  it('takes a restarted node (new generation, counter from 0) as news at once', async () => {
    const g = observer();
    g.merge({ n3: { generation: 1000, heartbeat: 500 } });
    await sleep(80);
    expect(g.isAlive('n3')).toBe(false); // silent past failAfterMs: down
    g.merge({ n3: { generation: 2000, heartbeat: 1 } });
    expect(g.isAlive('n3')).toBe(true);
    expect(g.list()['n3']).toEqual({ generation: 2000, heartbeat: 1 });
  });

  it('ignores an old generation and a counter that did not grow', async () => {
    const g = observer();
    g.merge({ n3: { generation: 2000, heartbeat: 5 } });
    await sleep(80);
    g.merge({ n3: { generation: 1000, heartbeat: 900 } });
    g.merge({ n3: { generation: 2000, heartbeat: 5 } });
    expect(g.isAlive('n3')).toBe(false);
  });

  it('without generations (the heartbeat-restarts-at-zero mutant) a restarted node stays down until its counter passes the old one', async () => {
    const g = observer();
    g.merge({ n3: { generation: 0, heartbeat: 500 } });
    await sleep(80);
    g.merge({ n3: { generation: 0, heartbeat: 1 } });
    expect(g.isAlive('n3')).toBe(false);
  });
});
