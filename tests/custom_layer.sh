#!/bin/bash
# custom_layer: a user's layer in one C file, built and used as a user would.
#  1. `cmake --install` of this build into a prefix; examples/custom_layer is
#     built against that prefix with find_package(reprodist), and once more
#     with pkg-config, never from the build tree.
#  2. The installed reprodist trains the example config (MyCustomLayer(64,
#     seed=42) then Dense softmax) at np 1, 2 and 3: identical sha256.
#  3. seed = 42 is Keras' RandomUniform(seed=42): the kernel equals a [dense]
#     kernel_initializer = random_uniform, kernel_seed = 42 of the same shape.
#  4. The custom layer's gradient by finite differences (test_layers with the plugin).
#  5. The file follows Keras' legacy loader rules (check_keras_layout.py).
#  6. Trust: the plugin's XXH64 is in the weights file; ranks loading different
#     plugin bytes refuse to start; a checkpoint refuses another plugin.
#  7. Bad plugins and a layer refusing its keys: exit 2, one message naming the
#     file, every rank gone, no output.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
build=${1:?usage: custom_layer.sh BUILD_DIR}
cd "$RD_TMP" || exit 1
P=$RD_TMP/prefix
EX=$RD_SRC/examples/custom_layer

cmake --install "$build" --prefix "$P" > install.log 2>&1
rd_check "cmake --install puts the header, the CMake package and the pkg-config file under the prefix" \
  test -f "$P/include/reprodist/layer.h" -a -f "$P/lib/cmake/reprodist/reprodistConfig.cmake" -a -f "$P/lib/pkgconfig/reprodist.pc"
RDX=$P/bin/reprodist  # the installed binary, not the build tree's
rd_run_x() { local np=$1; shift; timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_NPFLAG "$np" $RD_MPIFLAGS "$RDX" "$@"; }

# 1. The example, built from the prefix (into work/build, where its config looks).
mkdir -p work && cp "$EX/custom_layer.cfg" work/
cmake -S "$EX" -B work/build -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release > cmake.log 2>&1 &&
  cmake --build work/build >> cmake.log 2>&1
rd_check "the example builds against the installed package (find_package)" test -f work/build/libmylayer.so || cat cmake.log
rd_check "only the entry point is exported" bash -c "nm -D --defined-only work/build/libmylayer.so | grep ' T ' | awk '{print \$3}' | tr '\n' ' ' | grep -qx 'reprodist_plugin '"
# As the README says it, without a build type: Release's flags all the same (CMake's default is -O0).
cmake -S "$EX" -B work/build_plain -DCMAKE_PREFIX_PATH="$P" > cmake_plain.log 2>&1 &&
  cmake --build work/build_plain -v >> cmake_plain.log 2>&1
rd_check_out cmake_plain.log "without CMAKE_BUILD_TYPE, reprodist_add_layer compiles with Release's flags (-O3 -DNDEBUG)" \
  eval 'grep "my_custom_layer.c" cmake_plain.log | grep -- "-c " | grep -q -- "-O3 -DNDEBUG"'
PKG_CONFIG_PATH=$P/lib/pkgconfig cc -shared -O2 $(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --cflags reprodist) \
  "$EX/my_custom_layer.c" -o libmylayer_pc.so 2> pc.log
rd_check "the example builds with pkg-config --cflags reprodist" test -f libmylayer_pc.so || cat pc.log

# The README's gradient check of the example, with the installed binary.
(cd work && "$RDX" gradcheck custom_layer.cfg) > gc.out 2>&1
rc=$?
rd_check_out gc.out "reprodist gradcheck custom_layer.cfg: exit 0, my_custom_layer ok (exit $rc)" \
  eval '[ $rc -eq 0 ] && grep -q "^ok  *my_custom_layer  *my_custom_layer " gc.out'

# 2. Train at np 1, 2, 3 on a Fashion-MNIST subset.
SUB=(--set data.limit=3000 --set data.test_limit=500)
ref=""
for np in 1 2 3; do
  (cd work && rd_run_x "$np" custom_layer.cfg "${SUB[@]}" -o "../np$np.h5") > "np$np.log" 2>&1 ||
    { rd_fail "training with the plugin at np $np failed"; cat "np$np.log"; continue; }
  h=$(rd_sha "np$np.h5")
  echo "np=$np sha256=$h"
  [ -z "$ref" ] && ref=$h && continue
  rd_check "custom layer np $np: the same sha256 as np 1" [ "$h" = "$ref" ]
