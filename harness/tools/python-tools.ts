// The outside tools written in Python (Schemathesis, openapi-spec-validator, openapi-python-client, and boto3, the
// second real S3 client of chapter 25's SOS-C9), pinned, in one virtual environment under the tool cache: installed once from PyPI with pip (`npm run get-tools`), then reused.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findOnPath } from './find-on-path.ts';
import { GET_TOOLS_HINT } from './find-tool.ts';
import { isExecutableFile, toolCacheDir } from './tool-cache.ts';
import { readVersionOutput } from './version-output.ts';

/** The one place these versions are pinned. The expected findings (specs/_shared/) were recorded with them. */
export const PYTHON_TOOL_PINS = {
  schemathesis: '4.32.5',
  'openapi-spec-validator': '0.9.0',
  'openapi-python-client': '0.29.1',
  boto3: '1.44.18',
} as const;

/** Oldest Python the pinned versions install on. */
const MIN_PYTHON: readonly [number, number] = [3, 10];
/** Written last: a folder without it is a half-finished install, removed and done again. */
const COMPLETE_MARKER = '.sdgrade-complete';

export interface PythonTools {
  /** The virtual environment's folder. */
  venv: string;
  /** Its python (generated clients are imported with it). */
  python: string;
  schemathesis: string;
  specValidator: string;
  pythonClient: string;
}

function requirements(): string[] {
  return Object.entries(PYTHON_TOOL_PINS).map(([name, version]) => `${name}==${version}`);
}

/** `<cache>/python-tools-<hash of the pins>`: raising a pin makes a new environment instead of reusing the old one. */
export function pythonToolsDir(env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256').update(requirements().join('\n')).digest('hex').slice(0, 10);
  return join(toolCacheDir(env), `python-tools-${hash}`);
}

function toolsIn(venv: string): PythonTools {
  const bin = join(venv, process.platform === 'win32' ? 'Scripts' : 'bin');
  const exe = process.platform === 'win32' ? '.exe' : '';
  return {
    venv,
    python: join(bin, `python${exe}`),
    schemathesis: join(bin, `st${exe}`),
    specValidator: join(bin, `openapi-spec-validator${exe}`),
    pythonClient: join(bin, `openapi-python-client${exe}`),
  };
}

async function installed(venv: string): Promise<PythonTools | null> {
  const marker = join(venv, COMPLETE_MARKER);
  if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== requirements().join('\n')) return null;
  const tools = toolsIn(venv);
  for (const path of [tools.python, tools.schemathesis, tools.specValidator, tools.pythonClient]) {
    if (!(await isExecutableFile(path))) return null;
  }
  return tools;
}

export interface FindPythonToolsOptions {
  /** Create the environment with pip when it is missing (default false: tests never install). */
  install?: boolean;
  env?: NodeJS.ProcessEnv;
  onProgress?: (line: string) => void;
}

/** The pinned tools from the cache; with install: true, installs them first when missing. Throws saying what to do. */
export async function findPythonTools(opts: FindPythonToolsOptions = {}): Promise<PythonTools> {
  const env = opts.env ?? process.env;
  const venv = pythonToolsDir(env);
  const ready = await installed(venv);
  if (ready) return ready;
  const pins = requirements().join(' ');
  if (!opts.install) throw new Error(`the Python tools (${pins}) are not installed in ${venv}; ${GET_TOOLS_HINT}`);

  const python = await findPython(env);
  const note = opts.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  // A virtual environment is not relocatable (its scripts name its own python), so it is built in place.
  await rm(venv, { recursive: true, force: true });
  await mkdir(venv, { recursive: true });
  note(`installing ${pins} with pip into ${venv} (about a minute, once)...`);
  await run(python, ['-m', 'venv', venv], env);
  const tools = toolsIn(venv);
  await run(tools.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', ...requirements()], env);
  await writeFile(join(venv, COMPLETE_MARKER), `${requirements().join('\n')}\n`);
  const done = await installed(venv);
  if (!done) throw new Error(`pip finished but the tools are not all in ${venv}`);
  return done;
}

async function findPython(env: NodeJS.ProcessEnv): Promise<string> {
  const [maj, min] = MIN_PYTHON;
  const advice = `install Python >= ${maj}.${min} with venv and pip (e.g. apt-get install python3-venv)`;
  for (const name of ['python3', 'python']) {
    const path = await findOnPath(name, env);
    if (!path) continue;
    const out = await readVersionOutput(path, ['--version']);
    const m = /Python (\d+)\.(\d+)/.exec(out.output);
    if (out.ok && m && (Number(m[1]) > maj || (Number(m[1]) === maj && Number(m[2]) >= min))) return path;
  }
  throw new Error(`no python3 >= ${maj}.${min} on PATH; ${advice}`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const tail = `${stdout}${stderr}`.trim().split('\n').slice(-25).join('\n');
      reject(new Error(`'${cmd} ${args.join(' ')}' failed (${err.message.split('\n')[0]}):\n${tail}`));
    });
  });
}
