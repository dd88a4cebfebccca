// GET /health/ready (specs/_shared/common.yaml#/components/pathItems/Readiness): 200 with the Health body when
// ready, 503 with the same shape while starting or stopping. The harness waits on it before any check.
import type { FastifyReply, FastifyRequest } from 'fastify';

export type ReadinessState = 'starting' | 'ready' | 'stopping';
export type DependencyState = 'up' | 'down' | 'embedded';
export type Dependencies = Record<string, DependencyState>;

export interface HealthBody {
  status: ReadinessState;
  implementation: string;
  dependencies?: Dependencies;
}

export interface ReadinessOptions {
  /** Free-form name of the implementation, e.g. `sdgrade-reference/09-url-shortener`. */
  implementation: string;
  /** The state of each real dependency (database, cache); called on every readiness request. */
  dependencies?: () => Dependencies | Promise<Dependencies>;
  /** The selected mutant; the kit knows one, `health-plain-text` (readiness answers text/plain "ok"). */
  mutant?: string | undefined;
}

export class Readiness {
  state: ReadinessState = 'starting';
  readonly implementation: string;
  dependencies: (() => Dependencies | Promise<Dependencies>) | undefined;
  readonly mutant: string | undefined;

  constructor(options: ReadinessOptions) {
    this.implementation = options.implementation;
    this.dependencies = options.dependencies;
    this.mutant = options.mutant;
  }

  async body(): Promise<HealthBody> {
    const body: HealthBody = { status: this.state, implementation: this.implementation };
    if (this.dependencies) body.dependencies = await this.dependencies();
    return body;
  }
}

/** The handler for operationId `getReadiness`; createApp installs it when the spec has that operation. */
export function readinessHandler(readiness: Readiness) {
  return async (_request: FastifyRequest, reply: FastifyReply) => {
    if (readiness.mutant === 'health-plain-text') {
      // MUTANT health-plain-text: a readiness probe that answers a bare text/plain "ok", not the Health body.
      return reply
        .code(readiness.state === 'ready' ? 200 : 503)
        .type('text/plain')
        .send('ok');
    }
    const body = await readiness.body();
    return reply
      .code(body.status === 'ready' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(body);
  };
}
