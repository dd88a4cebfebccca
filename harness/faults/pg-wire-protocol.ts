// What the PostgreSQL wire proxy (pg-wire-proxy.ts) reads of the frontend protocol: the request codes that replace a
// StartupMessage's version, the statements that open and close a transaction block, and the C strings messages carry.

export const COMMITS = /^(COMMIT|END)\b/i;

/** The request codes sent in place of a StartupMessage's protocol version (no type byte either). */
export const SSL_REQUEST = 80877103;
export const GSS_REQUEST = 80877104;

export const OPENS = /^(BEGIN|START\s+TRANSACTION)\b/i;
export const CLOSES = /^(COMMIT|END|ABORT|PREPARE\s+TRANSACTION|ROLLBACK(?!\s+(WORK\s+|TRANSACTION\s+)?TO\b))\b/i;

/** The SQL text without leading white space and comments, for the tests in pg-wire-proxy.ts. */
export function head(sql: string): string {
  let s = sql;
  for (;;) {
    const t = s
      .replace(/^\s+/, '')
      .replace(/^--[^\n]*\n?/, '')
      .replace(/^\/\*[\s\S]*?\*\//, '');
    if (t === s) return s;
    s = t;
  }
}

/** A C string (NUL-terminated, UTF-8) at `from`; its text and the offset after its NUL. */
export function cString(b: Buffer, from: number): { text: string; next: number } {
  const end = b.indexOf(0, from);
  const stop = end < 0 ? b.length : end;
  return { text: b.toString('utf8', from, stop), next: stop + 1 };
}
