// SeaweedFS (`weed`), chapter 25's peer: found as `$SDGRADE_WEED`, `weed` on PATH, or the cache; built only when
// asked (`npx tsx scripts/get-tools.ts --seaweedfs`), since the build is large (hundreds of modules, minutes). The
// Go module proxy serves one pseudo-version of github.com/seaweedfs/seaweedfs; its go.mod has replace directives,
// which `go install pkg@version` refuses, so the module is downloaded, copied and built in place with `go build`.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findOnPath } from './find-on-path.ts';
import { cachedBinaryPath, isExecutableFile } from './tool-cache.ts';
import { readVersionOutput } from './version-output.ts';

/** The one place the SeaweedFS version is pinned: the pseudo-version the Go module proxy serves here. */
export const SEAWEEDFS_VERSION = 'v0.0.0-20261109003541-7506e5f91cd6';
export const SEAWEEDFS_MODULE = 'github.com/seaweedfs/seaweedfs';
const HINT = 'build it with `npx tsx scripts/get-tools.ts --seaweedfs` (Go; several minutes), or set SDGRADE_WEED';

export interface FoundSeaweedfs {
  path: string;
  version: string;
}

async function versionOf(path: string): Promise<string | null> {
  const out = await readVersionOutput(path, ['version']);
  const m = /version\s+(\S+(?:\s+\S+)?)/i.exec(out.output);
  return out.ok && m ? m[0].trim() : null;
}

/** `$SDGRADE_WEED`, `weed` on PATH, then the cache; throws saying how to get it. */
export async function findSeaweedfs(env: NodeJS.ProcessEnv = process.env): Promise<FoundSeaweedfs> {
  const candidates = [
    env['SDGRADE_WEED'],
    await findOnPath('weed', env),
    cachedBinaryPath('weed', SEAWEEDFS_VERSION, env),
  ];
  for (const path of candidates) {
    if (!path || !(await isExecutableFile(path))) continue;
    const version = await versionOf(path);
    if (version) return { path, version };
  }
  throw new Error(`SeaweedFS (weed) is not installed: ${HINT}`);
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`'${cmd} ${args.join(' ')}' failed: ${err.message.split('\n')[0]}\n${stderr.slice(-3000)}`));
      else resolve(stdout);
    });
  });
}

/** Builds the pinned SeaweedFS into the cache (once) and returns it. */
export async function buildSeaweedfs(onProgress: (line: string) => void = () => {}): Promise<FoundSeaweedfs> {
  const out = cachedBinaryPath('weed', SEAWEEDFS_VERSION);
  if (await isExecutableFile(out)) return findSeaweedfs({ ...process.env, SDGRADE_WEED: out });
  const work = mkdtempSync(join(tmpdir(), 'sdgrade-weed-'));
  try {
    onProgress(`downloading ${SEAWEEDFS_MODULE}@${SEAWEEDFS_VERSION} from the Go module proxy...`);
    const info = JSON.parse(
      await run('go', ['mod', 'download', '-json', `${SEAWEEDFS_MODULE}@${SEAWEEDFS_VERSION}`], work, 15 * 60_000),
    ) as { Dir?: string; Error?: string };
    if (!info.Dir) throw new Error(`go mod download gave no directory: ${info.Error ?? 'no error'}`);
    const src = join(work, 'src');
    cpSync(info.Dir, src, { recursive: true });
    await run('chmod', ['-R', 'u+w', src], work, 60_000);
    onProgress('building weed (several minutes on 2 cores; once)...');
    mkdirSync(dirname(out), { recursive: true });
    await run('go', ['build', '-o', out, './weed'], src, 60 * 60_000);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return findSeaweedfs({ ...process.env, SDGRADE_WEED: out });
}
