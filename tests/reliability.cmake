# Reliability: faults at the edges (tests/reliability.sh).
#   reliability   outputs that cannot be written (a file as directory, a read-only
#                 tmpfs, a directory at -o, a full tmpfs under the weights and
#                 under checkpoint_dir: exit 2, one line, old files intact; the
#                 mounts need root, else SKIP lines); bad config, data,
#                 checkpoint and output at np 2 end every rank within 10 s; a
#                 rank SIGKILLed mid-epoch: mpiexec exits non-zero within 10 s
#                 and the newest checkpoint resumes to the uninterrupted sha256.
rd_script_test(reliability reliability.sh)
# Its 10 s bounds are measured from the failure's message (or the kill), not
# from the start of a run, and its kill lands in a run never meant to end, so
# it may run beside other jobs on a loaded machine.
