// RFC 9457 problem details, the one error shape of the project (specs/_shared/common.yaml#/components/schemas/Problem).
// Tests assert `code`; `title` and `detail` are for people.
import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemFieldError {
  /** JSON pointer into the request: `/body/longUrl`, `/params/code`, `/query/limit`. */
  location: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  errors?: ProblemFieldError[];
}

/** Throw from a handler (or anything it calls) to answer with a problem body. */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string | undefined;
  readonly errors: ProblemFieldError[] | undefined;
  /** Extra response headers, e.g. `Allow` on a 405 or `Retry-After` on a 503. */
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    code: string,
    detail?: string,
    extra?: { errors?: ProblemFieldError[]; headers?: Record<string, string>; cause?: unknown },
  ) {
    super(detail ?? code, extra?.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ProblemError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = extra?.errors;
    this.headers = extra?.headers;
  }
}

export function problemBody(status: number, code: string, detail?: string, errors?: ProblemFieldError[]): ProblemBody {
  const body: ProblemBody = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, code };
  if (detail !== undefined) body.detail = detail;
  if (errors !== undefined && errors.length > 0) body.errors = errors;
  return body;
}

/** Send a problem body with the exact media type `application/problem+json`. */
export function sendProblem(reply: FastifyReply, problem: ProblemBody, headers?: Record<string, string>): FastifyReply {
  if (headers) reply.headers(headers);
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}
