// Runs a reference's TypeScript entry (`node reference/kit/run-ts.mjs reference/NN-slug/main.ts`) from a bundle that
// esbuild (tsx's own compiler) keeps in .cache/ts-bundles/, rebuilt whenever a file it was built from changed (by
// content, so a patched or instrumented copy of the reference gets its own). Why: `node --import tsx` resolves and
// compiles every module through loader hooks on each start, ~0.4 s of CPU more than the bundle (measured on 29's
// main.ts: 1.0-1.35 s against 0.65-0.8 s), and the tests start references well over a thousand times. The process is
// the entry's own (no child): signals, kill -9 and exit codes are the service's. npm packages stay imports of
// node_modules (native drivers and worker-thread transports keep their files); `import.meta.url` in each source file is
// that file's URL, as under tsx, so paths computed from it (the spec, a manifest beside it) still resolve.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cacheDir = join(root, '.cache', 'ts-bundles');

const given = process.argv[2];
if (!given) {
  console.error('usage: node reference/kit/run-ts.mjs <entry.ts> [args...]');
  process.exit(2);
}
const entry = resolve(given);
const key = `${basename(entry, '.ts')}-${sha1(entry).slice(0, 16)}`;
const indexFile = join(cacheDir, `${key}.json`);

function sha1(text) {
  return createHash('sha1').update(text).digest('hex');
}

/** The bundle built from the files as they are now, or null (no index, a file changed or gone, the bundle gone). */
function upToDate() {
  try {
    /** @type {{ bundle: string, inputs: Record<string, string> }} */
    const index = JSON.parse(readFileSync(indexFile, 'utf8'));
    for (const [file, hash] of Object.entries(index.inputs)) if (sha1(readFileSync(file)) !== hash) return null;
    const bundle = join(cacheDir, index.bundle);
    statSync(bundle);
    return bundle;
  } catch {
    return null;
  }
}

async function build() {
  const { build } = await import('esbuild');
  mkdirSync(cacheDir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: join(cacheDir, `${key}.mjs`),
    write: false,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'external',
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'sdgrade-reference',
        setup(b) {
          b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (a) => ({
            contents: (await readFile(a.path, 'utf8')).replaceAll(
              'import.meta.url',
              JSON.stringify(pathToFileURL(a.path).href),
            ),
            loader: a.path.endsWith('ts') ? 'ts' : 'js',
          }));
        },
      },
    ],
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.mjs.map'));
  if (!js || !map) throw new Error(`esbuild gave no bundle for ${entry}`);
  const name = `${key}-${sha1(js.text).slice(0, 12)}.mjs`;
  const bundle = join(cacheDir, name);
  // Written under a temporary name, then renamed: nodes starting at once never read a half-written file.
  const tmp = `.${process.pid}.tmp`;
  writeFileSync(`${bundle}.map${tmp}`, map.text);
  renameSync(`${bundle}.map${tmp}`, `${bundle}.map`);
  writeFileSync(
    `${bundle}${tmp}`,
    `${js.text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '')}\n//# sourceMappingURL=${name}.map\n`,
  );
  renameSync(`${bundle}${tmp}`, bundle);
  /** @type {Record<string, string>} */
  const inputs = {};
  for (const rel of Object.keys(result.metafile.inputs)) {
    const file = resolve(root, rel);
    inputs[file] = sha1(readFileSync(file));
  }
  writeFileSync(`${indexFile}${tmp}`, JSON.stringify({ entry: relative(root, entry), bundle: name, inputs }));
  renameSync(`${indexFile}${tmp}`, indexFile);
  removeOlder(name);
  return bundle;
}

/**
 * Bundles of this entry from earlier sources, a minute old or more (a node starting now may still be loading one), and
 * any file a day old (the copies blind bugs and mutation runs make have entries of their own, used once).
 */
function removeOlder(current) {
  const now = Date.now();
  for (const f of readdirSync(cacheDir)) {
    if (f.startsWith(current)) continue;
    try {
      const age = now - statSync(join(cacheDir, f)).mtimeMs;
      if ((f.startsWith(`${key}-`) && age > 60_000) || age > 86_400_000) unlinkSync(join(cacheDir, f));
    } catch {
      // Removed by another node meanwhile.
    }
  }
}

/** The bundle, or null when none can be made here (a read-only install, esbuild missing): then tsx runs the entry. */
async function bundleOrNull() {
  try {
    return upToDate() ?? (await build());
  } catch (error) {
    console.error(`run-ts: no bundle of ${given} (${error.message}); running it through tsx`);
    return null;
  }
}

const bundle = await bundleOrNull();
process.argv.splice(1, 2, entry);
if (bundle) {
  // Stack traces name the TypeScript sources, as under tsx.
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(entry).href);
}