done
rd_check "the log of np 1 reaches epoch 2 with a test accuracy" grep -q "^epoch 2/2 .*test_acc 0\.[5-9]" np1.log
(cd work && rd_run_x 1 custom_layer.cfg "${SUB[@]}" --set run.plugins=../libmylayer_pc.so -o ../pc.h5) > pc.log 2>&1
rd_check "the pkg-config build trains to the same tensors" "$RDX" check np1.h5 pc.h5
(cd work && rd_run_x 1 custom_layer.cfg "${SUB[@]}" --set run.plugins=build_plain/libmylayer.so -o ../plain.h5) > plain.log 2>&1
rd_check "the build without a build type trains to the same tensors" "$RDX" check np1.h5 plain.h5
# A plugin built against layer interface version 1 (the header as it was before
# layers could take several inputs, kept in tests/plugins/abi1) still loads and
# trains to the same tensors.
cc -shared -O2 -I"$RD_TESTS/plugins/abi1" $(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --cflags reprodist) \
  "$EX/my_custom_layer.c" -o libmylayer_abi1.so 2> abi1.log
rd_check "the example builds against the version 1 header" test -f libmylayer_abi1.so || cat abi1.log
rd_check "that plugin says version 1" eval "grep -q 'define RD_LAYER_ABI 1' '$RD_TESTS/plugins/abi1/reprodist/layer.h'"
(cd work && rd_run_x 2 custom_layer.cfg "${SUB[@]}" --set run.plugins=../libmylayer_abi1.so -o ../abi1.h5) > abi1_run.log 2>&1
rd_check_out abi1_run.log "a version 1 plugin trains at np 2 to the same tensors" "$RDX" check np1.h5 abi1.h5

# 3. seed = 42 is RandomUniform(seed=42), as for [dense] kernel_seed = 42.
(cd work && "$RDX" init custom_layer.cfg -o ../init_custom.h5) > /dev/null 2>&1
cat > dense_seed.cfg <<'EOF'
[model]
input = 784
[dense]
units = 64
kernel_initializer = random_uniform
kernel_seed = 42
EOF
"$RDX" init dense_seed.cfg -o init_dense.h5 > /dev/null 2>&1
k1=$("$RDX" digest init_custom.h5 | awk '/my_custom_layer\/kernel:0/{print $1}')
k2=$("$RDX" digest init_dense.h5 | awk '/dense\/kernel:0/{print $1}')
rd_check "my_custom_layer seed = 42 draws the kernel of Dense random_uniform kernel_seed = 42 ($k1 = $k2)" [ -n "$k1" -a "$k1" = "$k2" ]
(cd work && "$RDX" seeds custom_layer.cfg --set my_custom_layer.seed=7) > seeds7.txt 2>&1
(cd work && "$RDX" seeds custom_layer.cfg) > seeds42.txt 2>&1
rd_check "reprodist seeds: the kernel's seed is explicit and follows seed =" \
  bash -c "grep -q 'my_custom_layer/kernel:0 .* explicit' seeds42.txt && ! diff -q seeds7.txt seeds42.txt > /dev/null"

# 4. Finite differences through the plugin (a Dense before it checks its dL/dx).
cat > case.cfg <<'EOF'
[run]
seed = 5
[model]
input = 6
[dense]
units = 5
activation = tanh
[my_custom_layer]
units = 4
seed = 42
[dense]
units = 3
activation = softmax
EOF
"$build/tests/test_layers" --plugin "$RD_TMP/work/build/libmylayer.so" case.cfg > gradcheck.log 2>&1
rd_check "gradient check, same bits twice and no allocation, through the plugin (test_layers)" \
  grep -q "^case.cfg: .* parameters, worst relative error" gradcheck.log
rd_check "test_layers with the plugin passes" bash -c "tail -1 gradcheck.log | grep -q ' 0 failed'" || cat gradcheck.log

# 5. Keras' legacy loader rules.
"$RD_PYTHON" "$RD_TESTS/check_keras_layout.py" np1.h5 --layers my_custom_layer:kernel=784x64,bias=64 \
  dense:kernel=64x10,bias=10 > keras.log 2>&1
rd_check "check_keras_layout: the file follows Keras' legacy layout" bash -c "tail -1 keras.log | grep -q ' 0 failed'" || tail -20 keras.log

