// Validates a results document against run-results.schema.json before anything renders or compares it, so a
// malformed run fails loudly here instead of as a half-empty report.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { RunResults } from '../results/types.ts';

export type ValidationOutcome = { ok: true; results: RunResults } | { ok: false; errors: string[] };

const SCHEMA_URL = new URL('../results/run-results.schema.json', import.meta.url);

let validator: ValidateFunction | undefined;

// Compiled once per process: the schema does not change while the harness runs.
function getValidator(): ValidateFunction {
  if (!validator) {
    const schema: unknown = JSON.parse(readFileSync(SCHEMA_URL, 'utf8'));
    // allowUnionTypes: the schema uses ["string", "null"] on purpose.
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats.default(ajv);
    validator = ajv.compile(schema as object);
  }
  return validator;
}

/** One readable line per violation, e.g. `/chapters/0/checks/3/status: must be equal to one of the allowed values (pass, fail, skipped, error)`. */
export function formatAjvError(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(document)' : e.instancePath;
  const params = e.params as Record<string, unknown>;
  let detail = '';
  if (e.keyword === 'additionalProperties') detail = ` (${String(params['additionalProperty'])})`;
  else if (e.keyword === 'enum') detail = ` (${(params['allowedValues'] as unknown[]).map(String).join(', ')})`;
  else if (e.keyword === 'const') detail = ` (${JSON.stringify(params['allowedValue'])})`;
  return `${where}: ${e.message ?? e.keyword}${detail}`;
}

export function validateResults(doc: unknown): ValidationOutcome {
  const validate = getValidator();
  if (validate(doc)) return { ok: true, results: doc as RunResults };
  const errors = [...new Set((validate.errors ?? []).map(formatAjvError))];
  return { ok: false, errors: errors.length > 0 ? errors : ['(document): does not match the run results schema'] };
}
