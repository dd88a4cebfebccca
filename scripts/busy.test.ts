// scripts/busy.sh is how a user (and CI) runs the harness beside a CPU hog. Stopping it must stop what it runs, at
// once: before, bash ran its TERM trap only after the command ended, so `kill` of busy.sh left the test run going.
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { timeLimit } from '../harness/core/time-scale.ts';

function hasStressNg(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v stress-ng'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function alive(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', pattern], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasStressNg())('scripts/busy.sh (needs stress-ng, which .ci/run installs)', () => {
  it(
    'passes a TERM on to its command at once, and stops the hog',
    async () => {
      // A marker no other process has, so pgrep finds only this run's command.
      const marker = `busy-test-${process.pid}-${Date.now()}`;
      const child = spawn('scripts/busy.sh', ['sh', '-c', `sleep 60; echo ${marker}`], {
        env: { ...process.env, SDGRADE_BUSY_CPUS: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      while (!stderr.includes('starting stress-ng')) await new Promise((r) => setTimeout(r, 50));
      while (!alive(marker)) await new Promise((r) => setTimeout(r, 50));
      const hog = execFileSync('pgrep', ['-P', String(child.pid), 'stress-ng'], { encoding: 'utf8' }).trim();
      expect(hog).not.toBe('');
      const t0 = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      // The command ends with the script (well before its 60 s sleep), and so does the hog.
      expect(Date.now() - t0).toBeLessThan(20_000);
      const hogPid = Number(hog.split('\n')[0]);
      const hogAlive = () => {
        try {
          process.kill(hogPid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 100 && (alive(marker) || hogAlive()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(alive(marker)).toBe(false);
      expect(hogAlive()).toBe(false);
      expect(stderr).toMatch(/exit code 143/);
    },
    timeLimit(60_000),
  );
});
