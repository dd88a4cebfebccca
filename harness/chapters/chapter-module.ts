// The shape every chapter's harness module has. A chapter is registered in ./registry.ts; its check functions are
// keyed by the IDs generated from its catalog, so the compiler rejects an unknown ID and a missing check.

import type { BenchRun } from '../core/bench-run.ts';
import type { Catalog } from '../core/catalog.ts';
import type { CheckContext } from '../core/check-context.ts';
import type { LoadRun } from '../core/load-run.ts';

export type CheckFn = (ctx: CheckContext) => Promise<void>;

export interface Mutant<Id extends string = string> {
  name: string;
  /** The check that must catch it. */
  breaks: Id;
  description: string;
  /** Extra environment for the reference when this mutant needs a real dependency (e.g. Redis) to show. */
  needs?: readonly string[];
  /** Settings the mutant's target declares (a mutant that ignores a declared setting), graded like a manifest's. */
  settings?: Readonly<Record<string, string | number | boolean>>;
  /** Environment the mutant's nodes get besides MUTANT (the configuration that goes with the settings). */
  env?: Readonly<Record<string, string>>;
  /** The manifest it is started from when not the chapter's reference manifest (e.g. a multi-broker cluster). */
  manifest?: string;
}

/** A real service a variant runs on: PostgreSQL, Redis, or etcd (chapter 20's coordination service). */
export type VariantNeed = 'postgres' | 'redis' | 'etcd';

/**
 * A deployment option of the chapter's reference (e.g. ALGORITHM=maglev), graded with the same checks: the env the
 * reference's nodes get for it. `sdgrade test <chapter> --variant NAME` grades one; `sdgrade mutate` grades each
 * automated mutant under the variants whose code it lives in. The deployed default is the implicit `default`.
 */
export interface Variant<Id extends string = string> {
  name: string;
  description: string;
  env: Readonly<Record<string, string>>;
  /** Settings the variant's configuration declares (as a manifest's `settings`). */
  settings?: Readonly<Record<string, string | number | boolean>>;
  /** Real services it runs on; without them (no --real-deps) the variant cannot run and is reported so. */
  needs?: readonly VariantNeed[];
  /** Checks that cannot apply to this variant, each with the reason: reported skipped with it, never passed. */
  notApplicable?: Readonly<Partial<Record<Id, string>>>;
  /** Its own manifest (a file beside the reference manifest), when the variant is another deployment shape (three
   * brokers instead of one), not only another environment. */
  manifest?: string;
  /** Checks the default deployment skips because only this variant has what they need (a cluster): the main job
   * grades them on this variant and reports them in the chapter's result, labelled with the variant. */
  completes?: readonly Id[];
}

export interface ChapterModule<Id extends string = string> {
  slug: string;
  catalog: Catalog;
  specFile: string;
  /** The reference implementation's manifest. */
  referenceManifest: string;
  checks: Record<Id, CheckFn>;
  mutants: readonly Mutant<Id>[];
  /** Deployment options of the reference besides its default, graded like it (see Variant). */
  variants?: readonly Variant<Id>[];
  /** The k6 load test and the targets it measures; absent for chapters without a service. */
  load?: LoadRun;
  /** The in-process micro-benchmark of the chapter's algorithmic core against the best-known package. */
  bench?: BenchRun;
  /**
   * Fakes of third parties (a PSP) the target talks to: started before the target, stopped after it. Their `env`
   * (e.g. SDGRADE_PAY_PSP_URL) is set in the harness's environment meanwhile, for a manifest's `${env:NAME}`.
   */
  thirdParties?: (o: { seed: number }) => Promise<ThirdParties>;
  /**
   * Checks whose rule needs more work than a slow machine can do in the check's time (tens of thousands of orders,
   * a trade that happens to land on a boundary), by ID: the reason such a check gives when it skips for that. The
   * grade tests report a run where one did as skipped, never passed (grade-test-kit.ts).
   */
  speedSkips?: Readonly<Partial<Record<Id, RegExp>>>;
  /**
   * Checks that read one fixture built by whichever of them runs first (a crawl they share): `mutate`'s baseline
   * credits the fixture's code to that check alone, so each check of a group is taken to reach what any reaches.
   */
  sharedFixtures?: readonly (readonly Id[])[];
}

export interface ThirdParties {
  env: Record<string, string>;
  close(): Promise<void>;
}
