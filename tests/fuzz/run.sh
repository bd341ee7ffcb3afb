#!/bin/bash
# Runs one libFuzzer target of tests/fuzz over its seed corpus.
#   tests/fuzz/run.sh TARGET SECONDS [libFuzzer options...]   bounded by time (CI: 20)
#   tests/fuzz/run.sh TARGET -runs=N [libFuzzer options...]   bounded by executions
# TARGET: cfg, idx or h5. The long run (1M executions per target):
#   for t in cfg idx h5; do tests/fuzz/run.sh $t -runs=1000000 || break; done
# Binaries: $RD_FUZZ_BIN (default build-fuzz/tests/fuzz, configured with
# CC=clang cmake -S . -B build-fuzz -DRD_FUZZ=ON). New inputs go to
# $RD_FUZZ_WORK/TARGET (default build-fuzz/fuzz-work), never into the seed
# corpus; a crash is saved in $RD_FUZZ_WORK/artifacts/ and the line to
# reproduce it is printed. Exit 0 when no crash, leak, timeout or OOM was found.
# --keep-going: fuzz on past crashes (libFuzzer -fork=1 -ignore_*), then replay
# each new artifact alone and sort it by where it failed: inside libhdf5 (Debian's
# HDF5 1.10.8 crashes, leaks and loops on some corrupt files: reported, not
# failed) or anywhere else (ours: exit 1). Use it for h5.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
keep=0
[ "${1:-}" = --keep-going ] && keep=1 && shift
if [ $# -lt 2 ]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
target=$1 bound=$2
shift 2
case $target in cfg | idx | h5) ;; *) echo "run.sh: unknown target '$target' (cfg, idx, h5)" >&2; exit 2 ;; esac
case $bound in
  -runs=[0-9]*) limit=("$bound") ;;
  [0-9]*) limit=("-max_total_time=$bound") ;;
  *) echo "run.sh: the bound is SECONDS or -runs=N, not '$bound'" >&2; exit 2 ;;
esac
bin=${RD_FUZZ_BIN:-$src/build-fuzz/tests/fuzz}/fuzz_$target
[ -x "$bin" ] || { echo "run.sh: $bin not built (see the header of this script)" >&2; exit 2; }
work=${RD_FUZZ_WORK:-$(dirname "$(dirname "$(dirname "$bin")")")/fuzz-work}
mkdir -p "$work/$target" "$work/artifacts" || exit 2

# Leak checking is off around MPI_Init (fuzz_common.h); tests/lsan.supp covers
# what Open MPI allocates later. HDF5 leaks on some corrupt files (its own bugs,
# not ours to fix), so the fuzzers also suppress leaks inside libhdf5.
# One allocation above 2 GiB fails (returns NULL) as it would on a real machine:
# HDF5 copes with that; reprodist must too (RD_ASSERT on NULL is a finding).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_odr_violation=0:allocator_may_return_null=1:max_allocation_size_mb=2048}
{ cat "$src/tests/lsan.supp"; echo 'leak:libhdf5'; } >"$work/lsan.supp" || exit 2
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$work/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMPI_MCA_btl=${OMPI_MCA_btl:-self}   # one process: no shared memory segments

# HDF5 itself can spend seconds on a corrupt file under ASan (its own large
# allocations); that is not a hang of ours.
timeout=10
[ "$target" = h5 ] && timeout=30
log=$work/$target.log
forking=()
[ $keep = 1 ] && forking=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
marker=$work/.start-$target
touch "$marker"
start=$(date +%s)
# -rss_limit_mb: a file that makes a reader allocate gigabytes is a finding.
"$bin" "${limit[@]}" -timeout=$timeout -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/$target-" "${forking[@]}" "$@" "$work/$target" "$here/corpus/$target" \
  >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -1)   # -fork mode
echo "fuzz_$target: ${runs:-?} executions in $(($(date +%s) - start)) s, exit $rc (log: $log)"
if [ $keep = 1 ]; then
  # The first frame that is neither the sanitizer, libc, libFuzzer nor an allocator says whose failure it is.
  rc=0
  for a in $(find "$work/artifacts" -type f -name "$target-*" -newer "$marker" ! -name '*.txt'); do
    "$bin" -timeout=$((2 * timeout)) "$a" >"$a.txt" 2>&1
    where=$(grep -E '^ +#[0-9]+ 0x' "$a.txt" |
            grep -vE '__interceptor|__asan|__sanitizer|__lsan|libc\.so|/sysdeps/|string/\.\.|fuzzer::| in (malloc|calloc|realloc|strdup|strndup) ' |
            head -1 | sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ (in )?//; s/ \(BuildId.*//')
    what=$(grep -m1 -oE 'ERROR: [A-Za-z]+: [A-Za-z-]+|runtime error: .*|ALARM|deadly signal' "$a.txt")
    case $where in
      *libhdf5*) echo "external (libhdf5): ${what:-?} at $where: $a" ;;
      '') echo "not reproduced alone: $a (log $a.txt)" ;;
      *) echo "OURS: ${what:-?} at $where"; echo "reproduce: $bin $a"; rc=1 ;;
    esac
  done
elif [ $rc -ne 0 ]; then
  grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|^ *#[0-9]+ .* in |ALARM|out-of-memory|^artifact_prefix|Test unit written' "$log" | head -40
  art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  [ -n "$art" ] && echo "reproduce: $bin $art"
fi
exit $rc
