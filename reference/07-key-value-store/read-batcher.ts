// Reads of one replica asked in the same turn of the event loop go out as one node-to-node call. The coordinator's
// cost is per call (a request written, a response parsed), not per key, so under load a remote read costs a fraction
// of a call. Every read in a batch was asked before the batch was sent, so its answer is as fresh as a call of its
// own would be: the quorum guarantees are unchanged (a read never waits on a call that left before it arrived).
import type { Version } from './clock.ts';
import type { Peers } from './peers.ts';

interface Waiter {
  key: string;
  resolve: (versions: Version[]) => void;
  reject: (e: unknown) => void;
}

export class ReadBatcher {
  private readonly queues = new Map<string, Waiter[]>();

  constructor(
    private readonly peers: Peers,
    /** MUTANT batched-read-misaligned: waiters answered by their position in the batch, not by their key. */
    private readonly byPosition = false,
  ) {}

  /** The versions `peer` holds for `key` (empty if none), asked with whatever else is asked of it this turn. */
  read(peer: string, key: string): Promise<Version[]> {
    let queue = this.queues.get(peer);
    if (!queue) {
      queue = [];
      this.queues.set(peer, queue);
      setImmediate(() => this.flush(peer));
    }
    const waiters = queue;
    return new Promise((resolve, reject) => waiters.push({ key, resolve, reject }));
  }

  private flush(peer: string): void {
    const waiters = this.queues.get(peer)!;
    this.queues.delete(peer);
    const keys = [...new Set(waiters.map((w) => w.key))];
    this.peers.call<{ versions: Version[][] }>(peer, '/internal/v1/read', { keys }).then(
      (answer) => {
        // A short answer is a failed call, not "no versions": an empty copy would count toward R as a miss.
        if (answer.versions?.length !== keys.length) {
          const e = new Error(
            `${peer} answered ${answer.versions?.length ?? 'no'} version lists for ${keys.length} keys`,
          );
          for (const w of waiters) w.reject(e);
          return;
        }
        // A key asked twice in one turn is sent once: each waiter takes its key's answer, not the one at its position.
        const byKey = new Map(keys.map((k, i) => [k, answer.versions[i]!]));
        waiters.forEach((w, i) => {
          // MUTANT batched-read-misaligned: the answer at the waiter's position, another key's once a key repeats.
          w.resolve(this.byPosition ? (answer.versions[i] ?? []) : byKey.get(w.key)!);
        });
      },
      (e: unknown) => {
        for (const w of waiters) w.reject(e);
      },
    );
  }
}
