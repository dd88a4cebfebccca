// The delay store's recovery: a message noted as moving is appended again only when the log does not hold it.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DelayStore, type DelayTarget } from './delay-store.ts';
import type { Appending } from './partition-log.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** One partition in memory. */
function memoryTarget(): DelayTarget & { log: Appending[] } {
  const log: Appending[] = [];
  return {
    log,
    append: (_t, _p, messages) => messages.map((m) => log.push({ key: m.key, value: m.value, tags: m.tags }) - 1),
    endOffset: () => log.length,
    holds: (_t, _p, offset, m) => log[offset]?.value === m.value,
  };
}

function journal(): string {
  const dir = mkdtempSync(join(tmpdir(), 'delay-store-'));
  dirs.push(dir);
  return join(dir, 'delayed.jsonl');
}

const message = (value: string, deliverAt: number) => ({ topic: 't', partition: 0, key: null, value, deliverAt });

it('appends due messages in deliverAt order, once, and keeps the later ones pending across a restart', () => {
  const file = journal();
  const target = memoryTarget();
  const store = new DelayStore(file, target);
  store.add([message('late', 5000), message('first', 1000), message('second', 2000)], true);
  store.deliverDue(2500);
  expect(target.log.map((m) => m.value)).toEqual(['first', 'second']);
  store.close();
  const again = new DelayStore(file, target);
  expect(again.size).toBe(1);
  again.deliverDue(6000);
  again.deliverDue(7000);
  expect(target.log.map((m) => m.value)).toEqual(['first', 'second', 'late']);
  again.close();
});

it('after a crash between the note and the append, appends the message again; after the append, not', () => {
  const file = journal();
  const target = memoryTarget();
  const store = new DelayStore(file, target);
  store.add([message('a', 1), message('b', 1)], true);
  store.close();
  // The note for both, then a crash after only `a` was appended.
  appendFileSync(file, `${JSON.stringify({ op: 'moving', id: 0, offset: 0 })}\n`);
  appendFileSync(file, `${JSON.stringify({ op: 'moving', id: 1, offset: 1 })}\n`);
  target.log.push({ key: null, value: 'a' });
  const again = new DelayStore(file, target);
  again.start();
  expect(target.log.map((m) => m.value)).toEqual(['a', 'b']);
  again.close();
  // The journal was compacted at start to the pending ones, and `b` has been noted since.
  expect(readFileSync(file, 'utf8')).toContain('"op":"moving"');
});

it('ignores a torn last line (a produce never answered)', () => {
  const file = journal();
  const target = memoryTarget();
  new DelayStore(file, target).close();
  appendFileSync(file, '{"op":"add","id":0,"topic":"t","parti');
  const store = new DelayStore(file, target);
  expect(store.size).toBe(0);
  store.close();
});

it('appends several due at once after a restart in deliverAt order, ties in produce order', () => {
  const file = journal();
  const target = memoryTarget();
  const store = new DelayStore(file, target);
  store.add([message('longest', 3000)], true);
  store.add([message('middle', 2000)], true);
  store.add([message('tie-1', 1000), message('tie-2', 1000)], true);
  store.close();
  const again = new DelayStore(file, target);
  again.deliverDue(4000);
  expect(target.log.map((m) => m.value)).toEqual(['tie-1', 'tie-2', 'middle', 'longest']);
  again.close();
});
