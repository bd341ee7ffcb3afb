#!/bin/bash
# portable: reprodist with [train] kernels = portable (docs/PORTABLE.md) gives
# one weights file, byte for byte (sha256), whatever runs it:
#  1. every GEMM path this CPU runs (RD_ISA = scalar, avx2, avx512), at np 1, 2
#     and 3, for the MLP (configs/synthetic.cfg), the BatchNormalization
#     convnet (configs/fashion_mnist_cnn_bn.cfg on 256 samples) and the ResNet
#     (configs/fashion_mnist_resnet_sgd.cfg, a graph, on 64 samples);
#  2. one job whose ranks run different paths and different OPENBLAS_CORETYPE
#     values (this test sets the core type on purpose: it is the one that mixes
#     them); the same mix in openblas mode is still refused;
#  3. a clang build (built here) and the gcc build under test, alone and mixed
#     in one job; the same mix in openblas mode is refused (compiler differs);
#  4. the file says which kernels made it, and its fingerprint holds no
#     compiler or OpenBLAS line;
#  5. RD_ISA: an unknown path, or one this CPU cannot run (neon), on every rank
#     or on one rank only: exit 2, one message, every rank exits, no file;
#  6. a checkpoint written on one path at np 2 resumes on the scalar path at
#     np 3 to the uninterrupted sha256, without an "another environment" warning.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
cd "$RD_TMP" || exit 1
PY=${RD_PYTHON:-/usr/bin/python3}
# The MLP trains with AdamW, global clipping and an exponential schedule with a
# fractional exponent (pmath's pow); the ResNet with SGD, Nesterov, weight decay
# and cosine decay after a warmup (pmath's cos).
MLP=("$RD_SRC/configs/synthetic.cfg" --set train.epochs=1 --set train.kernels=portable --set train.optimizer=adamw
     --set train.global_clipnorm=0.5 --set train.learning_rate=exponential_decay
     --set exponential_decay.initial_learning_rate=0.002 --set exponential_decay.decay_steps=3
     --set exponential_decay.decay_rate=0.8)
CNN=("$RD_SRC/configs/fashion_mnist_cnn_bn.cfg" --set train.epochs=1 --set train.kernels=portable
     --set data.limit=256 --set data.test_limit=64)
RESNET=("$RD_SRC/configs/fashion_mnist_resnet_sgd.cfg" --set train.epochs=1 --set data.limit=64 --set data.test_limit=32
        --set train.batch_size=32 --set train.shard_size=8 --set cosine_decay.warmup_steps=1
        --set cosine_decay.decay_steps=3)
"$RD_SRC/launch/deps" --cross || { rd_fail "launch/deps --cross"; rd_finish; }

# The paths this CPU runs, from the kernel test's own list.
PATHS=(scalar)
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && PATHS+=(avx2)
grep -qw avx512f /proc/cpuinfo && PATHS+=(avx512)
echo "paths this CPU runs: ${PATHS[*]}"

# run NAME NP ARGS...: reprodist at NP ranks; the file is NAME.h5, the output NAME.log.
run() {
  local name=$1 np=$2; shift 2
  rd_run "$np" train "$@" -o "$name.h5" > "$name.log" 2>&1
}
show() { sed 's/^/    /' "$1.log" | tail -15; }

# ---- 1. every path, np 1-3 ------------------------------------------------------------------
# Under launch/test-sanitize (RD_TIME_SCALE > 1) at np 1 and 3 (one rank, and
# shards split unevenly): that stage looks for memory errors, and every rank
# count runs the same code. launch/test runs np 1, 2 and 3.
NPS="1 2 3"
if [ "${RD_TIME_SCALE:-1}" -gt 1 ]; then
  NPS="1 3"
  echo "sanitized build: every path at np $NPS (launch/test runs np 1 2 3)"
