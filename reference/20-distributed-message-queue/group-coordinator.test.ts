// The coordinator's promises: one owner per partition with balanced shares, a rebalance at every membership change,
// a silent member's partitions reassigned after its session, commits fenced by generation and ownership, offsets
// kept across a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assignRanges, GroupCoordinator } from './group-coordinator.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sdgrade-20-groups-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  vi.useRealTimers();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('assignRanges', () => {
  it('gives every partition to exactly one member, shares differing by at most one', () => {
    for (let members = 1; members <= 7; members++)
      for (let partitions = 1; partitions <= 9; partitions++) {
        const plan = assignRanges(
          Array.from({ length: members }, (_, i) => `m${i}`),
          partitions,
        );
        const owned = [...plan.values()].flat().sort((a, b) => a - b);
        expect(owned).toEqual(Array.from({ length: partitions }, (_, i) => i));
        const sizes = [...plan.values()].map((p) => p.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
  });
});

describe('GroupCoordinator', () => {
  it('rebalances on join and leave, and fences stale commits', () => {
    const c = new GroupCoordinator(tempDir());
    const a = c.join('g', 't', 4, undefined, 10_000);
    expect(a.partitions).toEqual([0, 1, 2, 3]);
    const b = c.join('g', 't', 4, undefined, 10_000);
    expect(b.generation).toBe(a.generation + 1);
    const hbA = c.heartbeat('g', a.memberId);
    expect([...hbA.partitions, ...b.partitions].sort()).toEqual([0, 1, 2, 3]);
    const p = hbA.partitions[0]!;
    expect(() => c.commit('g', a.memberId, a.generation, [{ partition: p, offset: 0 }], () => 5)).toThrow(
      /not the current/,
    );
    expect(() =>
      c.commit('g', a.memberId, hbA.generation, [{ partition: b.partitions[0]!, offset: 0 }], () => 5),
    ).toThrow(/does not own/);
    expect(() => c.commit('g', a.memberId, hbA.generation, [{ partition: p, offset: 6 }], () => 5)).toThrow(/past/);
    c.commit('g', a.memberId, hbA.generation, [{ partition: p, offset: 5 }], () => 5);
    c.leave('g', b.memberId);
    expect(c.heartbeat('g', a.memberId).partitions).toEqual([0, 1, 2, 3]);
    expect(() => c.join('g', 'other', 4, undefined, 10_000)).toThrow(/consumes topic t/);
  });

  it("reassigns a silent member's partitions after its session timeout; offsets survive a restart", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const dir = tempDir();
    const c = new GroupCoordinator(dir);
    const a = c.join('g', 't', 2, undefined, 1_000);
    const b = c.join('g', 't', 2, undefined, 5_000);
    c.commit('g', b.memberId, b.generation, [{ partition: b.partitions[0]!, offset: 3 }], () => 3);
    vi.setSystemTime(1_000_000 + 2_000);
    expect(c.heartbeat('g', b.memberId).partitions).toEqual([0, 1]);
    expect(() => c.heartbeat('g', a.memberId)).toThrow(/not a member/);
    const restarted = new GroupCoordinator(dir);
    expect(restarted.offsets('g').offsets).toEqual([
      { partition: 0, offset: b.partitions[0] === 0 ? 3 : null },
      { partition: 1, offset: b.partitions[0] === 1 ? 3 : null },
    ]);
    // A session-never-expires coordinator keeps the silent member.
    const stuck = new GroupCoordinator(tempDir(), 'session-never-expires');
    const s = stuck.join('g', 't', 2, undefined, 1_000);
    vi.setSystemTime(1_000_000 + 10_000);
    expect(stuck.heartbeat('g', s.memberId).memberId).toBe(s.memberId);
  });
});
