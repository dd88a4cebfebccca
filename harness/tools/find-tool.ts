// One lookup order for every external tool: an explicit env override, then PATH, then our cache, then a build.
// A user's own install wins so that developers with k6 from their package manager never wait for a build.

import { findOnPath } from './find-on-path.ts';
import { type GoInstallOptions, type GoInstallSpec, goInstall } from './go-install.ts';
import { cachedBinaryPath, isExecutableFile } from './tool-cache.ts';
import { readVersionOutput } from './version-output.ts';

export type ToolSource = 'env' | 'path' | 'cache' | 'built';

export interface FoundTool {
  path: string;
  version: string;
  source: ToolSource;
}

export interface FindToolOptions {
  /** Build with `go install` when nothing usable is found (default true). Tests pass false: they never build. */
  build?: boolean;
  env?: NodeJS.ProcessEnv;
  onProgress?: (line: string) => void;
  buildTimeoutMs?: number;
}

export type VersionCheck = { ok: true; version: string } | { ok: false; reason: string };

export interface ToolDefinition {
  /** e.g. "k6" */
  name: string;
  /** e.g. "SDGRADE_K6" */
  envVar: string;
  /** Names to look for on PATH, in order. */
  pathNames: readonly string[];
  /** Cache file stem, e.g. "toxiproxy-server" (the cached file is `<stem>-<version>`). */
  cacheName: string;
  /** Pinned version that the cache holds and a build produces. */
  version: string;
  versionArgs: readonly string[];
  /** Decides from the version output whether a binary is acceptable. */
  checkVersion(output: string): VersionCheck;
  build: GoInstallSpec;
}

export const GET_TOOLS_HINT = 'run `npx tsx scripts/get-tools.ts` first';

async function inspect(def: ToolDefinition, path: string): Promise<VersionCheck> {
  if (!(await isExecutableFile(path))) return { ok: false, reason: `${path} is not an executable file` };
  const out = await readVersionOutput(path, [...def.versionArgs]);
  if (!out.ok) {
    const firstLine = out.output.split('\n')[0] ?? '';
    return {
      ok: false,
      reason: `'${path} ${def.versionArgs.join(' ')}' failed (${out.error}${firstLine ? `: ${firstLine}` : ''}), so it is not ${def.name}`,
    };
  }
  const verdict = def.checkVersion(out.output);
  if (!verdict.ok) return { ok: false, reason: `${path}: ${verdict.reason}` };
  return verdict;
}

export async function findTool(def: ToolDefinition, opts: FindToolOptions = {}): Promise<FoundTool> {
  const env = opts.env ?? process.env;
  const note = opts.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));

  // An explicit override is never silently ignored: a wrong one is an error, not a fall-through.
  const override = env[def.envVar];
  if (override) {
    const v = await inspect(def, override);
    if (!v.ok) throw new Error(`$${def.envVar} does not point at a usable ${def.name}: ${v.reason}`);
    return { path: override, version: v.version, source: 'env' };
  }

  const rejected: string[] = [];
  for (const name of def.pathNames) {
    const found = await findOnPath(name, env);
    if (!found) continue;
    const v = await inspect(def, found);
    if (v.ok) return { path: found, version: v.version, source: 'path' };
    rejected.push(v.reason);
    note(`ignoring ${name} on PATH: ${v.reason}`);
  }

  const cached = cachedBinaryPath(def.cacheName, def.version, env);
  if (await isExecutableFile(cached)) {
    const v = await inspect(def, cached);
    if (v.ok) return { path: cached, version: v.version, source: 'cache' };
    rejected.push(`cached ${v.reason}`);
    note(`rebuilding: cached ${v.reason}`);
  }

  if (opts.build === false) {
    const why = rejected.length > 0 ? ` (${rejected.join('; ')})` : '';
    throw new Error(
      `${def.name} ${def.version} not found: not in $${def.envVar}, not on PATH as ${def.pathNames.join('/')}, ` +
        `not in the cache at ${cached}${why}; ${GET_TOOLS_HINT}`,
    );
  }

  const goOpts: GoInstallOptions = { env, onProgress: note };
  if (opts.buildTimeoutMs !== undefined) goOpts.timeoutMs = opts.buildTimeoutMs;
  const built = await goInstall(def.build, cached, goOpts);
  const v = await inspect(def, built);
  if (!v.ok) throw new Error(`built ${def.name} ${def.version} does not run: ${v.reason}`);
  return { path: built, version: v.version, source: 'built' };
}
