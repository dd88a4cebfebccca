// The environment every reference server reads. Bad values fail at startup with a message naming the variable;
// run-server turns a ConfigError into exit code 2.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export type CacheMode = 'memory' | 'redis' | 'none';

export interface ServerConfig {
  chapter: string;
  /** HOST, default 127.0.0.1. */
  host: string;
  /** PORT, default per chapter; 0 picks a free port (the READY line says which). */
  port: number;
  /** DATA_DIR, default <os tmpdir>/sdgrade/<chapter>; created if missing, must be writable. */
  dataDir: string;
  /** DATABASE_URL (postgres:// or postgresql://): use PostgreSQL; absent: the embedded default. */
  databaseUrl: string | undefined;
  /** REDIS_URL (redis:// or rediss://): use Redis; absent: in-process. */
  redisUrl: string | undefined;
  /** CACHE: memory | redis | none; default redis when REDIS_URL is set, else memory. */
  cache: CacheMode;
  /** PUBLIC_BASE_URL without a trailing slash; absent: http://HOST:PORT once listening (see baseUrlOf). */
  publicBaseUrl: string | undefined;
  /** MUTANT: the name of a deliberately broken variant, or undefined for the reference itself. */
  mutant: string | undefined;
  /** LOG_LEVEL for the JSON log on stderr, default info. */
  logLevel: string;
}

export interface ConfigOptions {
  /** The chapter slug, e.g. `09-url-shortener`. */
  chapter: string;
  defaultPort: number;
  /** Names MUTANT may take. */
  mutants?: readonly string[];
  env?: Record<string, string | undefined>;
}

/** A bad configuration value; the process exits with code 2 and this message. */
export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(options: ConfigOptions): ServerConfig {
  const env = options.env ?? process.env;
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const host = get('HOST') ?? '127.0.0.1';
  const portText = get('PORT');
  const port = portText === undefined ? options.defaultPort : Number(portText);
  if (!/^\d+$/.test(portText ?? '0') || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be an integer from 0 to 65535, got '${portText}'`);
  }

  const dataDir = resolve(get('DATA_DIR') ?? join(tmpdir(), 'sdgrade', options.chapter));
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
  } catch (error) {
    throw new ConfigError(`DATA_DIR ${dataDir} cannot be created or written: ${(error as Error).message}`);
  }

  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl !== undefined) checkUrl('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:']);
  const redisUrl = get('REDIS_URL');
  if (redisUrl !== undefined) checkUrl('REDIS_URL', redisUrl, ['redis:', 'rediss:']);

  const cacheText = get('CACHE');
  if (cacheText !== undefined && !['memory', 'redis', 'none'].includes(cacheText)) {
    throw new ConfigError(`CACHE must be memory, redis or none, got '${cacheText}'`);
  }
  const cache = (cacheText ?? (redisUrl ? 'redis' : 'memory')) as CacheMode;
  if (cache === 'redis' && !redisUrl) throw new ConfigError('CACHE=redis needs REDIS_URL');

  let publicBaseUrl = get('PUBLIC_BASE_URL');
  if (publicBaseUrl !== undefined) {
    checkUrl('PUBLIC_BASE_URL', publicBaseUrl, ['http:', 'https:']);
    publicBaseUrl = publicBaseUrl.replace(/\/+$/, '');
  }

  const mutant = get('MUTANT');
  const known = options.mutants ?? [];
  if (mutant !== undefined && !known.includes(mutant)) {
    throw new ConfigError(
      `unknown MUTANT '${mutant}'; known mutants: ${known.length > 0 ? known.join(', ') : '(none for this chapter)'}`,
    );
  }

  const logLevel = get('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  }

  return {
    chapter: options.chapter,
    host,
    port,
    dataDir,
    databaseUrl,
    redisUrl,
    cache,
    publicBaseUrl,
    mutant,
    logLevel,
  };
}

/** http://HOST:PORT, with IPv6 hosts in brackets. */
export function baseUrlOf(host: string, port: number): string {
  return `http://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

function checkUrl(name: string, value: string, protocols: string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL: '${redact(value)}'`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(
      `${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got '${redact(value)}'`,
    );
  }
}

/** Never echo a password from a connection URL into a log. */
export function redact(value: string): string {
  return value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
