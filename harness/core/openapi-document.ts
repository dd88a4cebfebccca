// Loads a chapter's OpenAPI document with its external $refs bundled in, and finds, for a concrete request, the
// operation and the documented response. Resolution keeps JSON pointers so Ajv can compile schemas in place.
import SwaggerParser from '@apidevtools/swagger-parser';

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  doc: Json;
  source: string;
}

export async function loadOpenApi(file: string): Promise<OpenApiDocument> {
  const doc = (await SwaggerParser.bundle(file)) as unknown as Json;
  return { doc, source: file };
}

function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function getPointer(doc: Json, pointer: string): unknown {
  if (!pointer.startsWith('#')) throw new Error(`only local $refs are supported after bundling: ${pointer}`);
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split('/').filter(Boolean)) {
    node = (node as Json | undefined)?.[unescapePointer(decodeURIComponent(raw))];
  }
  return node;
}

/** Follows $ref chains of non-schema objects (path items, responses, parameters), returning the object and its pointer. */
export function deref<T = Json>(doc: Json, node: unknown, pointer: string): { value: T; pointer: string } {
  let cur = node as Json;
  let ptr = pointer;
  for (let i = 0; i < 20 && cur && typeof cur.$ref === 'string'; i++) {
    ptr = cur.$ref;
    cur = getPointer(doc, ptr) as Json;
  }
  return { value: cur as T, pointer: ptr };
}

export interface OperationMatch {
  template: string;
  method: string;
  operationId: string;
  operation: Json;
  pointer: string;
  pathParams: Record<string, string>;
}

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Matches a concrete path to a path template; literal segments win over templated ones (as OpenAPI says). */
export function matchOperation(api: OpenApiDocument, method: string, path: string): OperationMatch | null {
  const paths = (api.doc.paths ?? {}) as Json;
  const candidates: { template: string; params: Record<string, string>; templated: number }[] = [];
  const segs = path.split('?')[0]!.split('/');
  for (const template of Object.keys(paths)) {
    const tsegs = template.split('/');
    if (tsegs.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let templated = 0;
    let ok = true;
    for (let i = 0; i < tsegs.length && ok; i++) {
      const t = tsegs[i]!;
      const s = segs[i]!;
      const m = /^\{(.+)\}$/.exec(t);
      if (m) {
        if (s === '') ok = false;
        else {
          params[m[1]!] = decodeURIComponent(s);
          templated++;
        }
      } else if (t !== s) ok = false;
    }
    if (ok) candidates.push({ template, params, templated });
  }
  // OpenAPI: a concrete path is matched before its templated counterparts, and then it is THE path item: a method it
  // does not declare is not found under a templated sibling (GET /ids/batch is not GET /ids/{id}).
  candidates.sort((a, b) => a.templated - b.templated);
  const lower = method.toLowerCase();
  for (const c of candidates.slice(0, 1)) {
    const base = `#/paths/${escapePointer(c.template)}`;
    const item = deref(api.doc, paths[c.template], base);
    const op = (item.value as Json)[lower] as Json | undefined;
    if (op && methods.includes(lower)) {
      return {
        template: c.template,
        method: lower,
        operationId: String(op.operationId ?? `${lower} ${c.template}`),
        operation: op,
        pointer: `${item.pointer}/${lower}`,
        pathParams: c.params,
      };
    }
  }
  return null;
}

/** The operation with this operationId (for building requests in checks). */
export function findOperation(api: OpenApiDocument, operationId: string): { template: string; method: string } {
  const paths = (api.doc.paths ?? {}) as Json;
  for (const template of Object.keys(paths)) {
    const item = deref(api.doc, paths[template], `#/paths/${escapePointer(template)}`).value as Json;
    for (const m of methods) {
      const op = item[m] as Json | undefined;
      if (op?.operationId === operationId) return { template, method: m };
    }
  }
  throw new Error(`${api.source}: no operation ${operationId}`);
}

/** All operationIds of the document, for coverage reports. */
export function operationIds(api: OpenApiDocument): string[] {
  const out: string[] = [];
  const paths = (api.doc.paths ?? {}) as Json;
  for (const template of Object.keys(paths)) {
    const item = deref(api.doc, paths[template], `#/paths/${escapePointer(template)}`).value as Json;
    for (const m of methods) {
      const op = item[m] as Json | undefined;
      if (op?.operationId) out.push(String(op.operationId));
    }
  }
  return out;
}

export interface ListedOperation {
  operationId: string;
  method: string;
  template: string;
  operation: Json;
  /** JSON pointer of the operation in the document. */
  pointer: string;
  /** The path item's and the operation's parameters, $refs resolved (the operation's win by name and place). */
  parameters: Json[];
}

/** Every operation of the document with its resolved parameters, for checks that walk the whole API. */
export function listOperations(api: OpenApiDocument): ListedOperation[] {
  const out: ListedOperation[] = [];
  const paths = (api.doc.paths ?? {}) as Json;
  for (const template of Object.keys(paths)) {
    const itemPointer = `#/paths/${escapePointer(template)}`;
    const resolved = deref(api.doc, paths[template], itemPointer);
    const item = resolved.value as Json;
    const shared = ((item.parameters ?? []) as unknown[]).map((p) => deref(api.doc, p, itemPointer).value as Json);
    for (const m of methods) {
      const operation = item[m] as Json | undefined;
      if (!operation?.operationId) continue;
      const own = ((operation.parameters ?? []) as unknown[]).map((p) => deref(api.doc, p, itemPointer).value as Json);
      const key = (p: Json) => `${p.in}:${p.name}`;
      const parameters = [...shared.filter((s) => !own.some((o) => key(o) === key(s))), ...own];
      out.push({
        operationId: String(operation.operationId),
        method: m,
        template,
        operation,
        pointer: `${resolved.pointer}/${m}`,
        parameters,
      });
    }
  }
  return out;
}
