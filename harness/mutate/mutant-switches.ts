// The references carry their hand-written mutants inline (`if (mutant === 'no-dedup') ...`, `// MUTANT ...`). Mutating
// those switches only turns a hand-written mutant on or off (the self-test, `sdgrade mutants`, grades those), and
// the code inside their branches never runs unless that mutant is chosen, so such automated mutants say nothing
// about the checks. They are left out of the population the sample is drawn from, and counted in the report.
//
// Four shapes are recognised, all line-based (the references are formatted by biome, so a statement's shape is
// visible in its lines):
//  - any line naming `mutant` / `MUTANT` (the switch itself, or its comment);
//  - `if (... mutant === ...) {` (or `else`): the whole braced block;
//  - `if (... mutant === ...)` with no brace: the one statement that follows, up to where its brackets close;
//  - `mutant === 'x'` followed by a line opening with `?`: the consequent, up to the line opening with `:`;
//  - a function or class whose doc comment opens with `/** MUTANT`: code that exists only for hand-written mutants
//    (it is reached through an option such as `o.uncappedBucket`, not through the word `mutant`), the whole body.

const SWITCH = /\bmutant\b|\bMUTANT\b/;
const TESTS_MUTANT = /\bmutant\s*[!=]==/;
const OPENS_BRANCH = /\b(if|else)\b.*\bmutant\s*[!=]==.*\{\s*(\/\/.*)?$/;
const BRACELESS_IF = /^\s*(}\s*else\s+)?if\s*\(.*\bmutant\s*[!=]==.*\)\s*(\/\/.*)?$/;
const MUTANT_DOC = /^\s*\/\*\*\s*MUTANT\b/;
const DECLARATION = /^\s*(export\s+)?(default\s+)?(async\s+)?(function\b|class\b|(abstract\s+)class\b)/;

/** How far a line moves the bracket depth (strings and line comments left out). */
function depthDelta(line: string): number {
  let d = 0;
  for (const ch of line.replace(/(['"`]).*?\1/g, '').replace(/\/\/.*$/, '')) {
    if (ch === '{' || ch === '(' || ch === '[') d++;
    else if (ch === '}' || ch === ')' || ch === ']') d--;
  }
  return d;
}

/** Lines from `from` (0-based) until the brackets opened there close again; with `untilStatementEnd`, also until a
 *  line at depth 0 ends the statement (`;` or `}`), so a one-line statement and a multi-line call both end right. */
function spanLines(lines: string[], from: number, out: Set<number>, untilStatementEnd: boolean): void {
  let depth = 0;
  for (let j = from; j < lines.length; j++) {
    const line = lines[j] as string;
    depth += depthDelta(line);
    out.add(j + 1);
    if (depth > 0) continue;
    if (!untilStatementEnd && (j > from || /[{}]/.test(line))) return;
    if (untilStatementEnd && /[;}]\s*(\/\/.*)?$/.test(line)) return;
  }
}

/** 1-based line numbers that belong to a hand-written mutant's switch or branch. */
export function mutantSwitchLines(content: string): Set<number> {
  const lines = content.split('\n');
  const out = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (SWITCH.test(line)) out.add(i + 1);
    if (OPENS_BRANCH.test(line)) spanLines(lines, i, out, false);
    else if (BRACELESS_IF.test(line) && depthDelta(line) === 0) spanLines(lines, i + 1, out, true);
    if (TESTS_MUTANT.test(line) && /^\s*\?/.test(lines[i + 1] ?? '')) {
      // the consequent of `mutant === 'x' ? a : b`, which biome puts on lines of its own
      for (let j = i + 1; j < lines.length && !/^\s*:/.test(lines[j] as string); j++) out.add(j + 1);
    }
    const docOpensWithMutant =
      MUTANT_DOC.test(line) || (/^\s*\/\*\*\s*$/.test(line) && /^\s*\*\s*MUTANT\b/.test(lines[i + 1] ?? ''));
    if (docOpensWithMutant) {
      let j = i;
      while (j < lines.length && !/\*\/\s*$/.test(lines[j] as string)) out.add(++j);
      // the declaration right under the comment, to its closing brace
      if (DECLARATION.test(lines[j + 1] ?? '')) spanLines(lines, j + 1, out, false);
    }
  }
  return out;
}
