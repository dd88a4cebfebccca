// Chapter 20, Distributed message queue: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown one),
// its mutants and its load test. Register it in harness/chapters/registry.ts and graded-slugs.ts. Write each check to
// CHECKLIST.md beside this file.
import { MUTANTS } from '../../../reference/20-distributed-message-queue/mutants.ts';
import { catalog, type CheckId } from '../../../specs/20-distributed-message-queue/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';


export const distributedMessageQueue: ChapterModule<CheckId> = {
  slug: '20-distributed-message-queue',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('20-distributed-message-queue'),
  referenceManifest: new URL('../../../reference/20-distributed-message-queue/manifest.json', import.meta.url).pathname,
  checks: {
    // TODO: list methods the spec does not declare on its paths; each must answer 405 with Allow.
    'MQ-C1': (ctx) => readinessAndUnknownRoutes(ctx, []),
    // Every chapter's first invariant: bad input is a documented 4xx (exclude operations that must not be repeated).
    'MQ-I1': (ctx) => badInputIs4xxEverywhere(ctx),
  },
  mutants: MUTANTS,
};
