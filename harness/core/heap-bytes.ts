// Memory a data structure keeps alive, for the micro-benchmarks' bytes-per-entry figures: the growth of the JS heap
// plus array buffers (typed arrays live outside the heap) across building it, each side measured after forced GCs.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The V8 garbage collector as a function (a benchmark starts each task from a collected heap). */
export function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Bytes retained by what `build` returns (kept alive until measured). */
export async function heapBytesOf(build: () => unknown | Promise<unknown>): Promise<number> {
  const gc = collector();
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  gc();
  gc();
  const before = used();
  const kept = await build();
  gc();
  gc();
  const after = used();
  if (!kept) throw new Error('heapBytesOf: build() must return what it built, so that it stays alive');
  return after - before;
}

/**
 * The median of `tries` separate builds: one figure can be pulled down by garbage the rest of the process freed
 * between the two forced GCs (a small structure measured beside busy I/O once came out negative). A result that is
 * still not positive is no measurement: callers report it as not measured, never as a small figure.
 */
export async function medianHeapBytesOf(build: () => unknown | Promise<unknown>, tries = 3): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < tries; i++) samples.push(await heapBytesOf(build));
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}
