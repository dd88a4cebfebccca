import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeMarkdownCell, escapeXml } from './escape.ts';
import { html, raw } from './html.ts';

describe('escapeHtml', () => {
  it('escapes the five characters that can open markup or close an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
  it('leaves ordinary text alone', () => {
    expect(escapeHtml('p99 ≤ 50 ms, 1,157 req/s')).toBe('p99 ≤ 50 ms, 1,157 req/s');
  });
});

describe('escapeXml', () => {
  it('escapes markup and uses &apos;', () => {
    expect(escapeXml(`it's <b> & "q"`)).toBe('it&apos;s &lt;b&gt; &amp; &quot;q&quot;');
  });
  it('drops control characters XML 1.0 cannot carry but keeps tabs and newlines', () => {
    expect(escapeXml('a\u0000b\u001bc\td\ne')).toBe('abc\td\ne');
  });
});

describe('escapeMarkdownCell', () => {
  it('keeps a table row intact and inline HTML inert', () => {
    expect(escapeMarkdownCell('a | b\nc <script>x</script>')).toBe('a \\| b<br>c &lt;script&gt;x&lt;/script&gt;');
  });
  it('escapes backticks and backslashes', () => {
    expect(escapeMarkdownCell('`code` \\')).toBe('\\`code\\` \\\\');
  });
});

describe('html template', () => {
  it('escapes interpolated strings and numbers but not nested templates', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"x"'}">${inner}${42}</p>`.value).toBe('<p title="&quot;x&quot;"><b>&lt;i&gt;</b>42</p>');
  });
  it('joins arrays and drops null, undefined and false', () => {
    expect(html`${['<', html`<br>`, null, undefined, false]}`.value).toBe('&lt;<br>');
  });
  it('passes raw() through untouched', () => {
    expect(html`<style>${raw('a > b { content: "x" }')}</style>`.value).toBe('<style>a > b { content: "x" }</style>');
  });
});
