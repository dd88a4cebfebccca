// The disk's sequential speed in the same run as the object benchmark (the yardstick for PUT and GET MB/s):
// a file written in 1 MiB appends and fsynced once at the end (as an append-only data file is, at best), then read
// back in 1 MiB reads right after, so from the page cache as far as the kernel keeps it: the same state a GET of an
// object just PUT meets. Written in the directory the benchmark's servers keep their data in (the same disk).
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';

const CHUNK = 1024 * 1024;

export interface DiskSpeed {
  writeMBps: number;
  readMBps: number;
  bytes: number;
}

export async function diskSpeed(dir: string, bytes: number): Promise<DiskSpeed> {
  const file = join(dir, 'sequential-speed.bin');
  const chunk = randomBytes(CHUNK);
  const chunks = Math.max(1, Math.round(bytes / CHUNK));
  try {
    const w = await open(file, 'w');
    const t0 = performance.now();
    for (let i = 0; i < chunks; i++) await w.write(chunk, 0, CHUNK);
    await w.sync();
    const writeS = (performance.now() - t0) / 1000;
    await w.close();
    const r = await open(file, 'r');
    const buf = Buffer.allocUnsafe(CHUNK);
    const t1 = performance.now();
    let read = 0;
    for (;;) {
      const { bytesRead } = await r.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const readS = (performance.now() - t1) / 1000;
    await r.close();
    const total = chunks * CHUNK;
    if (read !== total) throw new Error(`read back ${read} bytes of the ${total} written`);
    return { writeMBps: total / 1e6 / writeS, readMBps: total / 1e6 / readS, bytes: total };
  } finally {
    await rm(file, { force: true });
  }
}
