// A request whose body is over the spec's 4 MiB limit, sent so the answer can be read whichever way the server
// answers: headers first (a server that checks Content-Length answers 413 at once, then closes; a fetch that is
// still writing the body meets EPIPE instead of the answer), and the body only if no answer came within a second.
import { connect } from 'node:net';

export interface RawAnswer {
  status: number | null;
  headers: Record<string, string>;
  bodyText: string;
  error?: string;
}

export function postOversized(baseUrl: string, path: string, body: Buffer, timeoutMs = 15_000): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 80), url.hostname);
    let raw = Buffer.alloc(0);
    let done = false;
    const finish = (a: RawAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(bodyTimer);
      socket.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => finish({ status: null, headers: {}, bodyText: '', error: 'timeout' }), timeoutMs);
    let bodyTimer: NodeJS.Timeout | undefined;
    const parse = (): RawAnswer | null => {
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? -1);
      const bodyBytes = raw.subarray(end + 4);
      if (length >= 0 && bodyBytes.length < length) return null;
      return { status: Number(statusLine?.split(' ')[1]), headers, bodyText: bodyBytes.toString('utf8') };
    };
    socket.on('data', (chunk) => {
      raw = Buffer.concat([raw, chunk]);
      const a = parse();
      if (a) finish(a);
    });
    socket.on('end', () =>
      finish(parse() ?? { status: null, headers: {}, bodyText: '', error: 'closed before an answer' }),
    );
    // A write error after the server answered is expected (it closed early); the answer already read counts.
    socket.on('error', (e) => finish(parse() ?? { status: null, headers: {}, bodyText: '', error: e.message }));
    socket.on('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      );
      bodyTimer = setTimeout(() => socket.write(body, () => {}), 1000);
    });
  });
}
