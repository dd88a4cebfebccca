// Builds a Fastify app whose routes, request validation and error bodies all come from a chapter's spec.
import { METHODS, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type HTTPMethods,
  LogController,
} from 'fastify';
import { type Readiness, readinessHandler } from './health.ts';
import type { HttpMethod, LoadedSpec } from './load-spec.ts';
import { PROBLEM_CONTENT_TYPE, ProblemError, type ProblemFieldError, problemBody, sendProblem } from './problem.ts';
import { createValidatorCompiler } from './validator.ts';

/**
 * Methods a known path answers with 405 when the spec does not declare them: every method Node's HTTP parser accepts
 * (TRACE, PROPFIND, LOCK, QUERY, ...), not only Fastify's seven, but CONNECT, which Node never hands to a route.
 */
const ROUTABLE_METHODS: readonly string[] = METHODS.filter((m) => m !== 'CONNECT');

export type OperationHandler = (request: FastifyRequest, reply: FastifyReply) => unknown;

export interface CreateAppOptions {
  spec: LoadedSpec;
  /** One handler per operationId of the spec (getReadiness is the kit's unless given). Missing or extra ones throw. */
  handlers: Record<string, OperationHandler>;
  readiness: Readiness;
  /** false for silence (tests); otherwise JSON lines on stderr (stdout carries only the READY line). */
  logger?: false | { level?: string } | FastifyBaseLogger;
  /** Log every request (two lines each); default false: at load that logging costs more than the handler. */
  logRequests?: boolean;
  /** Largest request body in bytes; larger ones get 413 payload_too_large. Default 64 KiB. */
  bodyLimit?: number;
  /** MUTANT hook only: operations whose requests reach the handler unvalidated (the schema-driven bad-input checks). */
  unvalidated?: readonly string[];
}

export function createApp(options: CreateAppOptions): FastifyInstance {
  const { spec, readiness } = options;
  const logger = options.logger ?? {};
  const app = Fastify({
    ...(logger === false
      ? { logger: false }
      : 'info' in logger && typeof logger.info === 'function'
        ? { loggerInstance: logger as FastifyBaseLogger }
        : {
            logger: {
              level: (logger as { level?: string }).level ?? process.env['LOG_LEVEL'] ?? 'info',
              stream: process.stderr,
            },
          }),
    logController: new LogController({ disableRequestLogging: !options.logRequests }),
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // Every documented method is declared; HEAD is not implied by GET (an undocumented response is a failure).
    exposeHeadRoutes: false,
    // Requests that arrive while closing are still served (with Connection: close), not answered by a non-problem 503.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Long path segments reach validation (a documented 400) instead of the router's silent 404.
    routerOptions: { maxParamLength: 8 * 1024 },
    frameworkErrors: (error, _request, reply) => {
      sendProblem(reply, problemBody(400, 'invalid_request', error.message));
    },
    clientErrorHandler,
  });
  app.setValidatorCompiler(createValidatorCompiler(spec));
  // Fastify routes only some methods unless told of more; the others would reach the 404 handler.
  for (const method of ROUTABLE_METHODS) {
    if (!app.supportedMethods.includes(method)) app.addHttpMethod(method);
  }
  // Only JSON bodies; Fastify's default text/plain parser would turn a wrong media type into a 400 instead of a 415.
  app.removeContentTypeParser('text/plain');

  const handlers = { ...options.handlers };
  if (spec.operations.has('getReadiness') && !handlers['getReadiness']) {
    handlers['getReadiness'] = readinessHandler(readiness);
  }
  for (const operationId of Object.keys(handlers)) {
    if (!spec.operations.has(operationId)) throw new Error(`handler for ${operationId}, which the spec does not have`);
  }
  for (const operation of spec.operations.values()) {
    const handler = handlers[operation.operationId];
    if (!handler)
      throw new Error(`no handler for operation ${operation.operationId} (${operation.method} ${operation.path})`);
    const validated = !options.unvalidated?.includes(operation.operationId);
    app.route({
      method: operation.method,
      url: operation.url,
      ...(validated ? { schema: operation.schema } : {}),
      handler,
    });
  }
  // A known path with an undeclared method: 405 with Allow, not the router's 404.
  for (const [url, methods] of spec.paths) {
    const others = ROUTABLE_METHODS.filter((m) => !methods.includes(m as HttpMethod));
    if (others.length === 0) continue;
    const allow = methods.join(', ');
    const notAllowed = async (request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(
        reply,
        problemBody(405, 'method_not_allowed', `${request.method} is not allowed here; allowed: ${allow}`),
        { allow },
      );
    // Answered in onRequest, before the body is parsed: a QUERY or POST with an empty or foreign body still gets 405.
    app.route({ method: others as HTTPMethods[], url, onRequest: notAllowed, handler: notAllowed });
  }

  // While stopping, every response closes its connection, so keep-alive clients do not hold a graceful stop open.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (readiness.state === 'stopping') reply.header('connection', 'close');
    done(null, payload);
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendProblem(reply, problemBody(404, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
  app.setErrorHandler(async (error: FastifyError | ProblemError, request, reply) => {
    const { status, code, detail, errors, headers } = classify(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, problemBody(status, code, detail, errors), headers);
  });
  return app;
}

interface Classified {
  status: number;
  code: string;
  detail?: string | undefined;
  errors?: ProblemFieldError[] | undefined;
  headers?: Record<string, string> | undefined;
}

/** Map any error to a problem: ProblemError as given, validation and parser errors to 4xx, the rest to 500. */
export function classify(error: unknown): Classified {
  if (error instanceof ProblemError) {
    return {
      status: error.status,
      code: error.code,
      detail: error.detail,
      errors: error.errors,
      headers: error.headers,
    };
  }
  const e = error as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(e.validation)) {
    const errors = e.validation.map((issue) => toFieldError(e.validationContext ?? 'body', issue));
    return {
      status: 400,
      code: 'invalid_request',
      detail: errors.map((x) => `${x.location.slice(1)} ${x.message}`).join('; '),
      errors,
    };
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return { status, code: 'payload_too_large', detail: e.message };
  if (status === 415) return { status, code: 'unsupported_media_type', detail: e.message };
  // Malformed or empty JSON, a bad Content-Length, a poisoned prototype: all "the request does not fit the spec".
  if (status === 400) return { status, code: 'invalid_request', detail: e.message };
  if (status >= 400 && status < 500) return { status, code: codeForStatus(status), detail: e.message };
  // Anything else is our bug: a 500 whose body says nothing about the internals (the log has the stack).
  return { status: 500, code: 'internal', detail: 'internal error; see the server log' };
}

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const LOCATIONS: Record<string, string> = { body: 'body', params: 'params', querystring: 'query', headers: 'headers' };

function toFieldError(context: string, issue: ValidationIssue): ProblemFieldError {
  let location = `/${LOCATIONS[context] ?? context}${issue.instancePath ?? ''}`;
  const property = issue.params?.['missingProperty'] ?? issue.params?.['additionalProperty'];
  if (typeof property === 'string') location += `/${property.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  let message = issue.message ?? 'is invalid';
  if (issue.keyword === 'additionalProperties') message = 'is not allowed';
  else if (issue.keyword === 'required') message = 'is required';
  return { location, message };
}

function codeForStatus(status: number): string {
  if (status === 404) return 'not_found';
  if (status === 405) return 'method_not_allowed';
  return (STATUS_CODES[status] ?? `status ${status}`).toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

/** Errors Node's HTTP parser raises before Fastify sees a request still get a problem body. */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify(problemBody(status, status === 400 ? 'invalid_request' : codeForStatus(status)));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
