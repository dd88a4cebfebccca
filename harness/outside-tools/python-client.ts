// Generates a Python client for a chapter with openapi-python-client, into `<dir>/chapter_NN_client` (importable
// with `<dir>` on PYTHONPATH), and returns what the generator warned about.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { PythonTools } from '../tools/python-tools.ts';

export function pythonPackageName(slug: string): string {
  return `chapter_${slug.slice(0, 2)}_client`;
}

export function generatePythonClient(
  tools: PythonTools,
  slug: string,
  bundledSpec: string,
  dir: string,
): Promise<{ ok: boolean; warnings: string[]; output: string }> {
  const name = pythonPackageName(slug);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, `${name}.config.yaml`);
  writeFileSync(config, `package_name_override: ${name}\nproject_name_override: ${name.replaceAll('_', '-')}\n`);
  const args = ['generate', '--path', bundledSpec, '--output-path', join(dir, name), '--meta', 'none'];
  args.push('--config', config, '--overwrite');
  // Its post-generation hook formats with ruff, which sits next to it in the virtual environment.
  const env = { ...process.env, PATH: `${dirname(tools.pythonClient)}${delimiter}${process.env['PATH'] ?? ''}` };
  return new Promise((resolve) => {
    execFile(tools.pythonClient, args, { env, timeout: 120_000 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      // Each warning is a "WARNING ..." line followed by its detail line (the first non-empty one).
      const lines = output
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length > 0);
      const warnings = lines.flatMap((l, i) => (l.startsWith('WARNING') ? [`${l} ${lines[i + 1] ?? ''}`.trim()] : []));
      resolve({ ok: !err, warnings, output });
    });
  });
}
