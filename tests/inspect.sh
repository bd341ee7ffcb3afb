#!/bin/bash
# inspect: `reprodist check` and `reprodist digest` (src/inspect.c, src/compare.c).
#
#  1. check, without mpiexec: identical files exit 0 with every tensor
#     "identical"; a copy with one weight moved by 1 ulp (h5py) exits 1 and the
#     report names that tensor with count 1, max 1 ulp, the flat index, the
#     max |diff| (recomputed in Python) and both values; three files; every other
#     tensor still "identical".
#  2. refusals, exit 2 with one message naming the file: another model (other
#     shapes, other tensor count), a missing file, a file that is not HDF5, an
#     HDF5 file without layer_names, a directory; check with one file.
#  3. digest: one line per tensor whose hex is python-xxhash's XXH64 of the raw
#     little-endian float32 bytes (an independent recomputation) and equals the
#     file's reprodist_xxh64 attribute; the file line is XXH64 over the tensor
#     digests' canonical (big-endian) bytes. (c.h5's attribute still holds the
#     digest from before the edit; digest recomputes, it does not read it.)
#  4. the same commands under mpiexec -np 2: same exit codes, output printed once.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1

cd "$RD_TMP" || exit 1
PY=${RD_PYTHON:-/usr/bin/python3}
CFG=$RD_SRC/configs/synthetic.cfg

# plain ARGS...: reprodist without mpiexec (singleton MPI), RD_LIMIT s limit; sets RC.
plain() {
  timeout -k 5 "$RD_LIMIT" "$REPRODIST" "$@" >out.txt 2>err.txt
  RC=$?
}
# mpi NP ARGS...: the same under mpiexec; sets RC.
mpi() {
  local np=$1; shift
  rd_run "$np" "$@" >out.txt 2>err.txt
  RC=$?
}
show() { echo "  exit $RC; stdout:"; sed 's/^/    /' out.txt; echo "  stderr:"; sed 's/^/    /' err.txt; }
# expect NAME COND...: rd_check that prints the last run's output on failure.
expect() {
  local name=$1; shift
  if "$@"; then rd_pass "$name"; else rd_fail "$name"; show; fi
}
count() { grep -cF -- "$1" "$2"; }

# ---- fixtures --------------------------------------------------------------------------
rd_run 2 "$CFG" --set train.epochs=1 -o a.h5 >/dev/null 2>err.txt \
  || { rd_fail "could not train the fixture"; cat err.txt; rd_finish; }
cp a.h5 b.h5
cp a.h5 c.h5
rd_run 1 init "$CFG" --set dense.1.units=16 -o other_shape.h5 >/dev/null 2>&1
rd_run 1 init "$CFG" --set 'dense.2.units=10' --set dense.1.use_bias=false -o other_count.h5 >/dev/null 2>&1
# c.h5: /dense_1/dense_1/kernel:0 (64, 32) element [3, 5] (flat 101) one ulp up.
# Prints the expected report line's numbers: max |diff| (%.9g), old and new value.
EXP=$("$PY" - c.h5 <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    d = f["/dense_1/dense_1/kernel:0"]
    old = np.float32(d[3, 5])
    assert old != 0, "pick a non-zero element"
    new = np.nextafter(old, np.float32(np.inf), dtype=np.float32)
    d[3, 5] = new
    assert f["/dense_1/dense_1/kernel:0"][3, 5] == new
print("%.9g %.9g %.9g" % (abs(float(new) - float(old)), float(old), float(new)))
EOF
)
read -r MAXABS OLD NEW <<<"$EXP"
printf 'not an HDF5 file\n' >text.h5
"$PY" -c 'import h5py; f = h5py.File("nolayers.h5", "w"); f["x"] = [1.0, 2.0]; f.attrs["backend"] = "tensorflow"'
# Kernels whose shape claims 2^42 floats (16 TiB; HDF5 allocates no space for
# unwritten data, so the files stay small), stored whole or in chunks (which
# may be compressed: their size is not bounded by the file's).
"$PY" - <<'EOF'
import h5py, numpy as np
for name, chunks in (("huge.h5", None), ("huge_chunked.h5", (1024, 1024))):
    with h5py.File(name, "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        g = f.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0"]
        g.create_dataset("dense/kernel:0", shape=(1 << 21, 1 << 21), dtype="f4", chunks=chunks)
