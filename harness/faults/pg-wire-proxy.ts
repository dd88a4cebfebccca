// A TCP proxy between an implementation and its PostgreSQL that reads the frontend/backend protocol (v3) as it
// passes, so a fault can be placed *inside* a transaction at a point the protocol defines rather than at a time:
// "the next K connections that send a statement while in a transaction block are reset right then". A cut drops
// that statement (it never reaches PostgreSQL) and every byte after it, resets the client's socket (RST) and closes
// the server's (the server rolls the transaction back). Toxiproxy cuts bytes at a time, so how many transactions
// were open at a cut depended on machine speed; here it is counted, one cut per transaction, whatever the load.
//
//   const proxy = await startPgWireProxy('postgres://u@127.0.0.1:5432/db');
//   target.useDependency('database', proxy.url);
//   proxy.cutInTransaction(60);  ...  proxy.cuts  // how many were cut so far
//   await proxy.close();
//
// `cutInTransaction(k, match, { down: true })`: the database also goes away at the cut, until `up()`: every connection
// is reset at the next message it sends and every new one at once, so what a service does after the cut (a
// compensating statement, a retry on another connection) cannot reach the server either. `{ after: n }`: the cut
// spares the first n statements a block executes (a Q, a Bind or a FunctionCall each; a Parse is its Bind's) and
// lands on the next one, so a check can place it at each point of a transaction. `{ at: 'commit' }`: the cut lands on
// the block's COMMIT (or END) instead, which never reaches the server (it rolls back); `{ at: 'commit-answer' }`: the
// COMMIT reaches the server, and the connection is reset when its answer comes back, unread by the client (the
// transaction committed; the client cannot know).
//
// A connection is "in a transaction block" from a BEGIN / START TRANSACTION it sent (simple query 'Q', or a Parse
// 'P' of that text, or a Bind 'B' of a statement so parsed) until a COMMIT / END / ROLLBACK / ABORT (not ROLLBACK TO
// SAVEPOINT) or PREPARE TRANSACTION; and whenever all it sent has been answered, the server's own word in
// ReadyForQuery ('Z': I idle, T in a block, E a failed block) decides, so a BEGIN that failed or a block the SQL text
// did not show is still seen right. A statement is a Q, a Parse, a Bind (a prepared statement's execution: drivers
// parse a named statement once per connection) or a FunctionCall. A single Q holding BEGIN and more statements is
// one message: it is never cut. A connection that asks for TLS (SSLRequest answered 'S') or GSS encryption is only
// forwarded, unread (`encrypted` counts them): the harness's URLs ask for neither.
//
// The proxy can also *hold a commit*: `holdCommit(match)` makes the next statement matching `match` run but leaves
// its transaction open until `releaseHolds()`: outside a block (extended protocol, autocommit) its Sync is held, in
// a block the statement that ends it. The row it wrote is then there, uncommitted (its sequence value taken), for as
// long as a check needs: a fault placed at a protocol point, not at a time. A simple-query statement outside a block
// commits within its one message: it cannot be held (`unholdable` counts them).
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { CLOSES, COMMITS, cString, GSS_REQUEST, head, OPENS, SSL_REQUEST } from './pg-wire-protocol.ts';
import type { CutOptions, PgWireCut, PgWireProxy } from './pg-wire-types.ts';

export type { CutOptions, PgWireCut, PgWireProxy } from './pg-wire-types.ts';

