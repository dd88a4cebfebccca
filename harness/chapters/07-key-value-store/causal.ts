// The spec's causal-context format read independently of any implementation: `actor:counter` covers every event of
// the actor up to counter, `actor@counter` that one event. A version (named by its dot) is superseded by a write
// whose context covers its dot.

export function covers(context: string, dot: string): boolean {
  const i = dot.lastIndexOf(':');
  const actor = dot.slice(0, i);
  const n = Number(dot.slice(i + 1));
  if (!context) return false;
  for (const part of context.split(',')) {
    const j = Math.max(part.lastIndexOf(':'), part.lastIndexOf('@'));
    if (part.slice(0, j) !== actor) continue;
    const k = Number(part.slice(j + 1));
    if (part[j] === ':' ? n <= k : n === k) return true;
  }
  return false;
}
