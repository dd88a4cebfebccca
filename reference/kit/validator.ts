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
