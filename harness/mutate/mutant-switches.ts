// The references carry their hand-written mutants inline (`if (mutant === 'no-dedup') ...`, `// MUTANT ...`). Mutating
// those switches only turns a hand-written mutant on or off (the self-test, `sdgrade mutants`, grades those), and
// the code inside their branches never runs unless that mutant is chosen, so such automated mutants say nothing
// about the checks. They are left out of the population the sample is drawn from, and counted in the report.
//
// The shapes recognised, all line-based (the references are formatted by biome, so a statement's shape is visible in
// its lines):
//  - any line naming `mutant` / `MUTANT` (the switch itself, or its comment), or testing a local alias of it
//    (`const m = this.o.mutant;` ... `m === 'x'`), which every shape below also takes for `mutant`;
//  - `if (... mutant === ...) {` where every `||` alternative of the condition tests `mutant ===` (so the branch runs
//    only for a mutant): the whole braced block; with no brace, the one statement that follows, to its end;
//  - `mutant === 'x'` followed by a line opening with `?`: the consequent, up to the line opening with `:`;
//  - `if (mutant !== 'x')` alone whose branch ends in `return` or `throw` (the plain path leaves early): the rest of
//    the enclosing block, which only that mutant reaches. A `!==` branch itself is the plain path, never marked;
//  - a function or class whose doc comment opens with `/** MUTANT`: code that exists only for hand-written mutants
//    (it is reached through an option such as `o.uncappedBucket`, not through the word `mutant`), the whole body;
//  - a private method or a module-private function called only from marked lines (`return this.cutLate()` under a
//    switch): the whole body.

