import { describe, expect, it } from 'vitest';
import { fillPlaceholders, ManifestError, parseManifest } from './manifest.ts';

const good = {
  contract: 1,
  chapter: '09-url-shortener',
  implementation: 'x',
  dependencies: { redis: { url: '${env:X_REDIS}' } },
  nodes: [{ name: 'n1', command: ['node', 'main.js'], env: { PORT: '${port}', R: '${dep.redis}' } }],
};

describe('manifest', () => {
  it('accepts a contract-1 manifest and resolves cwd against its folder', () => {
    const m = parseManifest(JSON.stringify({ ...good, cwd: '..' }), '/a/b/manifest.json');
    expect(m.workDir).toBe('/a');
  });
  it('refuses another contract version with a message naming the versions it speaks', () => {
    expect(() => parseManifest(JSON.stringify({ ...good, contract: 3 }), 'm.json')).toThrow(
      /version 3.*speaks versions 1 and 2/,
    );
  });
  it('accepts settings in a contract-2 manifest, validated; refuses them in a contract-1 one', () => {
    const m = parseManifest(JSON.stringify({ ...good, contract: 2, settings: { failMode: 'closed', n: 3 } }), 'm.json');
    expect(m.settings).toEqual({ failMode: 'closed', n: 3 });
    expect(() => parseManifest(JSON.stringify({ ...good, contract: 2, settings: { failMode: {} } }), 'm.json')).toThrow(
      /settings\/failMode must be string,number,boolean/,
    );
    expect(() => parseManifest(JSON.stringify({ ...good, settings: { failMode: 'closed' } }), 'm.json')).toThrow(
      ManifestError,
    );
  });
  it('refuses unknown fields and duplicate node names', () => {
    expect(() => parseManifest(JSON.stringify({ ...good, extra: 1 }), 'm.json')).toThrow(ManifestError);
    const dup = { ...good, nodes: [good.nodes[0], good.nodes[0]] };
    expect(() => parseManifest(JSON.stringify(dup), 'm.json')).toThrow(/two nodes are named n1/);
  });
  it('fills placeholders and rejects unknown ones', () => {
    const v = {
      port: 8,
      host: 'h',
      dataDir: '/d',
      url: 'http://h:8',
      name: 'n1',
      peers: '',
      deps: { redis: 'redis://p' },
    };
    expect(fillPlaceholders('${url}|${dataDir}|${dep.redis}|${env:HOME_X}', v, { HOME_X: 'y' })).toBe(
      'http://h:8|/d|redis://p|y',
    );
    expect(fillPlaceholders('${link:L}', v, { L: 'http://a:1' })).toBe('http://a:1');
    expect(fillPlaceholders('${link:L}', { ...v, links: { L: 'http://p:2' } }, { L: 'http://a:1' })).toBe('http://p:2');
    expect(() => fillPlaceholders('${nope}', v)).toThrow(/unknown placeholder/);
    expect(() => fillPlaceholders('${dep.db}', v)).toThrow(/names no dependency/);
    // ${sharedDir}: in a node's command and env (a start gives one), not where no nodes start.
    expect(fillPlaceholders('${sharedDir}/x', { ...v, sharedDir: '/s' })).toBe('/s/x');
    expect(() => fillPlaceholders('${sharedDir}', v)).toThrow(/only available/);
  });
});
