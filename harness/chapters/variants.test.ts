// The variant helpers the CLI, the main job and the graders share: where a variant's manifest is, and how the main
// job fills the checks the default deployment skipped with their grade on the variant that completes them.
import { describe, expect, it } from 'vitest';
import type { ChapterResult, CheckResult } from '../results/types.ts';
import type { ChapterModule, Variant } from './chapter-module.ts';
import { completedByVariant, variantManifest, variantManifestName } from './variants.ts';

const cluster: Variant = {
  name: 'cluster',
  description: 'three nodes',
  env: {},
  manifest: 'manifest.cluster.json',
  completes: ['X-C8', 'X-F5'],
};
const module = {
  slug: '99-x',
  referenceManifest: '/r/99-x/manifest.json',
  variants: [cluster, { name: 'pg', description: 'on PostgreSQL', env: { DB: 'pg' } }],
} as unknown as ChapterModule;

const check = (id: string, status: CheckResult['status'], reason?: string): CheckResult => ({
  id,
  kind: 'conformance',
  title: id,
  status,
  durationMs: 1,
  ...(reason ? { reason } : {}),
});
const result = (checks: CheckResult[], node: string): ChapterResult => ({
  chapter: '99-x',
  title: 'X',
  target: { mode: 'manifest', baseUrl: 'http://127.0.0.1:1', implementation: 'ref' },
  checks,
  targets: [],
  logs: [{ node, path: `/logs/${node}.log` }],
  counts: { pass: 0, fail: 0, skipped: 0, error: 0 },
});

describe('deployment variants with their own manifest', () => {
  it("finds the variant's manifest beside the reference manifest, or the reference's own", () => {
    expect(variantManifest(module, cluster)).toBe('/r/99-x/manifest.cluster.json');
    expect(variantManifest(module, module.variants![1]!)).toBe('/r/99-x/manifest.json');
    expect(variantManifestName(module, 'cluster')).toBe('manifest.cluster.json');
    expect(variantManifestName(module, 'pg')).toBe('manifest.json');
    expect(variantManifestName(module, undefined)).toBe('manifest.json');
    expect(() => variantManifestName(module, 'nope')).toThrow(/no variant 'nope'/);
  });

  it('fills only the skipped checks the variant completes, labelled, and recounts', () => {
    const base = result(
      [
        check('X-C1', 'pass'),
        check('X-C8', 'skipped', 'needs a cluster'),
        check('X-F5', 'skipped', 'needs a cluster'),
        check('X-F9', 'skipped', 'needs a manifest'),
      ],
      'n1',
    );
    const onCluster = result(
      [check('X-C8', 'pass'), check('X-F5', 'fail', 'acknowledged record lost'), check('X-F9', 'pass')],
      'b1',
    );
    const r = completedByVariant(base, onCluster, cluster, '/r/99-x/manifest.cluster.json');
    expect(r.checks.map((c) => [c.id, c.status, c.variant ?? null])).toEqual([
      ['X-C1', 'pass', null],
      ['X-C8', 'pass', 'cluster'],
      ['X-F5', 'fail', 'cluster'],
      // not one the variant completes: stays as the default graded it
      ['X-F9', 'skipped', null],
    ]);
    expect(r.checks[2]!.reason).toBe('acknowledged record lost');
    expect(r.checks[1]!.variantManifest).toBe('/r/99-x/manifest.cluster.json');
    expect(r.counts).toEqual({ pass: 2, fail: 1, skipped: 1, error: 0 });
    expect(r.logs.map((l) => l.node)).toEqual(['n1', 'cluster/b1']);
  });

  it('never replaces a check the default deployment graded, and leaves one the variant did not grade skipped', () => {
    const base = result([check('X-C8', 'fail', 'wrong'), check('X-F5', 'skipped', 'needs a cluster')], 'n1');
    const r = completedByVariant(base, result([check('X-C8', 'pass')], 'b1'), cluster, 'm');
    expect(r.checks.map((c) => [c.id, c.status, c.variant ?? null])).toEqual([
      ['X-C8', 'fail', null],
      ['X-F5', 'skipped', null],
    ]);
  });
});

describe('deployment variants', () => {
  it('skips, with the variant and its reason, a check that cannot apply to it; other checks are untouched', async () => {
    const { withVariant, findVariant, variantsOf, variantUnavailable } = await import('./variants.ts');
    const ran: string[] = [];
    const module = {
      slug: 'xx-fixture',
      checks: {
        A: async () => {
          ran.push('A');
        },
        B: async () => {
          ran.push('B');
        },
      },
      catalog: {
        checks: [
          { id: 'A', needs: ['dependency:redis'] },
          { id: 'B', needs: ['dependency:redis'] },
        ],
      },
      variants: [
        { name: 'lite', description: 'no B', env: { MODE: 'lite' }, notApplicable: { B: 'lite keeps no history' } },
        { name: 'pg', description: 'on PostgreSQL', env: {}, needs: ['postgres'] as const },
      ],
    } as unknown as Parameters<typeof withVariant>[0];
    expect(variantsOf(module).map((v) => v.name)).toEqual(['default', 'lite', 'pg']);
    expect(() => findVariant(module, 'nope')).toThrow(/its variants: default, lite, pg/);
    const lite = withVariant(module, findVariant(module, 'lite'));
    const skipped: string[] = [];
    const ctx = {
      skip: (reason: string) => {
        skipped.push(reason);
        throw new Error(reason);
      },
    } as never;
    await lite.checks.A?.(ctx);
    await expect(lite.checks.B?.(ctx)).rejects.toThrow();
    expect(ran).toEqual(['A']);
    expect(skipped).toEqual(['not applicable to variant lite: lite keeps no history']);
    // B's needs are dropped, so the runner reports the variant's reason, not a missing service; A keeps its own.
    expect(lite.catalog.checks.map((c) => c.needs)).toEqual([['dependency:redis'], []]);
    expect(withVariant(module, findVariant(module, 'default'))).toBe(module);
    expect(variantUnavailable(findVariant(module, 'pg'), {})).toMatch(/real postgres .*SDGRADE_DATABASE_URL/);
    expect(variantUnavailable(findVariant(module, 'pg'), { SDGRADE_DATABASE_URL: 'postgres://x' })).toBeNull();
    const broken = { ...module, variants: [{ name: 'x', description: '', env: {}, notApplicable: { Z: 'no Z' } }] };
    expect(() => withVariant(broken, findVariant(broken, 'x'))).toThrow(/no check Z/);
  });
});
