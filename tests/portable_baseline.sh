#!/bin/bash
# portable_baseline: portable mode's bits on an x86-64 CPU without AVX. The
# built-in layers' hot loops are compiled three times (src/simd.h:
# AVX-512, AVX2 and the baseline, chosen by the CPU at load time) and the
# GEMM picks its path from the CPU too, so on this machine only the AVX-512
# copies ever run. Here the same MPI-free driver (tests/portable/driver.c)
# runs under qemu-x86_64 -cpu Nehalem (SSE4.2, no AVX): the baseline copies
# and the scalar GEMM path. Its tensor digests after training the ResNet and
# the MobileNet miniatures (BatchNormalization and Add with the relu taken,
# im2col, col2im, the depthwise and separable convolutions' channel blocks;
# Adam's update and the reduction's additions, compiled for AVX2 too), the
# MLP (Nadam) and the convnet (SGD with Nesterov momentum) must equal the
# native run's, with zero tolerance.
# Installs its tools through launch/deps --cross; never skipped.
# Usage (ctest): portable_baseline.sh RD_PORTABLE_X86
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
X86=${1:?the x86-64 rd_portable}
cd "$RD_TMP" || exit 1
"$RD_SRC/launch/deps" --cross || { rd_fail "launch/deps --cross"; rd_finish; }
QEMU="timeout -k 5 $((600 * ${RD_TIME_SCALE:-1})) qemu-x86_64 -cpu Nehalem"

compare() { # NAME ARGS...: the driver's stdout natively and under qemu-x86_64 -cpu Nehalem
  local name=$1; shift
  "$X86" "$@" > "native_$name.txt" 2> "native_$name.err"; local rn=$?
  $QEMU "$X86" "$@" > "nehalem_$name.txt" 2> "nehalem_$name.err"; local rq=$?
  local native qpath
  native=$(sed -n 's/^rd_portable: the \(.*\) path$/\1/p' "native_$name.err")
  qpath=$(sed -n 's/^rd_portable: the \(.*\) path$/\1/p' "nehalem_$name.err")
  rd_check "$name: the emulated CPU runs the scalar GEMM path (it has no AVX2; natively: $native)" \
    test "$qpath" = scalar
  if [ $rn -eq 0 ] && [ $rq -eq 0 ] && [ -s "native_$name.txt" ] && cmp -s "native_$name.txt" "nehalem_$name.txt"; then
    rd_pass "$name: without AVX, the native $(wc -l < "native_$name.txt") digests ($(tail -1 "native_$name.txt"))"
  else
    diff "native_$name.txt" "nehalem_$name.txt" | head -20
    rd_fail "$name: native exit $rn, Nehalem exit $rq, digests differ (above)"
  fi
}
compare resnet train "$RD_TESTS/portable/resnet.cfg" 6 32 8
compare mobilenet train "$RD_TESTS/portable/mobilenet.cfg" 6 32 8
compare mlp train "$RD_TESTS/portable/mlp.cfg" 30 64 16
compare cnn train "$RD_TESTS/portable/cnn.cfg" 10 32 8
rd_finish
