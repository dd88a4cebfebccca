// Memory a data structure keeps alive, for the micro-benchmarks' bytes-per-entry figures: the growth of the JS heap
// plus array buffers (typed arrays live outside the heap) across building it, each side measured after forced GCs.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

function collector(): () => void {
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
