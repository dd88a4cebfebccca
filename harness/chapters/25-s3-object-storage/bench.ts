// The chapter's micro-benchmark (`sdgrade bench 25`): the reference beside SeaweedFS's S3 gateway, the named peer,
// through the same AWS SDK client on the same seeded objects (small: the book's 0.5 MB median; large: its 32 MB
// median of the middle sizes), and the large objects' MB/s as ratios to the disk's sequential speed measured in the
// same run (the issue's yardstick). Every GET's bytes are compared with what was PUT: a side that answers wrong
// bytes leaves its ratios unmeasured, with the reason. Medians over rounds alternating which side goes first; only
// ratios measured side by side in one run. SeaweedFS not built here: its targets skipped with that reason.
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import type { Profile } from '../../core/load-run.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { median, round3 } from '../../core/stats.ts';
import type { TargetResult } from '../../results/types.ts';
import { benchDataRoot, type S3Side, seaweedfsMissing, startReferenceSide, startSeaweedfsSide } from './bench-sides.ts';
import { diskSpeed } from './disk-speed.ts';

const SLUG = '25-s3-object-storage';
const SMALL_BYTES = 512 * 1024;
const LARGE_BYTES = 32 * 1024 * 1024;

export interface BenchSettings {
  small: number;
  large: number;
  concurrency: number;
  rounds: number;
}
export const SETTINGS: Record<Profile, BenchSettings> = {
  smoke: { small: 16, large: 2, concurrency: 4, rounds: 1 },
  full: { small: 200, large: 8, concurrency: 4, rounds: 3 },
};

/** One side's figures for one round. */
export interface SideFigures {
  smallPutsPerS: number;
  smallGetsPerS: number;
  largePutMBps: number;
  largeGetMBps: number;
  /** The first GET whose bytes were not the ones PUT, or null. */
  wrong: string | null;
}

export interface Objects {
  small: Buffer[];
  large: Buffer[];
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Runs `n` jobs with at most `concurrency` at once; seconds taken. */
async function timed(n: number, concurrency: number, job: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await job(next++);
    }),
  );
  return (performance.now() - t0) / 1000;
}

export async function measureSide(client: S3Client, objects: Objects, concurrency: number): Promise<SideFigures> {
  const bucket = `bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  let wrong: string | null = null;
  const put = (key: string, body: Buffer) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const get = async (key: string, body: Buffer) => {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const got = await r.Body!.transformToByteArray();
    if (wrong === null && (got.length !== body.length || md5(got) !== md5(body)))
      wrong = `GET ${key} returned ${got.length} bytes that are not the ${body.length} PUT`;
  };
  const { small, large } = objects;
  const smallPutS = await timed(small.length, concurrency, (i) => put(`s/${i}`, small[i]!).then(() => {}));
  const smallGetS = await timed(small.length, concurrency, (i) => get(`s/${i}`, small[i]!));
  const largeConcurrency = Math.min(2, concurrency);
  const largePutS = await timed(large.length, largeConcurrency, (i) => put(`l/${i}`, large[i]!).then(() => {}));
  const largeGetS = await timed(large.length, largeConcurrency, (i) => get(`l/${i}`, large[i]!));
  const largeMB = large.reduce((n, b) => n + b.length, 0) / 1e6;
  return {
    smallPutsPerS: small.length / smallPutS,
    smallGetsPerS: small.length / smallGetS,
    largePutMBps: largeMB / largePutS,
    largeGetMBps: largeMB / largeGetS,
    wrong,
  };
}

export interface BenchRound {
  disk: { writeMBps: number; readMBps: number };
  ours: SideFigures;
  theirs: SideFigures | null;
}

type Fig = keyof Omit<SideFigures, 'wrong'>;
const f1 = (x: number) => (Math.round(x * 10) / 10).toLocaleString('en-US');

/** The rounds as the chapter's targets (SOS-T6..T11). `peerMissing`: why SeaweedFS did not run. */
export function s3BenchTargets(
  rounds: readonly BenchRound[],
  profile: Profile,
  o: { peerMissing: string | null; peerVersion?: string; load?: string; settings: BenchSettings },
): TargetResult[] {
  const t = loadTargets(SLUG);
  const s = o.settings;
  const how = `median of ${rounds.length} round${rounds.length === 1 ? '' : 's'} (${s.small} objects of 512 KiB, ${s.large} of 32 MiB, ${s.concurrency} at once, 2 for the large)${o.load ? `, load average ${o.load}` : ''}`;
  const oursWrong = rounds.find((r) => r.ours.wrong)?.ours.wrong ?? null;
  const mid = (f: (r: BenchRound) => number) => median(rounds.map(f));
  const disk = (id: string, k: 'largePutMBps' | 'largeGetMBps', d: 'writeMBps' | 'readMBps', what: string) => {
    if (oursWrong) return gradeTarget(t[id]!, { value: null, reason: `not measured: ${oursWrong}` }, profile);
    const ratio = mid((r) => r.ours[k] / r.disk[d]);
    return gradeTarget(
      t[id]!,
      {
        value: round3(ratio),
        yardstick: {
          name: `the disk's sequential ${what}, same run`,
          value: round3(mid((r) => r.disk[d])),
          unit: 'MB/s',
        },
        reason: `reference ${f1(mid((r) => r.ours[k]))} MB/s vs the disk's sequential ${what} ${f1(mid((r) => r.disk[d]))} MB/s; ${how}`,
      },
      profile,
    );
  };
  const peer = (id: string, k: Fig, unit: string, what: string) => {
    if (o.peerMissing) return gradeTarget(t[id]!, { value: null, reason: `skipped: ${o.peerMissing}` }, profile);
    const theirsWrong = rounds.find((r) => r.theirs?.wrong)?.theirs?.wrong ?? null;
    if (oursWrong || theirsWrong)
      return gradeTarget(
        t[id]!,
        { value: null, reason: `not measured: ${oursWrong ? `reference: ${oursWrong}` : `SeaweedFS: ${theirsWrong}`}` },
        profile,
      );
    const ratio = mid((r) => r.ours[k] / r.theirs![k]);
    return gradeTarget(
      t[id]!,
      {
        value: round3(ratio),
        yardstick: {
          name: `SeaweedFS ${o.peerVersion ?? ''}, same objects, same run (${what})`.replace('  ', ' '),
          value: round3(mid((r) => r.theirs![k])),
          unit,
        },
        reason: `reference ${f1(mid((r) => r.ours[k]))} vs SeaweedFS ${f1(mid((r) => r.theirs![k]))} ${unit} (${what}); SeaweedFS's large PUTs ${f1(mid((r) => r.theirs!.largePutMBps / r.disk.writeMBps))} of the disk's sequential write; ${how}`,
      },
      profile,
    );
  };
  return [
    disk('SOS-T6', 'largePutMBps', 'writeMBps', 'write (fsynced)'),
    disk('SOS-T7', 'largeGetMBps', 'readMBps', 'read of a file just written'),
    peer('SOS-T8', 'smallPutsPerS', 'req/s', 'PUTs of 512 KiB'),
    peer('SOS-T9', 'smallGetsPerS', 'req/s', 'GETs of 512 KiB'),
    peer('SOS-T10', 'largePutMBps', 'MB/s', 'PUTs of 32 MiB'),
    peer('SOS-T11', 'largeGetMBps', 'MB/s', 'GETs of 32 MiB'),
  ];
}