# 6. Trust.
want=$("$RD_PYTHON" -c 'import sys, xxhash; print("mylayer@%016x" % xxhash.xxh64_intdigest(open(sys.argv[1], "rb").read()))' work/build/libmylayer.so)
got=$("$RD_PYTHON" -c 'import sys, h5py; print(h5py.File(sys.argv[1], "r").attrs["reprodist_plugins"].decode())' np1.h5)
rd_check "the weights file records the plugin as $want ($got)" [ "$got" = "$want" ]
rd_check "the plugin is in the file's fingerprint" bash -c "h5dump -a reprodist_fingerprint np1.h5 | grep -q 'plugins=$want'"
# The same command line on both ranks (they must agree on it), run in two
# directories whose build/libmylayer.so differ: the pkg-config build's bytes.
mkdir -p work_pc/build && cp work/custom_layer.cfg work_pc/ && cp libmylayer_pc.so work_pc/build/libmylayer.so
timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_MPIFLAGS $RD_NPFLAG 1 -wdir work "$RDX" custom_layer.cfg "${SUB[@]}" \
  -o "$RD_TMP/mixed.h5" : $RD_NPFLAG 1 -wdir work_pc "$RDX" custom_layer.cfg "${SUB[@]}" -o "$RD_TMP/mixed.h5" > mixed.log 2>&1
rc=$?
rd_check "ranks loading different plugin bytes refuse to start (exit $rc, names plugins)" \
  bash -c "[ $rc -eq 2 ] && grep -q 'ranks differ in plugins' mixed.log && [ ! -e mixed.h5 ]"
(cd work && rd_run_x 2 custom_layer.cfg "${SUB[@]}" --set run.checkpoint_dir=../ck -o ../ck.h5) > ck.log 2>&1
ck=$(rd_newest_ckpt ck)
(cd work && rd_run_x 2 custom_layer.cfg "${SUB[@]}" --set run.checkpoint_dir=../ck --set train.epochs=3 \
  --set run.plugins=../libmylayer_pc.so --resume "../ck/$ck" -o ../ck2.h5) > resume.log 2>&1
rc=$?
rd_check "a checkpoint refuses a run with another plugin (exit $rc)" \
  bash -c "[ $rc -eq 2 ] && grep -q 'this checkpoint was made with layer plugins' resume.log && [ ! -e ck2.h5 ]"

