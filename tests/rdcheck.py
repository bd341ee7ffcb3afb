"""rdcheck: what the Python script tests share: counted checks with the
closing line ctest and CI read, and reprodist runs under mpiexec with the
hang bound of tests/CMakeLists.txt (RD_LIMIT)."""
import os
import shlex
import subprocess
import sys

counts = {"passed": 0, "failed": 0}


def check(ok, what):
    """Counts and prints one check; returns ok."""
    counts["passed" if ok else "failed"] += 1
    print(("ok: " if ok else "FAIL: ") + what)
    return ok


def run(np_, args):
    """reprodist ARGS at np_ ranks; the CompletedProcess, stdout and stderr together."""
    env = os.environ
    cmd = (["timeout", "-k", "5", env.get("RD_LIMIT", "120"), env["RD_MPIEXEC"]] + shlex.split(env.get("RD_NPFLAG", "-n"))
           + [str(np_)] + shlex.split(env.get("RD_MPIFLAGS", "")) + [env["REPRODIST"]] + args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish():
    """Prints "N passed, N failed" and exits non-zero on a failure or when nothing was checked."""
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    sys.exit(1 if counts["failed"] or counts["passed"] == 0 else 0)
