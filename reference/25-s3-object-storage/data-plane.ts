// What the API service needs of the data store: the embedded DataStore (synchronous, one process) and the cluster
// variant's replicated store (replicated-data.ts, data nodes over HTTP) both answer it; the operations await it.
import type { CompactionReport } from './compaction.ts';

export type ByteRange = { first: number; last: number };

export interface DataPlane {
  append(objectId: string, bytes: Buffer): void | Promise<void>;
  appendJoined(objectId: string, entryIds: readonly string[]): number | Promise<number>;
  read(objectId: string, range?: ByteRange): Buffer | Promise<Buffer>;
  /** MUTANT read-buffer-reused (and the mutants that share it, by `buffer`): the embedded store's pooled read. */
  readShared(objectId: string, range?: ByteRange, buffer?: string): Promise<Buffer>;
  drop(objectId: string): void;
}

/** POST /_ops/compact's side: the embedded Compactor, or the cluster's pass on every data node. */
export interface CompactionControl {
  readonly garbageRatio: number;
  run(o: { minRatio: number; maxBatches?: number }): Promise<CompactionReport>;
}
