// The project's one error shape (RFC 9457 problem details, as in reference/kit/problem.ts), for the answers a fake
// gives on its own behalf: an unmatched request (501) and an injected 5xx. Kept here so the harness does not import
// the reference kit (which is Fastify-bound).
import { STATUS_CODES } from 'node:http';
import { HttpResponse } from 'msw';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FakeProblem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
}

export function fakeProblem(status: number, code: string, detail: string): FakeProblem {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, code, detail };
}

export function problemResponse(problem: FakeProblem, headers?: Record<string, string>): Response {
  return new HttpResponse(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
  });
}
