// The presence servers' sweep: a user is online from their first connection (or heartbeat) until no heartbeat has
// come for the presence timeout. A disconnect alone changes nothing (the book's answer to flaky mobile networks); the
// timeout decides. The state is in the store, and every node (API and chat servers) runs this sweep: the store's
// step is atomic, so each change is made and announced to friends once, by whichever node gets there first, and
// losing any node loses nothing.
import type { ChatStore } from './store.ts';

export function startPresenceSweep(
  store: ChatStore,
  timeoutMs: number,
  log: (msg: string) => void,
): { stop: () => void } {
  let running = false;
  // Often enough that "offline" comes at most 10% of the timeout late.
  const timer = setInterval(
    () => {
      if (running) return;
      running = true;
      const now = Date.now();
      store
        .sweepPresence(now - timeoutMs, now)
        .catch((e) => log(`presence sweep failed: ${(e as Error).message}`))
        .finally(() => {
          running = false;
        });
    },
    Math.max(20, Math.floor(timeoutMs / 10)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
