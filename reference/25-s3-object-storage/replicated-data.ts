// The cluster variant's data store, as the API service's data routing service: an object goes to its primary data
// node, which copies it to the secondaries before answering (data-node.ts); the PUT is acknowledged once a majority
// of the replica group holds it (placement.ts). A GET is served by the first node of the group that answers the
// bytes under their CRC-32; a node that answered them missing or corrupt gets the copy back before the GET answers
// (read repair). Heartbeats keep the cluster map; a node back up is sent the copies and deletes it missed, which are
// kept in the metadata store (owed-copies.ts) so that an API restart forgets none.
import { crc32 } from 'node:zlib';
import type { ClusterOrphanSweep } from './cluster-orphan-sweep.ts';
import type { CompactionReport } from './compaction.ts';
import type { ByteRange, CompactionControl, DataPlane } from './data-plane.ts';
import { ChecksumError } from './data-store.ts';
import type { MutantName } from './mutants.ts';
import type { OwedCopies } from './owed-copies.ts';
import type { DataNode, Placement } from './placement.ts';
import { S3Error } from './s3-answers.ts';

/**
 * A data node that has not answered a request within this long counts as failed (and down until its heartbeat).
 * A killed node refuses connections at once; the bounds are for a hung one, long enough for a busy machine.
 */
const REQUEST_TIMEOUT_MS = 30_000;
const HEARTBEAT_MS = 500;
const HEARTBEAT_TIMEOUT_MS = 10_000;

type Copy = Buffer | 'missing' | 'corrupt' | 'unreachable';

const objectUrl = (n: DataNode, id: string, query = '') => `${n.url}/objects/${encodeURIComponent(id)}${query}`;

export class ReplicatedData implements DataPlane, CompactionControl {
  private timer: NodeJS.Timeout | undefined;
  private readonly catchingUp = new Set<string>();
  /** A round of heartbeats still waiting on a slow node: the next waits for it rather than piling up. */
  private beating = false;
  /** Ledger writes of deletes owed that have not finished (`recorded`). */
  private readonly recording = new Set<Promise<void>>();
  /** Deletes on their way to the nodes up (`drop`): a compaction asked for after a drop waits for them. */
  private readonly delivering = new Set<Promise<void>>();
  /** The start-up sweep of entries no row names, node by node as each first answers (cluster-orphan-sweep.ts). */
  sweep: ClusterOrphanSweep | undefined;

  constructor(
    private readonly placement: Placement,
    private readonly owed: OwedCopies,
    readonly garbageRatio: number,
    private readonly mutant: MutantName | undefined,
  ) {}

