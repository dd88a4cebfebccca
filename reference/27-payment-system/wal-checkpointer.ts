// SQLite's WAL checkpoints, off the request path. By default the commit that grows the WAL past 1000 pages copies
// it back into the database file and fsyncs both, on the event loop: measured here, that was a third of the cost of
// a commit. A worker thread with its own connection checkpoints every 200 ms instead (PASSIVE: it never waits for
// or blocks a writer), so the fsyncs run on the other core. If the worker fails, SQLite's own checkpoints return.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { parentPort.postMessage(String(e)); }
}, workerData.everyMs);
parentPort.on('message', (m) => { if (m === 'stop') { clearInterval(timer); db.close(); process.exit(0); } });
`;

export class WalCheckpointer {
  private readonly worker: Worker;

  constructor(db: Database.Database, file: string, everyMs = 200) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, { eval: true, workerData: { file, driver, everyMs } });
    db.pragma('wal_autocheckpoint = 0');
    this.worker.on('error', () => db.pragma('wal_autocheckpoint = 1000'));
    this.worker.unref();
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
  }
}
