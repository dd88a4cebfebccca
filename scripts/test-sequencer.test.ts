// The sequencer's order: known files longest first by their recorded seconds, unknown ones before them.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestSpecification } from 'vitest/node';
import durations from './test-durations.json' with { type: 'json' };
import { LongestFirstSequencer } from './test-sequencer.ts';

const root = resolve(import.meta.dirname, '..');
const spec = (path: string) => ({ moduleId: resolve(root, path) }) as unknown as TestSpecification;

describe('LongestFirstSequencer', () => {
  it('starts the longest recorded files first and files it does not know before them', async () => {
    const known = Object.entries(durations.seconds as Record<string, number>);
    expect(known.length).toBeGreaterThan(50);
    const picked = known.slice(0, 40); // alphabetical, so not already longest first
    const sequencer = new LongestFirstSequencer({ config: { root } } as never);
    const sorted = await sequencer.sort([...picked.map(([p]) => spec(p)), spec('harness/not-recorded.test.ts')]);
    const order = sorted.map((s) => s.moduleId.slice(root.length + 1));
    expect(order[0]).toBe('harness/not-recorded.test.ts');
    const seconds = order.slice(1).map((p) => (durations.seconds as Record<string, number>)[p]!);
    expect(seconds).toEqual([...seconds].sort((a, b) => b - a));
    expect(seconds[0]).toBe(Math.max(...picked.map(([, s]) => s)));
  });
});
