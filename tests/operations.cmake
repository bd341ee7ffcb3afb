# Operations: comparing files, environment fingerprints, checkpoints, signals.
#   unit_compare  tests/test_compare.c: rd_cmp_ulp (across zero, neighbours, NaN)
#                 and rd_cmp_floats (count, first index, max |diff|, max ulp)
#   inspect       tests/inspect.sh: `reprodist check` / `digest` without and with
#                 mpiexec: exit 0/1/2, the report of a 1-ulp change, layouts,
#                 bad files; digests recomputed independently with python xxhash
#   fingerprint   tests/fingerprint.sh: MPMD job with two OpenBLAS core types is
#                 refused (exit 2, names the key, both ranks and values) unless
#                 --allow-mixed; the weights' fingerprint names the core, no host
#   checkpoint    tests/checkpoint.sh: periodic/epoch checkpoints, keep, resume at
#                 np 1-4 and `latest` give the uninterrupted run's sha256 and epoch
#                 lines; every refusal (truncated, flipped byte, other config or
#                 model, directory, no/empty dir, bad checkpoint_every) is exit 2
#   signals       tests/signals.sh: SIGTERM/SIGINT to the ranks -> exit 3, a
#                 checkpoint, a resume hint, no weights; resume at another np gives
#                 the same sha256; abort before rename leaves no corrupt checkpoint;
#                 the replica divergence guard (RD_FAULT_DIVERGE)
rd_unit_test(compare)
rd_script_test(inspect inspect.sh)
rd_script_test(fingerprint fingerprint.sh)
rd_script_test(checkpoint checkpoint.sh)
rd_script_test(signals signals.sh)
# CPU-heavy (many training runs): not beside other MPI jobs, which only keeps the
# suite's wall time even; no test here depends on the machine's speed or load.
set_tests_properties(checkpoint PROPERTIES RUN_SERIAL TRUE)
