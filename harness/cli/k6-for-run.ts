// k6 for a run that has a load profile (test --load, all): its path and version, or null with the reason printed.
import type { Profile } from '../core/load-run.ts';
import { findK6 } from '../tools/k6.ts';

const log = (line: string) => console.log(line);

export async function k6For(profile: Profile | null | undefined, build: boolean) {
  if (!profile) return null;
  try {
    const k = await findK6({ build });
    return { path: k.path, version: k.version };
  } catch (e) {
    log(`k6 not available: ${(e as Error).message}`);
    return null;
  }
}
