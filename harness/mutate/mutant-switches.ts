// The references carry their hand-written mutants inline (`if (mutant === 'no-dedup') ...`, `// MUTANT ...`). Mutating
// those switches only turns a hand-written mutant on or off (the self-test, `sdgrade mutants`, grades those), and
// the code inside their branches never runs unless that mutant is chosen, so such automated mutants say nothing
// about the checks. They are left out of the population the sample is drawn from, and counted in the report.

const SWITCH = /\bmutant\b|\bMUTANT\b/;
const OPENS_BRANCH = /\b(if|else)\b.*\bmutant\s*[!=]==.*\{\s*(\/\/.*)?$/;

/** 1-based line numbers that belong to a hand-written mutant's switch or branch. */
export function mutantSwitchLines(content: string): Set<number> {
  const lines = content.split('\n');
  const out = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (SWITCH.test(line)) out.add(i + 1);
    if (!OPENS_BRANCH.test(line)) continue;
    // the branch's block: count braces from the opening line to its close
    let depth = 0;
    for (let j = i; j < lines.length; j++) {
      for (const ch of (lines[j] as string).replace(/(['"`]).*?\1/g, '')) {
        if (ch === '{') depth++;
        else if (ch === '}') depth--;
      }
      out.add(j + 1);
      if (depth <= 0 && j > i) break;
      if (depth <= 0 && j === i) break;
    }
  }
  return out;
}
