# The launch/ scripts, as users run them.
rd_script_test(launchers launchers.sh)
rd_script_test(slurm slurm.sh)
set_tests_properties(slurm PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