# Names as variable-length UTF-8 strings, as h5py writes Python str (Keras
# itself writes fixed-length ASCII).
with h5py.File("vlen.h5", "w") as f:
    f.attrs["layer_names"] = np.array(["dense"], dtype=h5py.string_dtype())
    g = f.create_group("dense")
    g.attrs["weight_names"] = np.array(["dense/kernel:0", "dense/bias:0"], dtype=h5py.string_dtype())
    g["dense/kernel:0"] = np.arange(12, dtype=np.float32).reshape(4, 3)
    g["dense/bias:0"] = np.zeros(3, np.float32)
EOF
mkdir adir.h5
echo "  [${SECONDS}s] fixtures"

TENSORS="/dense/dense/kernel:0 /dense/dense/bias:0 /dense_1/dense_1/kernel:0 /dense_1/dense_1/bias:0 /dense_2/dense_2/kernel:0 /dense_2/dense_2/bias:0"
all_identical() {
  local t
  for t in $TENSORS; do grep -qxF "  identical  $t" out.txt || return 1; done
  [ "$(grep -c '^  identical  ' out.txt)" -eq 6 ] && ! grep -q DIFFERS out.txt
}

# ---- 1. check ------------------------------------------------------------------------
plain check a.h5 b.h5
expect "check of two identical files: exit 0" test "$RC" -eq 0
expect "check of identical files: every tensor 'identical', verdict IDENTICAL, nothing on stderr" \
  eval 'all_identical && grep -qxF "  => IDENTICAL" out.txt && [ ! -s err.txt ]'

plain check a.h5 c.h5
expect "check of a 1-ulp change: exit 1" test "$RC" -eq 1
WANT="  DIFFERS    /dense_1/dense_1/kernel:0: 1 of 2048 elements differ, max |diff| $MAXABS, max 1 ulp, first at flat index 101 ($OLD vs $NEW)"
expect "the report names the tensor, count 1, max 1 ulp, index 101, max |diff| $MAXABS" \
  test "$(count "$WANT" out.txt)" -eq 1
expect "the 5 other tensors are 'identical', the verdict DIFFERENT, no error message" \
  eval '[ "$(grep -c "^  identical  " out.txt)" -eq 5 ] && [ "$(grep -c DIFFERS out.txt)" -eq 1 ] &&
        grep -qxF "  => DIFFERENT" out.txt && [ ! -s err.txt ]'

plain check a.h5 b.h5 c.h5
expect "check of 3 files (one differs): exit 1" test "$RC" -eq 1
expect "3 files: 'a vs b' IDENTICAL, then 'a vs c' DIFFERENT with the same report" \
  eval '[ "$(sed -n 1p out.txt)" = "a.h5 vs b.h5" ] && [ "$(grep -xF "a.h5 vs c.h5" out.txt | wc -l)" -eq 1 ] &&
        [ "$(grep -c "=> IDENTICAL" out.txt)" -eq 1 ] && [ "$(grep -c "=> DIFFERENT" out.txt)" -eq 1 ] &&
        [ "$(count "$WANT" out.txt)" -eq 1 ]'
plain check a.h5 b.h5 a.h5
expect "check of 3 identical files: exit 0, two IDENTICAL verdicts" \
  eval '[ "$RC" -eq 0 ] && [ "$(grep -c "=> IDENTICAL" out.txt)" -eq 2 ]'
plain check c.h5 a.h5
expect "check is symmetric: c vs a reports the values the other way round" \
  eval '[ "$RC" -eq 1 ] && grep -qF "first at flat index 101 ($NEW vs $OLD)" out.txt'

# ---- 2. refusals -----------------------------------------------------------------------
# refuse NAME MESSAGE ARGS...: exit 2, MESSAGE once on stderr (each names a file).
refuse() {
  local name=$1 msg=$2; shift 2
  plain "$@"
  expect "$name: exit 2 and one message naming the file" \
    eval '[ "$RC" -eq 2 ] && [ "$(count "$msg" err.txt)" -eq 1 ] && ! grep -q "HDF5-DIAG" err.txt'
}
refuse "check, another model (shapes)" "other_shape.h5: tensor 2 is /dense_1/dense_1/kernel:0 (64, 16), but in a.h5 it is /dense_1/dense_1/kernel:0 (64, 32): not the same model" \
  check a.h5 other_shape.h5
