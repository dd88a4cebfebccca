// The WebSocket exchange validator of chapter 13 (the frame-level sibling of harness/core/exchange-validator.ts,
// kept in this chapter's folder): every frame the harness sends or receives is checked against the JSON Schemas of
// specs/13-chat-system/frames.schema.json - ClientFrame one way, ServerFrame the other - with Ajv 2020 and formats.
// A frame that does not fit is a violation, and a violation fails the check that saw it.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { lintAsyncApi as lintChapterAsyncApi } from '../../core/asyncapi-lint.ts';
import { specFile } from '../../core/paths.ts';

export const FRAMES_FILE = specFile('13-chat-system', 'frames.schema.json');
export const ASYNCAPI_FILE = specFile('13-chat-system', 'asyncapi.yaml');

type Json = Record<string, unknown>;

export function loadFramesSchema(): Json {
  return JSON.parse(readFileSync(FRAMES_FILE, 'utf8')) as Json;
}

export class FrameValidator {
  private readonly ajv: Ajv2020;
  private readonly id: string;
  private readonly fns = new Map<string, ValidateFunction>();

  constructor(schema: Json = loadFramesSchema(), strict = false) {
    this.ajv = new Ajv2020({ strict, allErrors: true, validateFormats: true });
    addFormats.default(this.ajv);
    this.ajv.addSchema(schema);
    this.id = String(schema.$id);
  }

  /** The compiled schema of one $defs entry (ClientFrame, ServerFrame, Send, PushNotification, ...). */
  fn(def: string): ValidateFunction {
    let f = this.fns.get(def);
    if (!f) {
      const got = this.ajv.getSchema(`${this.id}#/$defs/${def}`);
      if (!got) throw new Error(`frames.schema.json has no $defs/${def}`);
      f = got;
      this.fns.set(def, f);
    }
    return f;
  }

  /** Violations of a value against a definition; for the unions, against the definition its `type` names. */
  check(def: string, value: unknown): string[] {
    let target = def;
    if (def === 'ServerFrame' || def === 'ClientFrame') {
      const t = (value as { type?: unknown } | null)?.type;
      const named = typeof t === 'string' ? FRAME_DEFS[def][t] : undefined;
      if (!named) return [`${def === 'ServerFrame' ? 'server' : 'client'} frame of unknown type ${JSON.stringify(t)}`];
      target = named;
    }
    const f = this.fn(target);
    if (f(value)) return [];
    return (f.errors ?? []).map((e) => `${target}${e.instancePath || ''} ${e.message ?? 'is invalid'}`);
  }
}

/** `type` -> $defs name, per direction. */
export const FRAME_DEFS: Record<'ClientFrame' | 'ServerFrame', Record<string, string>> = {
  ClientFrame: { auth: 'Auth', send: 'Send', ack: 'Ack', sync: 'Sync', heartbeat: 'Heartbeat' },
  ServerFrame: {
    authenticated: 'Authenticated',
    sent: 'Sent',
    message: 'Message',
    synced: 'Synced',
    presence: 'PresenceChange',
    error: 'Error',
  },
};

/**
 * Lints asyncapi.yaml as far as this project can without new packages (harness/core/asyncapi-lint.ts: AsyncAPI 3,
 * every message payload a $ref into frames.schema.json, every frame covered, every reference resolving), and
 * frames.schema.json itself: every schema compiles under Ajv's strict mode and its examples fit it. Returns the
 * problems (empty when clean).
 */
export function lintAsyncApi(): string[] {
  const schema = loadFramesSchema();
  const problems = lintChapterAsyncApi({
    file: ASYNCAPI_FILE,
    framesFile: FRAMES_FILE,
    framesSchema: schema as { $defs?: Record<string, unknown> },
    frameDefs: [...Object.values(FRAME_DEFS.ClientFrame), ...Object.values(FRAME_DEFS.ServerFrame)],
  });
  let strict: FrameValidator;
  try {
    strict = new FrameValidator(schema, true);
  } catch (e) {
    return [...problems, `frames.schema.json does not compile under Ajv strict mode: ${(e as Error).message}`];
  }
  const defs = schema.$defs as Record<string, Json>;
  for (const [name, d] of Object.entries(defs)) {
    try {
      strict.fn(name);
    } catch (e) {
      problems.push(`$defs/${name} does not compile: ${(e as Error).message}`);
      continue;
    }
    for (const ex of (d.examples as unknown[] | undefined) ?? []) {
      const v = strict.check(name, ex);
      if (v.length) problems.push(`$defs/${name} example does not fit: ${v.join('; ')}`);
    }
  }
  return problems;
}
