#!/usr/bin/python3
"""pyfmt: src/pyfmt.c against Python itself. tests/pyfmt_driver prints its
repr() of ~13,000 doubles (float32 logs widened, and doubles of every
magnitude) and its str.format() of model_checkpoint-style templates; each
must equal what this Python prints, character for character. Templates Python
refuses (an unknown name, 'd' on a float, precision on an int, an unclosed
brace) must be refused too. Last line: "N passed, N failed"."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdcheck import check, finish  # noqa: E402


def main(driver):
    out = subprocess.run([driver], stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
    nr = bad_r = 0
    first = None
    for line in out:
        if line.startswith("r "):
            _, hx, got = line.split(" ", 2)
            want = repr(float.fromhex(hx)) if hx not in ("nan", "-nan", "inf", "-inf") else hx.lstrip("-") \
                if hx != "-inf" else "-inf"
            nr += 1
            if got != want:
                bad_r += 1
                first = first or "%s: C %s, Python %s" % (hx, got, want)
    check(nr > 10000 and bad_r == 0, "repr: %d doubles, %d differ from Python's%s" % (nr, bad_r,
                                                                                   " (first: %s)" % first if first else ""))
    nf = bad_f = 0
    first = None
    for line in out:
        if line.startswith("f "):
            tmpl, e, v, got = line[2:].split("|", 3)
            want = tmpl.format(epoch=int(e), loss=float.fromhex(v))
            nf += 1
            if got != want:
                bad_f += 1
                first = first or "%s with %s: C %r, Python %r" % (tmpl, float.fromhex(v), got, want)
    check(nf >= 40 and bad_f == 0, "format: %d templates and values, %d differ from Python's%s"
          % (nf, bad_f, " (first: %s)" % first if first else ""))
    for line in out:
        if line.startswith("e "):
            tmpl, rc, msg = line[2:].split("|", 2)
            try:
                tmpl.format(epoch=1, loss=0.5)
                py_refuses = False
            except (KeyError, ValueError, IndexError):
                py_refuses = True
            check(py_refuses and rc == "-1", "%r: Python refuses it, and so does pyfmt (%s)" % (tmpl, msg))


if __name__ == "__main__":
    main(sys.argv[1])
    finish()
