// The deployment variants of a chapter's reference (ChapterModule.variants): looked up by name, and applied to the
// module so a check that cannot apply to a variant is reported skipped with the variant's reason, never run and
// never passed. The deployed default is the variant `default`: no extra environment, every check applies.
import { dirname, join } from 'node:path';
import { countStatuses } from '../core/grade-chapter.ts';
import type { ChapterResult, CheckResult } from '../results/types.ts';
import type { ChapterModule, CheckFn, Variant, VariantNeed } from './chapter-module.ts';

export const DEFAULT_VARIANT: Variant = {
  name: 'default',
  description: 'the reference as its manifest deploys it (every option at its default)',
  env: {},
};

/** `default` first, then the chapter's declared variants. */
export function variantsOf(module: ChapterModule): Variant[] {
  return [DEFAULT_VARIANT, ...(module.variants ?? [])];
}

export function findVariant(module: ChapterModule, name: string): Variant {
  const all = variantsOf(module);
  const v = all.find((x) => x.name === name);
  if (!v)
    throw new Error(`${module.slug} has no variant '${name}'; its variants: ${all.map((x) => x.name).join(', ')}`);
  return v;
}

/** Why the variant cannot run here (a real service it needs is not configured), or null when it can. */
/** The variable naming each real service a variant runs on. */
export const NEED_ENV: Record<VariantNeed, string> = {
  postgres: 'SDGRADE_DATABASE_URL',
  redis: 'SDGRADE_REDIS_URL',
  etcd: 'SDGRADE_ETCD_URL',
};

export function variantUnavailable(v: Variant, env: NodeJS.ProcessEnv = process.env): string | null {
  const missing = (v.needs ?? []).filter((k) => !env[NEED_ENV[k]]?.trim());
  if (!missing.length) return null;
  const sql = missing.filter((k) => k !== 'etcd');
  return `variant ${v.name} runs on a real ${missing.join(' and ')} (set ${missing.map((k) => NEED_ENV[k]).join(' / ')}${
    sql.length ? ' and use --real-deps' : ''
  })`;
}

/** The module with the variant's not-applicable checks replaced by a skip that names the variant and the reason. */
export function withVariant<M extends ChapterModule>(module: M, v: Variant): M {
  const na = Object.entries(v.notApplicable ?? {}) as [string, string][];
  if (!na.length) return module;
  const checks: Record<string, CheckFn> = { ...module.checks };
  for (const [id, reason] of na) {
    if (!(id in checks)) throw new Error(`${module.slug} variant ${v.name}: no check ${id} to mark not applicable`);
    checks[id] = async (ctx) => ctx.skip(`not applicable to variant ${v.name}: ${reason}`);
  }
  // Without its `needs`: a check that does not apply says so, not that the variant lacks the service it would need.
  const catalog = {
    ...module.catalog,
    checks: module.catalog.checks.map((c) => (v.notApplicable?.[c.id] ? { ...c, needs: [] } : c)),
  };
  return { ...module, checks, catalog };
}

/** The manifest that deploys the variant: its own (beside the reference manifest), else the reference manifest. */
export function variantManifest(module: ChapterModule, v: Variant): string {
  return v.manifest ? join(dirname(module.referenceManifest), v.manifest) : module.referenceManifest;
}

/** The file name of the variant's manifest (by name; `default` or none: the reference's own), to find it in another
 * copy of the reference (a patched or instrumented workspace's `reference/<slug>/`). */
export function variantManifestName(module: ChapterModule, name: string | undefined): string {
  return (name ? findVariant(module, name).manifest : undefined) ?? 'manifest.json';
}

/**
 * The default deployment's result with the checks it skipped replaced by their grade on the variant that completes
 * them (`Variant.completes`), each labelled with the variant and its manifest. A check the default graded (passed,
 * failed or errored) keeps that grade: the variant only fills what the default could not run.
 */
export function completedByVariant(
  base: ChapterResult,
  onVariant: ChapterResult,
  v: Variant,
  manifest: string,
): ChapterResult {
  const wanted = new Set<string>(v.completes ?? []);
  const graded = new Map(onVariant.checks.map((c) => [c.id, c]));
  const checks: CheckResult[] = base.checks.map((c) => {
    const g = graded.get(c.id);
    if (!wanted.has(c.id) || c.status !== 'skipped' || !g) return c;
    return { ...g, variant: v.name, variantManifest: manifest };
  });
  const logs = [...base.logs, ...onVariant.logs.map((l) => ({ ...l, node: `${v.name}/${l.node}` }))];
  return { ...base, checks, logs, counts: countStatuses(checks) };
}
