# Data sources and bad data (tests/data_*.sh; fixtures are made in a temp dir).
#   data_errors   every kind of bad IDX/HDF5 input at np 2: exit 2, one message
#                 naming the file (and dataset), no weights file written or touched
#   data_sources  idx, idx.gz and hdf5 (uint8 and float32) give the same weights;
#                 hdf5 at np 1-4 gives the same file; limit/test_limit are honoured;
#                 HDF5 memory does not grow with the number of rows
rd_script_test(data_errors data_errors.sh)
rd_script_test(data_sources data_sources.sh)
