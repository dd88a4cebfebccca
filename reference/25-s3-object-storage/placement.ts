// The book's placement service, inside the API service: the cluster map (the data nodes and whether each is up, by
// heartbeat) and an object's replica group (consistent hashing of its UUID on a ring of virtual points, the first node
// clockwise its primary). What a node missed while it was down is owed-copies.ts's, kept in the metadata store.
import { createHash } from 'node:crypto';

/** Virtual points per data node on the ring: enough for an even share of primaries among a few nodes. */
const POINTS_PER_NODE = 64;

export interface DataNode {
  name: string;
  url: string;
}

const pointOf = (text: string): bigint => BigInt(`0x${createHash('md5').update(text).digest('hex').slice(0, 16)}`);

export class Placement {
  private readonly ring: { point: bigint; node: DataNode }[];
  /** Nodes whose last heartbeat or request failed; a node never heard from yet counts as up. */
  private readonly down = new Set<string>();

  constructor(
    readonly nodes: readonly DataNode[],
    /** How many copies an object has: the primary and replicas - 1 secondaries. */
    readonly replicas: number,
  ) {
    this.ring = nodes
      .flatMap((node) =>
        Array.from({ length: POINTS_PER_NODE }, (_, i) => ({ point: pointOf(`${node.name}#${i}`), node })),
      )
      .sort((a, b) => (a.point < b.point ? -1 : a.point > b.point ? 1 : 0));
  }

  /** A write is acknowledged once this many copies hold it: a majority of the replica group. */
  get writeQuorum(): number {
    return Math.floor(Math.min(this.replicas, this.nodes.length) / 2) + 1;
  }

  /** The object's replica group in ring order (primary first), whatever their state. */
  group(objectId: string): DataNode[] {
    const want = Math.min(this.replicas, this.nodes.length);
    const at = pointOf(objectId);
    let i = this.ring.findIndex((p) => p.point >= at);
    if (i < 0) i = 0;
    const out: DataNode[] = [];
    for (let k = 0; out.length < want && k < this.ring.length; k++) {
      const node = this.ring[(i + k) % this.ring.length]!.node;
      if (!out.includes(node)) out.push(node);
    }
    return out;
  }

  /** The group with the nodes that are up first (ring order kept within each part). */
  byHealth(objectId: string): DataNode[] {
    const g = this.group(objectId);
    return [...g.filter((n) => this.isUp(n.name)), ...g.filter((n) => !this.isUp(n.name))];
  }

  isUp(name: string): boolean {
    return !this.down.has(name);
  }

  markDown(name: string): void {
    this.down.add(name);
  }

  markUp(name: string): void {
    this.down.delete(name);
  }
}
