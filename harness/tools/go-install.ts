// Builds a pinned Go program with `go install module@version`. k6 and toxiproxy are Go programs that are not on
// npm; the Go module proxy is reachable wherever npm is, so building from a pinned release is the portable way
// to get the exact version the suite was calibrated with.
import type { ChildProcessByStdio } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { findOnPath } from './find-on-path.ts';
import { spawnOwned } from './owned-processes.ts';
import { isExecutableFile } from './tool-cache.ts';
import { readVersionOutput } from './version-output.ts';

export interface GoInstallSpec {
  /** Human name, e.g. "k6". */
  displayName: string;
  /** Package path to install, e.g. "go.k6.io/k6" or "github.com/Shopify/toxiproxy/v2/cmd/server". */
  pkg: string;
  /** Pinned module version, e.g. "v1.8.1". */
  version: string;
  /** File name `go install` produces: the last element of `pkg` ("k6", "server"). */
  builtName: string;
  /** Oldest Go that builds this version (its go.mod `go` line). */
  minGo: readonly [major: number, minor: number];
  /** Shown in the progress line, e.g. "about 2 minutes". */
  expectedTime: string;
  /** Tells the user the other way to get the tool, e.g. "or put k6 on PATH: <url>". */
  alternative: string;
  /** Extra -ldflags, e.g. to stamp a version string the upstream release build would have set. */
  ldflags?: string;
}

export interface GoInstallOptions {
  onProgress?: (line: string) => void;
  /** Kill the build after this long (default 20 minutes). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** "go1.26.8" / "go version go1.22.2 linux/amd64" -> [1, 26]. */
export function parseGoVersion(output: string): [number, number] | null {
  const m = /go(\d+)\.(\d+)/.exec(output);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function installAdvice(spec: GoInstallSpec): string {
  const [maj, min] = spec.minGo;
  return `install Go >= ${maj}.${min} from your package manager (or https://go.dev/dl/), ${spec.alternative}`;
}

const defaultProgress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Builds `spec` into a temporary GOBIN next to `dest`, then renames it to `dest`: the rename is atomic, so a
 * crash or a concurrent run never leaves a half-written binary under the final name.
 * Throws an Error saying what to install when Go is missing, too old, or the build fails.
 */
export async function goInstall(spec: GoInstallSpec, dest: string, opts: GoInstallOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? defaultProgress;
  const label = `${spec.displayName} ${spec.version}`;

  const go = await findOnPath('go', env);
  if (!go) throw new Error(`cannot build ${label}: the Go toolchain ('go') is not on PATH; ${installAdvice(spec)}`);
  const goVersionOut = await readVersionOutput(go, ['env', 'GOVERSION']);
  const goVersion = parseGoVersion(goVersionOut.output);
  if (!goVersionOut.ok || !goVersion) {
    throw new Error(
      `cannot build ${label}: '${go} env GOVERSION' failed (${goVersionOut.output}); ${installAdvice(spec)}`,
    );
  }
  const [maj, min] = spec.minGo;
  if (goVersion[0] < maj || (goVersion[0] === maj && goVersion[1] < min)) {
    throw new Error(
      `cannot build ${label}: it needs Go >= ${maj}.${min} but '${go}' is ${goVersionOut.output}; ${installAdvice(spec)}`,
    );
  }

  await mkdir(dirname(dest), { recursive: true });
  // Same folder as dest: rename() is only atomic within one filesystem.
  const tmp = await mkdtemp(join(dirname(dest), `.build-${spec.builtName}-`));
  try {
    progress(`building ${label} with go install (${spec.expectedTime}, once)...`);
    const args = ['install', '-trimpath'];
    if (spec.ldflags) args.push(`-ldflags=${spec.ldflags}`);
    args.push(`${spec.pkg}@${spec.version}`);
    const buildEnv: NodeJS.ProcessEnv = {
      ...env,
      GOBIN: tmp,
      // Static binary: no C compiler needed, runs on any glibc/musl.
      CGO_ENABLED: '0',
      // `pkg@version` builds outside any module, but a go.work in a parent folder would still interfere.
      GOWORK: 'off',
      // Never let an old Go silently download a newer toolchain: we checked the version and say what to install.
      GOTOOLCHAIN: env.GOTOOLCHAIN ?? 'local',
    };
    const started = Date.now();
    const { code, output } = await runWithHeartbeat(go, args, tmp, buildEnv, opts.timeoutMs ?? 20 * 60_000, () =>
      progress(`  still building ${label} (${Math.round((Date.now() - started) / 1000)}s)...`),
    );
    const built = join(tmp, spec.builtName + (process.platform === 'win32' ? '.exe' : ''));
    if (code !== 0 || !(await isExecutableFile(built))) {
      const tail = output.trim().split('\n').slice(-25).join('\n');
      throw new Error(
        `building ${label} failed: 'go ${args.join(' ')}' exited with ${code}:\n${tail}\n` +
          `To fix: ${installAdvice(spec)}`,
      );
    }
    await rename(built, dest);
    progress(`built ${label} in ${Math.round((Date.now() - started) / 1000)}s: ${dest}`);
    return dest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function runWithHeartbeat(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  heartbeat: () => void,
): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = spawnOwned(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcessByStdio<
      null,
      Readable,
      Readable
    >;
    let output = '';
    const keep = (chunk: Buffer) => {
      // Only the tail matters for the error message; a k6 build lists hundreds of "go: downloading" lines.
      output = (output + chunk.toString('utf8')).slice(-64_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const beat = setInterval(heartbeat, 20_000);
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    const done = (code: number | string) => {
      clearInterval(beat);
      clearTimeout(timer);
      resolve({ code, output });
    };
    child.on('error', (err) => done(err.message));
    child.on('close', (code, signal) => done(code ?? signal ?? 'unknown'));
  });
}