refuse "check, another model (tensor count)" "other_count.h5: 5 tensors, but a.h5 has 6: not the same model" \
  check a.h5 other_count.h5
refuse "check, missing second file" "missing.h5: cannot open (No such file or directory)" check a.h5 missing.h5
refuse "check, missing first file" "missing.h5: cannot open (No such file or directory)" check missing.h5 a.h5
refuse "check, not HDF5" "text.h5: not an HDF5 file" check a.h5 text.h5
refuse "check, HDF5 without layer_names" "nolayers.h5: no 'layer_names' attribute" check nolayers.h5 a.h5
refuse "check, a directory" "adir.h5: is a directory" check a.h5 adir.h5
refuse "check, a bad third file after a good pair" "text.h5: not an HDF5 file" check a.h5 b.h5 text.h5
refuse "check with one file" "reprodist: 'check' needs at least two weight files" check a.h5
refuse "digest, missing file" "missing.h5: cannot open (No such file or directory)" digest a.h5 missing.h5
refuse "digest, not HDF5" "text.h5: not an HDF5 file" digest text.h5
refuse "digest, HDF5 without layer_names" "nolayers.h5: no 'layer_names' attribute" digest nolayers.h5
refuse "digest, a tensor larger than its file" \
  "huge.h5: dataset /dense/dense/kernel:0 claims more data than the file holds (corrupt file?)" digest huge.h5
refuse "digest, a chunked tensor too large for memory" \
  "huge_chunked.h5: dataset /dense/dense/kernel:0 is too large to hold in memory (corrupt file?)" digest huge_chunked.h5
# Files on which Debian 12's HDF5 1.10.8 itself crashes (SIGSEGV in H5Fopen, and
# in H5Aexists after opening; found by fuzz_h5): the crash guard's one message.
cp "$RD_SRC/tests/fuzz/findings/h5fopen-segv.h5" segv_open.h5
cp "$RD_SRC/tests/fuzz/findings/h5aexists-segv.h5" segv_attr.h5
crashed="HDF5 crashed reading it: the file's HDF5 structure is corrupt"
refuse "digest, HDF5 crashes opening the file" "segv_open.h5: $crashed" digest segv_open.h5
refuse "digest, HDF5 crashes reading an attribute" "segv_attr.h5: $crashed" digest segv_attr.h5
refuse "check, HDF5 crashes on the second file" "segv_open.h5: $crashed" check a.h5 segv_open.h5
# And one on which it loops forever reading a variable-length string attribute
# (its global heap): given up after 30 s (RD_H5_ATTR_SECONDS in h5io.c).
cp "$RD_SRC/tests/fuzz/findings/h5hg-loop.h5" loop.h5
refuse "digest, HDF5 loops reading a string attribute" \
  "loop.h5: HDF5 was still reading a string attribute after 30 s (HDF5 1.10 loops forever on some corrupt files)" \
  digest loop.h5

# ---- 3. digest -----------------------------------------------------------------------
plain digest vlen.h5
expect "digest of a file with variable-length UTF-8 names: exit 0, 2 tensors" \
  eval '[ "$RC" -eq 0 ] && grep -q "  /dense/dense/kernel:0  (4, 3)$" out.txt && grep -q "(all 2 tensors)$" out.txt'
