// What the placement service owes each data node (replica-ledger.ts): kept in memory for the heartbeat's catch-up and
// the status answer, every change written through to the ledger before the caller goes on, so what a PUT or DELETE
// made owed is durable before it is answered and an API restart starts from the ledger.
import type { Owed, OwedOp, ReplicaLedger } from './replica-ledger.ts';

export class OwedCopies {
  private readonly byNode = new Map<string, Map<string, OwedOp>>();

  private constructor(private readonly ledger: ReplicaLedger) {}

  /** The ledger's entries as a restart finds them. */
  static async open(ledger: ReplicaLedger): Promise<OwedCopies> {
    const owed = new OwedCopies(ledger);
    for (const e of await ledger.load()) owed.apply(e);
    return owed;
  }

  /** Applies the ledger's rule in memory (a delete replaces a copy, never the other way); true when it changed. */
  private apply(e: Owed): boolean {
    const node = this.byNode.get(e.node) ?? new Map<string, OwedOp>();
    this.byNode.set(e.node, node);
    const now = node.get(e.objectId);
    if (now === e.op || now === 'delete') return false;
    node.set(e.objectId, e.op);
    return true;
  }

  /** Records what is owed; resolves once it is written (entries already owed as they are are not written again). */
  async owe(entries: readonly Owed[]): Promise<void> {
    const changed = entries.filter((e) => this.apply(e));
    if (changed.length > 0) await this.ledger.owe(changed);
  }

  /** Forgets entries the node has acknowledged, those still owed as they were (a delete owed since stays). */
  async settle(entries: readonly Owed[]): Promise<void> {
    const done = entries.filter((e) => this.byNode.get(e.node)?.get(e.objectId) === e.op);
    for (const e of done) this.byNode.get(e.node)?.delete(e.objectId);
    if (done.length > 0) await this.ledger.settle(done);
  }

  /** What is owed to one node now, in the order it was recorded. */
  owedTo(node: string): Owed[] {
    return [...(this.byNode.get(node) ?? [])].map(([objectId, op]) => ({ node, objectId, op }));
  }

  /** Copies and deletes still owed, all nodes together. */
  count(): number {
    let n = 0;
    for (const m of this.byNode.values()) n += m.size;
    return n;
  }
}
