# Training: the canonical tree, MPI allreduce, gradients, the rank-count matrix.
rd_unit_test(reduce)
rd_unit_test(layers)
rd_unit_test(depthwise)
rd_unit_test(optim)
rd_unit_test(callbacks)
add_executable(test_allreduce ${CMAKE_CURRENT_SOURCE_DIR}/test_allreduce.c)
target_link_libraries(test_allreduce PRIVATE rdcore)
rd_mpi_unit_test(allreduce 1 2 3 4 5 6 8)
rd_script_test(rank_matrix rank_matrix.sh)
set_tests_properties(rank_matrix PROPERTIES RUN_SERIAL TRUE)
# shm_space: the shm allreduce's window against a small backing filesystem
# (a tmpfs it mounts: needs root, else 77): alltoallv instead, the same bits.
rd_script_test(shm_space shm_space.sh)
set_tests_properties(shm_space PROPERTIES SKIP_RETURN_CODE 77)
rd_script_test(reference_numpy reference_numpy.py)
rd_script_test(schedules schedules.py)
# pinned: tests/pinned.sh, tensor digests of trained Dense configs pinned from
# main before the layer interface (tests/pinned_digests.txt); exact.
rd_script_test(pinned pinned.sh)
# fusion: tests/fusion.sh, the fused passes (an Activation run in place on its
# source's output; portable mode's convolutions in row blocks) against the
# passes as written (RD_UNFUSED=1): the same tensor digests, both kernel modes.
rd_script_test(fusion fusion.sh)
# stats_hook: tests/stats_hook.py with the test plugin tests/plugins/running_mean.c:
# the batch-statistics hook sums every shard's statistics along the canonical
# tree once per step (same sha256 at np 1, 2, 3, 5 and after a resume), equal
# to a float64 reference computed from docs/SEEDS.md.
add_library(rd_running_mean MODULE ${CMAKE_CURRENT_SOURCE_DIR}/plugins/running_mean.c)
target_include_directories(rd_running_mean PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_compile_options(rd_running_mean PRIVATE ${RD_FP_FLAGS})
set_target_properties(rd_running_mean PROPERTIES C_VISIBILITY_PRESET hidden)
rd_script_test(stats_hook stats_hook.py $<TARGET_FILE:rd_running_mean>)
# reference_layers: every built-in layer type's forward and backward (tests/layer_io.c
# writes them) against numpy float64 from Keras' definitions, and one SGD step of a
# small CNN end to end against a float64 step (tests/reference_layers.py).
add_executable(layer_io ${CMAKE_CURRENT_SOURCE_DIR}/layer_io.c)
target_link_libraries(layer_io PRIVATE rdcore)
rd_script_test(reference_layers reference_layers.py $<TARGET_FILE:layer_io>)
# gradcheck: `reprodist gradcheck` on every shipped config, and on a plugin
# whose backward forgets a factor that starts at 1 (tests/plugins/scale_layer.c,
# built right and wrong): the wrong one must fail, the right one pass.
foreach(v good bad)
  add_library(rd_scale_${v} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/plugins/scale_layer.c)
  target_include_directories(rd_scale_${v} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(rd_scale_${v} PRIVATE ${RD_FP_FLAGS})
  set_target_properties(rd_scale_${v} PROPERTIES C_VISIBILITY_PRESET hidden)
endforeach()
target_compile_definitions(rd_scale_bad PRIVATE RD_FORGET_FACTOR)
rd_script_test(gradcheck gradcheck.sh $<TARGET_FILE:rd_scale_good> $<TARGET_FILE:rd_scale_bad>)
# The callbacks' files: TensorBoard's event records against the CRC-32C check
# values and the wire format (test_tfevent), Python's float repr and str.format
# against Python (pyfmt_check), and the files themselves at any np and across
# a resume (callback_files).
rd_unit_test(tfevent)
add_executable(pyfmt_driver ${CMAKE_CURRENT_SOURCE_DIR}/pyfmt_driver.c)
target_link_libraries(pyfmt_driver PRIVATE rdcore)
target_include_directories(pyfmt_driver PRIVATE ${PROJECT_SOURCE_DIR}/src)
rd_script_test(pyfmt pyfmt_check.py $<TARGET_FILE:pyfmt_driver>)
rd_script_test(callback_files callback_files.py)
