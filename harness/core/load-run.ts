// A chapter's load test: runs its k6 script against the target with a profile and turns the k6 summary into the
// load section and the measured targets of the results.
import type { LoadResult, TargetResult } from '../results/types.ts';
import type { Catalog } from './catalog.ts';
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
}

export type LoadRun = (ctx: LoadRunContext) => Promise<{ load: LoadResult; targets: TargetResult[] }>;
