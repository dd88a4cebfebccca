// Runs `<binary> <version args>` and returns what it printed: the cheap way to tell a real k6 or toxiproxy
// from a stale or unrelated file of the same name.
import { execFile } from 'node:child_process';

export interface VersionOutput {
  ok: boolean;
  /** stdout + stderr, trimmed. */
  output: string;
  /** Why it could not be run, when !ok. */
  error?: string;
}

export function readVersionOutput(path: string, args: string[], timeoutMs = 15_000): Promise<VersionOutput> {
  return new Promise((resolve) => {
    execFile(path, args, { timeout: timeoutMs, encoding: 'utf8', env: process.env }, (err, stdout, stderr) => {
      const output = `${stdout ?? ''}${stderr ?? ''}`.trim();
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        resolve({ ok: false, output, error: typeof code === 'string' ? code : err.message });
        return;
      }
      resolve({ ok: true, output });
    });
  });
}
