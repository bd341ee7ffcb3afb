#!/usr/bin/env bash
# Builds rd_smpi (tests/simgrid/smpi.c) with SimGrid's smpicc from reprodist's
# own sources: the portable core (tests/portable.cmake's list), every built-in
# layer, comm and its exchange algorithms. OpenBLAS, HDF5 and the CLI stay out.
# Usage: tests/simgrid/build.sh OUTDIR   (prints the binary's path)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out/obj"
command -v smpicc > /dev/null || { echo "build.sh: smpicc not found; run launch/deps --test" >&2; exit 2; }
cd "$src"
core=$(sed -n '/^set(RD_PORTABLE_CORE/,/)/p' "$src/tests/portable.cmake" | tr -d '()' | tr ' ' '\n' | grep '\.c$')
srcs=()
for f in $core src/comm.c src/comm_allreduce.c src/zero.c src/xchg/*.c src/optim/*.c src/schedules/*.c src/losses/*.c \
         src/layers/*.c; do
  srcs+=("$f")
done
case $(uname -m) in x86_64) srcs+=(src/kern_avx2.c src/kern_avx512.c) ;; aarch64) srcs+=(src/kern_neon.c) ;; esac
flags=(-std=gnu11 -O2 -g -ffp-contract=off -fno-fast-math -fno-math-errno -Wall -Wno-unused-parameter
       -DRD_KERN_NO_OPENBLAS -I"$src/include" -I"$src/src" -I"$src/tests/portable")
objs=()
for f in "${srcs[@]}" tests/portable/driver_train.c tests/simgrid/smpi.c; do
  o="$out/obj/$(echo "$f" | tr '/' '_').o"
  extra=()
  case $f in src/kern_avx2.c) extra=(-mavx2 -mfma) ;; src/kern_avx512.c) extra=(-mavx512f) ;; esac
  if [ ! -e "$o" ] || [ "$f" -nt "$o" ] || [ "$0" -nt "$o" ] || [ -n "$(find src tests/portable -name '*.h' -newer "$o" | head -1)" ]; then
    cc=gcc # only the files that speak MPI see SimGrid's mpi.h (smpicc also wraps libc calls)
    case $f in src/comm*.c | src/xchg/* | tests/simgrid/*) cc=smpicc ;; esac
    $cc "${flags[@]}" -fPIC "${extra[@]}" -c "$f" -o "$o" 2> "$o.log" || { cat "$o.log" >&2; exit 1; }
    grep -v "^$" "$o.log" >&2 || true
  fi
  objs+=("$o")
done
smpicc "${objs[@]}" -lxxhash -lm -ldl -o "$out/rd_smpi"
echo "$out/rd_smpi"
