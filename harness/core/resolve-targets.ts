// Turns a catalog's targets into numbers with their origin: a target that says `derive: writesPerSecond` gets its
// value from the chapter's back-of-the-envelope estimate (chapter 03's module), with the formula and the book's
// inputs written beside it. The result is generated into specs/<slug>/generated/targets.json, which both the
// harness and the k6 script read, so each number lives in one place.

import { readFileSync } from 'node:fs';
import { deriveTarget } from '../estimate/index.ts';
import type { TargetOp } from '../results/types.ts';
import type { Catalog } from './catalog.ts';
import { specFile } from './paths.ts';

export interface ResolvedTarget {
  id: string;
  title: string;
  metric: string;
  unit: string;
  op: TargetOp;
  /** The number to meet (or the book's figure to compare with, for `info` targets); null when there is none. */
  value: number | null;
  profile: 'smoke' | 'full' | 'any';
  origin: string;
}

export function resolveTargets(c: Catalog): ResolvedTarget[] {
  return c.targets.map((t) => {
    let value: number | null = t.value ?? null;
    let origin = t.origin?.trim() ?? '';
    if (t.derive) {
      const q = deriveTarget(c.chapter, t.derive);
      value = Math.round(q.value * 1000) / 1000;
      const inputs = Object.entries(q.inputs ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      const derivation = `${t.derive} = ${q.formula}${inputs ? ` with ${inputs}` : ''} (${c.book}; see \`sdgrade estimate ${c.chapter}\`)`;
      origin = origin ? `${derivation}. ${origin}` : derivation;
    }
    return {
      id: t.id,
      title: t.title,
      metric: t.metric,
      unit: t.unit,
      op: t.op,
      value,
      profile: t.profile ?? 'any',
      origin,
    };
  });
}

/** A chapter's generated targets by ID (specs/<slug>/generated/targets.json), as its load test and bench read them. */
export function loadTargets(slug: string): Record<string, ResolvedTarget> {
  const list = JSON.parse(readFileSync(specFile(slug, 'generated/targets.json'), 'utf8')) as ResolvedTarget[];
  return Object.fromEntries(list.map((t) => [t.id, t]));
}
