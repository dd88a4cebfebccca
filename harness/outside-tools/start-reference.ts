// Starts a chapter's reference the way the harness does (its manifest, embedded defaults, its third parties' fakes
// first), for the outside tools to talk to.
import { join } from 'node:path';
import type { ChapterModule } from '../chapters/chapter-module.ts';
import { loadManifest } from '../core/manifest.ts';
import { ProcessTarget } from '../core/process-target.ts';
import { startThirdParties } from '../core/third-parties.ts';

export interface RunningReference {
  baseUrl: string;
  close(): Promise<void>;
}

export async function startReference(module: ChapterModule, runDir: string): Promise<RunningReference> {
  const fakes = await startThirdParties(module, 1);
  try {
    const target = await ProcessTarget.start({
      manifest: loadManifest(module.referenceManifest),
      runDir: join(runDir, module.slug),
      embedded: true,
    });
    return {
      baseUrl: target.baseUrl,
      async close() {
        await target.close();
        await fakes.close();
      },
    };
  } catch (error) {
    await fakes.close();
    throw error;
  }
}
