# Scale (issue 27): the guarantee at hundreds of ranks, under SimGrid's SMPI.
# simgrid: tests/simgrid.sh builds rd_smpi (tests/simgrid/build.sh, smpicc) and
# trains at np 1 to 256 on a simulated cluster; every digest must equal
# rd_portable's one-process digests.
rd_script_test(simgrid simgrid.sh $<TARGET_FILE:rd_portable>)
