// The outside tools' findings that are correct behaviour, each with its reason, from one checked-in file
// (specs/_shared/outside-tools-expected.yaml). Any finding it does not list fails the outside-tools test.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { specFile } from '../core/paths.ts';
import type { Finding } from './schemathesis.ts';

export const EXPECTED_FINDINGS_FILE = specFile('_shared', 'outside-tools-expected.yaml');

/**
 * One accepted Schemathesis finding: every field given must match (no `chapter`: any chapter; `detail`: a regular
 * expression the problem body's detail must match); `reason` says why it is correct behaviour.
 */
export interface ExpectedSchemathesisFinding {
  chapter?: string;
  check: string;
  operation?: string;
  status?: number;
  problemCode?: string;
  detail?: string;
  /**
   * For `max_response_time`: accepted only when the response took no longer than the wait the request itself asked
   * for in this query parameter (ms), plus 5 s (a long poll answers at maxWait when nothing arrives).
   */
  withinQueryWaitOf?: string;
  reason: string;
}

/** The response time a `max_response_time` finding reports ("Actual: 18212.29ms") is within the asked wait. */
function withinAskedWait(f: Finding, param: string): boolean {
  const actual = /Actual:\s*([0-9.]+)\s*ms/.exec(f.message);
  const asked = new URL(f.request.replace(/^[A-Z]+\s+/, '')).searchParams.get(param);
  return actual !== null && asked !== null && Number(actual[1]) <= Number(asked) + 5000;
}

/** One accepted warning of openapi-python-client, matched as a substring of its output. */
export interface ExpectedGeneratorWarning {
  chapter: string;
  warning: string;
  reason: string;
}

export interface ExpectedFindings {
  schemathesis: ExpectedSchemathesisFinding[];
  pythonClient: ExpectedGeneratorWarning[];
}

export function loadExpectedFindings(file = EXPECTED_FINDINGS_FILE): ExpectedFindings {
  const raw = (parse(readFileSync(file, 'utf8')) ?? {}) as Partial<ExpectedFindings>;
  const out: ExpectedFindings = { schemathesis: raw.schemathesis ?? [], pythonClient: raw.pythonClient ?? [] };
  for (const entry of [...out.schemathesis, ...out.pythonClient]) {
    if (typeof entry.reason !== 'string' || entry.reason.trim().length < 10) {
      throw new Error(`${file}: every expected finding needs its reason: ${JSON.stringify(entry)}`);
    }
  }
  return out;
}

export function isExpected(chapter: string, f: Finding, expected: readonly ExpectedSchemathesisFinding[]): boolean {
  return expected.some(
    (e) =>
      (e.chapter === undefined || e.chapter === chapter) &&
      e.check === f.check &&
      (e.operation === undefined || e.operation === f.operation) &&
      (e.status === undefined || e.status === f.status) &&
      (e.problemCode === undefined || e.problemCode === f.problemCode) &&
      (e.detail === undefined || new RegExp(e.detail).test(f.detail ?? '')) &&
      (e.withinQueryWaitOf === undefined || withinAskedWait(f, e.withinQueryWaitOf)),
  );
}
