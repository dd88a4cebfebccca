// SOS-F4's read gate (held-reads.c): GETs whose file reads run on the target's I/O threads (not its main one) held
// before they start while a compaction runs to its end, so a read that looked up an object's place before the
// compaction and reads the file after it was closed and deleted is met every run (blind bug
// get-async-read-races-compaction). No timing can place such a read: the close follows the last batch within one
// event-loop turn, and an idle pool starts a read at once. Linux only (LD_PRELOAD, /proc); a C compiler builds it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { Ledger, type Live, readBackError } from './compaction-kit.ts';
import type { S3 } from './s3-client.ts';

/** How long the held GETs are given to reach the gate (or answer) before the compaction starts anyway. */
const REACH_BOUND_MS = 10_000;

export interface ReadGate {
  /** The environment that loads the gate into a process started with it. */
  env: Record<string, string>;
  /** From now, reads off the main thread are caught and held until release(). */
  hold(): void;
  /** Reads caught so far stay held; new ones pass (the compaction's own, on whatever thread). */
  stopCatching(): void;
  release(): void;
  /** Reads held since the last hold(). */
  held(): number;
}

/** The gate for a target whose data directory is `dataDir`, or why it cannot be built here. */
export function readGate(ctx: CheckContext, dataDir: string): ReadGate | string {
  if (process.platform !== 'linux') return `the read gate needs Linux (LD_PRELOAD), not ${process.platform}`;
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-held-reads-'));
  const lib = join(dir, 'held-reads.so');
  try {
    execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', lib, join(import.meta.dirname, 'held-reads.c'), '-ldl'], {
      stdio: 'pipe',
    });
  } catch (e) {
    return `no C compiler built the read gate (cc): ${String((e as Error).message).split('\n')[0]}`;
  }
  ctx.log(`the read gate built in ${dir}`);
  const gate = join(dir, 'gate');
  const count = `${gate}.held`;
  return {
    // io_uring reads bypass the C library's read calls: libuv is told not to use it, so its pool calls pread.
    env: { LD_PRELOAD: lib, SDGRADE_HELD_READS_DIR: dataDir, SDGRADE_HELD_READS_GATE: gate, UV_USE_IO_URING: '0' },
    hold: () => {
      rmSync(count, { force: true });
      writeFileSync(gate, '');
      writeFileSync(`${gate}.catch`, '');
    },
    stopCatching: () => rmSync(`${gate}.catch`, { force: true }),
    release: () => {
      rmSync(`${gate}.catch`, { force: true });
      rmSync(gate, { force: true });
    },
    held: () => (existsSync(count) ? statSync(count).size : 0),
  };
}

/** Starts the target with the gate loaded (the node inherits the harness's environment), then unsets it here. */
export async function startWithGate(ctx: CheckContext, gate: ReadGate | string): Promise<void> {
  if (typeof gate === 'string') return ctx.target.start();
  const saved = Object.fromEntries(Object.keys(gate.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, gate.env);
  try {
    await ctx.target.start();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * Runs `during` (a compaction to its end) while GETs of `objects`, sent first, are held at the gate wherever the
 * target reads them off its main thread; then lets them go. Each must answer its object exactly: a read that took
 * the object's place before the compaction must not find the file closed or deleted under it.
 */
export async function whileReadsHeld<T>(
  ctx: CheckContext,
  s3: S3,
  gate: ReadGate | string,
  objects: readonly Live[],
  during: () => Promise<T>,
): Promise<T> {
  if (typeof gate === 'string') {
    ctx.log(`GETs held across a compaction not run: ${gate}`);
    ctx.evidence['readsHeldAcrossCompaction'] = `not run: ${gate}`;
    return during();
  }
  gate.hold();
  let answered = 0;
  const reads = objects.map((x) =>
    readBackError(s3, x).then((err) => {
      answered += 1;
      return err;
    }),
  );
  let held = 0;
  try {
    const since = performance.now();
    while (gate.held() + answered < objects.length && performance.now() - since < timeLimit(REACH_BOUND_MS)) {
      await ctx.sleep(5);
    }
    held = gate.held();
    gate.stopCatching();
    return await during();
  } finally {
    gate.release();
    const errs = await Promise.all(reads);
    ctx.evidence['readsHeldAcrossCompaction'] = { sent: objects.length, held };
    for (const [i, x] of objects.entries()) {
      ctx.expect(
        errs[i] === null,
        `a GET of ${Ledger.id(x)} sent before a compaction (its file read ${held > 0 ? 'held' : 'not held'} ` +
          `until the compaction had answered) ${errs[i]}`,
      );
    }
  }
}
