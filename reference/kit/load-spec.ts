// Loads a chapter's OpenAPI 3.1 document and derives Fastify route schemas from it. The spec is the single source of
// truth: route schemas are `$ref`s into the bundled document (registered with the validator under `spec.id`), so
// handlers never restate a schema and a change to the spec changes validation with no code change.
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifySchema, HTTPMethods } from 'fastify';

export type JsonObject = { [key: string]: unknown };

export const HTTP_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Marks a body schema whose request body is optional (`requestBody.required` is not true). */
export const OPTIONAL_BODY_KEYWORD = 'x-sdgrade-optional-body';

export interface SpecOperation {
  operationId: string;
  method: HttpMethod & HTTPMethods;
  /** The OpenAPI path template, e.g. `/api/v1/{code}`. */
  path: string;
  /** The same path as a Fastify route, e.g. `/api/v1/:code`. */
  url: string;
  /** params, querystring and body schemas, each a `$ref` into the bundled document (absent parts are omitted). */
  schema: FastifySchema;
  /** Media types the request body may have (empty when the operation takes no body). */
  consumes: string[];
}

export interface LoadedSpec {
  /** The `$id` the bundled document is registered under; route schemas `$ref` it. */
  id: string;
  /** The bundled document: one self-contained object, external `$ref`s inlined, internal `$ref`s kept. */
  document: JsonObject;
  /** Every operation, by operationId. */
  operations: Map<string, SpecOperation>;
  /** Every path as a Fastify route url, with the methods the spec declares on it. */
  paths: Map<string, HttpMethod[]>;
}

/** Load and bundle a spec file (a path or a file: URL). Fails with a clear message on an invalid document. */
export async function loadSpec(file: string | URL): Promise<LoadedSpec> {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  let document: JsonObject;
  try {
    document = (await SwaggerParser.bundle(path)) as unknown as JsonObject;
  } catch (error) {
    throw new Error(`cannot load the OpenAPI document ${path}: ${(error as Error).message}`, { cause: error });
  }
  const id = `https://sdgrade.invalid/specs/${basename(dirname(path))}/${basename(path)}`;
  const operations = new Map<string, SpecOperation>();
  const paths = new Map<string, HttpMethod[]>();
  const pathItems = asObject(document['paths']) ?? {};
  for (const [template, rawItem] of Object.entries(pathItems)) {
    const itemPointer = ['paths', template];
    const resolvedItem = resolve(document, rawItem, itemPointer);
    const item = resolvedItem.value;
    const url = template.replace(/\{([^}]+)\}/g, ':$1');
    const methods: HttpMethod[] = [];
    for (const method of HTTP_METHODS) {
      const operation = asObject(item[method.toLowerCase()]);
      if (!operation) continue;
      methods.push(method);
      const operationId = operation['operationId'];
      if (typeof operationId !== 'string') throw new Error(`${method} ${template} has no operationId`);
      if (operations.has(operationId)) throw new Error(`operationId ${operationId} is used twice`);
      const operationPointer = [...resolvedItem.pointer, method.toLowerCase()];
      operations.set(operationId, {
        operationId,
        method,
        path: template,
        url,
        ...routeSchema(document, id, item, resolvedItem.pointer, operation, operationPointer),
      });
    }
    paths.set(url, methods);
  }
  return { id, document, operations, paths };
}

function routeSchema(
  document: JsonObject,
  id: string,
  item: JsonObject,
  itemPointer: string[],
  operation: JsonObject,
  operationPointer: string[],
): { schema: FastifySchema; consumes: string[] } {
  // Path-level parameters, overridden by operation-level ones with the same name and location.
  const parameters = new Map<string, { name: string; in: string; required: boolean; pointer: string[] }>();
  const collect = (list: unknown, listPointer: string[]) => {
    if (!Array.isArray(list)) return;
    list.forEach((raw, index) => {
      const { value, pointer } = resolve(document, raw, [...listPointer, String(index)]);
      const name = value['name'];
      const location = value['in'];
      if (typeof name !== 'string' || typeof location !== 'string') return;
      if (value['schema'] === undefined) return; // `content`-style parameters are not validated here
      parameters.set(`${location}:${name}`, {
        name,
        in: location,
        required: value['required'] === true || location === 'path',
        pointer: [...pointer, 'schema'],
      });
    });
  };
  collect(item['parameters'], [...itemPointer, 'parameters']);
  collect(operation['parameters'], [...operationPointer, 'parameters']);

  const schema: FastifySchema = {};
  const objectOf = (location: string): JsonObject | undefined => {
    const chosen = [...parameters.values()].filter((p) => p.in === location);
    if (chosen.length === 0) return undefined;
    return {
      type: 'object',
      properties: Object.fromEntries(chosen.map((p) => [p.name, parameterSchema(document, id, p.pointer)])),
      required: chosen.filter((p) => p.required).map((p) => p.name),
    };
  };
  const params = objectOf('path');
  if (params) schema.params = params;
  const querystring = objectOf('query');
  if (querystring) schema.querystring = querystring;

  let consumes: string[] = [];
  if (operation['requestBody'] !== undefined) {
    const body = resolve(document, operation['requestBody'], [...operationPointer, 'requestBody']);
    const content = asObject(body.value['content']) ?? {};
    consumes = Object.keys(content);
    const json = consumes.find((type) => /^application\/(?:[\w.+-]+\+)?json$/i.test(type));
    if (json && asObject(content[json])?.['schema'] !== undefined) {
      const bodySchema: JsonObject = { $ref: ref(id, [...body.pointer, 'content', json, 'schema']) };
      if (body.value['required'] !== true) bodySchema[OPTIONAL_BODY_KEYWORD] = true;
      schema.body = bodySchema;
    }
  }
  return { schema, consumes };
}

/** A `$ref` to a parameter's schema, with its `default` beside it (Ajv applies defaults only in `properties`). */
function parameterSchema(document: JsonObject, id: string, pointer: string[]): JsonObject {
  const schema: JsonObject = { $ref: ref(id, pointer) };
  const fallback = resolve(document, at(document, pointer), pointer).value['default'];
  if (fallback !== undefined) schema['default'] = fallback;
  return schema;
}

/** A `$ref` to a JSON pointer (given as segments) inside the document registered as `id`. */
export function ref(id: string, segments: string[]): string {
  return `${id}#/${segments.map((s) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;
}

/** Follow local `$ref`s (`#/...`) until a non-reference object; returns it with its JSON pointer segments. */
export function resolve(
  document: JsonObject,
  value: unknown,
  pointer: string[],
): { value: JsonObject; pointer: string[] } {
  let current = value;
  let currentPointer = pointer;
  for (let hops = 0; hops < 32; hops++) {
    const object = asObject(current);
    if (!object) throw new Error(`expected an object at #/${currentPointer.join('/')}`);
    const target = object['$ref'];
    if (typeof target !== 'string') return { value: object, pointer: currentPointer };
    if (!target.startsWith('#/')) throw new Error(`unresolved external $ref ${target} (bundle the document first)`);
    currentPointer = target
      .slice(2)
      .split('/')
      .map((s) => decodeURIComponent(s).replaceAll('~1', '/').replaceAll('~0', '~'));
    current = at(document, currentPointer);
  }
  throw new Error(`$ref chain too long at #/${pointer.join('/')}`);
}

/** The value at a JSON pointer given as segments (through objects and arrays), or undefined. */
function at(document: JsonObject, segments: string[]): unknown {
  return segments.reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? (node as JsonObject)[key] : undefined),
    document,
  );
}

function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}
