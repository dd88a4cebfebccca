// Reads a chapter's catalog.yaml (its checks and targets) and checks its shape, so that a typo fails loudly.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CheckKind, TargetOp } from '../results/types.ts';
import { specFile } from './paths.ts';

// `estimate` checks are unit tests of a chapter without a service (chapter 03); the harness runs the others.
export type CatalogCheckKind = CheckKind | 'estimate';

export interface CatalogCheck {
  id: string;
  kind: CatalogCheckKind;
  title: string;
  covers: string[];
  needs?: string[];
}

export interface CatalogTarget {
  id: string;
  title: string;
  metric: string;
  unit: string;
  op: TargetOp;
  value?: number;
  derive?: string;
  profile?: 'smoke' | 'full';
  origin?: string;
}

export interface Catalog {
  chapter: string;
  title: string;
  book: string;
  idPrefix: string;
  checks: CatalogCheck[];
  targets: CatalogTarget[];
}

const checkId = /^[A-Z][A-Z0-9]*-[CIFE][0-9]+$/;
const targetId = /^[A-Z][A-Z0-9]*-T[0-9]+$/;

export function parseCatalog(text: string, source: string): Catalog {
  const doc = parse(text) as Catalog;
  const problems: string[] = [];
  if (!doc || typeof doc !== 'object') throw new Error(`${source}: not a YAML mapping`);
  const seen = new Set<string>();
  for (const c of doc.checks ?? []) {
    if (!checkId.test(c.id)) problems.push(`check id ${c.id} does not match ${checkId}`);
    if (!c.id.startsWith(`${doc.idPrefix}-`)) problems.push(`check id ${c.id} does not start with ${doc.idPrefix}-`);
    const letter = { conformance: 'C', property: 'I', fault: 'F', estimate: 'E' }[c.kind];
    if (!letter) problems.push(`${c.id}: unknown kind ${c.kind}`);
    if (letter && !c.id.startsWith(`${doc.idPrefix}-${letter}`))
      problems.push(`${c.id}: kind ${c.kind} wants ${letter}`);
    if (seen.has(c.id)) problems.push(`duplicate id ${c.id}`);
    seen.add(c.id);
  }
  for (const t of doc.targets ?? []) {
    if (!targetId.test(t.id)) problems.push(`target id ${t.id} does not match ${targetId}`);
    if (seen.has(t.id)) problems.push(`duplicate id ${t.id}`);
    seen.add(t.id);
    if (t.op !== 'info' && t.value === undefined && t.derive === undefined)
      problems.push(`${t.id}: a graded target needs a value or a derive`);
  }
  if (problems.length) throw new Error(`${source}:\n  ${problems.join('\n  ')}`);
  return { ...doc, checks: doc.checks ?? [], targets: doc.targets ?? [] };
}

export function loadCatalog(slug: string): Catalog {
  const file = specFile(slug, 'catalog.yaml');
  return parseCatalog(readFileSync(file, 'utf8'), file);
}
