// The placement service's replica groups and cluster map, without a server.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Placement } from './placement.ts';

const nodes = ['d1', 'd2', 'd3', 'd4'].map((name) => ({ name, url: `http://${name}` }));

describe('Placement', () => {
  it('gives each object a stable group of distinct nodes, primaries spread over every node', () => {
    const p = new Placement(nodes, 3);
    const primaries = new Map<string, number>();
    for (let i = 0; i < 1200; i++) {
      const id = randomUUID();
      const g = p.group(id).map((n) => n.name);
      expect(new Set(g).size).toBe(3);
      expect(p.group(id).map((n) => n.name)).toEqual(g);
      primaries.set(g[0]!, (primaries.get(g[0]!) ?? 0) + 1);
    }
    for (const n of nodes) expect(primaries.get(n.name) ?? 0).toBeGreaterThan(150);
  });

  it('acknowledges with a majority of the group, and puts the nodes down last', () => {
    const p = new Placement(nodes.slice(0, 3), 3);
    expect(p.writeQuorum).toBe(2);
    expect(new Placement(nodes.slice(0, 1), 3).writeQuorum).toBe(1);
    const id = randomUUID();
    const primary = p.group(id)[0]!.name;
    p.markDown(primary);
    expect(p.byHealth(id).at(-1)!.name).toBe(primary);
    p.markUp(primary);
    expect(p.byHealth(id)[0]!.name).toBe(primary);
  });
});
