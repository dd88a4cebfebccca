// init: the manifest it writes is valid, says what it unlocks, and bad input gets a clear error.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadManifest } from '../core/manifest.ts';
import { buildManifest, cmdInit, splitCommand } from './init.ts';

describe('sdgrade init', () => {
  afterEach(() => vi.restoreAllMocks());

  it('splits a command line like a shell for words and quotes', () => {
    expect(splitCommand('go run ./cmd/api --listen "127.0.0.1:${PORT}"')).toEqual([
      'go',
      'run',
      './cmd/api',
      '--listen',
      '127.0.0.1:${PORT}',
    ]);
    expect(splitCommand("node 'my server.js'  -x")).toEqual(['node', 'my server.js', '-x']);
    expect(() => splitCommand('node "oops')).toThrow(/unclosed/);
  });

  it('writes a manifest the harness loads, with the chapter dependencies and comments on what they unlock', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const dir = mkdtempSync(join(tmpdir(), 'sdgrade-init-'));
    writeFileSync(join(dir, 'server.sh'), '#!/bin/sh\n');
    const out = join(dir, 'sdgrade.manifest.json');
    const code = await cmdInit('05', {
      command: './server.sh --fast',
      portEnv: 'HTTP_PORT',
      dataDirEnv: 'STATE_DIR',
      nodes: 2,
      out,
    });
    expect(code).toBe(0);
    const m = loadManifest(out);
    expect(m.chapter).toBe('05-rate-limiter');
    expect(m.nodes).toHaveLength(2);
    expect(m.nodes[0]?.command).toEqual(['./server.sh', '--fast']);
    expect(m.nodes[0]?.env).toMatchObject({ HTTP_PORT: '${port}', STATE_DIR: '${dataDir}', REDIS_URL: '${dep.redis}' });
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/unlocks .*RL-F/);
    // an existing file is not overwritten without --force
    await expect(cmdInit('05', { command: './server.sh', out })).rejects.toThrow(/exists; pass --force/);
    expect(await cmdInit('05', { command: './server.sh', out, force: true })).toBe(0);
  });

  it('refuses an unknown chapter, a program that is not there and a bad variable name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdgrade-init-'));
    const out = join(dir, 'm.json');
    await expect(buildManifest('42-nothing', { command: 'node x.js', out })).rejects.toThrow(/no graded chapter/);
    await expect(buildManifest('09', { command: './no-such-binary', out })).rejects.toThrow(
      /command not found: \.\/no-such-binary/,
    );
    await expect(buildManifest('09', { command: 'surely-not-on-path-xyz', out })).rejects.toThrow(/not on PATH/);
    await expect(buildManifest('09', { command: 'node x.js', portEnv: 'BAD-NAME', out })).rejects.toThrow(
      /not a variable name/,
    );
    await expect(buildManifest('09', { command: '   ', out })).rejects.toThrow(/empty/);
  });

  it('without a terminal, a missing --command is an error that names it', async () => {
    const tty = process.stdin.isTTY;
    Object.defineProperty(process.stdin, 'isTTY', { value: false, configurable: true });
    try {
      await expect(cmdInit('09', {})).rejects.toThrow(/--command is required/);
    } finally {
      Object.defineProperty(process.stdin, 'isTTY', { value: tty, configurable: true });
    }
  });
});
