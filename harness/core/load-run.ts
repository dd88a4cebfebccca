// A chapter's load test: runs its k6 script against the target with a profile and turns the k6 summary into the
// load section and the measured targets of the results.
import type { LoadResult, TargetResult } from '../results/types.ts';
import type { Catalog } from './catalog.ts';
import type { Settings } from './settings.ts';
import type { Target } from './target.ts';

export type Profile = 'smoke' | 'full';

export interface LoadRunContext {
  target: Target;
  catalog: Catalog;
  profile: Profile;
  outDir: string;
  k6: string;
  k6Version: string;
  onProgress: (line: string) => void;
  /** The target's settings (a manifest's `settings`, `--setting`): e.g. the credentials a signed load needs. */
  settings?: Settings;
  /** k6 processes for the chapter's main load (execution segments); default 1. */
  segments?: number;
  /**
   * Grade a run made elsewhere (grade-load): the main load's samples are read from this folder instead of running
   * k6, and whatever needs the implementation or this machine (probes, the yardstick) is reported as not measured.
   */
  replayDir?: string;
}

export type LoadRun = (ctx: LoadRunContext) => Promise<{ load: LoadResult; targets: TargetResult[] }>;
