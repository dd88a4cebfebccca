// A precompiled copy of the CLI's entry (harness/cli/main.ts) in .cache/cli/ of the checkout, rebuilt with esbuild
// (tsx's own compiler) whenever one of its source files changed. Why: registering tsx and compiling the TypeScript on
// every start cost ~0.6 s of CPU for `sdgrade --help`; the bundle starts in ~0.1 s. The bundle holds main.ts and the
// light command modules only: every other module main.ts imports lazily (`await import('./commands.ts')`) stays an
// import of the TypeScript source, which bin/sdgrade.js runs through tsx.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const entry = join(root, 'harness', 'cli', 'main.ts');
const outDir = join(root, '.cache', 'cli');
const outFile = join(outDir, 'main.mjs');
const metaFile = join(outDir, 'main.meta.json');

/** The command modules main.ts may bundle: they need no tsx (see bin/sdgrade.js's lightCommands). */
const bundled = new Set(['./list.ts', './estimate.ts']);

/** True when the bundle exists and every file it was built from is unchanged (same size and mtime). */
function upToDate() {
  try {
    /** @type {{ inputs: Record<string, [number, number]> }} */
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    for (const [file, [size, mtimeMs]] of Object.entries(meta.inputs)) {
      const s = statSync(file);
      if (s.size !== size || s.mtimeMs !== mtimeMs) return false;
    }
    statSync(outFile);
    return true;
  } catch {
    return false;
  }
}

async function build() {
  const { build } = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  const tmp = `${outFile}.${process.pid}.tmp`;
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    metafile: true,
    logLevel: 'silent',
    // CommonJS packages in the bundle (ajv) call require.
    banner: {
      js: "import { createRequire as __sdgradeRequire } from 'node:module'; const require = __sdgradeRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'sdgrade-cli',
        setup(b) {
          // A lazily imported command module outside the light set stays the TypeScript source, run by tsx.
          b.onResolve({ filter: /^\.\.?\// }, (a) => {
            if (a.kind !== 'dynamic-import' || a.importer !== entry || bundled.has(a.path)) return undefined;
            return { path: pathToFileURL(resolve(a.resolveDir, a.path)).href, external: true };
          });
          // Paths computed from import.meta.url (paths.ts, the results schema) keep pointing into the checkout.
          b.onLoad({ filter: /\.ts$/ }, async (a) => ({
            contents: (await readFile(a.path, 'utf8')).replaceAll(
              'import.meta.url',
              JSON.stringify(pathToFileURL(a.path).href),
            ),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  /** @type {Record<string, [number, number]>} */
  const inputs = {};
  for (const rel of Object.keys(result.metafile?.inputs ?? {})) {
    const file = resolve(root, rel);
    const s = statSync(file);
    inputs[file] = [s.size, s.mtimeMs];
  }
  // Rename is atomic: a CLI starting beside this build reads the old bundle or the new one, never half of one.
  renameSync(tmp, outFile);
  const metaTmp = `${metaFile}.${process.pid}.tmp`;
  writeFileSync(metaTmp, JSON.stringify({ entry, inputs }));
  renameSync(metaTmp, metaFile);
}

/** The URL of an up-to-date bundle of the CLI entry, building it when needed; null when it cannot be built. */
export async function cliBundle() {
  if (process.env.SDGRADE_CLI_BUNDLE === '0') return null;
  try {
    if (!upToDate()) await build();
    return pathToFileURL(outFile).href;
  } catch (e) {
    if (process.env.SDGRADE_DEBUG) console.error(`sdgrade: no CLI bundle (${/** @type {Error} */ (e).message})`);
    return null;
  }
}
