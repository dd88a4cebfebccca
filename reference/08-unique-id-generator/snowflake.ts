// Twitter Snowflake's layout as the book gives it, 64 bits:
//   sign 0 | 41 bits: milliseconds since EPOCH_MS | 5 bits: datacenter | 5 bits: machine | 12 bits: sequence
// The sequence resets every millisecond; when a millisecond's 4,096 are used up the generator waits for the next
// one (never wraps). The clock going backwards never yields a duplicate or a smaller ID: a step back of up to
// MAX_WAIT_MS is waited out, a larger one is refused with ClockMovedBackwards until the clock catches up.
// IDs are produced as decimal strings without a BigInt per ID: the decimal prefix of a millisecond (timestamp,
// datacenter, machine) is computed once per millisecond and the sequence added to its low digits.

/** Twitter's custom epoch, 2010-11-04T01:42:54.657Z; 41 bits of milliseconds from it last until 2080. */
export const EPOCH_MS = 1_288_834_974_657;
export const TIMESTAMP_BITS = 41;
export const DATACENTER_BITS = 5;
export const MACHINE_BITS = 5;
export const SEQUENCE_BITS = 12;
export const MAX_DATACENTER = (1 << DATACENTER_BITS) - 1;
export const MAX_MACHINE = (1 << MACHINE_BITS) - 1;
export const MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1;
/** A step back of the clock up to this many milliseconds is waited out; beyond it, ClockMovedBackwards. */
export const MAX_WAIT_MS = 5;
export const MAX_ID = (1n << 63n) - 1n;

export type Clock = () => number;

/** The mutants that live in the generator (see mutants.ts). */
export type GeneratorMutant =
  | 'sequence-wrap'
  | 'clock-rollback-ignored'
  | 'rollback-checked-in-seconds'
  | 'bits-misplaced'
  | 'seconds-not-millis'
  | 'sign-bit-used'
  | 'random-sequence'
  | 'sequence-overflows-into-machine'
  | 'long-step-waited-out'
  | 'small-step-not-waited'
  | 'restart-sequence-zero'
  | 'node-id-32-accepted';

export interface SnowflakeOptions {
  datacenterId: number;
  machineId: number;
  /** Milliseconds since the Unix epoch; Date.now by default. */
  clock?: Clock;
  /** The last millisecond a previous run may have used (from the high-water file): nothing at or before it. */
  notBeforeMs?: number;
  /** Called whenever a new millisecond is first used (the high-water mark follows it). */
  onNewMillisecond?: (ms: number) => void;
  mutant?: GeneratorMutant | undefined;
}

export class ClockMovedBackwards extends Error {
  constructor(readonly behindMs: number) {
    super(`the clock moved backwards: it is ${behindMs} ms behind the last ID issued; refusing until it catches up`);
    this.name = 'ClockMovedBackwards';
  }
}

export interface DecodedId {
  id: string;
  unixMs: number;
  datacenterId: number;
  machineId: number;
  sequence: number;
}

/** Decodes by the layout (any 63-bit value decodes; whether it came from a generator is another matter). */
export function decodeId(id: string | bigint): DecodedId {
  const v = typeof id === 'bigint' ? id : BigInt(id);
  if (v < 0n || v > MAX_ID) throw new RangeError(`${id} is not a 63-bit unsigned integer`);
  return {
    id: v.toString(),
    unixMs: Number(v >> 22n) + EPOCH_MS,
    datacenterId: Number((v >> 17n) & 31n),
    machineId: Number((v >> 12n) & 31n),
    sequence: Number(v & 4095n),
  };
}

export function checkNodeIds(datacenterId: number, machineId: number, max = MAX_DATACENTER): void {
  if (!Number.isInteger(datacenterId) || datacenterId < 0 || datacenterId > max)
    throw new RangeError(`datacenter ID must be an integer from 0 to ${MAX_DATACENTER}, got ${datacenterId}`);
  if (!Number.isInteger(machineId) || machineId < 0 || machineId > (max === MAX_DATACENTER ? MAX_MACHINE : max))
    throw new RangeError(`machine ID must be an integer from 0 to ${MAX_MACHINE}, got ${machineId}`);
}

const E8 = 100_000_000;

export class Snowflake {
  readonly datacenterId: number;
  readonly machineId: number;
  private readonly clock: Clock;
  private readonly mutant: GeneratorMutant | undefined;
  private readonly onNewMillisecond: ((ms: number) => void) | undefined;
  private readonly nodeBits: bigint;
  /** The millisecond (Unix) of the last ID issued; -1 before the first. */
  private lastMs: number;
  private sequence = 0;
  /** Decimal digits of the current millisecond's first ID: hi * 1e8 + lo. */
  private hi = 0;
  private lo = 0;

  constructor(o: SnowflakeOptions) {
    // MUTANT node-id-32-accepted: node IDs up to 32 pass (main.ts's range check lets 32 through).
    checkNodeIds(o.datacenterId, o.machineId, o.mutant === 'node-id-32-accepted' ? 32 : MAX_DATACENTER);
    this.datacenterId = o.datacenterId;
    this.machineId = o.machineId;
    this.clock = o.clock ?? Date.now;
    this.mutant = o.mutant;
    this.onNewMillisecond = o.onNewMillisecond;
    this.lastMs = o.notBeforeMs ?? -1;
    // MUTANT bits-misplaced: the datacenter and machine fields are swapped.
    const [dcField, machineField] =
      this.mutant === 'bits-misplaced' ? [o.machineId, o.datacenterId] : [o.datacenterId, o.machineId];
    this.nodeBits = (BigInt(dcField) << 17n) | (BigInt(machineField) << 12n);
    // Sequence exhausted for lastMs, so that the first call after a restart moves to a later millisecond.
    this.sequence = MAX_SEQUENCE;
    // MUTANT restart-sequence-zero: lastMs counted from 0 again, so a clock still in it reissues its IDs from 1.
    if (this.mutant === 'restart-sequence-zero') this.sequence = 0;
  }

