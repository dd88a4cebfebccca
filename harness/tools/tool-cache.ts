// Where sdgrade keeps the load/fault tools it builds, so CI and developers build them once, not every run.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$SDGRADE_CACHE_DIR`, else `$XDG_CACHE_HOME/sdgrade`, else `~/.cache/sdgrade`. */
export function toolCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SDGRADE_CACHE_DIR) return env.SDGRADE_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'sdgrade');
  return join(homedir(), '.cache', 'sdgrade');
}

/** The folder holding built binaries. */
export function toolBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(toolCacheDir(env), 'bin');
}

/**
 * Path of a cached binary. The version is part of the name (`k6-v1.8.1`) so raising a pinned version never
 * reuses the old build: the new name simply is not there yet and gets built.
 */
export function cachedBinaryPath(name: string, version: string, env: NodeJS.ProcessEnv = process.env): string {
  const exe = process.platform === 'win32' ? '.exe' : '';
  return join(toolBinDir(env), `${name}-${version}${exe}`);
}

/** True when `path` is a regular file we may execute. */
export async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
