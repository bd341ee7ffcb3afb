#!/usr/bin/env python3
"""Markdown tables of launch/simulate's results (simulate.jsonl), for docs/SCALING.md.
Usage: table.py simulate.jsonl"""
import json
import sys


def main(path):
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    bits = [r for r in rows if r["mode"] == "bits"]
    if bits:
        print("| np | allreduce | weights digest | same as one process |")
        print("|---:|---|---|---|")
        for r in bits:
            print("| %d | %s | `%s` | %s |" % (r["np"], r["algo"] if r["np"] > 1 else "none",
                                          r["all"], "yes" if r["same_as_one_process"] else "**no**"))
        print()
    red = [r for r in rows if r["mode"] == "reduce"]
    for plat in sorted({r["platform"] for r in red}):
        print("%s: simulated ms per reduction, and the ratio to MPI_Allreduce" % plat)
        print()
        print("| floats | np | MPI_Allreduce | halving | alltoallv | bucketed | AUTO runs |")
        print("|---:|---:|---:|---:|---:|---:|---|")
        keys = sorted({(r["len"], r["np"]) for r in red if r["platform"] == plat})
        for n, p in keys:
            c = {r["algo"]: r for r in red if r["platform"] == plat and r["len"] == n and r["np"] == p}
            cell = lambda a: "%.3f (%.2fx)" % (c[a]["ms"], c[a]["ratio"]) if a in c else "not simulated"
            base = next(iter(c.values()))["allreduce_ms"]
            auto = "bucketed" if p < 64 else "halving"
            print("| %s | %d | %.3f | %s | %s | %s | %s |" % ("{:,}".format(n), p, base, cell("halving"), cell("alltoallv"),
                                                        cell("bucketed"), auto))
        print()
    step = [r for r in rows if r["mode"] == "step"]
    if step:
        print("| model | platform | np | floats | step, reprodist (ms) | step, MPI_Allreduce (ms) | ratio |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for r in step:
            print("| %s | %s | %d | %s | %.3f | %.3f | %.3f |" % (r["model"], r["platform"], r["np"], "{:,}".format(r["len"]),
                                                          r["ms"], r["allreduce_ms"], r["ratio"]))


if __name__ == "__main__":
    main(sys.argv[1])
