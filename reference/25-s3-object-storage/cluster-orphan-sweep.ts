// The cluster's sweep of torn writes (orphan-sweep.ts is the single node's): an API service killed between a PUT's
// copies on the data nodes and its metadata commit leaves entries no row names (the book's "orphan data"). After
// each start the API service asks every data node, the first time its heartbeat answers, for its entry ids and drops
// (a delete owed to the object's group) each one that no metadata row names and that this process did not write
// itself: those may belong to a request in flight, whose row is not committed yet. The rows are read after the ids,
// so a row committed in between names its entry.
import type { MetaStore } from './metadata-store.ts';
import type { DataNode } from './placement.ts';

export class ClusterOrphanSweep {
  /** Data nodes not swept yet since this process started. */
  private readonly pending: Set<string>;
  /** Object ids this process sent to data nodes while a sweep is still to come (then no longer kept). */
  private readonly written = new Set<string>();
  private readonly running = new Set<string>();

  constructor(
    private readonly meta: MetaStore,
    private readonly drop: (objectId: string) => void,
    nodes: readonly DataNode[],
    private readonly log: (msg: string, e?: unknown) => void,
  ) {
    this.pending = new Set(nodes.map((n) => n.name));
  }

  /** Data nodes whose entries are not yet swept (each counts as owed deletes not yet known). */
  get unswept(): number {
    return this.pending.size;
  }

  /** An object id this process writes to the data nodes (a PUT, a part, a complete's join). */
  noteWritten(objectId: string): void {
    if (this.pending.size > 0) this.written.add(objectId);
  }

  /** Sweeps `n` once (its heartbeat answered); a failure leaves it pending for the next heartbeat. */
  async nodeUp(n: DataNode): Promise<void> {
    if (!this.pending.has(n.name) || this.running.has(n.name)) return;
    this.running.add(n.name);
    try {
      const r = await fetch(`${n.url}/entries`, { signal: AbortSignal.timeout(30_000) });
      if (!r.ok) throw new Error(`GET /entries ${r.status}`);
      const { ids } = (await r.json()) as { ids: string[] };
      const named = await this.meta.namedObjectIds();
      const orphans = ids.filter((id) => !named.has(id) && !this.written.has(id));
      for (const id of orphans) this.drop(id);
      if (orphans.length > 0)
        this.log(`start-up: ${orphans.length} entries on ${n.name} no metadata row names dropped`);
      this.pending.delete(n.name);
      if (this.pending.size === 0) this.written.clear();
    } catch (e) {
      this.log(`the sweep of ${n.name}'s entries failed (tried again at its next heartbeat)`, e);
    } finally {
      this.running.delete(n.name);
    }
  }
}