  /** The last millisecond used (for the high-water mark). */
  get lastMillisecond(): number {
    return this.lastMs;
  }

  /** One ID as a decimal string. Throws ClockMovedBackwards when the clock is more than MAX_WAIT_MS behind. */
  next(): string {
    let now = this.now();
    // MUTANT long-step-waited-out: the step is compared in seconds, so one of up to 5 s is spun out, not refused.
    if (this.mutant === 'long-step-waited-out' && now < this.lastMs && this.lastMs - now <= MAX_WAIT_MS * 1000)
      while (now < this.lastMs) now = this.now();
    if (now < this.lastMs) {
      if (this.mutant === 'clock-rollback-ignored') {
        // MUTANT clock-rollback-ignored: a clock behind the last ID is simply used.
        this.startMillisecond(now);
        return this.format();
      }
      if (this.mutant === 'rollback-checked-in-seconds' && Math.floor(now / 1000) === Math.floor(this.lastMs / 1000)) {
        // MUTANT rollback-checked-in-seconds: the clock is compared in whole seconds, so a step back that stays
        // within the second of the last ID is not seen.
        this.startMillisecond(now);
        return this.format();
      }
      const behind = this.lastMs - now;
      if (behind > MAX_WAIT_MS) throw new ClockMovedBackwards(behind);
      if (this.mutant === 'small-step-not-waited') {
        // MUTANT small-step-not-waited: a step back of up to MAX_WAIT_MS is neither waited out nor refused: the
        // clock is used as it is, so a millisecond already used is used again.
        this.startMillisecond(now);
        return this.format();
      }
      while (now < this.lastMs) now = this.now();
    }
    if (now === this.lastMs) {
      if (this.mutant === 'random-sequence') {
        // MUTANT random-sequence: a random sequence number instead of a counter.
        this.sequence = Math.floor(Math.random() * (MAX_SEQUENCE + 1));
        return this.format();
      }
      if (this.sequence < MAX_SEQUENCE) {
        this.sequence++;
        return this.format();
      }
      if (this.mutant === 'sequence-wrap') {
        // MUTANT sequence-wrap: the 4,097th ID of a millisecond wraps to sequence 0 instead of waiting.
        this.sequence = 0;
        return this.format();
      }
      // The millisecond's 4,096 are used up: wait for the next one, unless the clock steps back while we wait (a
      // batch can wait here mid-way): beyond MAX_WAIT_MS that is refused, as at the start of next().
      while (now <= this.lastMs) {
        now = this.now();
        if (this.lastMs - now > MAX_WAIT_MS) throw new ClockMovedBackwards(this.lastMs - now);
      }
    }
    this.startMillisecond(now);
    return this.format();
  }

  /** `count` IDs, strictly increasing; all or nothing when the clock has moved backwards. */
  nextBatch(count: number): string[] {
    const ids = new Array<string>(count);
    for (let i = 0; i < count; i++)
      ids[i] = this.mutant === 'sequence-overflows-into-machine' ? this.nextOverflowing() : this.next();
    return ids;
  }

  /** MUTANT sequence-overflows-into-machine: a 4,097th sequence number in one millisecond (carried into the node). */
  private nextOverflowing(): string {
    if (this.sequence === MAX_SEQUENCE && this.now() === this.lastMs) {
      this.sequence++;
      return this.format();
    }
    return this.next();
  }

  private now(): number {
    // MUTANT seconds-not-millis: the timestamp counts seconds, not milliseconds.
    if (this.mutant === 'seconds-not-millis') return Math.floor(this.clock() / 1000);
    return this.clock();
  }

  private startMillisecond(ms: number): void {
    this.lastMs = ms;
    this.sequence = this.mutant === 'random-sequence' ? Math.floor(Math.random() * (MAX_SEQUENCE + 1)) : 0;
    let base: bigint;
    if (this.mutant === 'sign-bit-used') {
      // MUTANT sign-bit-used: Unix epoch and a 42-bit timestamp from bit 22 up: the top bit is set since 2004.
      base = (BigInt(ms) << 23n) | this.nodeBits;
    } else if (this.mutant === 'seconds-not-millis') {
      base = (BigInt(ms - Math.floor(EPOCH_MS / 1000)) << 22n) | this.nodeBits;
    } else {
      base = (BigInt(ms - EPOCH_MS) << 22n) | this.nodeBits;
    }
    this.hi = Number(base / 100_000_000n);
    this.lo = Number(base % 100_000_000n);
    this.onNewMillisecond?.(ms);
  }

  private format(): string {
    const v = this.lo + this.sequence;
    if (v >= E8) return `${this.hi + 1}${String(v).slice(1)}`;
    if (this.hi === 0) return String(v);
    return `${this.hi}${String(E8 + v).slice(1)}`;
  }
}
