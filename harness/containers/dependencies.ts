// The reference stack's real dependencies (PostgreSQL, Redis), from wherever they can come, in the order users
// expect: an explicit URL (SDGRADE_DATABASE_URL / SDGRADE_REDIS_URL: CI's services from scripts/services.sh, or
// yours), else a throwaway container when a container engine exists, else the embedded default (SQLite, an
// in-process cache) with the reason. The answer says which source was used so the harness can print it.
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { detectContainerRuntime } from './container-runtime.ts';

export type DependencyKind = 'postgres' | 'redis';

export const DEPENDENCY_ENV: Record<DependencyKind, string> = {
  postgres: 'SDGRADE_DATABASE_URL',
  redis: 'SDGRADE_REDIS_URL',
};

export const DEPENDENCY_IMAGE: Record<DependencyKind, string> = {
  postgres: 'postgres:16-alpine',
  redis: 'redis:7-alpine',
};

const URL_SCHEMES: Record<DependencyKind, string[]> = {
  postgres: ['postgres:', 'postgresql:'],
  redis: ['redis:', 'rediss:'],
};

export interface StartedDependency {
  kind: DependencyKind;
  image: string;
  url: string;
  stop(): Promise<void>;
}

export type StartDependencyResult = StartedDependency | { skipped: string };

export interface StartDependencyOptions {
  /** How long the container may take to be ready (default 120 s: an image pull on a cold machine). */
  startupTimeoutMs?: number;
}

/**
 * A throwaway container of the dependency, ready to use. `{ skipped: reason }` when there is no container engine
 * (never throws for that); throws when an engine exists and the container still cannot be started.
 */
export async function startDependency(
  kind: DependencyKind,
  options: StartDependencyOptions = {},
): Promise<StartDependencyResult> {
  const runtime = await detectContainerRuntime();
  if (!runtime.available) return { skipped: runtime.reason };
  const image = DEPENDENCY_IMAGE[kind];
  const startupTimeout = options.startupTimeoutMs ?? 120_000;
  let container: StartedTestContainer;
  try {
    if (kind === 'postgres') {
      container = await new GenericContainer(image)
        .withEnvironment({ POSTGRES_USER: 'sdgrade', POSTGRES_PASSWORD: 'sdgrade', POSTGRES_DB: 'sdgrade' })
        .withExposedPorts(5432)
        .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
        // The entrypoint starts the server twice (init, then for real): ready means the second message.
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .withStartupTimeout(startupTimeout)
        .start();
    } else {
      container = await new GenericContainer(image)
        .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
        .withExposedPorts(6379)
        .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
        .withStartupTimeout(startupTimeout)
        .start();
    }
  } catch (err) {
    throw new Error(`could not start ${image} with testcontainers: ${err instanceof Error ? err.message : err}`, {
      cause: err,
    });
  }
  const host = container.getHost();
  const url =
    kind === 'postgres'
      ? `postgres://sdgrade:sdgrade@${host}:${container.getMappedPort(5432)}/sdgrade`
      : `redis://${host}:${container.getMappedPort(6379)}/0`;
  let stopped: Promise<void> | null = null;
  return {
    kind,
    image,
    url,
    stop() {
      stopped ??= container.stop().then(() => undefined);
      return stopped;
    },
  };
}

export type ResolvedDependency =
  | { kind: DependencyKind; source: 'env'; variable: string; url: string; stop(): Promise<void> }
  | { kind: DependencyKind; source: 'testcontainers'; image: string; url: string; stop(): Promise<void> }
  | { kind: DependencyKind; source: 'embedded'; embedded: string };

/**
 * Where the dependency comes from: the URL variable when set (and non-empty), else a container when an engine
 * exists, else `{ source: 'embedded', embedded: reason }`. A URL variable that is not a URL of the right scheme is
 * an error (the user asked for it explicitly). `stop()` of an env source does nothing: it is not ours.
 */
export async function resolveDependency(
  kind: DependencyKind,
  env: NodeJS.ProcessEnv = process.env,
  options: StartDependencyOptions = {},
): Promise<ResolvedDependency> {
  const variable = DEPENDENCY_ENV[kind];
  const value = env[variable]?.trim();
  if (value) {
    checkUrl(kind, variable, value);
    return { kind, source: 'env', variable, url: value, stop: async () => {} };
  }
  const started = await startDependency(kind, options);
  if ('skipped' in started) {
    return { kind, source: 'embedded', embedded: `${variable} is not set and ${started.skipped}` };
  }
  return { kind, source: 'testcontainers', image: started.image, url: started.url, stop: started.stop };
}

/** One line for the harness's output; passwords in URLs are masked. */
export function describeDependency(resolved: ResolvedDependency): string {
  switch (resolved.source) {
    case 'env':
      return `${resolved.kind}: ${redactUrl(resolved.url)} (from ${resolved.variable})`;
    case 'testcontainers':
      return `${resolved.kind}: ${redactUrl(resolved.url)} (testcontainers, ${resolved.image})`;
    case 'embedded':
      return `${resolved.kind}: embedded default (${resolved.embedded})`;
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}

function checkUrl(kind: DependencyKind, variable: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${variable} is set but is not a URL (its value is not shown: it may hold a password)`);
  }
  if (!URL_SCHEMES[kind].includes(url.protocol)) {
    throw new Error(`${variable} must be a ${URL_SCHEMES[kind].join(' or ')}// URL, got ${url.protocol}//`);
  }
}
