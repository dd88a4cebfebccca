"""A market-data subscriber on a narrow TCP connection, for SE-I7 (md-narrow-subscriber.ts drives it).

Node's `net` cannot set socket options before connecting, and on loopback a server's kernel takes megabytes of a
fresh connection's first write at once (its send buffer is sized from the 64 KiB loopback segment). Here the
connection asks for the smallest segment size (TCP_MAXSEG) and receive buffer (SO_RCVBUF) before it connects, so the
server's kernel takes only some tens of KB: a snapshot larger than that stays partly in the server while this client
does not read, as it would behind a slow link.

Protocol on stdio, one line each:
  out  {"open": {...}}            the upgrade was answered 101 (the socket's mss and rcvbuf, bytes read past the headers)
  out  {"refused": status}        it was not; the process ends
  in   read                       start reading (until then nothing more is taken from the socket)
  out  {"reading": {...}}         when reading starts: bytes waiting in this side's kernel (queued) and in the
                                  server's kernel send queue (serverKernel, from /proc/net/tcp; null off this host)
  out  F<payload>                 each text frame's payload (JSON text has no raw newline)
  out  {"closed": code}           the server closed the connection; the process ends
  in   close (or end of input)    a close frame is sent and the process ends
Standard library only (any python3 from 3.8).
"""

import base64
import fcntl
import json
import os
import selectors
import socket
import struct
import sys
import termios
from urllib.parse import urlsplit


def connect(host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    # The smallest segment Linux accepts (88 since 4.19; 536 elsewhere), then the smallest receive buffer.
    for mss in (88, 536):
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
            break
        except OSError:
            continue
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.connect((host, port))
    return s


def server_send_queue(s):
    """Bytes in the server's kernel send queue for this connection, when the server is on this host (else None)."""
    here, there = s.getsockname()[1], s.getpeername()[1]
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    local, remote = int(cols[1].rsplit(":", 1)[1], 16), int(cols[2].rsplit(":", 1)[1], 16)
                    if local == there and remote == here:
                        return int(cols[4].split(":")[0], 16)
        except OSError:
            continue
    return None


def emit(obj):
    sys.stdout.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
    sys.stdout.flush()


def frames(buf):
    """Complete server frames at the start of buf: (opcode, payload) each, and the bytes they took."""
    out, at = [], 0
    while len(buf) - at >= 2:
        b0, b1 = buf[at], buf[at + 1]
        n, head = b1 & 0x7F, 2
        if n == 126:
            if len(buf) - at < 4:
                break
            n, head = struct.unpack(">H", buf[at + 2 : at + 4])[0], 4
        elif n == 127:
            if len(buf) - at < 10:
                break
            n, head = struct.unpack(">Q", buf[at + 2 : at + 10])[0], 10
        if len(buf) - at < head + n:
            break
        out.append((b0 & 0x0F, bytes(buf[at + head : at + head + n])))
        at += head + n
    return out, at


def close_frame(code):
    payload = struct.pack(">H", code)
    mask = os.urandom(4)
    return bytes([0x88, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def main():
    url = urlsplit(sys.argv[1])
    host, port = url.hostname, url.port or 80
    s = connect(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    target = url.path + ("?" + url.query if url.query else "")
    s.sendall(
        (
            f"GET {target} HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            emit({"refused": 0})
            return
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if status != 101:
        emit({"refused": status})
        return
    buf = bytearray(rest)
    emit(
        {
            "open": {
                "mss": s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG),
                "rcvbuf": s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
                "early": len(buf),
            }
        }
    )
    if sys.stdin.readline().strip() != "read":
        s.sendall(close_frame(1000))
        return
    queued = struct.unpack("i", fcntl.ioctl(s.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
    emit({"reading": {"queued": queued, "serverKernel": server_send_queue(s)}})
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ, "socket")
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    while True:
        for key_, _ in sel.select():
            if key_.data == "stdin":
                sys.stdin.readline()
                s.sendall(close_frame(1000))
                return
            chunk = s.recv(65536)
            if not chunk:
                emit({"closed": 1006})
                return
            buf += chunk
            got, used = frames(buf)
            del buf[:used]
            for opcode, payload in got:
                if opcode == 1:
                    emit("F" + payload.decode("utf-8"))
                elif opcode == 8:
                    emit({"closed": struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005})
                    return


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
