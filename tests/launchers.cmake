# The launch/ scripts, as users run them.
rd_script_test(launchers launchers.sh)
rd_script_test(slurm slurm.sh)
set_tests_properties(slurm PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# multinode: tests/multinode.sh on an emulated 3-node cluster (launch/cluster):
# the same sha256 on 1, 2 and 3 nodes with mpirun --host, sbatch -N and srun;
# repro-check.sbatch across nodes; a dead node; preemption. Needs root (77).
rd_script_test(multinode multinode.sh)
set_tests_properties(multinode PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