plain digest a.h5 c.h5
expect "digest of two files: exit 0, 2 x (6 + 1) lines" eval '[ "$RC" -eq 0 ] && [ "$(wc -l <out.txt)" -eq 14 ]'
cp out.txt digest.txt
# Independent recomputation: python-xxhash over the raw little-endian bytes, and
# the file line over the canonical (big-endian) tensor digests.
"$PY" - digest.txt a.h5 c.h5 >verify.txt 2>&1 <<'EOF'
import sys, h5py, numpy as np, xxhash
lines = open(sys.argv[1]).read().splitlines()
bad = 0
k = 0
for path in sys.argv[2:]:
    with h5py.File(path, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]]
        file_state = xxhash.xxh64(seed=0)
        for layer in names:
            for w in f[layer].attrs["weight_names"]:
                w = w.decode() if isinstance(w, bytes) else w
                d = f[layer][w]
                raw = np.ascontiguousarray(d[()], dtype="<f4").tobytes()
                h = xxhash.xxh64_intdigest(raw, seed=0)
                shape = "(" + ", ".join(map(str, d.shape)) + ("," if len(d.shape) == 1 else "") + ")"
                want = "%016x  /%s/%s  %s" % (h, layer, w, shape)
                attr = d.attrs["reprodist_xxh64"]
                attr = attr.decode() if isinstance(attr, bytes) else attr
                if lines[k] != want:
                    print("line %d: got %r, expected %r" % (k + 1, lines[k], want)); bad += 1
                if path == sys.argv[2] and attr != "%016x" % h:  # c.h5's attribute is stale by design
                    print("%s/%s: reprodist_xxh64 %s, python %016x" % (path, d.name, attr, h)); bad += 1
                file_state.update(h.to_bytes(8, "big"))
                k += 1
        n = sum(1 for l in names for _ in f[l].attrs["weight_names"])
        want = "%016x  %s  (all %d tensors)" % (file_state.intdigest(), path, n)
        if lines[k] != want:
            print("file line %d: got %r, expected %r" % (k + 1, lines[k], want)); bad += 1
        k += 1
if k != len(lines):
    print("%d lines, expected %d" % (len(lines), k)); bad += 1
print("ok" if bad == 0 else "%d mismatches" % bad)
EOF
expect "digest: every tensor hex = python xxh64 of the raw LE float32 bytes = reprodist_xxh64; file lines" \
  eval '[ "$(tail -n 1 verify.txt)" = ok ] || { cat verify.txt; false; }'
expect "digest: exactly one tensor digest differs between a.h5 and c.h5, the changed one" \
  eval '[ "$(diff <(sed -n 1,6p digest.txt) <(sed -n 8,13p digest.txt) | grep -c "^<")" -eq 1 ] &&
        diff <(sed -n 1,6p digest.txt) <(sed -n 8,13p digest.txt) | grep -q "^< [0-9a-f]\{16\}  /dense_1/dense_1/kernel:0  (64, 32)$"'
plain digest b.h5
expect "digest: identical files have identical digests" \
  eval '[ "$RC" -eq 0 ] && diff <(sed -n 1,6p digest.txt) <(sed -n 1,6p out.txt) >/dev/null &&
        [ "$(sed -n 7p digest.txt | cut -c1-16)" = "$(sed -n 7p out.txt | cut -c1-16)" ]'

# ---- 4. under mpiexec -np 2 ------------------------------------------------------------------
mpi 2 check a.h5 b.h5
expect "np 2: identical files exit 0, report printed once" \
  eval '[ "$RC" -eq 0 ] && [ "$(grep -c "=> IDENTICAL" out.txt)" -eq 1 ] && all_identical'
mpi 2 check a.h5 c.h5
expect "np 2: a 1-ulp change exits 1, the DIFFERS line once" \
  eval '[ "$RC" -eq 1 ] && [ "$(count "$WANT" out.txt)" -eq 1 ]'
mpi 2 check a.h5 other_shape.h5
expect "np 2: another model exits 2, message once" \
  eval '[ "$RC" -eq 2 ] && [ "$(count "not the same model" err.txt)" -eq 1 ]'
mpi 2 check a.h5 missing.h5
expect "np 2: a missing file exits 2, message once" \
  eval '[ "$RC" -eq 2 ] && [ "$(count "missing.h5: cannot open" err.txt)" -eq 1 ]'
mpi 2 check nolayers.h5 a.h5
expect "np 2: no layer_names exits 2, message once" \
  eval '[ "$RC" -eq 2 ] && [ "$(count "nolayers.h5: no '"'"'layer_names'"'"' attribute" err.txt)" -eq 1 ]'
mpi 2 digest a.h5 c.h5
expect "np 2: digest exits 0 and prints the same lines once" eval '[ "$RC" -eq 0 ] && diff digest.txt out.txt >/dev/null'
mpi 2 digest text.h5
expect "np 2: digest of a non-HDF5 file exits 2, message once" \
  eval '[ "$RC" -eq 2 ] && [ "$(count "text.h5: not an HDF5 file" err.txt)" -eq 1 ]'

rd_check "no file was modified by check/digest" test "$(rd_sha a.h5)" = "$(rd_sha b.h5)"
echo "  [${SECONDS}s] done"
rd_finish
