// A tiny `which`: we need it to prefer a user's installed k6/toxiproxy over building our own.
import { delimiter, join } from 'node:path';
import { isExecutableFile } from './tool-cache.ts';

/** First executable named `name` on `$PATH`, or null. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d.length > 0);
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = join(dir, name + ext);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}
