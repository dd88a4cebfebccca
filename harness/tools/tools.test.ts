// Tool lookup: the real binaries must already be there (tests never build), and wrong ones are rejected clearly.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGoVersion } from './go-install.ts';
import { checkK6Version, findK6, K6_VERSION } from './k6.ts';
import { cachedBinaryPath, toolCacheDir } from './tool-cache.ts';
import { checkToxiproxyVersion, findToxiproxy } from './toxiproxy.ts';

let dir: string;
const quiet = () => {};

async function fakeBinary(name: string, output: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\necho '${output}'\n`);
  await chmod(path, 0o755);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdgrade-tools-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('installed tools (run `npx tsx scripts/get-tools.ts` first)', () => {
  it('finds k6 v1.x without building', async () => {
    const k6 = await findK6({ build: false, onProgress: quiet });
    expect(k6.version).toMatch(/^v1\.\d+\.\d+/);
  });

  it('finds toxiproxy-server 2.x without building', async () => {
    const tp = await findToxiproxy({ build: false, onProgress: quiet });
    expect(tp.version).toMatch(/^v2\.|^git$/);
  });
});

describe('findK6 rejects what is not k6 v1', () => {
  it('$SDGRADE_K6 pointing at a non-k6 program is a clear error', async () => {
    const notK6 = await fakeBinary('not-k6', 'hello, I am something else');
    await expect(findK6({ build: false, env: { ...process.env, SDGRADE_K6: notK6 } })).rejects.toThrow(
      /\$SDGRADE_K6 does not point at a usable k6: .*not-k6: its 'version' output "hello, I am something else" is not k6's/,
    );
  });

  it('$SDGRADE_K6 pointing at a plain file or nothing is a clear error', async () => {
    const text = join(dir, 'README');
    await writeFile(text, 'not a program');
    await expect(findK6({ env: { ...process.env, SDGRADE_K6: text } })).rejects.toThrow(/is not an executable file/);
    await expect(findK6({ env: { ...process.env, SDGRADE_K6: join(dir, 'missing') } })).rejects.toThrow(
      /is not an executable file/,
    );
  });

  it('an old k6 on PATH is ignored with a message; nothing else found -> get-tools hint', async () => {
    const pathDir = await mkdtemp(join(dir, 'path-'));
    await writeFile(join(pathDir, 'k6'), "#!/bin/sh\necho 'k6 v0.49.0 (go1.21.6, linux/amd64)'\n");
    await chmod(join(pathDir, 'k6'), 0o755);
    const notes: string[] = [];
    const env = { PATH: pathDir, SDGRADE_CACHE_DIR: join(dir, 'empty-cache') };
    const err = await findK6({ build: false, env, onProgress: (l) => notes.push(l) }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('k6 v0.49.0 is not supported; sdgrade needs k6 v1.x');
    expect((err as Error).message).toContain('run `npx tsx scripts/get-tools.ts` first');
    expect(notes.join('\n')).toMatch(/ignoring k6 on PATH/);
  });

  it('a k6 v1 on PATH is used', async () => {
    const pathDir = await mkdtemp(join(dir, 'path-'));
    await writeFile(join(pathDir, 'k6'), "#!/bin/sh\necho 'k6 v1.2.3 (go1.24.1, linux/amd64)'\n");
    await chmod(join(pathDir, 'k6'), 0o755);
    const found = await findK6({ build: false, env: { PATH: `${pathDir}${delimiter}/nonexistent` } });
    expect(found).toEqual({ path: join(pathDir, 'k6'), version: 'v1.2.3', source: 'path' });
  });

  it('without go, a build says exactly what to install (and builds nothing)', async () => {
    const env = { PATH: join(dir, 'no-such-dir'), SDGRADE_CACHE_DIR: join(dir, 'cache-nogo') };
    await expect(findK6({ env, onProgress: quiet })).rejects.toThrow(
      /Go toolchain \('go'\) is not on PATH; install Go >= 1\.25 from your package manager.*or put k6 v1\.x on PATH: https:\/\/grafana\.com/,
    );
  });
});

describe('version parsing and cache layout', () => {
  it('parses k6 version lines, whatever the binary is called', () => {
    expect(checkK6Version('k6 v1.8.1 (go1.26.8, linux/amd64)')).toEqual({ ok: true, version: 'v1.8.1' });
    expect(checkK6Version('k6-v1.8.1 v1.8.1 (go1.26.8, linux/amd64)')).toEqual({ ok: true, version: 'v1.8.1' });
    expect(checkK6Version('k6 v0.45.0 (2023-06-19T08:40:45+0000/v0.45.0-0-gc3b4587b, go1.20.5, linux/amd64)').ok).toBe(
      false,
    );
  });

  it('parses toxiproxy-server version lines', () => {
    expect(checkToxiproxyVersion('toxiproxy-server version 2.5.0')).toEqual({ ok: true, version: 'v2.5.0' });
    expect(checkToxiproxyVersion('toxiproxy-server version git')).toEqual({ ok: true, version: 'git' });
    expect(checkToxiproxyVersion('toxiproxy-cli version 2.5.0').ok).toBe(false);
    expect(checkToxiproxyVersion('toxiproxy-server version 1.2.1').ok).toBe(false);
  });

  it('parses go versions', () => {
    expect(parseGoVersion('go1.26.8')).toEqual([1, 26]);
    expect(parseGoVersion('go version go1.22.2 linux/amd64')).toEqual([1, 22]);
    expect(parseGoVersion('')).toBeNull();
  });

  it('puts the version in the cached file name', () => {
    expect(toolCacheDir({ SDGRADE_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(toolCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/sdgrade');
    expect(toolCacheDir({})).toMatch(/\.cache[/\\]sdgrade$/);
    expect(cachedBinaryPath('k6', K6_VERSION, { SDGRADE_CACHE_DIR: '/c' })).toBe(join('/c', 'bin', 'k6-v1.8.1'));
  });
});
