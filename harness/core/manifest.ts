// Reads and checks an implementation manifest (contract version 2, docs/IMPLEMENTING.md; version 1, the same without
// settings, is still accepted). A manifest of another contract version is refused with a message that says which
// versions this harness speaks.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

import type { Settings } from './settings.ts';

export const contractVersion = 2;
/** Every contract version this harness reads (1: no settings). */
export const contractVersions: readonly number[] = [1, 2];

export interface ManifestNode {
  name: string;
  command: string[];
  env?: Record<string, string>;
}

export interface Manifest {
  contract: number;
  chapter: string;
  implementation: string;
  cwd?: string;
  readiness?: { path?: string; timeoutMs?: number };
  stop?: { signal?: 'SIGTERM' | 'SIGINT'; graceMs?: number };
  dependencies?: Record<string, { url: string }>;
  /** Contract 2: where the implementation differs from the spec's defaults; checks grade these. */
  settings?: Settings;
  nodes: ManifestNode[];
}

export interface LoadedManifest extends Manifest {
  file: string;
  /** Absolute working directory of the commands. */
  workDir: string;
}

const schema = JSON.parse(readFileSync(new URL('../contract/manifest.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);

export class ManifestError extends Error {}

export function parseManifest(text: string, file: string): LoadedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const contract = (doc as { contract?: unknown })?.contract;
  if (!contractVersions.includes(contract as number)) {
    throw new ManifestError(
      `${file}: written for contract version ${JSON.stringify(contract)}, but this harness speaks versions ${contractVersions.join(' and ')} ` +
        '(see docs/IMPLEMENTING.md for what changed and how to update the manifest)',
    );
  }
  if (!validate(doc)) {
    const errs = (validate.errors ?? []).map((e) => `  ${e.instancePath || '/'} ${e.message}`).join('\n');
    throw new ManifestError(`${file}: does not fit the manifest schema:\n${errs}`);
  }
  const m = doc as Manifest;
  const names = new Set<string>();
  for (const n of m.nodes) {
    if (names.has(n.name)) throw new ManifestError(`${file}: two nodes are named ${n.name}`);
    names.add(n.name);
  }
  return { ...m, file, workDir: resolve(dirname(file), m.cwd ?? '.') };
}

export function loadManifest(file: string): LoadedManifest {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ManifestError(`cannot read manifest ${abs}: ${(e as Error).message}`);
  }
  return parseManifest(text, abs);
}

export interface PlaceholderValues {
  port: number;
  host: string;
  dataDir: string;
  url: string;
  name: string;
  peers: string;
  deps: Record<string, string>;
  /** One folder for every node of a start (absent where no nodes are started, e.g. a dependency's URL). */
  sharedDir?: string;
  /** ${link:NAME}: the URL in the harness's environment variable NAME as this node reaches it (its own fault proxy). */
  links?: Record<string, string>;
}

/**
 * Fills ${port}, ${host}, ${dataDir}, ${sharedDir}, ${url}, ${name}, ${peers}, ${dep.NAME}, ${env:NAME} and
 * ${link:NAME} (as ${env:NAME} where the node has no proxy of its own for it).
 */
export function fillPlaceholders(text: string, v: PlaceholderValues, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$\{([^}]+)\}/g, (whole, key: string) => {
    if (key.startsWith('env:')) return env[key.slice(4)] ?? '';
    if (key.startsWith('link:')) return v.links?.[key.slice(5)] ?? env[key.slice(5)] ?? '';
    if (key.startsWith('dep.')) {
      const d = key.slice(4);
      if (!(d in v.deps)) throw new ManifestError(`placeholder ${whole} names no dependency of the manifest`);
      return v.deps[d] ?? '';
    }
    switch (key) {
      case 'port':
        return String(v.port);
      case 'host':
        return v.host;
      case 'dataDir':
        return v.dataDir;
      case 'sharedDir':
        if (v.sharedDir === undefined)
          throw new ManifestError(`${whole} is only available in a node's command and env`);
        return v.sharedDir;
      case 'url':
        return v.url;
      case 'name':
        return v.name;
      case 'peers':
        return v.peers;
      default:
        throw new ManifestError(`unknown placeholder ${whole}`);
    }
  });
}
