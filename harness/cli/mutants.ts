// The self-test of a chapter's checks: each mutant (a reference with one invariant deliberately broken) is started
// through its manifest and graded with the check named for it, which must fail. A check never seen to fail proves
// nothing; this is where each one is seen to fail.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChapterModule, Mutant } from '../chapters/chapter-module.ts';
import { gradeChapter } from '../core/grade-chapter.ts';
import type { NetworkFaults } from '../core/network-faults.ts';
import { newRunSeed } from '../core/seed.ts';
import type { CheckResult } from '../results/types.ts';
import { openNetwork } from './network.ts';

export interface MutantOutcome {
  mutant: Mutant;
  verdict: 'caught' | 'missed' | 'skipped';
  check?: CheckResult;
  reason: string;
}

export async function runMutants(
  module: ChapterModule,
  o: {
    numRuns: number;
    only?: string[];
    seed?: number;
    log: (l: string) => void;
    /** A fault proxy the caller owns (the grade tests share one across their per-mutant tests); else one is opened. */
    network?: NetworkFaults | null;
    /** false: a failed property is not shrunk (the grade tests need only caught or not). Default true. */
    shrink?: boolean;
  },
): Promise<{ outcomes: MutantOutcome[]; missed: number }> {
  const runDir = mkdtempSync(join(tmpdir(), `sdgrade-mutants-${module.slug}-`));
  const network = o.network !== undefined ? o.network : await openNetwork(o.log);
  const runSeed = o.seed ?? newRunSeed();
  o.log(`${module.slug}: ${module.mutants.length} mutants, seed ${runSeed}, logs in ${runDir}`);
  const outcomes: MutantOutcome[] = [];
  try {
    for (const mutant of module.mutants) {
      if (o.only?.length && !o.only.includes(mutant.name)) continue;
      const missing = (mutant.needs ?? []).filter((env) => !process.env[env]);
      if (missing.length) {
        const reason = `needs ${missing.join(', ')} (a real dependency) to show`;
        outcomes.push({ mutant, verdict: 'skipped', reason });
        o.log(`SKIPPED ${mutant.name.padEnd(24)} ${mutant.breaks}: ${reason}`);
        continue;
      }
      let r: Awaited<ReturnType<typeof gradeChapter>>;
      try {
        r = await gradeChapter({
          module,
          target: { manifest: mutant.manifest ?? module.referenceManifest },
          runDir,
          runSeed,
          numRuns: o.numRuns,
          only: [mutant.breaks],
          load: null,
          network,
          // Mutants run on the embedded store (some live there), unless one needs the real database to show;
          // Redis stays when one is configured.
          envOverrides: {
            MUTANT: mutant.name,
            ...(mutant.needs?.includes('SDGRADE_DATABASE_URL') ? {} : { DATABASE_URL: '' }),
            ...(mutant.env ?? {}),
          },
          ...(mutant.settings ? { settings: mutant.settings } : {}),
          variant: `mutant-${mutant.name}`,
          ...(o.shrink === false ? { shrink: false } : {}),
          onProgress: () => {},
        });
      } catch (e) {
        // A mutant that cannot even start is not "caught" by its check: that is a broken self-test.
        const reason = `the graded run failed: ${(e as Error).message.split('\n')[0]}`;
        outcomes.push({ mutant, verdict: 'missed', reason });
        o.log(`MISSED  ${mutant.name.padEnd(24)} ${reason}`);
        continue;
      }
      const check = r.checks.find((c) => c.id === mutant.breaks);
      const verdict = check?.status === 'fail' ? 'caught' : check?.status === 'skipped' ? 'skipped' : 'missed';
      const reason = check?.reason?.split('\n')[0] ?? `the check ${check?.status ?? 'did not run'}`;
      outcomes.push({ mutant, verdict, ...(check ? { check } : {}), reason });
      o.log(
        `${verdict.toUpperCase().padEnd(7)} ${mutant.name.padEnd(24)} by ${mutant.breaks}: ${reason.slice(0, 160)}`,
      );
    }
  } finally {
    if (o.network === undefined) await network?.close();
  }
  const missed = outcomes.filter((x) => x.verdict === 'missed').length;
  const caught = outcomes.filter((x) => x.verdict === 'caught').length;
  o.log(`mutants: ${caught} caught, ${missed} missed, ${outcomes.length - caught - missed} skipped`);
  return { outcomes, missed };
}