  /** Heartbeats to every data node (the book's placement service), twice a second. */
  start(): void {
    this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  status(): { nodes: Record<string, 'up' | 'down'>; pendingCopies: number; writeQuorum: number } {
    const nodes = Object.fromEntries(
      this.placement.nodes.map((n) => [n.name, this.placement.isUp(n.name) ? 'up' : 'down'] as const),
    );
    // A node not yet swept may owe deletes not yet known: it counts as one.
    const pendingCopies = this.owed.count() + (this.sweep?.unswept ?? 0);
    return { nodes, pendingCopies, writeQuorum: this.placement.writeQuorum };
  }

  async append(objectId: string, bytes: Buffer): Promise<void> {
    this.sweep?.noteWritten(objectId);
    const p = this.placement;
    // Too few nodes counted up to make a quorum: those counted down are asked again before the write is refused (a
    // node restarted, or one started after this service, counts down until a heartbeat says otherwise).
    const counted = p.group(objectId);
    if (counted.filter((n) => p.isUp(n.name)).length < p.writeQuorum)
      await Promise.all(counted.filter((n) => !p.isUp(n.name)).map((n) => this.beat(n)));
    const group = p.byHealth(objectId);
    // The first node of the group that is up is the primary; if it fails, the next one up takes its place.
    for (const primary of group.filter((n) => p.isUp(n.name))) {
      const secondaries = group.filter((n) => n !== primary && p.isUp(n.name));
      const held = await this.putOnPrimary(primary, objectId, bytes, secondaries);
      if (held === null) {
        p.markDown(primary.name);
        continue;
      }
      const missed = group.filter((n) => !held.includes(n.name));
      for (const n of missed) if (secondaries.includes(n)) p.markDown(n.name);
      if (held.length < p.writeQuorum) break;
      // Owed before the PUT is acknowledged: a restart of this service in between forgets nothing.
      // MUTANT missed-copies-not-recorded: a copy a node did not take is not owed to it: back up, it never gets it.
      if (this.mutant !== 'missed-copies-not-recorded')
        await this.owed.owe(missed.map((n) => ({ node: n.name, objectId, op: 'copy' })));
      return;
    }
    // Never acknowledged: whatever copies were made are garbage.
    this.drop(objectId);
    throw new S3Error(
      503,
      'ServiceUnavailable',
      `fewer than ${p.writeQuorum} data nodes of the object's replica group could store it; please try again`,
    );
  }

  /** The names of the nodes holding the copy, as the primary answers them; null when the primary failed. */
  private async putOnPrimary(
    primary: DataNode,
    id: string,
    bytes: Buffer,
    secondaries: DataNode[],
  ): Promise<string[] | null> {
    try {
      const r = await fetch(objectUrl(primary, id), {
        method: 'PUT',
        body: bytes as unknown as BodyInit,
        headers: {
          'content-type': 'application/octet-stream',
          'x-secondaries': secondaries.map((s) => `${s.name}=${s.url}`).join(','),
        },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (!r.ok) return null;
      return ((await r.json()) as { held: string[] }).held;
    } catch {
      return null;
    }
  }

  async appendJoined(objectId: string, entryIds: readonly string[]): Promise<number> {
    const parts: Buffer[] = [];
    for (const id of entryIds) parts.push(await this.read(id));
    const bytes = Buffer.concat(parts);
    await this.append(objectId, bytes);
    return bytes.length;
  }

  async read(objectId: string, range?: ByteRange): Promise<Buffer> {
    const group = this.placement.byHealth(objectId);
    // MUTANT read-no-failover: only the primary (the ring's first node) is asked, up or not.
    const order = this.mutant === 'read-no-failover' ? this.placement.group(objectId).slice(0, 1) : group;
    const repair: DataNode[] = [];
    let unreachable = 0;
    let corrupt = 0;
    for (const n of order) {
      const copy = await this.copyOn(n, objectId);
      if (Buffer.isBuffer(copy)) {
        const repaired = await Promise.all(repair.map((r) => this.putCopy(r, objectId, copy)));
        await this.oweCopies(
          repair.filter((_, i) => !repaired[i]),
          objectId,
        );
        return range ? copy.subarray(range.first, range.last + 1) : copy;
      }
      if (copy === 'unreachable') unreachable += 1;
      else {
        repair.push(n);
        if (copy === 'corrupt') corrupt += 1;
      }
    }
    // No good copy reachable now: the nodes that answered it corrupt (or missing) are owed one, sent once a node that
    // holds it answers again (catch-up). Missing everywhere is an object dropped since: nothing to owe.
    if (corrupt > 0 || unreachable > 0) await this.oweCopies(repair, objectId);
    if (corrupt > 0) throw new ChecksumError(`object ${objectId} fails its CRC-32 on every replica that answered`);
    if (unreachable > 0)
      throw new S3Error(503, 'ServiceUnavailable', 'no data node holding the object answered; please try again');
    throw new ChecksumError(`object ${objectId} has no mapping on any replica`);
  }

  readShared(objectId: string, range?: ByteRange): Promise<Buffer> {
    return this.read(objectId, range);
  }

  private async copyOn(n: DataNode, id: string): Promise<Copy> {
    try {
      const r = await fetch(objectUrl(n, id), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const body = Buffer.from(await r.arrayBuffer());
      if (r.status === 404) return 'missing';
      if (r.status !== 200) return r.status === 500 ? 'corrupt' : 'unreachable';
      // Checked again here: the bytes as they came over the wire, against the CRC-32 the node checked them under.
      return crc32(body) === Number(r.headers.get('x-crc32')) ? body : 'corrupt';
    } catch {
      this.placement.markDown(n.name);
      return 'unreachable';
    }
  }

  /** Writes one node's copy (replacing a corrupt one); true once it holds it. */
  private async putCopy(n: DataNode, id: string, bytes: Buffer): Promise<boolean> {
    try {
      const r = await fetch(objectUrl(n, id, '?repair=1'), {
        method: 'PUT',
        body: bytes as unknown as BodyInit,
        headers: { 'content-type': 'application/octet-stream' },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await r.arrayBuffer();
      if (r.ok) await this.owed.settle([{ node: n.name, objectId: id, op: 'copy' }]);
      return r.ok;
    } catch {
      return false;
    }
  }

  private oweCopies(nodes: readonly DataNode[], objectId: string): Promise<void> {
    return this.owed.owe(nodes.map((n) => ({ node: n.name, objectId, op: 'copy' })));
  }

  /** Asks one node to forget the object; true once it has. */
  private async deleteOn(n: DataNode, id: string): Promise<boolean> {
    try {
      const r = await fetch(objectUrl(n, id), { method: 'DELETE', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await r.arrayBuffer();
      return r.ok;
    } catch {
      return false;
    }
  }

  /**
   * Forgets the object on every node of its group. The delete is owed to each of them at once (written to the
   * ledger before the answer of the request that dropped the object: `recorded`), then sent to the nodes up and
   * settled as each acknowledges; a node down or failing gets it when its heartbeat is back (catch-up), also after an
   * API restart. Synchronous, as the embedded store's drop: the operations call it without awaiting.
   */
  drop(objectId: string): void {
    const group = this.placement.group(objectId);
    const deletes = group.map((n) => ({ node: n.name, objectId, op: 'delete' as const }));
    if (this.mutant === 'missed-delete-forgotten') {
      // MUTANT missed-delete-forgotten: the delete is sent once, unrecorded: a node down keeps the object for good.
      void this.owed.settle(group.map((n) => ({ node: n.name, objectId, op: 'copy' }))).catch(() => undefined);
      for (const n of group) void this.deleteOn(n, objectId);
      return;
    }
    const write = this.owed.owe(deletes).catch((e) => console.error('recording deletes owed to data nodes', e));
    this.recording.add(write);
    const delivery = write
      .finally(() => this.recording.delete(write))
      .then(() => Promise.all(group.map((n) => this.placement.isUp(n.name) && this.deleteOn(n, objectId))))
      .then((done) => this.owed.settle(deletes.filter((_, i) => done[i])))
      .catch(() => undefined)
      .finally(() => this.delivering.delete(delivery));
    this.delivering.add(delivery);
  }

  /**
   * Resolves once every delete owed so far is written to the ledger: the API service holds each answer until then
   * (cluster-main.ts), so a DELETE or overwrite is answered only once what it owes the data nodes is durable.
   */
  async recorded(): Promise<void> {
    await Promise.all(this.recording);
  }

  private async heartbeat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    await Promise.all(this.placement.nodes.map((n) => this.beat(n)));
    this.beating = false;
  }

  /** One node's heartbeat: marks it up (and starts its catch-up) or down. */
  private async beat(n: DataNode): Promise<void> {
    try {
      const r = await fetch(`${n.url}/heartbeat`, { signal: AbortSignal.timeout(HEARTBEAT_TIMEOUT_MS) });
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`heartbeat ${r.status}`);
    } catch {
      this.placement.markDown(n.name);
      return;
    }
    this.placement.markUp(n.name);
    void this.sweep?.nodeUp(n);
    void this.catchUp(n);
  }

  /**
   * Sends a node back up what it missed: each delete, and each copy read from the other nodes of the object's group.
   * Stops at the node's first failure (the next heartbeat tries again).
   */
  private async catchUp(n: DataNode): Promise<void> {
    if (this.catchingUp.has(n.name)) return;
    this.catchingUp.add(n.name);
    try {
      for (const owed of this.owed.owedTo(n.name)) {
        const id = owed.objectId;
        if (owed.op === 'delete') {
          if (!(await this.deleteOn(n, id))) return;
          await this.owed.settle([owed]);
          continue;
        }
        const others = this.placement.byHealth(id).filter((x) => x !== n);
        let copy: Copy = 'missing';
        let missing = 0;
        for (const other of others) {
          copy = await this.copyOn(other, id);
          if (Buffer.isBuffer(copy)) break;
          if (copy === 'missing') missing += 1;
        }
        if (Buffer.isBuffer(copy)) {
          if (!(await this.putCopy(n, id, copy))) return;
        } else if (missing === others.length) await this.owed.settle([owed]); // dropped since: nothing to copy
      }
    } finally {
      this.catchingUp.delete(n.name);
    }
  }

  /**
   * The compaction control of the cluster: one pass on every data node that is up, one node after another, their
   * reports added up; `maxBatches` bounds the batches of all of them together, as on one node.
   */
  async run(o: { minRatio: number; maxBatches?: number }): Promise<CompactionReport> {
    // What was dropped before this pass was asked for is deleted on the nodes up first, so the pass reclaims it (the
    // sweep of expired multipart uploads drops their parts right before it: SOS-F3 on the cluster, ci51).
    await Promise.all(this.delivering);
    const total: CompactionReport = { files: [], moved: 0, batches: 0, reclaimedBytes: 0, done: true };
    for (const n of this.placement.nodes.filter((x) => this.placement.isUp(x.name))) {
      const left = o.maxBatches === undefined ? undefined : o.maxBatches - total.batches;
      if (left !== undefined && left <= 0) {
        total.done = false;
        break;
      }
      const q = left === undefined ? '' : `?batches=${left}`;
      const r = await fetch(`${n.url}/_ops/compact${q}`, { method: 'POST', signal: AbortSignal.timeout(60_000) });
      const report = (await r.json()) as CompactionReport;
      total.files.push(...report.files.map((f) => `${n.name}/${f}`));
      total.moved += report.moved;
      total.batches += report.batches;
      total.reclaimedBytes += report.reclaimedBytes;
      if (!report.done) total.done = false;
    }
    return total;
  }
}
