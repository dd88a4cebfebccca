// The PostgreSQL-protocol proxy's interface (pg-wire-proxy.ts): what a check arms and reads.

export interface PgWireCut {
  /** The connection's number (1, 2, ... in the order the proxy accepted them). */
  connection: number;
  /** The start of the statement that was dropped ('' when a Bind named a statement this proxy never saw parsed). */
  statement: string;
  at: number;
}

export interface PgWireProxy {
  /** The upstream URL with its host and port replaced by the proxy's. */
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections whose traffic could not be read (TLS or GSS encryption): forwarded as they are, never cut. */
  readonly encrypted: number;
  /** Transactions cut so far. */
  readonly cuts: number;
  /** Cuts still armed. */
  readonly armed: number;
  /** Every cut, in order. */
  readonly cutLog: readonly PgWireCut[];
  /**
   * Arms `k` more cuts: each of the next `k` statements sent in a transaction block (other than the one that ends it)
   * resets its connection. `match`, when given, limits them to statements whose text it matches. `down`: each cut also
   * takes the database away until `up()`; `after`: the first `after` statements of a block pass (see above).
   */
  cutInTransaction(k: number, match?: RegExp, options?: CutOptions): void;
  /** Whether the database is away (since a cut armed with `down`). */
  readonly down: boolean;
  /** Brings the database back after a cut armed with `down` (or takeDown()): connections pass again. */
  up(): void;
  /** Takes the database away now, until up(): as a cut armed with `down` does, without a cut. */
  takeDown(): void;
  /** Disarms the cuts not yet made. */
  disarm(): void;
  /** Holds the commit of the next statement whose text matches `match` (one hold armed at a time). */
  holdCommit(match: RegExp): void;
  /** Connections whose commit is held now. */
  readonly held: number;
  /** Statements that matched a hold but committed within their own simple-query message. */
  readonly unholdable: number;
  /** Sends every held commit on (and disarms a hold not yet placed). */
  releaseHolds(): void;
  /**
   * Holds answers from now until `holdReads(false)`: a statement a connection sends outside a transaction block (a
   * read, or a write that commits alone; never the BEGIN that opens a block) reaches the server and runs, and its
   * answer (with everything after it on that connection) waits in the proxy until `releaseRead()`. So a check can
   * make the database's answer to a read arrive after a commit it sends meanwhile on another connection.
   * `holdReads(false)` holds no more statements (those held stay held); `releaseReads()` lets all go.
   */
  holdReads(on: boolean): void;
  /** Connections whose answer is held now. */
  readonly heldReads: number;
  /** Answers held since the proxy started. */
  readonly readsHeld: number;
  /** Lets the oldest held answer go; false when none is held. */
  releaseRead(): boolean;
  /** Holds no more statements, and lets every held answer go. */
  releaseReads(): void;
  /** Every fault off at once: disarm(), up(), releaseHolds(), releaseReads() (before the target goes back). */
  letGo(): void;
  close(): Promise<void>;
}

export interface CutOptions {
  /** The database goes away at the cut, until up(). */
  down?: boolean;
  /** Statements a block executes before the cut (a Q, a Bind or a FunctionCall each). */
  after?: number;
  /** Where the cut lands: a statement (default), the block's COMMIT, or the COMMIT's answer. */
  at?: 'statement' | 'commit' | 'commit-answer';
}
