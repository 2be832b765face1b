#!/usr/bin/env python3
"""Drive a command under a pseudo-terminal, as a person at a terminal would.

usage: ptydrive.py STEPS -- COMMAND [ARGS...]
STEPS: ';'-separated: "expect:TEXT" (read until TEXT appears, 60 s at most), "send:TEXT" (with
\\n, \\x10 escapes), "exit" (wait for the command; prints "exit N"). Everything the terminal
showed is printed at the end, so a failing test shows it."""
import os, pty, select, sys, time

def main():
    sep = sys.argv.index("--")
    steps, cmd = sys.argv[1], sys.argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(cmd[0], cmd)
    out = b""
    def expect(text):
        nonlocal out
        end = time.time() + 60
        while text.encode() not in out:
            if time.time() > end:
                raise SystemExit("ptydrive: no %r in %r" % (text, out))
            if select.select([fd], [], [], 1)[0]:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise SystemExit("ptydrive: ended before %r: %r" % (text, out))
                out += data
    for step in steps.split(";"):
        kind, _, arg = step.partition(":")
        if kind == "expect":
            expect(arg)
        elif kind == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif kind == "exit":
            _, st = os.waitpid(pid, 0)
            while select.select([fd], [], [], 0.5)[0]:  # what is left on the terminal
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                out += data
            sys.stdout.write(out.decode(errors="replace") + "\nexit %d\n" % os.waitstatus_to_exitcode(st))
            return
    sys.stdout.write(out.decode(errors="replace"))

main()
