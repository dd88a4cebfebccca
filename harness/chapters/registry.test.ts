import { expect, it } from 'vitest';
import { gradedSlugs } from './graded-slugs.ts';
import { chapters } from './registry.ts';

it('the light list of graded slugs names the registry chapters, in order', () => {
  expect([...gradedSlugs]).toEqual(chapters.map((c) => c.slug));
});