const ALIAS = /^\s*(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*[\w$.]*\bmutant\s*;/;

/** The patterns, for a file where `names` hold the mutant's name (`mutant`, and aliases like `const m = o.mutant`). */
function patterns(names: string[]) {
  const n = `(?:${names.map((x) => x.replace(/\$/g, '\\$')).join('|')})`;
  return {
    SWITCH: new RegExp(`\\bmutant\\b|\\bMUTANT\\b|\\b${n}\\s*[!=]==`),
    TESTS_MUTANT: new RegExp(`\\b${n}\\s*===`),
    OPENS_BRANCH: new RegExp(`\\b(if|else)\\b(.*)\\b${n}\\s*===(.*)\\{\\s*(\\/\\/.*)?$`),
    BRACELESS_IF: new RegExp(`^\\s*(}\\s*else\\s+)?if\\s*\\((.*\\b${n}\\s*===.*)\\)\\s*$`),
    ONLY_NOT_MUTANT: new RegExp(`^\\s*if\\s*\\(\\s*(?:[\\w$]+\\.)*${n}\\s*!==\\s*'[^']*'\\s*\\)\\s*(.*)$`),
  };
}
const MUTANT_DOC = /^\s*\/\*\*\s*MUTANT\b/;
const DECLARATION = /^\s*(export\s+)?(default\s+)?(async\s+)?(function\b|class\b|(abstract\s+)class\b)/;
const PRIVATE_METHOD = /^\s*private\s+(static\s+)?(async\s+)?([A-Za-z_$][\w$]*)\s*(<[^>]*>)?\(/;
const LOCAL_FUNCTION = /^(async\s+)?function\s+([A-Za-z_$][\w$]*)\s*(<[^>]*>)?\(/;

/** The code of a line with its strings and line comment left out. */
function code(line: string): string {
  return line.replace(/(['"`]).*?\1/g, "''").replace(/\/\/.*$/, '');
}

/** The same, keeping template literals (a call inside `${...}` is a call). */
function codeWithTemplates(line: string): string {
  return line.replace(/(['"]).*?\1/g, "''").replace(/\/\/.*$/, '');
}

/** How far a line moves the bracket depth. */
function depthDelta(line: string): number {
  let d = 0;
  for (const ch of code(line)) {
    if (ch === '{' || ch === '(' || ch === '[') d++;
    else if (ch === '}' || ch === ')' || ch === ']') d--;
  }
  return d;
}

/** Lines from `from` (0-based) until the brackets opened there close again; with `untilStatementEnd`, also until a
 *  line at depth 0 ends the statement (`;` or `}`), so a one-line statement and a multi-line call both end right.
 *  Returns the 0-based index of the last line taken. */
function spanLines(lines: string[], from: number, out: Set<number>, untilStatementEnd: boolean): number {
  let depth = 0;
  for (let j = from; j < lines.length; j++) {
    const line = lines[j] as string;
    depth += depthDelta(line);
    out.add(j + 1);
    if (depth > 0) continue;
    if (!untilStatementEnd && (j > from || /[{}]/.test(line))) return j;
    if (untilStatementEnd && /[;}]\s*(\/\/.*)?$/.test(line)) return j;
  }
  return lines.length - 1;
}

/** Whether the statements of the braced block opened on line `open` end by leaving (`return`/`throw`): its last
 *  statement at the block's own depth starts with one of them. Returns the block's closing line, or -1 if not. */
function blockLeaves(lines: string[], open: number): number {
  let depth = depthDelta(lines[open] as string);
  let lastStatement = '';
  let statementStarts = true;
  for (let j = open + 1; j < lines.length; j++) {
    const line = lines[j] as string;
    const next = depth + depthDelta(line);
    if (next <= 0) return /^(return|throw)\b/.test(lastStatement) ? j : -1;
    if (depth === 1 && statementStarts && line.trim() !== '' && !/^\s*\/\//.test(line)) lastStatement = line.trim();
    depth = next;
    statementStarts = depth === 1 && /[;{}]\s*(\/\/.*)?$/.test(code(line));
  }
  return -1;
}

/** From line `from` (0-based) to the line before the one that closes the block enclosing it. */
function restOfBlock(lines: string[], from: number, out: Set<number>): void {
  let depth = 0;
  for (let j = from; j < lines.length; j++) {
    const line = lines[j] as string;
    // a line that opens with the enclosing block's closing brace ends the span
    if (depth === 0 && /^\s*}/.test(line)) return;
    depth += depthDelta(line);
    out.add(j + 1);
    if (depth < 0) return;
  }
}

/** Whether a condition holds only when some hand-written mutant is chosen: each of its `||` alternatives tests
 *  `mutant ===` (`(a || b) && c` splits into `(a ` and ` b) && c`, which is right for this purpose). */
function onlyForMutant(condition: string, testsMutant: RegExp): boolean {
  return condition.split('||').every((part) => testsMutant.test(part));
}

/** The condition of a one-line `if (condition) statement;`, or null (found by bracket depth, not by a regex). */
function oneLineIfCondition(line: string): string | null {
  const c = code(line);
  const m = /^\s*(}\s*else\s+)?if\s*\(/.exec(c);
  if (!m) return null;
  let depth = 1;
  for (let k = m[0].length; k < c.length; k++) {
    if (c[k] === '(') depth++;
    else if (c[k] === ')' && --depth === 0) {
      const rest = c.slice(k + 1).trim();
      return rest !== '' && !rest.startsWith('{') && depthDelta(rest) === 0 ? c.slice(m[0].length, k) : null;
    }
  }
  return null;
}

/** 1-based line numbers that belong to a hand-written mutant's switch or branch. */
export function mutantSwitchLines(content: string): Set<number> {
  const lines = content.split('\n');
  const aliases = lines.flatMap((l) => ALIAS.exec(l)?.[1] ?? []).filter((a) => a !== 'mutant');
  const { SWITCH, TESTS_MUTANT, OPENS_BRANCH, BRACELESS_IF, ONLY_NOT_MUTANT } = patterns(['mutant', ...aliases]);
  // `branch`: lines only a mutant runs; `out` adds the lines that merely name one (a switch on the plain path).
  const branch = new Set<number>();
  const out = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (SWITCH.test(line)) out.add(i + 1);
    const braced = OPENS_BRANCH.exec(code(line));
    const braceless = BRACELESS_IF.exec(code(line));
    if (braced && onlyForMutant(`${braced[2]}mutant ===${braced[3]}`, TESTS_MUTANT)) spanLines(lines, i, branch, false);
    else if (braceless && onlyForMutant(braceless[2]!, TESTS_MUTANT) && depthDelta(line) === 0)
      spanLines(lines, i + 1, branch, true);
    const oneLine = oneLineIfCondition(line);
    if (oneLine !== null && onlyForMutant(oneLine, TESTS_MUTANT)) branch.add(i + 1);
    const early = ONLY_NOT_MUTANT.exec(line);
    if (early) {
      const rest = early[1]!.trim();
      if (rest.startsWith('{')) {
        const close = blockLeaves(lines, i);
        if (close >= 0) restOfBlock(lines, close + 1, branch);
      } else if (/^(return|throw)\b/.test(rest) || (rest === '' && /^\s*(return|throw)\b/.test(lines[i + 1] ?? ''))) {
        const end = rest === '' ? spanLines(lines, i + 1, new Set(), true) : i;
        restOfBlock(lines, end + 1, branch);
      }
    }
    if (TESTS_MUTANT.test(line) && /^\s*\?/.test(lines[i + 1] ?? '')) {
      // the consequent of `mutant === 'x' ? a : b`, which biome puts on lines of its own
      for (let j = i + 1; j < lines.length && !/^\s*:/.test(lines[j] as string); j++) branch.add(j + 1);
    }
    const docOpensWithMutant =
      MUTANT_DOC.test(line) || (/^\s*\/\*\*\s*$/.test(line) && /^\s*\*\s*MUTANT\b/.test(lines[i + 1] ?? ''));
    if (docOpensWithMutant) {
      let j = i;
      while (j < lines.length && !/\*\/\s*$/.test(lines[j] as string)) out.add(++j);
      // the declaration right under the comment, to its closing brace
      if (DECLARATION.test(lines[j + 1] ?? '')) spanLines(lines, j + 1, branch, false);
    }
  }
  markOnlyCalledFromBranches(lines, branch);
  for (const n of branch) out.add(n);
  return out;
}

/** Private methods and module-private functions whose every call is in a mutant's branch, to a fixed point (one may
 *  call another). A name never called at all is left alone (it may be reached some other way); a call on a line
 *  that only names a mutant (`mutant === 'x' ? a() : b()`) does not count, since the line is on the plain path. */
function markOnlyCalledFromBranches(lines: string[], branch: Set<number>): void {
  const declared = new Map<string, number>();
  lines.forEach((line, i) => {
    const name = PRIVATE_METHOD.exec(line)?.[3] ?? LOCAL_FUNCTION.exec(line)?.[2];
    if (name && !declared.has(name)) declared.set(name, i);
  });
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, at] of declared) {
      if (branch.has(at + 1)) continue;
      const call = new RegExp(`(^|[^\\w$.])(this\\.)?${name.replace(/\$/g, '\\$')}\\s*(<[^>]*>)?\\(`);
      const calls = lines.flatMap((l, j) => (j !== at && call.test(codeWithTemplates(l)) ? [j + 1] : []));
      if (calls.length > 0 && calls.every((n) => branch.has(n))) {
        spanLines(lines, at, branch, false);
        changed = true;
      }
    }
  }
}