export const benchS3ObjectStorage: BenchRun = async ({ profile, onProgress }) => {
  const s = SETTINGS[profile];
  const objects: Objects = {
    small: Array.from({ length: s.small }, () => randomBytes(SMALL_BYTES)),
    large: Array.from({ length: s.large }, () => randomBytes(LARGE_BYTES)),
  };
  const root = benchDataRoot();
  const peerMissing = await seaweedfsMissing();
  if (peerMissing) onProgress(`SeaweedFS side skipped: ${peerMissing}`);
  const rounds: BenchRound[] = [];
  let peerVersion: string | undefined;
  try {
    for (let round = 0; round < s.rounds; round++) {
      const d = await diskSpeed(root, s.large * LARGE_BYTES);
      onProgress(
        `round ${round + 1}/${s.rounds}: disk ${f1(d.writeMBps)} MB/s sequential write, ${f1(d.readMBps)} MB/s read`,
      );
      const run = async (start: () => Promise<S3Side & { version?: string }>) => {
        const side = await start();
        try {
          if (side.version) peerVersion = side.version;
          const fig = await measureSide(side.client, objects, s.concurrency);
          onProgress(
            `  ${side.name}: ${f1(fig.smallPutsPerS)} small PUTs/s, ${f1(fig.smallGetsPerS)} small GETs/s, large ${f1(fig.largePutMBps)} MB/s PUT, ${f1(fig.largeGetMBps)} MB/s GET${fig.wrong ? `; WRONG: ${fig.wrong}` : ''}`,
          );
          return fig;
        } finally {
          await side.close();
        }
      };
      const oursFirst = round % 2 === 0 || peerMissing !== null;
      let ours: SideFigures;
      let theirs: SideFigures | null = null;
      if (oursFirst) {
        ours = await run(() => startReferenceSide(root));
        if (!peerMissing) theirs = await run(() => startSeaweedfsSide(root));
      } else {
        theirs = await run(() => startSeaweedfsSide(root));
        ours = await run(() => startReferenceSide(root));
      }
      rounds.push({ disk: d, ours, theirs });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const load = loadavg()
    .slice(0, 1)
    .map((x) => x.toFixed(1))
    .join('');
  return s3BenchTargets(rounds, profile, {
    peerMissing,
    ...(peerVersion ? { peerVersion } : {}),
    load,
    settings: s,
  });
};
