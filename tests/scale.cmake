# Scale (issue 27): the guarantee at hundreds of ranks, under SimGrid's SMPI.
# simgrid: tests/simgrid.sh builds rd_smpi (tests/simgrid/build.sh, smpicc) and
# trains at np 1 to 256 on a simulated cluster; every digest must equal
# rd_portable's one-process digests.
rd_script_test(simgrid simgrid.sh $<TARGET_FILE:rd_portable>)
# shard_optimizer: tests/shard_optimizer.sh: ZeRO stage 1 gives the unsharded
# np=1 sha256 for every optimizer and clipping mode at np 1-5 with both exchanges
# (and a BatchNormalization model); rank 0 keeps 1/np of the state; sharded
# checkpoints are the same bytes at np 1-4, hold the unsharded datasets, resume
# at any np in either mode to the uninterrupted sha256, and are refused when
# damaged; a .keras archive's optimizer state is gathered; a bad value is exit 2.
rd_script_test(shard_optimizer shard_optimizer.sh)
set_tests_properties(shard_optimizer PROPERTIES COST 120)
