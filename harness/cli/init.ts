// `sdgrade init <chapter>`: writes a contract manifest for the user's implementation next to their code, so the
// harness can start, kill, pause and restart it (the checks a bare URL cannot run). Asks for what flags leave out
// when a person is at the terminal; without one, a missing flag is an error that names it. The manifest is validated
// against the contract schema before it is written, and carries `$comment`s saying what each part unlocks.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { loadCatalog } from '../core/catalog.ts';
import { parseManifest } from '../core/manifest.ts';
import { cliCommand } from '../core/paths.ts';
import { findOnPath } from '../tools/find-on-path.ts';
import { resolveBuiltChapter } from './doctor.ts';

export interface InitOptions {
  command?: string;
  portEnv?: string;
  dataDirEnv?: string;
  name?: string;
  nodes?: number;
  out?: string;
  force?: boolean;
}

const schemaPath = fileURLToPath(new URL('../contract/manifest.schema.json', import.meta.url));

/** Splits a command line the way a POSIX shell would for plain words and quotes (no expansions). */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) out.push(cur);
      cur = '';
      started = false;
    } else {
      cur += ch;
      started = true;
    }
  }
  if (quote) throw new Error(`the command has an unclosed ${quote} quote: ${line}`);
  if (started) out.push(cur);
  return out;
}

/** The program must exist: on PATH, or as a path relative to the manifest's folder. */
async function checkProgram(program: string, cwd: string): Promise<void> {
  if (program.includes('/')) {
    const p = isAbsolute(program) ? program : resolve(cwd, program);
    if (!existsSync(p) || !statSync(p).isFile())
      throw new Error(`command not found: ${program} (looked for ${p}; paths are relative to the manifest's folder)`);
    return;
  }
  if (!(await findOnPath(program))) throw new Error(`command not found: ${program} is not on PATH`);
}

export interface BuiltManifest {
  file: string;
  json: string;
}

/** Builds and validates the manifest; writes nothing. */
export async function buildManifest(chapterArg: string, o: Required<Pick<InitOptions, 'command'>> & InitOptions) {
  const chapter = resolveBuiltChapter(chapterArg);
  const file = resolve(o.out ?? 'sdgrade.manifest.json');
  const cwd = dirname(file);
  const argv = splitCommand(o.command);
  if (!argv.length) throw new Error('the start command is empty');
  await checkProgram(argv[0] as string, cwd);
  const portEnv = o.portEnv ?? 'PORT';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(portEnv)) throw new Error(`--port-env ${portEnv} is not a variable name`);
  if (o.dataDirEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.dataDirEnv))
    throw new Error(`--data-dir-env ${o.dataDirEnv} is not a variable name`);
  const nodes = o.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 16) throw new Error('--nodes must be an integer from 1 to 16');

  const catalog = loadCatalog(chapter);
  const needs = new Set(catalog.checks.flatMap((c) => c.needs ?? []));
  const deps: Record<string, { url: string }> = {};
  if (needs.has('dependency:redis')) deps.redis = { url: '${env:SDGRADE_REDIS_URL}' };
  if (needs.has('dependency:database')) deps.database = { url: '${env:SDGRADE_DATABASE_URL}' };
  const depEnv: Record<string, string> = {};
  if (deps.redis) depEnv.REDIS_URL = '${dep.redis}';
  if (deps.database) depEnv.DATABASE_URL = '${dep.database}';
  const processChecks = catalog.checks.filter((c) => (c.needs ?? []).includes('process-control')).map((c) => c.id);

  const manifest = {
    $schema: relative(cwd, schemaPath),
    $comment: [
      `Written by \`sdgrade init ${chapter}\`. The contract: docs/IMPLEMENTING.md in the sdgrade package.`,
      `With a manifest the harness starts, kills (-9), pauses and restarts your nodes, which a bare --url cannot: that unlocks ${processChecks.length ? processChecks.join(', ') : 'the process-level checks'}.`,
    ],
    contract: 1,
    chapter,
    implementation: o.name ?? basename(cwd),
    cwd: '.',
    readiness: {
      $comment: 'The harness waits for 200 on this path after every start (kill and restart included).',
      path: '/health/ready',
      timeoutMs: 30000,
    },
    stop: {
      $comment: 'A graceful stop sends this signal, then SIGKILL after graceMs.',
      signal: 'SIGTERM',
      graceMs: 5000,
    },
    ...(Object.keys(deps).length
      ? {
          dependencies: Object.fromEntries(
            Object.entries(deps).map(([k, v]) => [
              k,
              {
                $comment: `Put behind the harness's fault proxy and given to your nodes as \${dep.${k}}: unlocks the checks that stop or slow ${k === 'redis' ? 'Redis' : 'the database'} (${catalog.checks
                  .filter((c) => (c.needs ?? []).includes(`dependency:${k}`))
                  .map((c) => c.id)
                  .join(', ')}). Empty (the variable unset) means your embedded default.`,
                ...v,
              },
            ]),
          ),
        }
      : {}),
    nodes: Array.from({ length: nodes }, (_, i) => ({
      $comment:
        i === 0
          ? `One process per node. \${port} is a free loopback port chosen by the harness: listen on 127.0.0.1 there. ${
              o.dataDirEnv
                ? '${dataDir} is kept across restarts of the node: what you store there must survive kill -9.'
                : 'No data directory was given: add one (e.g. "DATA_DIR": "${dataDir}") if your implementation keeps state on disk, so restarts find it.'
            }${nodes > 1 ? ' ${peers} lists the other nodes as name=url pairs.' : ''}`
          : 'Same command; the harness gives each node its own port and data directory.',
      name: `n${i + 1}`,
      command: argv,
      env: {
        [portEnv]: '${port}',
        ...(o.dataDirEnv ? { [o.dataDirEnv]: '${dataDir}' } : {}),
        ...(nodes > 1 ? { PEERS: '${peers}' } : {}),
        ...depEnv,
      },
    })),
  };
  const json = `${JSON.stringify(manifest, null, 2)}\n`;
  parseManifest(json, file); // the contract schema decides; a bad manifest is never written
  return { file, json };
}

async function ask(question: string, fallback?: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const a = (await rl.question(`${question}${fallback ? ` [${fallback}]` : ''}: `)).trim();
    return a || fallback || '';
  } finally {
    rl.close();
  }
}

export async function cmdInit(chapter: string, o: InitOptions): Promise<number> {
  const tty = Boolean(process.stdin.isTTY);
  resolveBuiltChapter(chapter); // an unknown chapter is refused before any question
  let command = o.command;
  let { portEnv, dataDirEnv } = o;
  if (!command) {
    if (!tty) throw new Error('--command is required (the command that starts one node of your implementation)');
    command = await ask('Command that starts one node of your implementation (e.g. ./server or go run ./cmd/api)');
    portEnv ??= await ask('Environment variable it reads its port from', 'PORT');
    dataDirEnv ??=
      (await ask('Environment variable for its data directory (empty if it keeps none)', 'DATA_DIR')) || undefined;
  }
  const built = await buildManifest(chapter, {
    ...o,
    command,
    ...(portEnv ? { portEnv } : {}),
    ...(dataDirEnv ? { dataDirEnv } : {}),
  });
  if (existsSync(built.file) && !o.force) throw new Error(`${built.file} exists; pass --force to overwrite it`);
  writeFileSync(built.file, built.json);
  const rel = relative(process.cwd(), built.file) || built.file;
  console.log(`wrote ${rel} (validated against the contract schema)`);
  console.log(`next: ${cliCommand} doctor ${chapter}   then   ${cliCommand} test ${chapter} --manifest ${rel}`);
  return 0;
}
