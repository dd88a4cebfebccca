// The no-op yardstick in a process of its own, as the implementation runs in its own: in the harness's process it
// would share an event loop with the harness's bookkeeping (k6's output, CPU sampling), a handicap the
// implementation does not have, and the ratio would flatter the implementation.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { rootDir } from '../core/paths.ts';

const SCRIPT = fileURLToPath(new URL('./noop-server.ts', import.meta.url));
const FANOUT_SCRIPT = fileURLToPath(new URL('./noop-fanout-server.ts', import.meta.url));

export interface NoopProcess {
  url: string;
  /** The server's process (never the harness's own). */
  pid: number;
  stop(): Promise<void>;
}

/** The no-op HTTP server (noop-server.ts) in a process of its own. */
export function startNoopProcess(timeoutMs = 30_000): Promise<NoopProcess> {
  return startServerProcess(SCRIPT, timeoutMs);
}

/** The no-op WebSocket fan-out server (noop-fanout-server.ts, chapter 13's yardstick) in a process of its own. */
export function startNoopFanoutProcess(timeoutMs = 30_000): Promise<NoopProcess> {
  return startServerProcess(FANOUT_SCRIPT, timeoutMs);
}

/** Runs a server script that prints its URL on its first line and serves until SIGTERM. */
async function startServerProcess(script: string, timeoutMs: number): Promise<NoopProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--port', '0'], {
    cwd: rootDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await Promise.race([
      (async () => {
        for await (const line of lines) if (line.startsWith('http://')) return line.trim();
        throw new Error('the no-op server process exited before printing its URL');
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the no-op server process did not start in ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return {
      url,
      pid: child.pid!,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
