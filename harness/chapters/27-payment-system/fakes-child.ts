// Starts fakes-process.ts as a child of the harness (the load run's PSP and payout provider) and stops it.
import type { ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { spawnOwned } from '../../tools/owned-processes.ts';

export interface FakesChild {
  pspUrl: string;
  payoutUrl: string;
  /** What the fake did (charges, registrations, webhooks sent and failed). */
  stats(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./fakes-process.ts', import.meta.url));
// SDGRADE_FAKES_NODE_ARGS: extra node options for the fakes' process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".

export async function startFakesChild(o: { secret: string; latencyMs: number; seed: number }): Promise<FakesChild> {
  // Owned: killed with the harness however it ends.
  const child = spawnOwned(
    process.execPath,
    [
      ...(process.env['SDGRADE_FAKES_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      ENTRY,
      '--secret',
      o.secret,
      '--latency-ms',
      String(o.latencyMs),
      '--seed',
      String(o.seed),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  ) as ChildProcessByStdio<null, Readable, Readable>;
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-2000);
  });
  const urls = await new Promise<{ psp: string; payout: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the fakes' process did not start in 20 s: ${stderr}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the fakes' process exited (${code}): ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('READY '.length)) as { psp: string; payout: string });
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pspUrl: urls.psp,
    payoutUrl: urls.payout,
    async stats() {
      const res = await fetch(`${urls.psp}/_fake/stats`);
      return (await res.json()) as Record<string, unknown>;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
