// A Jepsen-style history: every operation is recorded as an invocation and then a completion that is ok (it
// happened), fail (it certainly did not happen) or info (unknown: a timeout or a reset on a write may or may not
// have taken effect). Checkers must treat info as "maybe".

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface Op<V = unknown> {
  index: number;
  process: number;
  type: OpType;
  f: string;
  value: V;
  timeMs: number;
  error?: string;
}

export class History {
  readonly ops: Op[] = [];
  private readonly t0 = performance.now();

  private push<V>(process: number, type: OpType, f: string, value: V, error?: string): Op<V> {
    const op: Op<V> = { index: this.ops.length, process, type, f, value, timeMs: performance.now() - this.t0 };
    if (error !== undefined) op.error = error;
    this.ops.push(op as Op);
    return op;
  }

  /** Records the invocation, runs it, and records the completion that `classify` reads off the outcome. */
  async run<V, R>(
    process: number,
    f: string,
    value: V,
    fn: () => Promise<R>,
    classify: (r: R) => { type: 'ok' | 'fail' | 'info'; value?: unknown; error?: string },
  ): Promise<R> {
    this.push(process, 'invoke', f, value);
    try {
      const r = await fn();
      const c = classify(r);
      this.push(process, c.type, f, c.value ?? value, c.error);
      return r;
    } catch (e) {
      this.push(process, 'info', f, value, (e as Error).message);
      throw e;
    }
  }

  completions(f?: string): Op[] {
    return this.ops.filter((o) => o.type !== 'invoke' && (f === undefined || o.f === f));
  }

  counts(): Record<OpType, number> {
    const c: Record<OpType, number> = { invoke: 0, ok: 0, fail: 0, info: 0 };
    for (const o of this.ops) c[o.type]++;
    return c;
  }
}
