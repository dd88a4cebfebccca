// Child processes we start (toxiproxy, k6) must not outlive us: a test that throws or a Ctrl-C would otherwise
// leave a proxy or a load generator running and holding ports. Node runs 'exit' listeners synchronously, so a
// SIGKILL sent there still happens.
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

/** Kills `child` when this process exits, unless it has exited or been released first. */
export function killOnExit(child: ChildProcess): () => void {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
  }
  children.add(child);
  const release = () => {
    children.delete(child);
  };
  child.once('exit', release);
  return release;
}

/** Sends `signal`, then SIGKILL if the child has not exited after `graceMs`. Resolves once it has exited. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (!child.kill(signal)) {
      // Could not signal it (already gone): 'exit' may never come, so do not wait for it.
      clearTimeout(timer);
      resolve();
    }
  });
}
