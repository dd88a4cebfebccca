// Lines that only hand-written mutants run are marked so that the sample leaves them out of the population.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootDir } from '../core/paths.ts';

describe('hand-written mutant switches', () => {
  it('marks the switch lines and the branches they open, nothing else', async () => {
    const { mutantSwitchLines } = await import('./mutant-switches.ts');
    const src = [
      'export function f(x: number, mutant?: string) {', // 1: names the parameter
      '  const y = x + 1;', // 2
      "  if (mutant === 'off') {", // 3
      '    return { y: 0 };', // 4
      '  }', // 5
      '  return y; // plain', // 6
      '  // MUTANT off: the comment marks it', // 7
      '}', // 8
    ].join('\n');
    expect([...mutantSwitchLines(src)].sort((a, b) => a - b)).toEqual([1, 3, 4, 5, 7]);
  });

  it('also marks brace-less ifs, ternary consequents, functions documented as a MUTANT, the rest of a block a `!==` switch leaves early, and private methods only switches call; never a `!==` branch (fixture)', async () => {
    const { mutantSwitchLines } = await import('./mutant-switches.ts');
    const src = readFileSync(join(rootDir, 'fixtures/mutate/switches.ts'), 'utf8');
    const lines = src.split('\n');
    const marked = mutantSwitchLines(src);
    const plain = lines.flatMap((l, i) => (l.includes('// plain') ? [i + 1] : []));
    const at = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
    // every plain line is left in the population
    expect(plain.filter((n) => marked.has(n))).toEqual([]);
    for (const text of [
      "mutant === 'shared'",
      'xs.reduce((a, b) => a + b, 0)',
      "if (mutant === 'braced')",
      'return key + 1;',
      "if (mutant === 'braceless')",
      'console.log(x);',
      '/** MUTANT broken',
      'const m = n * 3;',
      'return m - 1;',
      'return n * 4;',
      'const late = xs.length + 1;',
      'return late;',
      'return n + 1;',
      'return n * 9;',
      'return 2;',
      'return n * 5;',
    ])
      expect(marked.has(at(text)), text).toBe(true);
  });
});