fi
for model in MLP CNN RESNET; do
  declare -n args=$model
  ref=""
  for isa in "${PATHS[@]}"; do
    for np in $NPS; do
      n=${model}_${isa}_$np
      if ! RD_ISA=$isa run "$n" "$np" "${args[@]}"; then rd_fail "$model RD_ISA=$isa np $np: exit"; show "$n"; continue; fi
      grep -q "portable kernels ($isa path" "$n.log" || rd_fail "$model RD_ISA=$isa np $np: the log names another path"
      s=$(rd_sha "$n.h5")
      [ -z "$ref" ] && ref=$s && refname=$n
      [ "$s" = "$ref" ] || rd_fail "$model RD_ISA=$isa np $np: sha256 $s differs from $refname's $ref"
    done
  done
  [ -n "$ref" ] && rd_pass "$model: one sha256 for ${PATHS[*]} x np $NPS ($ref)"
  declare -g "REF_$model=$ref"
done

# ---- 2. mixed paths and OpenBLAS cores in one job -------------------------------------------
# mpmd NAME ENV0 ENV1 ENV2 ARGS...: one rank per environment ("VAR=value,VAR=value").
mpmd() {
  local name=$1; shift
  local envs=("$1" "$2" "$3"); shift 3
  local cmd=() e
  for e in "${envs[@]}"; do
    [ ${#cmd[@]} -gt 0 ] && cmd+=(:)
    cmd+=($RD_NPFLAG 1)
    IFS=',' read -r -a kv <<< "$e"
    for x in "${kv[@]}"; do cmd+=(-x "$x"); done
    cmd+=("${BIN:-$REPRODIST}" train "$@" -o "$name.h5")
  done
  timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_MPIFLAGS "${cmd[@]}" > "$name.log" 2>&1
}
last=${PATHS[${#PATHS[@]} - 1]}
MIX=("RD_ISA=scalar,OPENBLAS_CORETYPE=Prescott" "RD_ISA=$last,OPENBLAS_CORETYPE=SkylakeX" "OPENBLAS_CORETYPE=Haswell")
for model in MLP CNN RESNET; do
  declare -n args=$model ref=REF_$model
  if mpmd "mix_$model" "${MIX[@]}" "${args[@]}"; then
    rd_check "$model: ranks on scalar/Prescott, $last/SkylakeX, default/Haswell give the uniform sha256" \
      test "$(rd_sha "mix_$model.h5")" = "$ref"
    grep -q "ranks differ" "mix_$model.log" && rd_fail "$model: the mixed portable job warned about differing ranks"
  else
    rd_fail "$model: the mixed portable job failed"; show "mix_$model"
  fi
done
mpmd mix_openblas "${MIX[@]}" "$RD_SRC/configs/synthetic.cfg" --set train.epochs=1 --set train.kernels=openblas
RC=$?
rd_check "openblas mode: the same mix is refused (exit $RC, names openblas_core)" \
  eval '[ $RC -eq 2 ] && grep -q "ranks differ in openblas_core" mix_openblas.log && [ ! -e mix_openblas.h5 ]'

# ---- 3. a clang build -----------------------------------------------------------------------
if cmake -S "$RD_SRC" -B clang -DCMAKE_C_COMPILER=clang -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release > clang.log 2>&1 &&
   cmake --build clang --target reprodist -j "$(nproc)" >> clang.log 2>&1; then
  rd_pass "clang build ($(clang --version | head -1))"
  CLANG=$PWD/clang/reprodist
  for model in MLP CNN; do
    declare -n args=$model ref=REF_$model
    REPRODIST=$CLANG run "clang_$model" 2 "${args[@]}" || { rd_fail "clang $model: exit"; show "clang_$model"; }
    rd_check "$model: the clang build gives the gcc build's sha256" test "$(rd_sha "clang_$model.h5")" = "$ref"
  done
  # One job: ranks 0 and 2 run the gcc build, rank 1 the clang build.
  cmd=($RD_NPFLAG 1 "$REPRODIST" train "${MLP[@]}" -o mixcc.h5 : $RD_NPFLAG 1 "$CLANG" train "${MLP[@]}" -o mixcc.h5
       : $RD_NPFLAG 1 "$REPRODIST" train "${MLP[@]}" -o mixcc.h5)
  timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_MPIFLAGS "${cmd[@]}" > mixcc.log 2>&1
  rd_check "MLP: a job mixing gcc and clang ranks gives the uniform sha256 (exit $?)" test "$(rd_sha mixcc.h5 2>/dev/null)" = "$REF_MLP"
  ob=("$RD_SRC/configs/synthetic.cfg" --set train.epochs=1 --set train.kernels=openblas)
  cmd=($RD_NPFLAG 1 "$REPRODIST" train "${ob[@]}" -o mixob.h5 : $RD_NPFLAG 1 "$CLANG" train "${ob[@]}" -o mixob.h5)
  timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_MPIFLAGS "${cmd[@]}" > mixob.log 2>&1
  RC=$?
  rd_check "openblas mode: gcc and clang ranks are refused (exit $RC; names build or compiler)" \
    eval '[ $RC -eq 2 ] && grep -qE "ranks differ in (build|compiler)" mixob.log'
else
  tail -20 clang.log; rd_fail "clang build"
fi

# ---- 4. what the file says ------------------------------------------------------------------
f=MLP_scalar_1.h5
rd_check "the file's core is 'none (kernels = portable)'" test "$(rd_h5attr $f reprodist_openblas_core)" = "none (kernels = portable)"
rd_h5attr $f reprodist_fingerprint > fp.txt
rd_check "its fingerprint says kernels=portable and names no compiler, build or OpenBLAS" \
  eval 'grep -qx kernels=portable fp.txt && ! grep -qE "^(compiler|build|openblas|libc)" fp.txt'
rd_h5attr $f reprodist_config > cfg.txt
rd_check "its config says kernels = portable" grep -qx "kernels = portable" cfg.txt

# ---- 5. RD_ISA errors -----------------------------------------------------------------------
for bad in neon sse9; do
  RD_ISA=$bad run "bad_$bad" 2 "${MLP[@]}"
  RC=$?
  rd_check "RD_ISA=$bad at np 2: exit 2, one message naming RD_ISA=$bad, no file" \
    eval '[ $RC -eq 2 ] && [ "$(grep -c "RD_ISA=$bad" bad_$bad.log)" -eq 1 ] && [ ! -e bad_$bad.h5 ]'
done
mpmd bad_one "RD_ISA=scalar" "RD_ISA=neon" "RD_ISA=scalar" "${MLP[@]}"
RC=$?
rd_check "RD_ISA=neon on rank 1 only: exit 2, every rank exits, the message names it" \
  eval '[ $RC -eq 2 ] && grep -q "RD_ISA=neon" bad_one.log && [ ! -e bad_one.h5 ]'

# ---- 6. a checkpoint moves to another path and rank count -----------------------------------
CK=$PWD/ck
RD_ISA=$last run ck_write 2 "${MLP[@]}" --set "run.checkpoint_dir=$CK" --set "run.checkpoint_every=5 steps" \
  --set run.keep=10 || { rd_fail "checkpointed run ($last path, np 2): exit"; show ck_write; }
C10=$CK/$(printf 'ckpt-%012d.h5' 10)
rd_check "checkpointed run ($last path, np 2): the uninterrupted sha256, and $(basename "$C10") written" \
  eval '[ "$(rd_sha ck_write.h5)" = "$REF_MLP" ] && [ -s "$C10" ]'
RD_ISA=scalar run ck_resume 3 "${MLP[@]}" --resume "$C10" || { rd_fail "resume (scalar path, np 3): exit"; show ck_resume; }
rd_check "resumed from step 10 on the scalar path at np 3: the uninterrupted sha256" \
  test "$(rd_sha ck_resume.h5 2>/dev/null)" = "$REF_MLP"
rd_check "the resume did not warn of another environment" eval '! grep -q "another environment" ck_resume.log'
rd_finish
