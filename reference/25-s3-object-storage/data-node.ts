// A data node of the cluster variant (manifest.cluster.json): today's DataStore (append-only data files, the object
// mapping table, CRC-32 checked on every read) and its compactor behind a small internal HTTP API the API service's
// data routing (replicated-data.ts) calls. Not the S3 wire: nothing here is signed, and it listens on localhost.
//   PUT    /objects/:id   the bytes; as the primary (header x-secondaries: name=url,...) it stores them, then copies
//                         them to each secondary before answering { held: [node names] }. ?repair=1 replaces a copy.
//   GET    /objects/:id   the bytes (x-crc32: their CRC-32, checked), 404 missing, 500 corrupt.
//   DELETE /objects/:id   forgets the object (its bytes are garbage until compaction).
//   GET    /heartbeat     the book's heartbeat: the node's name and the bytes on its disk.
//   POST   /_ops/compact  one compaction pass (?batches=N), as the API's control.
import { crc32 } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Readiness, readinessHandler } from '../kit/health.ts';
import type { Compactor } from './compaction.ts';
import { ChecksumError, type DataStore } from './data-store.ts';
import type { MutantName } from './mutants.ts';

export interface DataNodeOptions {
  name: string;
  readiness: Readiness;
  data: DataStore;
  compactor: Compactor;
  mutant: MutantName | undefined;
  logger: { level: string } | false;
}

/** How long a primary waits on a secondary's copy before counting it failed. */
const COPY_TIMEOUT_MS = 10_000;
/** MUTANT replica-acked-early: how long after its answer the primary copies to the secondaries. */
const LAZY_COPY_MS = 1000;

type Held = 'held' | 'missing' | 'corrupt';

function heldState(data: DataStore, id: string, size: number): Held {
  try {
    return data.read(id).length === size ? 'held' : 'corrupt';
  } catch (e) {
    if (e instanceof ChecksumError && /has no mapping/.test(e.message)) return 'missing';
    return 'corrupt';
  }
}

/** Stores a copy; a copy already held whole is kept (a retried write), a corrupt one or a repair replaced. */
function store(data: DataStore, id: string, bytes: Buffer, repair: boolean, mutant: MutantName | undefined): void {
  const state = heldState(data, id, bytes.length);
  if (state === 'held' && !repair) return;
  // MUTANT repair-keeps-held-copy: any copy the node holds is kept, a repair's too: a corrupt copy is never replaced.
  if (state !== 'missing' && mutant === 'repair-keeps-held-copy') return;
  if (state !== 'missing') data.drop(id);
  data.append(id, bytes);
}

async function copyTo(url: string, id: string, bytes: Buffer): Promise<boolean> {
  try {
    const r = await fetch(`${url}/objects/${encodeURIComponent(id)}`, {
      method: 'PUT',
      body: bytes as unknown as BodyInit,
      headers: { 'content-type': 'application/octet-stream' },
      signal: AbortSignal.timeout(COPY_TIMEOUT_MS),
    });
    await r.arrayBuffer();
    return r.ok;
  } catch {
    return false;
  }
}

export function buildDataNode(o: DataNodeOptions): FastifyInstance {
  const app = Fastify({
    logger: o.logger === false ? false : { level: o.logger.level, stream: process.stderr },
    bodyLimit: 1024 * 1024 * 1024,
    forceCloseConnections: 'idle',
    return503OnClosing: false,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.get('/health/ready', readinessHandler(o.readiness));

  app.get('/heartbeat', async () => ({
    name: o.name,
    bytes: o.data.usage().reduce((sum, f) => sum + f.size, 0),
  }));

  // Every entry id this node maps: the API service's start-up sweep drops those no metadata row names.
  app.get('/entries', async () => ({ ids: o.data.mappedIds() }));

  app.put<{ Params: { id: string }; Querystring: { repair?: string } }>('/objects/:id', async (request, reply) => {
    const id = request.params.id;
    const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    store(o.data, id, bytes, request.query.repair === '1', o.mutant);
    const secondaries = String(request.headers['x-secondaries'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((p) => ({ name: p.slice(0, p.indexOf('=')), url: p.slice(p.indexOf('=') + 1) }));
    if (o.mutant === 'replica-acked-early') {
      // MUTANT replica-acked-early: the primary answers once its own copy is written, every secondary counted as
      // holding it, and copies to them a second later: a primary killed in between loses acknowledged objects.
      setTimeout(() => void Promise.all(secondaries.map((s) => copyTo(s.url, id, bytes))), LAZY_COPY_MS).unref();
      return reply.code(200).send({ held: [o.name, ...secondaries.map((s) => s.name)] });
    }
    // The book's step 4: the primary replicates before it answers (strong consistency over latency).
    const copied = await Promise.all(secondaries.map((s) => copyTo(s.url, id, bytes)));
    return reply.code(200).send({ held: [o.name, ...secondaries.filter((_, i) => copied[i]).map((s) => s.name)] });
  });

  app.get<{ Params: { id: string } }>('/objects/:id', async (request, reply) => {
    try {
      const bytes = o.data.read(request.params.id);
      return reply
        .code(200)
        .header('x-crc32', String(crc32(bytes)))
        .type('application/octet-stream')
        .send(bytes);
    } catch (e) {
      if (!(e instanceof ChecksumError)) throw e;
      const missing = /has no mapping/.test(e.message);
      return reply.code(missing ? 404 : 500).send({ error: missing ? 'missing' : 'corrupt', detail: e.message });
    }
  });

  app.delete<{ Params: { id: string } }>('/objects/:id', async (request, reply) => {
    o.data.drop(request.params.id);
    return reply.code(204).send();
  });

  app.post<{ Querystring: { batches?: string } }>('/_ops/compact', async (request) => {
    const raw = request.query.batches;
    return o.compactor.run({ minRatio: 0, ...(raw ? { maxBatches: Number(raw) } : {}) });
  });
  return app;
}
