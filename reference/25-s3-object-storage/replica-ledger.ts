// The cluster variant's record of what the placement service owes data nodes: a copy (a write the node was down for,
// a copy that failed, a copy found corrupt or missing with no good one to repair it from) or a delete (an object
// dropped while the node was down or before it acknowledged). Kept in the metadata store, so an API restart forgets
// none of it: written before the PUT or DELETE that made it is answered, removed once the node has acknowledged.
import type Database from 'better-sqlite3';
import type pg from 'pg';

export type OwedOp = 'copy' | 'delete';

export interface Owed {
  node: string;
  objectId: string;
  op: OwedOp;
}

export interface ReplicaLedger {
  load(): Promise<Owed[]>;
  /**
   * Records the entries (at most one per node and object): a delete replaces a copy owed to the same node for the
   * same object; a copy never replaces a delete (the object is gone: nothing to copy).
   */
  owe(entries: readonly Owed[]): Promise<void>;
  /** Removes each entry that is still owed as it is (a copy settled leaves a delete recorded since in place). */
  settle(entries: readonly Owed[]): Promise<void>;
}

/** MUTANT owed-copies-in-memory: nothing written; what is owed lives only in the API's memory (owed-copies.ts). */
export const memoryLedger: ReplicaLedger = {
  load: async () => [],
  owe: async () => undefined,
  settle: async () => undefined,
};

const UPSERT_TAIL = "ON CONFLICT (node, object_id) DO UPDATE SET op = excluded.op WHERE excluded.op = 'delete'";

/** The embedded metadata store's table (metadata.sqlite); synchronous writes, synced as the store's are. */
export function sqliteLedger(db: Database.Database): ReplicaLedger {
  db.exec(`CREATE TABLE IF NOT EXISTS replica_owed (
    node TEXT NOT NULL, object_id TEXT NOT NULL, op TEXT NOT NULL, PRIMARY KEY (node, object_id)
  ) WITHOUT ROWID`);
  const all = db.prepare('SELECT node, object_id AS objectId, op FROM replica_owed');
  const add = db.prepare(`INSERT INTO replica_owed (node, object_id, op) VALUES (?, ?, ?) ${UPSERT_TAIL}`);
  const remove = db.prepare('DELETE FROM replica_owed WHERE node = ? AND object_id = ? AND op = ?');
  const owe = db.transaction((entries: readonly Owed[]) => {
    for (const e of entries) add.run(e.node, e.objectId, e.op);
  });
  const settle = db.transaction((entries: readonly Owed[]) => {
    for (const e of entries) remove.run(e.node, e.objectId, e.op);
  });
  return {
    load: async () => all.all() as Owed[],
    owe: async (entries) => void owe(entries),
    settle: async (entries) => void settle(entries),
  };
}

/** PostgreSQL's table (DATABASE_URL); each call one statement, so one transaction. */
export async function postgresLedger(pool: pg.Pool): Promise<ReplicaLedger> {
  await pool.query(`CREATE TABLE IF NOT EXISTS s3_replica_owed (
    node text NOT NULL, object_id text NOT NULL, op text NOT NULL, PRIMARY KEY (node, object_id))`);
  const columns = (entries: readonly Owed[]) => [
    entries.map((e) => e.node),
    entries.map((e) => e.objectId),
    entries.map((e) => e.op),
  ];
  return {
    async load() {
      const { rows } = await pool.query<Owed>('SELECT node, object_id AS "objectId", op FROM s3_replica_owed');
      return rows;
    },
    async owe(entries) {
      if (entries.length === 0) return;
      await pool.query(
        `INSERT INTO s3_replica_owed (node, object_id, op)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ${UPSERT_TAIL}`,
        columns(entries),
      );
    },
    async settle(entries) {
      if (entries.length === 0) return;
      await pool.query(
        `DELETE FROM s3_replica_owed o USING unnest($1::text[], $2::text[], $3::text[]) AS s (node, object_id, op)
         WHERE o.node = s.node AND o.object_id = s.object_id AND o.op = s.op`,
        columns(entries),
      );
    },
  };
}
