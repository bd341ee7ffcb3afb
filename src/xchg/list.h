/* The canonical allreduce's exchange algorithms, one line each: RD_XCHG(name)
 * registers rd_xchg_<name>, defined in src/xchg/<name>.c. The order is
 * rd_xchg's (comm.h). No include guard: included once per use of RD_XCHG. */
RD_XCHG(alltoallv)
RD_XCHG(halving)
RD_XCHG(plain)
RD_XCHG(bucketed)
RD_XCHG(shm)
