// The micro-benchmark's arithmetic and guards, without SeaweedFS: ratios of known figures, a side whose GET returns
// other bytes leaves its ratios unmeasured (never a ratio of a wrong answer), SeaweedFS not installed is a skip with
// the reason, and measureSide's byte check on an in-memory S3 that corrupts one object. Speed is never asserted.
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { type BenchRound, measureSide, type Objects, SETTINGS, type SideFigures, s3BenchTargets } from './bench.ts';

const fig = (small: number, large: number, wrong: string | null = null): SideFigures => ({
  smallPutsPerS: small,
  smallGetsPerS: small * 2,
  largePutMBps: large,
  largeGetMBps: large * 2,
  wrong,
});
const round = (ours: SideFigures, theirs: SideFigures | null): BenchRound => ({
  disk: { writeMBps: 100, readMBps: 1000 },
  ours,
  theirs,
});
const byId = (ts: ReturnType<typeof s3BenchTargets>) => Object.fromEntries(ts.map((t) => [t.id, t]));

/** An S3 of one Map, answering PutObject and GetObject; `corrupt` flips a byte of that key's GET. */
function memoryS3(corrupt?: string): S3Client {
  const objects = new Map<string, Uint8Array>();
  return {
    async send(cmd: { constructor: { name: string }; input: { Key?: string; Body?: Uint8Array } }) {
      const { Key, Body } = cmd.input;
      if (cmd.constructor.name === 'PutObjectCommand') objects.set(Key!, Body!);
      if (cmd.constructor.name === 'GetObjectCommand') {
        const b = Buffer.from(objects.get(Key!)!);
        if (Key === corrupt) b[0] = b[0]! ^ 1;
        return { Body: { transformToByteArray: async () => b } };
      }
      return {};
    },
  } as unknown as S3Client;
}

describe('25-s3-object-storage micro-benchmark', () => {
  it('gives each target the median ratio of the rounds', () => {
    const rounds = [
      round(fig(10, 50), fig(20, 100)),
      round(fig(30, 20), fig(20, 100)),
      round(fig(20, 30), fig(20, 100)),
    ];
    const t = byId(s3BenchTargets(rounds, 'smoke', { peerMissing: null, settings: SETTINGS.smoke }));
    expect(t['SOS-T6']!.value).toBe(0.3); // median of 50, 20, 30 over the disk's 100
    expect(t['SOS-T7']!.value).toBe(0.06); // median of 100, 40, 60 over 1000
    expect(t['SOS-T8']!.value).toBe(1); // median of 0.5, 1.5, 1
    expect(t['SOS-T10']!.value).toBe(0.3);
    expect(t['SOS-T11']!.verdict).toBe('info');
  });

  it('leaves every ratio of a side that answered wrong bytes unmeasured, with the reason', () => {
    const wrongOurs = byId(
      s3BenchTargets([round(fig(10, 50, 'GET s/3 returned other bytes'), fig(20, 100))], 'smoke', {
        peerMissing: null,
        settings: SETTINGS.smoke,
      }),
    );
    for (const id of ['SOS-T6', 'SOS-T7', 'SOS-T8', 'SOS-T11']) {
      expect(wrongOurs[id]!.value).toBeNull();
      expect(wrongOurs[id]!.reason).toContain('GET s/3 returned other bytes');
    }
    const wrongTheirs = byId(
      s3BenchTargets([round(fig(10, 50), fig(20, 100, 'GET l/0 returned other bytes'))], 'smoke', {
        peerMissing: null,
        settings: SETTINGS.smoke,
      }),
    );
    expect(wrongTheirs['SOS-T6']!.value).toBe(0.5);
    expect(wrongTheirs['SOS-T9']!.value).toBeNull();
    expect(wrongTheirs['SOS-T9']!.reason).toContain('SeaweedFS: GET l/0');
  });

  it('skips the SeaweedFS ratios with the reason when it is not installed', () => {
    const t = byId(
      s3BenchTargets([round(fig(10, 50), null)], 'smoke', {
        peerMissing: 'weed is not installed',
        settings: SETTINGS.smoke,
      }),
    );
    expect(t['SOS-T6']!.value).toBe(0.5);
    for (const id of ['SOS-T8', 'SOS-T9', 'SOS-T10', 'SOS-T11']) {
      expect(t[id]!.verdict).toBe('skipped');
      expect(t[id]!.reason).toContain('weed is not installed');
    }
  });

  it('measureSide compares every GET with what was PUT', async () => {
    const objects: Objects = {
      small: [Buffer.from('aaaa'), Buffer.from('bbbb'), Buffer.from('cccc')],
      large: [Buffer.alloc(64, 7)],
    };
    const good = await measureSide(memoryS3(), objects, 2);
    expect(good.wrong).toBeNull();
    expect(good.largePutMBps).toBeGreaterThan(0);
    const bad = await measureSide(memoryS3('s/1'), objects, 2);
    expect(bad.wrong).toBe('GET s/1 returned 4 bytes that are not the 4 PUT');
  });
});
