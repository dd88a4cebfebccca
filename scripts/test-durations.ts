// Refreshes scripts/test-durations.json from a CI log (`CI=true bash .ci/run > log`): vitest prints each test file's
// line as "✓ path (N tests) 1234ms". Usage: npx tsx scripts/test-durations.ts <log>
import { readFileSync, writeFileSync } from 'node:fs';

const [log] = process.argv.slice(2);
if (!log) {
  console.error('usage: npx tsx scripts/test-durations.ts <CI log>');
  process.exit(2);
}
// biome-ignore lint/suspicious/noControlCharactersInRegex: the log's colour codes, stripped
const COLOUR = /\x1b\[[0-9;]*m/g;
const seconds: Record<string, number> = {};
for (const line of readFileSync(log, 'utf8').replace(COLOUR, '').split('\n')) {
  const m = /^\s*[✓❯×]\s+(\S+\.test\.ts)\s+\(\d+ tests?[^)]*\)\s+(\d+)ms\s*$/.exec(line);
  if (m) seconds[m[1]!] = Math.round(Number(m[2]) / 100) / 10;
}
const count = Object.keys(seconds).length;
if (count === 0) {
  console.error(`no test file durations in ${log}`);
  process.exit(1);
}
const path = new URL('./test-durations.json', import.meta.url);
const old = JSON.parse(readFileSync(path, 'utf8'));
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(path, `${JSON.stringify({ $comment: old.$comment, seconds: sorted }, null, 2)}\n`);
console.log(`${count} test files' durations written to scripts/test-durations.json`);
