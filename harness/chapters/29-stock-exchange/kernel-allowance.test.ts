import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASSUMED_ALLOWANCE, kernelAllowance } from './kernel-allowance.ts';

describe('SE-I12 kernel allowance', () => {
  const proc = mkdtempSync(join(tmpdir(), 'sdgrade-sysctl-'));
  writeFileSync(join(proc, 'tcp_wmem'), '4096\t16384\t16777216\n');
  writeFileSync(join(proc, 'tcp_rmem'), '4096\t131072\t33554432\n');

  it("takes a loopback target's buffers from the host's settings (a larger tcp_wmem, a larger allowance)", () => {
    const a = kernelAllowance('http://127.0.0.1:8080', proc);
    expect(a.bytes).toBe(16_777_216 + 131_072 + 1024 * 1024);
    expect(a.source).toMatch(/tcp_wmem max 16777216/);
    expect(kernelAllowance('http://localhost:1/', proc).bytes).toBe(a.bytes);
  });

  it('assumes 6 MiB for a target on another host, or when the settings cannot be read', () => {
    expect(kernelAllowance('http://exchange.example:80', proc).bytes).toBe(ASSUMED_ALLOWANCE);
    expect(kernelAllowance('http://127.0.0.1:8080', join(proc, 'missing')).bytes).toBe(ASSUMED_ALLOWANCE);
  });
});
