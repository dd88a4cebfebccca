// Writes a chapter's OpenAPI document as one self-contained file with Redocly CLI's bundler, which moves the shared
// parts into `components` (generators such as openapi-python-client accept only `$ref`s into components there).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { rootDir, specFile } from '../core/paths.ts';

export function bundleSpec(slug: string, dir: string): Promise<string> {
  const out = join(dir, `${slug}.openapi.json`);
  const redocly = join(rootDir, 'node_modules', '.bin', 'redocly');
  return new Promise((resolve, reject) => {
    execFile(redocly, ['bundle', specFile(slug), '--output', out], { cwd: rootDir }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redocly bundle ${slug} failed: ${stdout}${stderr}`));
      else resolve(out);
    });
  });
}
