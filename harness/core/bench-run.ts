// A chapter's in-process micro-benchmark of its algorithmic core against the best-known package that does the same
// job, run in one process and reported as targets with the package as the yardstick.
import type { TargetResult } from '../results/types.ts';
import type { Profile } from './load-run.ts';

export type BenchRun = (ctx: { profile: Profile; onProgress: (line: string) => void }) => Promise<TargetResult[]>;
