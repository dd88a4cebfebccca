// The delaying proxy against a plain TCP echo server: replies come back whole, in order, no sooner than the delay.
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startDelayProxy } from './delay-proxy.ts';

describe('delay proxy', () => {
  it('holds each reply for delayMs, keeps their order, and passes them at once with delayMs 0', async () => {
    const echo = createServer((s) => s.on('data', (b) => s.write(b)));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const port = (echo.address() as { port: number }).port;
    const proxy = await startDelayProxy(`redis://127.0.0.1:${port}/0`, 80);
    const c = createConnection({ host: '127.0.0.1', port: proxy.port });
    await once(c, 'connect');
    let got = '';
    c.on('data', (b) => {
      got += b.toString();
    });
    const until = async (want: string) => {
      while (got !== want) await new Promise((ok) => setTimeout(ok, 5));
    };
    const t0 = Date.now();
    c.write('a');
    await new Promise((ok) => setTimeout(ok, 10));
    c.write('b');
    await until('ab');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(85);
    expect(proxy.held).toBeGreaterThanOrEqual(2);
    proxy.delayMs = 0;
    const t1 = Date.now();
    c.write('c');
    await until('abc');
    expect(Date.now() - t1).toBeLessThan(80);
    c.destroy();
    await proxy.close();
    echo.close();
  });
});
