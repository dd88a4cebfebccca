// Escaping for the three output languages. Results carry strings chosen by the implementation under test
// (reasons, response bodies, headers), so every renderer must treat them as hostile.

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and for quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch] ?? ch);
}

// XML 1.0 forbids most C0 control characters even as character references, so they are dropped.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point here.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for XML element content and attribute values, dropping characters XML 1.0 cannot hold. */
export function escapeXml(text: string): string {
  return escapeHtml(text.replace(XML_INVALID, '')).replace(/&#39;/g, '&apos;');
}

/**
 * Makes text safe for one cell of a GitHub Markdown table: no pipes or newlines that would break the row, and no
 * raw HTML (job summaries render inline HTML).
 */
export function escapeMarkdownCell(text: string): string {
  return text
    .replace(/[&<>]/g, (ch) => HTML_ENTITIES[ch] ?? ch)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/`/g, '\\`')
    .replace(/\r?\n/g, '<br>');
}
