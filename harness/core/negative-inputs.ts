// Bad inputs derived from a request body's JSON Schema: each breaks the schema in one named way. The invariant
// every chapter checks with them: a documented 4xx with a problem body, never a 5xx, a hang or a 2xx.

type Json = Record<string, unknown>;

export interface BadBody {
  label: string;
  raw: string;
  contentType: string;
}

export type Resolve = (node: unknown) => Json;

function sampleFor(schema: Json): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.example !== undefined) return schema.example;
  switch (schema.type) {
    case 'string':
      return 'x'.repeat(Math.max(1, Number(schema.minLength ?? 1)));
    case 'integer':
    case 'number':
      return Number(schema.minimum ?? 1);
    case 'boolean':
      return true;
    case 'array':
      return [];
    default:
      return {};
  }
}

const wrongValues: Record<string, unknown[]> = {
  string: [42, true, null, {}, []],
  integer: ['1', 1.5, true, null, {}],
  number: ['1', true, null, []],
  boolean: ['true', 1, null],
  object: ['x', 1, [], null],
  array: ['x', 1, {}, null],
};

/** A valid body built from the schema's required properties and examples. */
export function validSample(schema: Json, resolve: Resolve): Json {
  const out: Json = {};
  const props = (schema.properties ?? {}) as Json;
  for (const name of (schema.required ?? []) as string[]) {
    const p = resolve(props[name]);
    out[name] = sampleFor(p);
  }
  return out;
}

export function badBodies(schemaNode: unknown, resolve: Resolve): BadBody[] {
  const schema = resolve(schemaNode);
  const json = 'application/json';
  const out: BadBody[] = [
    { label: 'malformed JSON', raw: '{"', contentType: json },
    { label: 'empty body', raw: '', contentType: json },
    { label: 'JSON array instead of object', raw: '[]', contentType: json },
    { label: 'JSON string instead of object', raw: '"x"', contentType: json },
    { label: 'JSON null', raw: 'null', contentType: json },
  ];
  const valid = validSample(schema, resolve);
  out.push({ label: 'valid JSON sent as text/plain', raw: JSON.stringify(valid), contentType: 'text/plain' });
  const props = (schema.properties ?? {}) as Json;
  for (const name of (schema.required ?? []) as string[]) {
    const rest = { ...valid };
    delete rest[name];
    out.push({ label: `required ${name} missing`, raw: JSON.stringify(rest), contentType: json });
  }
  for (const [name, node] of Object.entries(props)) {
    const p = resolve(node);
    for (const w of wrongValues[String(p.type)] ?? []) {
      out.push({
        label: `${name} is ${JSON.stringify(w)}`,
        raw: JSON.stringify({ ...valid, [name]: w }),
        contentType: json,
      });
    }
    if (p.type === 'string') {
      if (typeof p.maxLength === 'number') {
        const base = String(sampleFor(p));
        const long = base + 'a'.repeat(Math.max(0, p.maxLength + 1 - base.length));
        out.push({
          label: `${name} longer than ${p.maxLength}`,
          raw: JSON.stringify({ ...valid, [name]: long }),
          contentType: json,
        });
      }
      if (typeof p.minLength === 'number' && p.minLength > 0) {
        out.push({
          label: `${name} shorter than ${p.minLength}`,
          raw: JSON.stringify({ ...valid, [name]: '' }),
          contentType: json,
        });
      }
      if (typeof p.pattern === 'string') {
        for (const v of ['no pattern here', ' ', '\u0000', 'ftp://example.com/']) {
          if (!new RegExp(p.pattern, 'u').test(v))
            out.push({
              label: `${name} ${JSON.stringify(v)} breaks its pattern`,
              raw: JSON.stringify({ ...valid, [name]: v }),
              contentType: json,
            });
        }
      }
    }
  }
  if (schema.additionalProperties === false) {
    out.push({ label: 'an extra property', raw: JSON.stringify({ ...valid, unexpected: 1 }), contentType: json });
  }
  return out;
}
