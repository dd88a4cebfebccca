// Starts a reference server the way the harness expects: exactly one `READY <url>` line on stdout once listening
// with every dependency connected; SIGTERM/SIGINT drain in-flight requests, close the stores and exit 0.
// Exit codes: 0 clean stop, 1 startup or shutdown failure, 2 bad configuration.
import type { FastifyInstance } from 'fastify';
import { baseUrlOf, ConfigError, type ConfigOptions, loadConfig, type ServerConfig } from './config.ts';
import { Readiness } from './health.ts';

export interface RunningService {
  app: FastifyInstance;
  /** Called with the listening URL (http://HOST:PORT, the real port when PORT=0) before READY is printed. */
  onListening?: (url: string) => void | Promise<void>;
  /** Flush and close stores, caches and timers; called after the server has finished its in-flight requests. */
  close: () => Promise<void>;
}

export interface StartContext {
  config: ServerConfig;
  /** Pass it to createApp; set `readiness.dependencies` to report the database and cache. */
  readiness: Readiness;
}

export interface RunServerOptions extends Omit<ConfigOptions, 'env'> {
  /** Connect dependencies and build the app (not listening yet). Throw ConfigError for a bad setting (exit 2). */
  start: (context: StartContext) => Promise<RunningService>;
  /** Longest a graceful stop may take before the process exits 1. Default 10 s. */
  shutdownTimeoutMs?: number;
}

export async function runServer(options: RunServerOptions): Promise<void> {
  let service: RunningService | undefined;
  const log = (level: 'info' | 'warn' | 'error' | 'fatal', msg: string, err?: unknown) => {
    if (service) service.app.log[level](err === undefined ? {} : { err }, msg);
    else
      console.error(
        `${level}: ${msg}${err === undefined ? '' : `: ${err instanceof Error ? err.stack : String(err)}`}`,
      );
  };
  process.on('unhandledRejection', (reason) => log('error', 'unhandled promise rejection', reason));
  process.on('uncaughtException', (error) => {
    log('fatal', 'uncaught exception; exiting', error);
    process.exit(1);
  });

  let config: ServerConfig;
  try {
    config = loadConfig(options);
  } catch (error) {
    return fail(error);
  }
  const readiness = new Readiness({ implementation: `sdgrade-reference/${options.chapter}`, mutant: config.mutant });

  let shutdownStarted = false;
  let startup: Promise<RunningService> | undefined;
  const shutdown = async (signal: string) => {
    if (shutdownStarted) return;
    shutdownStarted = true;
    readiness.state = 'stopping';
    const timer = setTimeout(() => {
      log('error', `graceful stop took longer than ${options.shutdownTimeoutMs ?? 10_000} ms; exiting`);
      process.exit(1);
    }, options.shutdownTimeoutMs ?? 10_000);
    timer.unref();
    try {
      const running = service ?? (await startup?.catch(() => undefined));
      if (running) {
        log('info', `${signal}: draining requests and stopping`);
        // Connections that fall idle after their last response are closed as they do, not kept alive.
        const sweep = setInterval(() => running.app.server.closeIdleConnections(), 50);
        try {
          await running.app.close();
        } finally {
          clearInterval(sweep);
        }
        await running.close();
      }
      process.exit(0);
    } catch (error) {
      log('error', 'error while stopping', error);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    startup = options.start({ config, readiness });
    service = await startup;
    if (shutdownStarted) return;
    await service.app.listen({ host: config.host, port: config.port });
    const address = service.app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = baseUrlOf(config.host, port);
    await service.onListening?.(url);
    if (shutdownStarted) return;
    readiness.state = 'ready';
    process.stdout.write(`READY ${url}\n`);
  } catch (error) {
    if (service) await service.close().catch(() => undefined);
    return fail(error);
  }

  function fail(error: unknown): never {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(error.exitCode);
    }
    console.error(`startup failed: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof Error && process.env['LOG_LEVEL'] === 'debug') console.error(error.stack);
    process.exit(1);
  }
}
