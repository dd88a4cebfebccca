// The leaderboard's operations over the match history (the source of truth) and the board (derived data): an update
// is recorded in the history, then added to the board; a board that lost its data (BoardLost) is rebuilt from the
// history, once however many requests found it lost, and the operation is tried again. Reads come from the board.
import { ProblemError } from '../kit/problem.ts';
import { type Board, BoardLost, type Entry, type Standing } from './board.ts';
import type { MatchHistory } from './history.ts';
import type { MutantName } from './mutants.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How often an operation that found the board lost rebuilds it and tries again before answering 503. */
const ATTEMPTS = 3;

/** MUTANT history-after-ack: the write-behind's delay between the answer and the history write. */
const WRITE_BEHIND_MS = 5000;

export class Leaderboard {
  private rebuilding: Promise<void> | null = null;
  /** Rebuilds made after the board was found lost (not counting the one at start). */
  rebuilds = 0;

  constructor(
    private readonly board: Board,
    private readonly history: MatchHistory,
    private readonly o: { mutant?: MutantName | undefined; log: (msg: string) => void },
  ) {}

  /**
   * Makes every board again from the history, whatever it holds: at start (a board that outlived the process may
   * lack wins recorded just before a crash).
   */
  async rebuild(): Promise<void> {
    const cut = await this.history.cut();
    await this.board.replaceAll(cut.totals, cut.upTo, cut.reached);
  }

  /** Rebuilds a board found lost; concurrent callers share one rebuild, and a board rebuilt meanwhile is left alone. */
  private recover(): Promise<void> {
    this.rebuilding ??= (async () => {
      try {
        // Another caller's rebuild may have finished since this one found the board lost: rebuilding again would
        // drop the updates added since.
        if (!(await this.board.lost())) return;
        await this.rebuild();
        this.rebuilds++;
        this.o.log('the board had lost its data: rebuilt from the match history');
      } finally {
        this.rebuilding = null;
      }
    })();
    return this.rebuilding;
  }

  /** Runs a board operation, rebuilding the board when it was lost; the board unreachable is 503. */
  private async onBoard<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (e instanceof ProblemError) throw e;
        // MUTANT rebuilds-for-ever: a board lost again after every rebuild is rebuilt until it stays.
        const giveUp = this.o.mutant !== 'rebuilds-for-ever' && attempt >= ATTEMPTS;
        if (!(e instanceof BoardLost) || giveUp) throw unavailable(e, this.o.mutant);
        await this.recover().catch((err: unknown) => {
          throw unavailable(err, this.o.mutant);
        });
      }
    }
  }

  /** Records a win in the history; resolves to its id. */
  record(month: string, user: string, points: number): Promise<number> {
    return this.history.record(month, user, points);
  }

  /**
   * A game server's update: recorded (unless `recorded` gives its history id), then added to the board; resolves to
   * the player's new total.
   */
  async update(month: string, user: string, points: number, recorded?: number): Promise<number> {
    const { mutant } = this.o;
    if (mutant === 'history-after-ack' || mutant === 'history-deferred') {
      // MUTANT history-after-ack: the board first, the answer, then the history in a write-behind whose failures are
      // dropped. MUTANT history-deferred: the same, written 3 s after the answer.
      const score = await this.onBoard(() => this.board.increment(month, user, points, Number.MAX_SAFE_INTEGER));
      setTimeout(
        () => void this.history.record(month, user, points).catch(() => undefined),
        mutant === 'history-deferred' ? 3000 : WRITE_BEHIND_MS,
      );
      return score as number;
    }
    // The history first: once answered, a win is in the store the board is rebuilt from.
    const id = recorded ?? (await this.history.record(month, user, points));
    if (mutant === 'read-modify-write') {
      // MUTANT read-modify-write: read, wait, write: a concurrent update in the gap is overwritten.
      const before = (await this.standing(month, user))?.score ?? 0;
      await pause(5);
      await this.onBoard(() => this.board.set(month, user, before + points));
      return before + points;
    }
    const added = await this.onBoard(() => this.board.increment(month, user, points, id));
    // Already in a board rebuilt after the row was recorded: the total as of that row, from the history.
    return added === 'included' ? this.history.totalAt(month, user, id) : added;
  }

  standing(month: string, user: string): Promise<Standing | null> {
    return this.onBoard(() => this.board.standing(month, user));
  }

  range(month: string, start: number, stop: number): Promise<{ entries: Entry[]; total: number }> {
    return this.onBoard(() => this.board.range(month, start, stop));
  }
}

/** The board's store cannot be reached (or stays lost): 503 `unavailable` with Retry-After, never a 500. */
function unavailable(cause: unknown, mutant?: MutantName): ProblemError {
  return new ProblemError(503, 'unavailable', 'the leaderboard store cannot be reached; retry later', {
    // MUTANT unavailable-without-retry-after: the 503 does not say when to retry.
    headers: mutant === 'unavailable-without-retry-after' ? {} : { 'retry-after': '1' },
    cause,
  });
}
