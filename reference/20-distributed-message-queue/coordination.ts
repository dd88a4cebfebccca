// The cluster's coordination service (the book's ZooKeeper): etcd, through its v3 API (the `etcd3` client). Two keys
// under the cluster's prefix: `controller`, the name of the broker that holds the controller's lease (it goes when the
// lease does, so a controller that dies stops being one within the lease's TTL), and `state`, the topics and every
// partition's replicas, leader, leader epoch and ISR as one JSON value, written only by the lease holder with a
// compare-and-swap: the write succeeds only while the writer's own controller key is the one in etcd and `state` is
// still at the revision the writer read, so a deposed controller (or one that missed a change) cannot overwrite.
// And `groups/<group>`, each consumer group's generation and committed offsets, written by the controller under the
// same lease condition before a commit is answered, and read by every new controller (a failover keeps them).

import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3, type Lease, type Namespace } from 'etcd3';
import type { ClusterState } from './cluster-state.ts';

const CONTROLLER = 'controller';
const STATE = 'state';
const GROUPS = 'groups/';

export interface Stored {
  state: ClusterState;
  /** etcd's mod revision of `state` (0: none written yet). */
  revision: number;
}

export interface CoordinationEvents {
  state(s: Stored): void;
  /** The controller key's holder, null while nobody holds it. */
  controller(name: string | null): void;
  /** This broker's lease is gone (it is no longer the controller). */
  lost(): void;
}

export class Coordination {
  private readonly client: Etcd3;
  private readonly ns: Namespace;
  private lease: Lease | null = null;
  /** The create revision of our controller key while we hold it: every write of `state` is conditional on it. */
  private held: string | null = null;
  private readAt = 0;

  constructor(
    url: string,
    prefix: string,
    private readonly ttlS: number,
    private readonly on: CoordinationEvents,
    /** MUTANT state-write-without-cas: `state` is written unconditionally (a deposed controller's write wins). */
    private readonly withoutCas = false,
  ) {
    this.client = new Etcd3({ hosts: url, dialTimeout: 2000 });
    this.ns = this.client.namespace(prefix);
  }

  get holdsLease(): boolean {
    return this.held !== null;
  }

  /** The state and the controller key at one revision (the watch starts after it: no change falls in between). */
  async read(): Promise<{ stored: Stored; controller: string | null }> {
    const r = await this.ns
      .if(STATE, 'Version', '>', -1) // always true: two reads in one transaction
      .then(this.ns.get(STATE), this.ns.get(CONTROLLER))
      .commit();
    this.readAt = Number(r.header.revision);
    const [s, c] = r.responses.map((x) => x.response_range.kvs[0]);
    const stored = s
      ? { state: JSON.parse(s.value.toString()) as ClusterState, revision: Number(s.mod_revision) }
      : { state: { topics: [], partitions: {} }, revision: 0 };
    return { stored, controller: c ? c.value.toString() : null };
  }

  /**
   * A controller key naming this broker that this process does not hold is a dead incarnation's (a kill -9 and a
   * restart within the lease's TTL): removed at once, if unchanged, instead of waiting out the TTL, during which this
   * broker would answer controller requests with a 307 to itself. True when it was removed.
   */
  async dropStaleOwnKey(self: string): Promise<boolean> {
    if (this.held !== null) return false;
    const kv = (await this.ns.get(CONTROLLER).exec()).kvs[0];
    if (!kv || kv.value.toString() !== self) return false;
    const r = await this.ns
      .if(CONTROLLER, 'Mod', '==', Number(kv.mod_revision))
      .then(this.ns.delete().key(CONTROLLER))
      .commit();
    return r.succeeded;
  }

  /** Reports every change of `state` and of `controller` after the last read (etcd's watch resumes after a reconnect). */
  async watch(): Promise<void> {
    const from = String(this.readAt + 1);
    const state = await this.ns.watch().key(STATE).startRevision(from).create();
    state.on('put', (kv) =>
      this.on.state({ state: JSON.parse(kv.value.toString()) as ClusterState, revision: Number(kv.mod_revision) }),
    );
    const controller = await this.ns.watch().key(CONTROLLER).startRevision(from).create();
    controller.on('put', (kv) => this.on.controller(kv.value.toString()));
    controller.on('delete', () => this.on.controller(null));
  }

  /** Tries to take the controller key with a new lease: this broker's name when it won, else the holder's. */
  async campaign(self: string): Promise<string | null> {
    const lease = this.ns.lease(this.ttlS);
    const id = await lease.grant();
    const r = await this.ns
      .if(CONTROLLER, 'Create', '==', 0)
      .then(this.ns.put(CONTROLLER).value(self).lease(id))
      .else(this.ns.get(CONTROLLER))
      .commit();
    if (!r.succeeded) {
      await lease.revoke().catch(() => undefined);
      return r.responses[0]?.response_range.kvs[0]?.value.toString() ?? null;
    }
    this.held = r.header.revision;
    this.lease = lease;
    lease.on('lost', () => {
      if (this.lease !== lease) return;
      this.held = null;
      this.lease = null;
      this.on.lost();
    });
    return self;
  }

  /**
   * Writes `state` if this broker still holds the controller key and `state` is still at `basedOn`: the new revision,
   * or null when either changed (the caller reads again).
   */
  async write(state: ClusterState, basedOn: number): Promise<number | null> {
    const value = JSON.stringify(state);
    if (this.held === null) return null;
    if (this.withoutCas) return Number((await this.ns.put(STATE).value(value).exec()).header.revision);
    const r = await this.ns
      .if(CONTROLLER, 'Create', '==', this.held)
      .and(STATE, 'Mod', '==', basedOn)
      .then(this.ns.put(STATE).value(value))
      .commit();
    return r.succeeded ? Number(r.header.revision) : null;
  }

  /** Writes one group's state if this broker still holds the controller key: false when it does not (or etcd failed). */
  async writeGroup(name: string, value: unknown): Promise<boolean> {
    if (this.held === null) return false;
    const r = await this.ns
      .if(CONTROLLER, 'Create', '==', this.held)
      .then(this.ns.put(`${GROUPS}${name}`).value(JSON.stringify(value)))
      .commit();
    return r.succeeded;
  }

  /** Every group's state as the controllers stored it, by group name. */
  async readGroups(): Promise<Record<string, unknown>> {
    const all = await this.ns.getAll().prefix(GROUPS).strings();
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k.slice(GROUPS.length), JSON.parse(v)]));
  }

  close(): void {
    this.lease?.release();
    this.client.close();
  }
}

/**
 * The cluster's key prefix in etcd: one random ID per cluster, made by the first broker to start and kept in the
 * folder every broker of the cluster shares (so several clusters, or a later one, never read each other's state;
 * and a cluster whose folders are kept finds its own again).
 */
export function clusterPrefix(sharedDir: string): string {
  const file = join(sharedDir, 'etcd-cluster-id');
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, randomUUID());
  try {
    linkSync(mine, file); // atomic: only the first broker's ID is taken
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return `sdgrade/20/${readFileSync(file, 'utf8').trim()}/`;
}
