#!/bin/bash
# Runs one libFuzzer target of tests/fuzz over its seed corpus.
#   tests/fuzz/run.sh TARGET SECONDS [libFuzzer options...]   bounded by time (CI: 30)
#   tests/fuzz/run.sh TARGET -runs=N [libFuzzer options...]   bounded by executions
# TARGET: cfg, idx or h5. The long run (1M executions per target, each in turn):
#   launch/test-fuzz -runs=1000000
# Binaries: $RD_FUZZ_BIN (default build-fuzz/tests/fuzz, configured with
# CC=clang cmake -S . -B build-fuzz -DRD_FUZZ=ON). New inputs go to
# $RD_FUZZ_WORK/TARGET (default build-fuzz/fuzz-work), never into the seed
# corpus; a crash is saved in $RD_FUZZ_WORK/artifacts/ and the line to
# reproduce it is printed. Exit 0 when no crash, leak, timeout or OOM was found.
# --keep-going: fuzz on past crashes (libFuzzer -fork=1 -ignore_*), then replay
# each new artifact alone and sort it by where it failed: inside libhdf5 (Debian's
# HDF5 1.10.8 crashes, leaks and loops on some corrupt files: reported, not
# failed) or anywhere else (ours: exit 1). Use it for h5 and keras.
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
case $target in cfg | idx | h5 | keras) ;; *) echo "run.sh: unknown target '$target' (cfg, idx, h5, keras)" >&2; exit 2 ;; esac
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
# what Open MPI allocates later and HDF5's own leaks on corrupt files.
# One allocation above 2 GiB fails (returns NULL) as it would on a real machine:
# HDF5 copes with that; reprodist must too (RD_ASSERT on NULL is a finding).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_odr_violation=0:allocator_may_return_null=1:max_allocation_size_mb=2048}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMPI_MCA_btl=${OMPI_MCA_btl:-self}   # one process: no shared memory segments

# An input running longer than this is a hang (HDF5 loops forever on some
# corrupt files: --keep-going sorts those out).
timeout=10
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
# first_frame FILE [FROM]: the first stack frame of FILE (or of the stack that
# follows the first line matching FROM) that is neither the sanitizer, libc,
# libFuzzer nor an allocator: whose code it was.
first_frame() {
  { if [ -n "${2:-}" ]; then sed -n "/$2/,/^\$/p" "$1"; else cat "$1"; fi; } | grep -E '^ +#[0-9]+ 0x' |
    grep -vE '__interceptor|__asan|__sanitizer|__lsan|libc\.so|/sysdeps/|string/\.\.|fuzzer::| in (malloc|calloc|realloc|strdup|strndup) ' |
    head -1 | sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ (in )?//; s/ \(BuildId.*//'
}
if [ $keep = 1 ]; then
  # Each new artifact alone: inside libhdf5 is Debian's HDF5 (unless the memory
  # it overran or freed was reprodist's); anything else is ours.
  rc=0 ext=0 ours=0 gone=0
  for a in $(find "$work/artifacts" -type f -name "$target-*" -newer "$marker" ! -name '*.txt' | sort); do
    "$bin" -timeout=$((2 * timeout)) "$a" >"$a.txt" 2>&1
    where=$(first_frame "$a.txt")
    owner=$(first_frame "$a.txt" '^\(allocated\|freed\) by thread')
    # Over -rss_limit_mb, libFuzzer lists the live heap, not who asked for the
    # memory: its first frame is libFuzzer's own buffers. Replayed with a limit
    # of half that on one allocation, an input whose memory went into one
    # allocation (HDF5 reading a corrupt variable-length string's length,
    # 2 GB) names its caller; one that went into many keeps the first answer.
    if grep -q 'ERROR: libFuzzer: out-of-memory (used:' "$a.txt"; then
      "$bin" -timeout=$((2 * timeout)) -malloc_limit_mb=1024 "$a" >"$a.malloc.txt" 2>&1
      if grep -q 'ERROR: libFuzzer: out-of-memory (malloc(' "$a.malloc.txt"; then
        where=$(first_frame "$a.malloc.txt")
        owner=
      fi
    fi
    what=$(grep -m1 -oE 'ERROR: [A-Za-z]+: [A-Za-z-]+|runtime error: .*|ALARM|deadly signal' "$a.txt")
    case $where in
      '') gone=$((gone + 1)); echo "not reproduced alone: $a (log $a.txt)"; continue ;;
      *libhdf5*) case $owner in '' | *libhdf5* | *libmpi* | *libopen-*) ext=$((ext + 1))
                   echo "external (libhdf5): ${what:-?} at $where: $a"; continue ;; esac ;;
    esac
    ours=$((ours + 1)) rc=1
    echo "OURS: ${what:-?} at $where${owner:+ (memory of $owner)}"
    echo "reproduce: $bin $a"
  done
  echo "fuzz_$target: new artifacts: $ours ours, $ext inside libhdf5, $gone not reproduced alone"
elif [ $rc -ne 0 ]; then
  grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|^ *#[0-9]+ .* in |ALARM|out-of-memory|^artifact_prefix|Test unit written' "$log" | head -40
  art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  [ -n "$art" ] && echo "reproduce: $bin $art"
fi
exit $rc
