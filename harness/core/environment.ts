// The machine a run was measured on, recorded with every result (numbers from two machines are not comparable).
import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem, type } from 'node:os';
import type { Environment } from '../results/types.ts';
import { rootDir } from './paths.ts';

export function environment(k6Version: string | null, services?: Environment['services']): Environment {
  let gitCommit: string | null = null;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: rootDir, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    gitCommit = null;
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    os: `${type()} ${release()}`,
    node: process.version,
    k6: k6Version,
    gitCommit,
    ci: Boolean(process.env.CI),
    ...(services ? { services } : {}),
  };
}
