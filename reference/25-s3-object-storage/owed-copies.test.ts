// The copies and deletes owed to data nodes: the ledger's rules, and what an API restart finds in the SQLite store.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OwedCopies } from './owed-copies.ts';
import { memoryLedger, sqliteLedger } from './replica-ledger.ts';

const copy = (node: string, objectId: string) => ({ node, objectId, op: 'copy' as const });
const del = (node: string, objectId: string) => ({ node, objectId, op: 'delete' as const });

describe('OwedCopies', () => {
  it('keeps what is owed to a node until it acknowledges; a delete replaces a copy, never the reverse', async () => {
    const owed = await OwedCopies.open(memoryLedger);
    await owed.owe([copy('d2', 'a'), copy('d2', 'b'), copy('d3', 'a')]);
    expect(owed.count()).toBe(3);
    await owed.settle([copy('d2', 'a')]);
    expect(owed.owedTo('d2')).toEqual([copy('d2', 'b')]);
    await owed.owe([del('d2', 'b')]);
    await owed.owe([copy('d2', 'b')]);
    expect(owed.owedTo('d2')).toEqual([del('d2', 'b')]);
    // A copy acknowledged after the object was dropped leaves the delete owed.
    await owed.settle([copy('d2', 'b')]);
    expect(owed.owedTo('d2')).toEqual([del('d2', 'b')]);
    await owed.settle([del('d2', 'b'), del('d3', 'a')]);
    expect(owed.count()).toBe(1);
  });

  it('finds in the SQLite store, after a restart, what was owed and not settled', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'owed-')), 'metadata.sqlite');
    const db = new Database(file);
    const owed = await OwedCopies.open(sqliteLedger(db));
    await owed.owe([copy('d1', 'x'), copy('d1', 'y'), del('d2', 'z')]);
    await owed.owe([del('d1', 'y')]);
    await owed.settle([copy('d1', 'x')]);
    db.close();
    const again = await OwedCopies.open(sqliteLedger(new Database(file)));
    expect(again.owedTo('d1')).toEqual([del('d1', 'y')]);
    expect(again.owedTo('d2')).toEqual([del('d2', 'z')]);
    expect(again.count()).toBe(2);
  });
});
