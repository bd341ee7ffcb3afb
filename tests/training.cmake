# Training: the canonical tree, MPI allreduce, gradients, the rank-count matrix.
rd_unit_test(reduce)
rd_unit_test(layers)
rd_unit_test(optim)
add_executable(test_allreduce ${CMAKE_CURRENT_SOURCE_DIR}/test_allreduce.c)
target_link_libraries(test_allreduce PRIVATE rdcore)
rd_mpi_unit_test(allreduce 1 2 3 4 5)
rd_script_test(rank_matrix rank_matrix.sh)
set_tests_properties(rank_matrix PROPERTIES RUN_SERIAL TRUE)
rd_script_test(reference_numpy reference_numpy.py)
# pinned: tests/pinned.sh, tensor digests of trained Dense configs pinned from
# main before the layer interface (tests/pinned_digests.txt); exact.
rd_script_test(pinned pinned.sh)
