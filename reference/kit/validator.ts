// One validator compiler for every route, built on Ajv2020 (OpenAPI 3.1 schemas are JSON Schema 2020-12).
// Fastify's built-in Ajv is draft-07, coerces types and removes additional properties, all wrong for OpenAPI 3.1
// (see ../shared/docs/toolchain-notes.md). Here bodies are validated exactly as written: no coercion, no removal,
// no defaults. Path and query values arrive as strings, so they alone are coerced ("42" -> 42).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { type JsonObject, type LoadedSpec, OPTIONAL_BODY_KEYWORD } from './load-spec.ts';

/** OpenAPI's own schema keywords, which JSON Schema does not know; they are annotations, never assertions. */
const OPENAPI_KEYWORDS = ['discriminator', 'xml', 'externalDocs', 'example'];
/**
 * The fields of an OpenAPI document's root. Ajv compiles the root of a registered document when a `$ref` points into
 * it, and strict mode would reject these as unknown keywords; declared as annotations they are ignored.
 */
const OPENAPI_ROOT_FIELDS = [
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
];

export function createAjv(spec: LoadedSpec, mode: 'exact' | 'coerce'): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    strictTuples: false,
    strictRequired: false,
    allErrors: false,
    coerceTypes: mode === 'coerce' ? 'array' : false,
    useDefaults: mode === 'coerce',
    removeAdditional: false,
  });
  addFormats.default(ajv);
  for (const keyword of new Set([
    ...OPENAPI_KEYWORDS,
    ...OPENAPI_ROOT_FIELDS,
    OPTIONAL_BODY_KEYWORD,
    ...extensionKeys(spec.document),
  ])) {
    if (!ajv.getKeyword(keyword)) ajv.addKeyword(keyword);
  }
  // The whole bundled document, so that `<spec.id>#/components/...` and the bundler's `#/paths/...` refs resolve.
  ajv.addSchema(spec.document, spec.id);
  return ajv;
}

/** The compiler to give `app.setValidatorCompiler`: exact for bodies, coercing for params, querystring, headers. */
export function createValidatorCompiler(spec: LoadedSpec): FastifySchemaCompiler<JsonObject> {
  const exact = createAjv(spec, 'exact');
  const coercing = createAjv(spec, 'coerce');
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? exact : coercing;
    const validate: ValidateFunction = ajv.compile(schema);
    if (httpPart === 'params' || httpPart === 'querystring') return strictNumbers(validate);
    if (httpPart !== 'body' || schema[OPTIONAL_BODY_KEYWORD] !== true) return validate;
    // Fastify passes a missing body as null; with `schemaEnv` set it also passes the request as parentData, which
    // tells a missing body (allowed) from a JSON `null` body (validated like any other).
    const optional = Object.assign(
      (data: unknown, context?: { parentData?: { body?: unknown } }) => {
        if (data === null && context?.parentData !== undefined && context.parentData.body === undefined) return true;
        const ok = validate(data);
        optional.errors = validate.errors;
        return ok;
      },
      { errors: null as ErrorObject[] | null | undefined, schemaEnv: validate.schemaEnv },
    );
    return optional;
  };
}

/** A number as JSON writes one (RFC 8259 section 6). */
const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/**
 * Ajv coerces a string to a number when `s == +s`, so " " and "0." become 0 and " 5 " becomes 5: such a query value
 * would pass as a number (found by chapter 29's SE-I1 with `startTime= ` and `startTime=0.`). A value coerced to a
 * number (or an array of them) must have been written as JSON writes a number.
 */
function strictNumbers(validate: ValidateFunction): ValidateFunction {
  const padded = (s: unknown) => typeof s === 'string' && !JSON_NUMBER.test(s);
  const wrapped = Object.assign(
    (data: unknown) => {
      const before = typeof data === 'object' && data !== null ? { ...(data as Record<string, unknown>) } : {};
      const ok = validate(data);
      wrapped.errors = validate.errors;
      if (!ok) return false;
      for (const [key, was] of Object.entries(before)) {
        const now = (data as Record<string, unknown>)[key];
        const numbers = Array.isArray(now) ? now : [now];
        const strings = Array.isArray(was) ? was : [was];
        if (!numbers.some((n, i) => typeof n === 'number' && padded(strings[i]))) continue;
        wrapped.errors = [
          {
            instancePath: `/${key}`,
            schemaPath: '#/type',
            keyword: 'type',
            params: { type: 'number' },
            message: 'must be a number written as JSON writes one',
          },
        ];
        return false;
      }
      return true;
    },
    { errors: null as ErrorObject[] | null | undefined, schemaEnv: validate.schemaEnv, schema: validate.schema },
  );
  return wrapped as unknown as ValidateFunction;
}

/** `x-...` extension keys used anywhere in the document; registered as annotation keywords so strict mode allows them. */
function extensionKeys(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) extensionKeys(item, found);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (/^x-[a-z0-9_$:-]*$/i.test(key)) found.add(key);
      extensionKeys(value, found);
    }
  }
  return found;
}
