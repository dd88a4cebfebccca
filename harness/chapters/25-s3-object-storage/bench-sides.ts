// The two S3 servers the micro-benchmark drives through the same AWS SDK client: the reference (one embedded node,
// started from its manifest) and SeaweedFS's S3 gateway (`weed server -s3`, master, volume, filer and gateway in one
// process, the named peer: Apache-2.0; MinIO is AGPL and not used). Both keep their data under the same temporary
// directory, on the disk whose sequential speed the benchmark measures.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { loadManifest } from '../../core/manifest.ts';
import { ProcessTarget } from '../../core/process-target.ts';
import { stablePort } from '../../faults/free-port.ts';
import { ownDir, spawnOwned, stopChild } from '../../tools/owned-processes.ts';
import { findSeaweedfs } from '../../tools/seaweedfs.ts';

const REFERENCE_MANIFEST = new URL('../../../reference/25-s3-object-storage/manifest.json', import.meta.url).pathname;
const ACCESS_KEY = 'SDGRADEACCESSKEY0001';
const SECRET_KEY = 'sdgrade-reference-secret-not-for-production';

export interface S3Side {
  name: string;
  client: S3Client;
  close(): Promise<void>;
}

function clientFor(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 1,
  });
}

export async function startReferenceSide(dataRoot: string): Promise<S3Side> {
  const runDir = mkdtempSync(join(dataRoot, 'reference-'));
  const target = await ProcessTarget.start({ manifest: loadManifest(REFERENCE_MANIFEST), runDir, embedded: true });
  const client = clientFor(target.nodeUrl());
  return {
    name: 'reference',
    client,
    async close() {
      client.destroy();
      await target.close();
    },
  };
}

/** Why the SeaweedFS side cannot run here, or null when it can. */
export async function seaweedfsMissing(): Promise<string | null> {
  try {
    await findSeaweedfs();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function startSeaweedfsSide(dataRoot: string): Promise<S3Side & { version: string }> {
  const weed = await findSeaweedfs();
  const dir = mkdtempSync(join(dataRoot, 'seaweedfs-'));
  const releaseDir = ownDir(dir);
  const config = join(dir, 's3.json');
  writeFileSync(
    config,
    JSON.stringify({
      identities: [
        {
          name: 'sdgrade',
          credentials: [{ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }],
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        },
      ],
    }),
  );
  // Each of weed's servers also listens on its port + 10000 (gRPC): ports below 55535 leave room for that.
  const port = async () => {
    for (;;) {
      const p = await stablePort();
      if (p < 55_000) return p;
    }
  };
  const [master, volume, filer, s3] = [await port(), await port(), await port(), await port()];
  const data = join(dir, 'data');
  execFileSync('mkdir', ['-p', data]);
  const child = spawnOwned(
    weed.path,
    [
      'server',
      '-ip=127.0.0.1',
      '-ip.bind=127.0.0.1',
      `-dir=${data}`,
      `-master.port=${master}`,
      `-volume.port=${volume}`,
      `-filer.port=${filer}`,
      '-filer',
      '-s3',
      `-s3.port=${s3}`,
      `-s3.config=${config}`,
      '-volume.max=8',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const keep = (c: Buffer) => {
    log = (log + c.toString('utf8')).slice(-6000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const client = clientFor(`http://127.0.0.1:${s3}`);
  const stop = async () => {
    client.destroy();
    await stopChild(child, 'SIGTERM', 5_000);
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await client.send(new ListBucketsCommand({}));
      break;
    } catch (e) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`SeaweedFS's S3 gateway did not answer on 127.0.0.1:${s3} (${(e as Error).message}):\n${log}`);
      }
      await sleep(250);
    }
  }
  return { name: 'SeaweedFS', client, version: weed.version, close: stop };
}

/** A scratch directory for one benchmark run's servers and disk measurement (removed by the caller). */
export function benchDataRoot(): string {
  return mkdtempSync(join(tmpdir(), 'sdgrade-25-bench-'));
}
