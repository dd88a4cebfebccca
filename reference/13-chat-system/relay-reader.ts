// A chat server's reader of the store's relay log (the book's message sync queue): every entry in the order it was
// written, so each connection sees a channel's messages in ID order whichever chat server stored them. It starts at
// the log's end (what came before, a new connection gets by sync) and rides out store outages by retrying.
import { type ChatStore, type RelayEntry, relayPositionAfter } from './store.ts';

export interface RelayReader {
  /**
   * Resolves once every entry up to `at` has been handed out (or after `timeoutMs`): a `sent` that waits for it
   * reaches its connection after every earlier message of the channel, so a device's cur_max_message_id has no gap.
   */
  caughtUp(at: string, timeoutMs: number): Promise<void>;
  stop(): void;
}

export async function startRelayReader(
  store: ChatStore,
  onEntry: (e: RelayEntry) => void,
  log: (msg: string) => void,
  after: (a: string, b: string) => boolean = relayPositionAfter, // MUTANT relay-same-ms passes its own
): Promise<RelayReader> {
  let cursor = await store.relayHead();
  let stopped = false;
  const waiters = new Set<{ at: string; done: () => void }>();
  const wake = () => {
    for (const w of waiters) if (!after(w.at, cursor)) w.done();
  };
  void (async () => {
    while (!stopped) {
      try {
        for (const e of await store.relayAfter(cursor, 500, 1000)) {
          onEntry(e);
          cursor = e.at;
        }
        wake();
      } catch (e) {
        if (stopped) return;
        log(`relay read failed (retrying): ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  return {
    caughtUp(at, timeoutMs) {
      if (!after(at, cursor)) return Promise.resolve();
      return new Promise((resolve) => {
        const w = {
          at,
          done: () => {
            clearTimeout(timer);
            waiters.delete(w);
            resolve();
          },
        };
        const timer = setTimeout(w.done, timeoutMs);
        waiters.add(w);
      });
    },
    stop: () => {
      stopped = true;
      for (const w of waiters) w.done();
    },
  };
}
