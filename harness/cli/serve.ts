// `sdgrade serve`: the reference implementations on embedded defaults, started through their manifests exactly as
// the harness starts them, until Ctrl-C.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChapterModule } from '../chapters/chapter-module.ts';
import { loadManifest } from '../core/manifest.ts';
import { ProcessTarget } from '../core/process-target.ts';
import { startThirdParties } from '../core/third-parties.ts';

export async function serveReferences(mods: ChapterModule[], log: (l: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-serve-'));
  const targets: ProcessTarget[] = [];
  const fakes: { close(): Promise<void> }[] = [];
  try {
    for (const m of mods) {
      // Fakes of the chapter's third parties (chapter 27's PSP), whose URLs the manifest reads from the environment.
      fakes.push(await startThirdParties(m, 1));
      const t = await ProcessTarget.start({ manifest: loadManifest(m.referenceManifest), runDir: join(dir, m.slug) });
      targets.push(t);
      log(
        `${m.slug.padEnd(24)} ${t.baseUrl}   (logs: ${t
          .logs()
          .map((l) => l.path)
          .join(', ')})`,
      );
    }
    log('serving; Ctrl-C stops');
    // bin/sdgrade.js leaves the signal to us (a graceful stop) instead of exiting at once.
    (globalThis as Record<symbol, unknown>)[Symbol.for('sdgrade.gracefulSignals')] = true;
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    log('stopping');
    await Promise.all(targets.map((t) => t.close()));
    for (const f of fakes) await f.close();
  }
}
