#!/usr/bin/env python3
"""A tiny upstream resolver for the network tests: answers A queries for the names given on
the command line (NAME=ADDR ...), NXDOMAIN for anything else, over UDP on ADDR:PORT. It logs
every question to stdout ("q NAME TYPE"), so a test can tell which queries reached it.

    dnsd.py 127.0.0.53 53 outside.test=192.0.2.99
"""
import socket
import struct
import sys


def parse_question(msg):
    pos, labels = 12, []
    while msg[pos]:
        n = msg[pos]
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    qtype, _ = struct.unpack("!HH", msg[pos + 1:pos + 5])
    return ".".join(labels).lower(), qtype, pos + 5


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    names = dict(a.split("=", 1) for a in sys.argv[3:])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        msg, peer = s.recvfrom(4096)
        if len(msg) < 17:
            continue
        name, qtype, end = parse_question(msg)
        print("q", name, qtype, flush=True)
        known = name in names
        answer = b""
        if known and qtype == 1:
            answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(names[name])
        flags = 0x8180 | (0 if known else 3)
        head = msg[:2] + struct.pack("!HHHHH", flags, 1, 1 if answer else 0, 0, 0)
        s.sendto(head + msg[12:end] + answer, peer)


if __name__ == "__main__":
    main()
