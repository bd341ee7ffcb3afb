/* comm_h5: the one MPI call HDF5 needs (see comm.h), apart from comm.c so that
 * the rest of comm links without HDF5 (the SimGrid driver, tests/simgrid/). */
#include <hdf5.h>

#include "comm_impl.h"

int rd_comm_h5_fapl_mpio(int64_t fapl) {
  return H5Pset_fapl_mpio((hid_t)fapl, rd_comm_world()->mpi, MPI_INFO_NULL) < 0 ? -1 : 0;
}
