import { describe, expect, it } from 'vitest';
import { badBodies } from './negative-inputs.ts';

const schema = {
  type: 'object',
  required: ['longUrl'],
  properties: { longUrl: { type: 'string', maxLength: 20, minLength: 1, pattern: '^https?://' } },
  additionalProperties: false,
};

describe('negative inputs', () => {
  const bodies = badBodies(schema, (n) => n as Record<string, unknown>);
  it('breaks the schema in each named way', () => {
    const labels = bodies.map((b) => b.label);
    for (const l of [
      'malformed JSON',
      'required longUrl missing',
      'longUrl is 42',
      'longUrl longer than 20',
      'an extra property',
      'valid JSON sent as text/plain',
    ])
      expect(labels).toContain(l);
  });
  it('keeps over-long strings otherwise valid, so only the length is wrong', () => {
    const long = bodies.find((b) => b.label === 'longUrl longer than 20')!;
    const v = JSON.parse(long.raw).longUrl as string;
    expect(v.length).toBe(21);
  });
});
