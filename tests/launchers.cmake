# The launch/ scripts, as users run them.
rd_script_test(launchers launchers.sh)
# reprodist evaluate and predict: the same output at np 1, 2, 3; numpy float64 references; bad input.
rd_script_test(evaluate evaluate.py)
rd_script_test(slurm slurm.sh)
set_tests_properties(slurm PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
# multinode: tests/multinode.sh on an emulated 3-node cluster (launch/cluster):
# the same sha256 on 1, 2 and 3 nodes with mpirun --host, sbatch -N and srun;
# repro-check.sbatch across nodes; a dead node; preemption. Needs root (77).
rd_script_test(multinode multinode.sh)
# About 50 jobs on 3 emulated nodes sharing the host's cores: 4-6 minutes on an
# idle 2-core machine here, 11-15 with both cores busy. Its limit means "hung"
# for a machine 3x slower than that, loaded.
math(EXPR RD_TIMEOUT_MULTINODE "3600 * ${RD_TIMEOUT_SCALE}")
set_tests_properties(multinode PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE TIMEOUT ${RD_TIMEOUT_MULTINODE})
