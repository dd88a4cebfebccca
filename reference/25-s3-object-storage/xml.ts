// The few XML documents S3's API answers with, built as text (no parser needed to write them).
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** `<Name>value</Name>` with the value escaped; nothing for undefined. */
export function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`;
}

/**
 * encoding-type=url as S3 answers it: UTF-8 bytes percent-encoded, a space as `+`, `/` left as it is (so keys stay
 * readable), letters, digits and `-_.*` unencoded. Keys may hold bytes XML 1.0 cannot carry (control characters).
 */
export function urlEncoded(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function errorXml(code: string, message: string, resource: string, requestId: string): string {
  return `${XML_DECL}<Error>${el('Code', code)}${el('Message', message)}${el('Resource', resource)}${el('RequestId', requestId)}</Error>`;
}
