// `sdgrade new-chapter NN-slug`: copies templates/chapter/ into every top-level folder under the chapter's slug,
// filling in its names, so chapter N starts as a copy of the pattern every chapter follows.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { chapterList } from '../core/chapter-list.ts';
import { rootDir } from '../core/paths.ts';

const templateDir = join(rootDir, 'templates', 'chapter');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

export function scaffoldChapter(slug: string, prefix?: string, root = rootDir): string[] {
  const info = chapterList.find((c) => c.slug === slug);
  if (!info)
    throw new Error(
      `unknown chapter ${slug}; the slugs are those of the book: ${chapterList.map((c) => c.slug).join(', ')}`,
    );
  const idPrefix = (
    prefix ??
    info.title
      .split(/\s+/)
      .map((w) => w[0])
      .join('')
  )
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '');
  if (!/^[A-Z][A-Z0-9]*$/.test(idPrefix)) throw new Error(`--prefix must be letters and digits, got ${prefix}`);
  const names: Record<string, string> = {
    __SLUG__: slug,
    __TITLE__: info.title,
    __PREFIX__: idPrefix,
    __NUMBER__: slug.slice(0, 2),
    __CAMEL__: slug.slice(3).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
  };
  const fill = (s: string) => s.replace(/__[A-Z]+__/g, (k) => names[k] ?? k);
  const written: string[] = [];
  const plans = files(templateDir).map((src) => ({
    src,
    dest: join(root, fill(relative(templateDir, src)).replace(/\.tmpl$/, '')),
  }));
  const clash = plans.filter((p) => existsSync(p.dest));
  if (clash.length) throw new Error(`refusing to overwrite: ${clash.map((p) => relative(root, p.dest)).join(', ')}`);
  for (const p of plans) {
    mkdirSync(dirname(p.dest), { recursive: true });
    writeFileSync(p.dest, fill(readFileSync(p.src, 'utf8')));
    written.push(`wrote ${relative(root, p.dest)}`);
  }
  return [
    ...written,
    '',
    'next:',
    `  1. read ../shared/book/chapters/${slug}.md and write specs/${slug}/openapi.yaml, catalog.yaml and README.md`,
    `  2. add specs/${slug}/openapi.yaml under "apis" in redocly.yaml, then \`npm run gen\``,
    `  3. register harness/chapters/${slug}/index.ts in harness/chapters/registry.ts and its slug in graded-slugs.ts`,
    `  4. build reference/${slug}/, its mutants, and the checks; \`node bin/sdgrade.js mutants ${slug}\` must catch every mutant`,
  ];
}
