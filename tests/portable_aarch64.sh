#!/bin/bash
# portable_aarch64: portable mode's bits on another architecture. reprodist
# itself needs MPI, HDF5 and OpenBLAS, which Debian does not install for arm64
# next to amd64 without a multiarch setup; so this test cross-builds the
# driver without MPI, tests/portable/driver.c, from the same core sources (the
# config, registry, model, every built-in layer, shard, reduce, optim, kern,
# pmath, seed), statically, with Debian's gcc-aarch64-linux-gnu, and runs it
# under qemu-user next to the x86-64 build of the same driver. Zero tolerance:
#  1. the cross compiler honours -ffp-contract=off on aarch64 (the build's own
#     check, run under qemu), and the check can fail (without the flag, gcc
#     contracts a*b+c into one fmadd there);
#  2. `rd_portable kernels`: the GEMM digests (scalar and NEON paths agree on
#     aarch64; scalar, AVX2 and AVX-512 on x86-64) and the digests of exp, log,
#     tanh and sigmoid over ~36 million inputs each, identical on both;
#  3. `rd_portable train`: the tensor digests of the MLP (tests/portable/mlp.cfg:
#     Nadam, weight decay, global clipping, an exponential schedule through
#     pmath's pow), the convnet (tests/portable/cnn.cfg: the augmentation layers
#     first (pmath's sin and cos, bilinear weights, normal draws); SGD, Nesterov, per-tensor
#     clipping, cosine decay with warmup through pmath's cos), the ResNet
#     (Adam) and the MobileNet (tests/portable/mobilenet.cfg: the depthwise
#     kernels' channel blocks as GCC vectors on NEON) after their steps,
#     identical.
# Installs its tools through launch/deps --cross; never skipped.
# Usage (ctest): portable_aarch64.sh RD_PORTABLE_X86 src/a.c,src/b.c,...
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
X86=${1:?the x86-64 rd_portable}
IFS=',' read -r -a CORE <<< "${2:?the core sources}"
cd "$RD_TMP" || exit 1
"$RD_SRC/launch/deps" --cross || { rd_fail "launch/deps --cross"; rd_finish; }
CC=aarch64-linux-gnu-gcc
QEMU="timeout -k 5 $((600 * ${RD_TIME_SCALE:-1})) qemu-aarch64"
FLAGS=(-std=gnu11 -O2 -ffp-contract=off -fno-fast-math -fno-math-errno)

# 1. The contraction check of CMakeLists.txt, for this target.
cat > contract.c <<'C'
volatile double a = 1.0 + 0x1p-30, b = 1.0 - 0x1p-30, c = -1.0;
int main(void) { double r = a * b + c; return r == 0.0 ? 0 : 1; }
C
$CC -O2 -ffp-contract=off -static contract.c -o contract_off && $QEMU ./contract_off
rd_check "aarch64: -ffp-contract=off keeps a*b+c two roundings (exit $?)" test $? -eq 0
$CC -O2 -static contract.c -o contract_on && $QEMU ./contract_on
rd_check "aarch64: the check can fail: gcc's default contracts it into an fma there (exit $?)" test $? -eq 1

# 2-3. The driver, static for aarch64. xxhash.h is header-only here (copied:
# the host's include directory must not enter a cross build).
mkdir -p inc && cp /usr/include/xxhash.h inc/
SRCS=("$RD_TESTS/portable/driver.c" "$RD_TESTS/portable/driver_train.c")
for s in "${CORE[@]}" src/kern_neon.c; do SRCS+=("$RD_SRC/$s"); done
SRCS+=("$RD_SRC"/src/layers/*.c)
if $CC "${FLAGS[@]}" -static -Wall -DXXH_INLINE_ALL= -DRD_KERN_NO_OPENBLAS -Iinc -I"$RD_SRC/include" -I"$RD_SRC/src" \
    "${SRCS[@]}" -lm -o rd_portable_arm 2> cc.log; then
  rd_pass "aarch64: the driver builds statically from ${#SRCS[@]} sources"
else
  cat cc.log; rd_fail "aarch64: the driver builds"; rd_finish
fi
grep -v "Using 'dlopen' in statically linked\|in function .rd_registry_load" cc.log | grep . && rd_fail "aarch64: warnings (above)"
aarch64-linux-gnu-readelf -h rd_portable_arm | grep -q "Machine: *AArch64" \
  && rd_pass "aarch64: the binary is an AArch64 executable" || rd_fail "aarch64: not an AArch64 executable"

compare() { # NAME ARGS...: the driver's stdout on x86-64 and under qemu-aarch64
  local name=$1; shift
  "$X86" "$@" > "x86_$name.txt" 2> "x86_$name.err"; local rx=$?
  $QEMU ./rd_portable_arm "$@" > "arm_$name.txt" 2> "arm_$name.err"; local ra=$?
  local path; path=$(sed -n 's/^rd_portable: the \(.*\) path$/\1/p' "arm_$name.err")
  if [ "$name" = kernels ]; then
    echo "  gemm shape/transpose cases where the scalar and neon paths agree on aarch64: $(grep -c "paths scalar,neon agree" "arm_$name.err")"
    echo "  and where scalar, avx2 and avx512 agree on x86-64: $(grep -c "paths scalar,avx2,avx512 agree" "x86_$name.err")"
  fi
  if [ $rx -eq 0 ] && [ $ra -eq 0 ] && [ -s "x86_$name.txt" ] && cmp -s "x86_$name.txt" "arm_$name.txt"; then
    rd_pass "$name: aarch64 ($path path) gives x86-64's $(wc -l < "x86_$name.txt") digests ($(tail -1 "x86_$name.txt"))"
  else
    diff "x86_$name.txt" "arm_$name.txt" | head -20
    rd_fail "$name: x86-64 exit $rx, aarch64 exit $ra, digests differ (above)"
  fi
}
compare kernels kernels
compare mlp train "$RD_TESTS/portable/mlp.cfg" 30 64 16
compare cnn train "$RD_TESTS/portable/cnn.cfg" 10 32 8
compare resnet train "$RD_TESTS/portable/resnet.cfg" 6 32 8
compare mobilenet train "$RD_TESTS/portable/mobilenet.cfg" 6 32 8
# The scalar path on aarch64 too (the kernels' run compares it shape by shape).
RD_ISA=scalar compare mlp_scalar train "$RD_TESTS/portable/mlp.cfg" 30 64 16
grep -q "the scalar path" arm_mlp_scalar.err && rd_pass "RD_ISA=scalar reached the aarch64 driver" \
  || rd_fail "RD_ISA=scalar did not reach the aarch64 driver"
rd_finish