# 7. Bad plugins. Each: exit 2, one line naming the file, every rank gone, no output.
printf 'not a library\n' > libtext.so
printf 'int reprodist_not_a_plugin(void) { return 1; }\n' > noentry.c
cat > abi.c <<'EOF'
#include <reprodist/layer.h>
static const rd_plugin p = {RD_LAYER_ABI + 1, "future", 0, 0};
__attribute__((visibility("default"))) const rd_plugin *reprodist_plugin(void) { return &p; }
EOF
cat > clash.c <<'EOF'
#include <reprodist/layer.h>
static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) { *out = *in; return 0; }
static void fwd(const rd_io *io, const float *x, float *y) {}
static void bwd(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {}
static const rd_layer_type t = {.name = "dense", .build = build, .forward = fwd, .backward = bwd};
RD_PLUGIN("clash", &t)
EOF
cat > null.c <<'EOF'
#include <reprodist/layer.h>
__attribute__((visibility("default"))) const rd_plugin *reprodist_plugin(void) { return 0; }
EOF
cat > zero.c <<'EOF'
#include <reprodist/layer.h>
static const rd_plugin p = {RD_LAYER_ABI, "empty", 0, 0};
__attribute__((visibility("default"))) const rd_plugin *reprodist_plugin(void) { return &p; }
EOF
cat > neg.c <<'EOF'
#include <reprodist/layer.h>
static const rd_plugin p = {RD_LAYER_ABI, "negative", -3, 0};
__attribute__((visibility("default"))) const rd_plugin *reprodist_plugin(void) { return &p; }
EOF
cat > huge.c <<'EOF'
#include <reprodist/layer.h>
static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) { *out = *in; return 0; }
static void fwd(const rd_io *io, const float *x, float *y) {}
static void bwd(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {}
static const rd_layer_type t = {.name = "huge_layer", .self_size = (size_t)1 << 40, .build = build, .forward = fwd,
                                .backward = bwd};
RD_PLUGIN("huge", &t)
EOF
# A layer whose forward writes through a null pointer (a plugin's bug).
cat > crash.c <<'EOF'
#include <reprodist/layer.h>
static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) { *out = *in; return 0; }
static void fwd(const rd_io *io, const float *x, float *y) { *(volatile float *)(io->rows > 1000000000 ? y : 0) = x[0]; }
static void bwd(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {}
static const rd_layer_type t = {.name = "crashy_layer", .build = build, .forward = fwd, .backward = bwd};
RD_PLUGIN("crashy", &t)
EOF
CF=$(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --cflags reprodist)
for f in noentry abi clash null zero neg huge crash; do cc -shared $CF $f.c -o lib$f.so 2>> cc.log || rd_fail "cannot build lib$f.so"; done
bad_plugin() { # NAME EXPECTED-SUBSTRING PLUGIN [--set ...]
  local name=$1 want=$2 plugin=$3; shift 3
  printf 'precious\n' > keep.h5
  local before; before=$(rd_sha keep.h5)
  (cd work && rd_run_x 2 custom_layer.cfg --set "run.plugins=$plugin" "$@" -o ../keep.h5) > bad.out 2> bad.err
  local rc=$? n
  n=$(grep -cF -- "$want" bad.err)
  if [ $rc -eq 2 ] && [ "$n" -eq 1 ] && [ "$(rd_sha keep.h5)" = "$before" ] && [ -z "$(ls keep.h5.tmp.* 2>/dev/null)" ]; then
    rd_pass "$name: exit 2, one message: $(grep -F -- "$want" bad.err)"
  else
    rd_fail "$name: exit $rc, message seen $n times (want 1: $want)"; sed 's/^/    /' bad.err | head -5
  fi
}
bad_plugin "missing plugin file" "--set run.plugins=../nope.so: plugin ../nope.so: cannot open it (No such file or directory)" ../nope.so
bad_plugin "not a shared library" "plugin ../libtext.so: not a loadable shared library" ../libtext.so
bad_plugin "no entry symbol" "plugin ../libnoentry.so: no reprodist_plugin function, so not a reprodist plugin" ../libnoentry.so
bad_plugin "interface version mismatch" \
  "plugin ../libabi.so: built for layer interface version 3, but this reprodist has version 2 (and loads version 1); rebuild it" ../libabi.so
bad_plugin "a type named like a built-in layer" \
  "plugin ../libclash.so: layer type 'dense' clashes with reprodist's built-in [dense]; rename it" ../libclash.so
bad_plugin "reprodist_plugin() returns NULL" \
  "plugin ../libnull.so: its reprodist_plugin() returned NULL instead of describing its layer types" ../libnull.so
bad_plugin "no layer types" "plugin ../libzero.so: declares 0 layer types; a plugin defines at least one" ../libzero.so
bad_plugin "a negative number of types" "plugin ../libneg.so: declares -3 layer types; a plugin defines at least one" \
  ../libneg.so
bad_plugin "an absurd self_size" \
  "plugin ../libhuge.so: layer type 'huge_layer' asks for 1099511627776 bytes of state per layer (self_size); at most 64 MiB is allowed" \
  ../libhuge.so
bad_plugin "the layer refuses a value" "--set my_custom_layer.units=0: units = 0 is out of range (must be in [1, 1000000000])" \
  build/libmylayer.so --set my_custom_layer.units=0
sed '/^units = 64$/d' work/custom_layer.cfg > work/nounits.cfg
(cd work && rd_run_x 2 nounits.cfg -o ../keep.h5) > bad.out 2> bad.err
rd_check "the layer refuses a section without units (exit $?, one line naming the section)" \
  bash -c "[ \$(grep -cx 'nounits.cfg:17: \[my_custom_layer\] needs units = N' bad.err) -eq 1 ]"
# 8. A plugin that crashes in forward: the process dies of the signal (no exit
# code can be promised), but one line names the layer and the plugin first,
# and the job ends as for any dead rank.
sed '/^\[dense\]/,$d' work/custom_layer.cfg > work/crash.cfg
printf '[crashy_layer]\n' >> work/crash.cfg
sed -n '/^\[dense\]/,$p' work/custom_layer.cfg >> work/crash.cfg
# (Under launch/test-sanitize, ASan leaves this deliberate SIGSEGV to the
# process's own handlers, handle_segv=0, as in a normal build: it is no
# sanitizer finding. Other builds ignore ASAN_OPTIONS.)
(cd work && ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0" \
  rd_run_x 2 crash.cfg "${SUB[@]}" --set "run.plugins=build/libmylayer.so,../libcrash.so" -o ../crash.h5) \
  > crash.out 2> crash.err
rc=$?
rd_check_out crash.err "a plugin crashing in forward: non-zero exit ($rc), not a hang, one line naming layer and plugin" \
  bash -c "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qE '^\[rank [01]\] reprodist: layer .crashy_layer. \(\[crashy_layer\]\) of plugin $RD_TMP/libcrash.so crashed in its forward; the bug is in the plugin\$' crash.err && [ ! -e crash.h5 ]"
rd_finish
