// Lyft-style rules: a domain holds a tree of descriptors; a request's descriptor entries walk it level by level.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type Unit = 'second' | 'minute' | 'hour' | 'day';
export const UNIT_MS: Record<Unit, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export interface RateLimitRule {
  unit: Unit;
  requests_per_unit: number;
}
export interface Descriptor {
  key: string;
  value?: string;
  rate_limit?: RateLimitRule;
  descriptors?: Descriptor[];
}
export interface DomainRules {
  domain: string;
  descriptors: Descriptor[];
}
export interface Entry {
  key: string;
  value: string;
}

/** The rules in force: loaded from a file, replaced one domain at a time through the API. */
export class RuleBook {
  private readonly domains = new Map<string, Descriptor[]>();

  static fromFile(file: string): RuleBook {
    const book = new RuleBook();
    const parsed = parse(readFileSync(file, 'utf8')) as { domains?: DomainRules[] } | DomainRules[];
    const list = Array.isArray(parsed) ? parsed : (parsed.domains ?? []);
    for (const d of list) book.put(d.domain, d.descriptors ?? []);
    return book;
  }

  put(domain: string, descriptors: Descriptor[]): DomainRules {
    this.domains.set(domain, descriptors);
    return { domain, descriptors };
  }

  list(): DomainRules[] {
    return [...this.domains].map(([domain, descriptors]) => ({ domain, descriptors }));
  }

  /** Lyft's matching: at each level a node with the entry's key and value wins over one with the key and no value. */
  match(domain: string, entries: readonly Entry[]): RateLimitRule | undefined {
    let level = this.domains.get(domain);
    for (const [i, e] of entries.entries()) {
      if (!level) return undefined;
      const node =
        level.find((n) => n.key === e.key && n.value === e.value) ??
        level.find((n) => n.key === e.key && n.value === undefined);
      if (!node) return undefined;
      if (i === entries.length - 1) return node.rate_limit;
      level = node.descriptors;
    }
    return undefined;
  }

  /** The middleware: the first top-level descriptor of the domain that the request's attributes match. */
  matchAttributes(
    domain: string,
    attributes: Record<string, string | undefined>,
  ): { entry: Entry; rule: RateLimitRule } | undefined {
    for (const node of this.domains.get(domain) ?? []) {
      const value = attributes[node.key];
      if (value === undefined || !node.rate_limit) continue;
      if (node.value !== undefined && node.value !== value) continue;
      // A value-specific sibling later in the list still wins, as in match().
      const entry = { key: node.key, value };
      const rule = this.match(domain, [entry]);
      if (rule) return { entry, rule };
    }
    return undefined;
  }
}

/**
 * MUTANT value-less-first, deepest-rule-applies, own-value-node-skipped, missing-attribute-matched,
 * value-matched-across-keys, value-node-inherits-key-limit, middleware-stops-at-value-mismatch,
 * middleware-user-before-address: a rule book that matches descriptors with one mistake.
 */
export class BrokenMatching extends RuleBook {
  constructor(
    from: RuleBook,
    private readonly mistake:
      | 'value-less-first'
      | 'deepest-rule-applies'
      | 'own-value-node-skipped'
      | 'missing-attribute-matched'
      | 'value-matched-across-keys'
      | 'value-node-inherits-key-limit'
      | 'middleware-stops-at-value-mismatch'
      | 'middleware-user-before-address',
  ) {
    super();
    for (const d of from.list()) this.put(d.domain, d.descriptors);
  }

  override match(domain: string, entries: readonly Entry[]): RateLimitRule | undefined {
    let level = this.list().find((d) => d.domain === domain)?.descriptors;
    let deepest: RateLimitRule | undefined;
    for (const [i, e] of entries.entries()) {
      if (!level) return this.mistake === 'deepest-rule-applies' ? deepest : undefined;
      // value-matched-across-keys: the value-specific lookup leaves out the key test, so a node of another key with
      // the entry's value wins.
      const across = this.mistake === 'value-matched-across-keys';
      const node =
        this.mistake === 'value-less-first'
          ? level.find((n) => n.key === e.key && (n.value === undefined || n.value === e.value))
          : (level.find((n) => (across || n.key === e.key) && n.value === e.value) ??
            level.find((n) => n.key === e.key && n.value === undefined));
      if (!node) return undefined;
      // MUTANT value-node-inherits-key-limit: a value node without a rate_limit takes its value-less sibling's.
      if (i === entries.length - 1 && this.mistake === 'value-node-inherits-key-limit')
        return node.rate_limit ?? level.find((n) => n.key === e.key && n.value === undefined)?.rate_limit;
      if (i === entries.length - 1) return node.rate_limit;
      deepest = node.rate_limit ?? deepest;
      level = node.descriptors;
    }
    return undefined;
  }

  override matchAttributes(
    domain: string,
    attributes: Record<string, string | undefined>,
  ): { entry: Entry; rule: RateLimitRule } | undefined {
    const own = this.mistake === 'own-value-node-skipped';
    const stops = this.mistake === 'middleware-stops-at-value-mismatch';
    const userFirst = this.mistake === 'middleware-user-before-address';
    if (!own && !stops && !userFirst && this.mistake !== 'missing-attribute-matched')
      return super.matchAttributes(domain, attributes);
    let nodes = this.list().find((d) => d.domain === domain)?.descriptors ?? [];
    // MUTANT middleware-user-before-address: the attributes' order (user_id first), not the rules' order, decides.
    if (userFirst)
      nodes = [...nodes].sort(
        (a, b) => Object.keys(attributes).indexOf(a.key) - Object.keys(attributes).indexOf(b.key),
      );
    for (const node of nodes) {
      const value = attributes[node.key];
      if (stops || userFirst) {
        if (value === undefined || !node.rate_limit) continue;
        // MUTANT middleware-stops-at-value-mismatch: a node of the request's key with another value ends the search.
        if (node.value !== undefined && node.value !== value) {
          if (stops) break;
          continue;
        }
        const rule = this.match(domain, [{ key: node.key, value }]);
        if (rule) return { entry: { key: node.key, value }, rule };
        continue;
      }
      // missing-attribute-matched: `||` became `&&`, so a request without the attribute meets the node's rule.
      if (own ? value === undefined || !node.rate_limit : value === undefined && !node.rate_limit) continue;
      if (node.value !== undefined && (own ? node.value === value : node.value !== value)) continue;
      const entry = { key: node.key, value: value as string };
      const rule = this.match(domain, [entry]);
      if (rule) return { entry, rule };
    }
    return undefined;
  }
}

/**
 * One bucket per domain and descriptor list. Keys and values may hold any character ('=', NUL included), so the
 * parts are JSON-encoded: two different lists never share a bucket.
 */
export function bucketKey(domain: string, entries: readonly Entry[]): string {
  return JSON.stringify([domain, ...entries.map((e) => [e.key, e.value])]);
}

/** MUTANT match-cache-stale-after-put: matching memoised per descriptor list, never cleared by a PUT. */
export class StaleMatchCache extends RuleBook {
  private readonly matched = new Map<string, RateLimitRule | undefined>();

  constructor(from: RuleBook) {
    super();
    for (const d of from.list()) this.put(d.domain, d.descriptors);
  }

  override match(domain: string, entries: readonly Entry[]): RateLimitRule | undefined {
    const k = bucketKey(domain, entries);
    if (!this.matched.has(k)) this.matched.set(k, super.match(domain, entries));
    return this.matched.get(k);
  }
}
