#!/usr/bin/python3
"""A websocket client of the attach endpoint (Debian's python3-websocket, websocket-client).

usage: wsattach.py SOCKET PATH STEPS
PATH is the request's path and query (/containers/c/attach/ws?stream=1&stdin=1&stdout=1);
STEPS are ';'-separated:
  send:TEXT   a binary frame (\\n, \\x10 escapes)      text:TEXT   a text frame
  frag:A|B    one binary message in two fragments      ping:TEXT   a ping; its pong must echo TEXT
  expect:TEXT read until TEXT appeared                 close       our close; the server's answer
  end         read until the server's close frame: prints "closed CODE REASON"
  raw:HEX     bytes as they are (an unmasked frame, a reserved opcode...)
Every read waits 60 s at most. What the container wrote is printed ("output: ..."), so that a
failing test shows it."""
import socket, sys
import websocket
from websocket import ABNF


def unescape(s):
    return s.encode().decode("unicode_escape").encode("latin-1")


def main():
    sock_path, path, steps = sys.argv[1], sys.argv[2], sys.argv[3]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(sock_path)
    ws = websocket.create_connection("ws://localhost" + path, socket=s, timeout=60)
    out = b""
    try:
        for step in steps.split(";"):
            op, _, arg = step.partition(":")
            if op == "send":
                ws.send(unescape(arg), ABNF.OPCODE_BINARY)
            elif op == "text":
                ws.send(unescape(arg).decode(), ABNF.OPCODE_TEXT)
            elif op == "frag":
                a, b = arg.split("|")
                ws.send_frame(ABNF.create_frame(unescape(a), ABNF.OPCODE_BINARY, fin=0))
                ws.send_frame(ABNF.create_frame(unescape(b), ABNF.OPCODE_CONT, fin=1))
            elif op == "raw":
                s.sendall(bytes.fromhex(arg))
            elif op == "ping":
                ws.ping(arg)
                while True:
                    frame = ws.recv_frame()
                    code = frame.opcode
                    if code == ABNF.OPCODE_PONG:
                        assert frame.data == arg.encode(), frame.data
                        print("pong", frame.data.decode())
                        break
                    out += frame.data
            elif op == "expect":
                want = unescape(arg)
                while want not in out:
                    frame = ws.recv_frame()
                    code = frame.opcode
                    if code == ABNF.OPCODE_CLOSE:
                        raise SystemExit("wsattach: closed before %r: %r" % (want, out))
                    print("frame", "binary" if code == ABNF.OPCODE_BINARY else "text" if code == ABNF.OPCODE_TEXT else code)
                    out += frame.data
            elif op in ("end", "close"):
                if op == "close":
                    ws.send_close(websocket.STATUS_NORMAL, b"bye")
                while True:
                    frame = ws.recv_frame()
                    code = frame.opcode
                    if code == ABNF.OPCODE_CLOSE:
                        c = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None
                        print("closed", c, frame.data[2:].decode(errors="replace"))
                        break
                    out += frame.data
                # the server ends the connection after its close
                s.settimeout(60)
                while s.recv(4096):
                    pass
                print("eof")
            else:
                raise SystemExit("wsattach: unknown step %r" % step)
    finally:
        print("output:", out.decode(errors="replace").replace("\r", "\\r").replace("\n", "\\n"))


main()