export async function startPgWireProxy(upstreamUrl: string): Promise<PgWireProxy> {
  const up = new URL(upstreamUrl);
  const upHost = up.hostname || '127.0.0.1';
  const upPort = Number(up.port || 5432);
  let connections = 0;
  let encrypted = 0;
  let armed = 0;
  let match: RegExp | undefined;
  let holdMatch: RegExp | undefined;
  let unholdable = 0;
  const holds = new Set<() => void>();
  let holdingReads = false;
  let readsHeld = 0;
  const readHolds: (() => void)[] = []; // connections whose answer is held, oldest first
  let downAtCut = false;
  let spare = 0;
  let at: CutOptions['at'] = 'statement';
  let down = false;
  const cutLog: PgWireCut[] = [];
  const open = new Set<Socket>();

  const server: Server = createServer((client) => {
    const n = ++connections;
    if (down) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: upHost, port: upPort });
    open.add(client);
    open.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let release: (() => void) | null = null; // this connection's held commit, when there is one
    const end = () => {
      if (release) holds.delete(release);
      if (releaseAnswer && readHolds.includes(releaseAnswer)) readHolds.splice(readHolds.indexOf(releaseAnswer), 1);
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);

    // Frontend state.
    let fin: Buffer = Buffer.alloc(0);
    let startup = true; // the next message has no type byte (startup, SSLRequest, GSSENCRequest, CancelRequest)
    let passthrough = false; // encrypted: forwarded unread from here on
    let awaitingEncryptionAnswer = false; // the backend's next byte is a bare 'S'/'G'/'N'
    let inBlock = false;
    let executedInBlock = 0; // Q, Bind and FunctionCall messages sent since the block opened
    let pending = 0; // Q and Sync messages sent whose ReadyForQuery has not come back yet
    const parsed = new Map<string, string>(); // statement name -> its SQL text (the unnamed one too)
    let cut = false;
    // A hold placed on this connection: its commit ('sync': the next Sync; 'end': the statement ending the block)
    // is held back, with everything after it, until released.
    let holdAt: 'sync' | 'end' | null = null;
    let holding = false;
    let losing = false; // a COMMIT was sent whose answer is to be lost
    let lost: Buffer = Buffer.alloc(0);
    // holdReads: this connection's answers wait from a statement sent outside a block until released.
    let releaseAnswer: (() => void) | null = null;
    let heldAnswer: Buffer = Buffer.alloc(0);

    const isStatementStart = (type: number, body: Buffer): { text: string } | null => {
      if (type === 0x51 /* Q */ || type === 0x50 /* P */) {
        const first = type === 0x51 ? cString(body, 0) : cString(body, cString(body, 0).next);
        return { text: first.text };
      }
      if (type === 0x42 /* B */) {
        const portal = cString(body, 0);
        const name = cString(body, portal.next).text;
        return { text: parsed.get(name) ?? '' };
      }
      if (type === 0x46 /* F */) return { text: '' };
      return null;
    };

    const onFrontend = (chunk: Buffer) => {
      if (cut) return;
      if (down) {
        cut = true;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (passthrough) {
        upstream.write(chunk);
        return;
      }
      fin = fin.length ? Buffer.concat([fin, chunk]) : chunk;
      if (holding) return;
      let off = 0;
      for (;;) {
        if (startup) {
          if (fin.length - off < 8) break;
          const len = fin.readInt32BE(off);
          if (fin.length - off < len) break;
          const code = fin.readInt32BE(off + 4);
          // After an encryption request another untyped message follows; after a StartupMessage (or a
          // CancelRequest, which the server answers by closing) typed messages do.
          if (code === SSL_REQUEST || code === GSS_REQUEST) awaitingEncryptionAnswer = true;
          else startup = false;
          off += len;
          continue;
        }
        if (fin.length - off < 5) break;
        const type = fin[off]!;
        const len = fin.readInt32BE(off + 1);
        if (fin.length - off < 1 + len) break;
        const body = fin.subarray(off + 5, off + 1 + len);
        const stmt = isStatementStart(type, body);
        const text = stmt ? head(stmt.text) : '';
        if (holdAt && (holdAt === 'sync' ? type === 0x53 : stmt !== null && CLOSES.test(text))) {
          // The commit: forward what came before it, keep it (and what follows) until released.
          holdAt = null;
          holding = true;
          upstream.write(fin.subarray(0, off));
          fin = fin.subarray(off);
          const resume = () => {
            holds.delete(resume);
            release = null;
            holding = false;
            const rest = fin;
            fin = Buffer.alloc(0);
            if (!cut && rest.length) onFrontend(rest);
          };
          release = resume;
          holds.add(resume);
          return;
        }
        if (stmt && holdMatch && !holdAt && !OPENS.test(text) && holdMatch.test(text)) {
          holdMatch = undefined;
          if (inBlock) holdAt = 'end';
          else if (type === 0x51) unholdable++;
          else holdAt = 'sync';
        }
        if (stmt) {
          const closes = CLOSES.test(text);
          const opens = OPENS.test(text);
          if (holdingReads && !inBlock && !opens && !closes && !releaseAnswer) {
            readsHeld++;
            const resume = () => {
              releaseAnswer = null;
              const answer = heldAnswer;
              heldAnswer = Buffer.alloc(0);
              if (!cut && answer.length) onBackend(answer);
            };
            releaseAnswer = resume;
            readHolds.push(resume);
          }
          const due = executedInBlock >= spare && (!match || match.test(stmt.text));
          const commits = COMMITS.test(text);
          if (inBlock && armed > 0 && due && at === 'commit-answer' && commits) {
            armed--;
            losing = true; // forwarded below; the connection is reset when the answer comes
          } else if (
            inBlock &&
            armed > 0 &&
            due &&
            (at === 'commit' ? commits : at === 'statement' && !closes && !opens)
          ) {
            armed--;
            cutLog.push({ connection: n, statement: stmt.text.slice(0, 120), at: Date.now() });
            upstream.write(fin.subarray(0, off));
            cut = true;
            if (downAtCut) down = true;
            client.resetAndDestroy();
            upstream.destroy();
            return;
          }
          if (type === 0x50) {
            const name = cString(body, 0).text;
            parsed.set(name, stmt.text);
          }
          if (opens) {
            inBlock = true;
            executedInBlock = 0;
          } else if (closes) inBlock = false;
          else if (inBlock && type !== 0x50) executedInBlock++;
        }
        if (type === 0x51 || type === 0x53 /* Sync */) pending++;
        off += 1 + len;
      }
      if (off > 0) upstream.write(fin.subarray(0, off));
      fin = fin.subarray(off);
    };

    // Backend: only ReadyForQuery matters (and the bare answer to an encryption request).
    let bin: Buffer = Buffer.alloc(0);
    const onBackend = (chunk: Buffer) => {
      if (cut) return;
      if (releaseAnswer) {
        heldAnswer = heldAnswer.length ? Buffer.concat([heldAnswer, chunk]) : chunk;
        return;
      }
      if (losing) {
        // Everything before the COMMIT was answered (the client waited for it); this is the COMMIT's answer, dropped
        // whole; the cut is made at its ReadyForQuery (the server has committed by then).
        lost = lost.length ? Buffer.concat([lost, chunk]) : chunk;
        let ready = false;
        for (let off = 0; lost.length - off >= 5 && !ready; ) {
          ready = lost[off] === 0x5a; /* Z */
          off += 1 + lost.readInt32BE(off + 1);
        }
        if (!ready) return;
        cut = true;
        cutLog.push({ connection: n, statement: 'COMMIT (answer lost)', at: Date.now() });
        if (downAtCut) down = true;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
      if (passthrough) return;
      bin = bin.length ? Buffer.concat([bin, chunk]) : chunk;
      let off = 0;
      for (;;) {
        if (awaitingEncryptionAnswer) {
          if (bin.length - off < 1) break;
          awaitingEncryptionAnswer = false;
          const answer = bin[off]!;
          off += 1;
          if (answer === 0x53 /* S */ || answer === 0x47 /* G */) {
            passthrough = true;
            encrypted++;
            return;
          }
          continue;
        }
        if (bin.length - off < 5) break;
        const type = bin[off]!;
        const len = bin.readInt32BE(off + 1);
        if (bin.length - off < 1 + len) break;
        if (type === 0x5a /* Z */ && len >= 5) {
          pending = Math.max(0, pending - 1);
          // Everything sent has been answered: the server's status is the truth.
          if (pending === 0) inBlock = bin[off + 5] !== 0x49; /* I */
        }
        off += 1 + len;
      }
      bin = bin.subarray(off);
    };

    client.on('data', onFrontend);
    upstream.on('data', onBackend);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  const proxy: PgWireProxy = {
    url: url.toString(),
    port,
    get connections() {
      return connections;
    },
    get encrypted() {
      return encrypted;
    },
    get cuts() {
      return cutLog.length;
    },
    get armed() {
      return armed;
    },
    cutLog,
    get down() {
      return down;
    },
    cutInTransaction(k: number, m?: RegExp, options?: CutOptions) {
      armed += k;
      match = m;
      downAtCut = options?.down ?? false;
      spare = options?.after ?? 0;
      at = options?.at ?? 'statement';
    },
    disarm() {
      armed = 0;
      match = undefined;
      downAtCut = false;
      spare = 0;
      at = 'statement';
    },
    up() {
      down = false;
    },
    takeDown() {
      down = true;
    },
    holdCommit(m: RegExp) {
      holdMatch = m;
    },
    get held() {
      return holds.size;
    },
    get unholdable() {
      return unholdable;
    },
    releaseHolds() {
      holdMatch = undefined;
      for (const release of [...holds]) release();
    },
    holdReads(on: boolean) {
      holdingReads = on;
    },
    releaseReads() {
      holdingReads = false;
      for (const resume of readHolds.splice(0)) resume();
    },
    get heldReads() {
      return readHolds.length;
    },
    get readsHeld() {
      return readsHeld;
    },
    releaseRead() {
      const resume = readHolds.shift();
      resume?.();
      return resume !== undefined;
    },
    letGo() {
      proxy.disarm();
      proxy.up();
      proxy.releaseHolds();
      proxy.releaseReads();
    },
    async close() {
      holdingReads = false;
      readHolds.length = 0;
      armed = 0;
      holdMatch = undefined;
      holds.clear();
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
