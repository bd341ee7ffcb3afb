#!/usr/bin/python3
"""pty_ctrlc.py OUT WHEN [WHEN...] -- CMD...: runs CMD as the foreground job of a
pseudo-terminal, as a user's shell would, and types Ctrl-C once per WHEN, in
order, each as soon as it holds: "file:PATH" (PATH exists and is not empty) or
"text:STRING" (the terminal has shown STRING). The terminal's driver then sends
SIGINT to CMD's process group, exactly as a keyboard Ctrl-C does (a test
cannot do that with kill: bash ignores SIGINT in background jobs). Everything
the terminal showed goes to OUT; the last line printed here is
"exit CODE" (128+N for death by signal N). Waits without a time limit: the
caller's timeout means "hung"."""
import os
import pty
import select
import sys


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    out_path, whens, cmd = argv[0], argv[1:sep], argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    shown = b""
    sent = 0
    with open(out_path, "wb") as out:
        while True:
            if sent < len(whens):
                kind, _, what = whens[sent].partition(":")
                ready = (kind == "file" and os.path.exists(what) and os.path.getsize(what) > 0) or (
                    kind == "text" and what.encode() in shown)
                if ready:
                    os.write(fd, b"\x03")
                    sent += 1
            r, _, _ = select.select([fd], [], [], 0.02)
            if not r:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                data = b""
            if not data:
                break
            shown += data
            out.write(data)
            out.flush()
    _, status = os.waitpid(pid, 0)
    print("exit", os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
    print("ctrl-c typed", sent)


if __name__ == "__main__":
    main()
