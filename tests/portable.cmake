# Portable mode ([train] kernels = portable, docs/PORTABLE.md).
# unit_kern: the portable GEMM on every path this CPU runs against the fmaf
# chain it specifies, RD_ISA selection, pmath against float64 libm and its
# known answers (tests/pmath_kat.txt).
rd_unit_test(kern ${CMAKE_CURRENT_SOURCE_DIR}/pmath_kat.txt)
# rd_portable: the MPI-free driver of the same core sources (tests/portable/driver.c);
# portable_aarch64 builds it for aarch64 from RD_PORTABLE_CORE (plus the layers
# and kern_neon.c) and compares its digests under qemu-user.
set(RD_PORTABLE_CORE src/log.c src/cfg.c src/seed.c src/init.c src/model.c src/reduce.c src/nn.c src/shard.c
    src/optim.c src/schedule.c src/regularizer.c src/loss.c src/mem.c src/registry.c src/fsio.c src/fault.c
    src/pmath.c src/kern.c src/sig.c)
# ... and the optimizers, schedules and losses, one file each.
file(GLOB RD_PORTABLE_OPTIM RELATIVE ${PROJECT_SOURCE_DIR} CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/optim/*.c
     ${PROJECT_SOURCE_DIR}/src/schedules/*.c ${PROJECT_SOURCE_DIR}/src/losses/*.c)
list(APPEND RD_PORTABLE_CORE ${RD_PORTABLE_OPTIM})
add_executable(rd_portable ${CMAKE_CURRENT_SOURCE_DIR}/portable/driver.c ${CMAKE_CURRENT_SOURCE_DIR}/portable/driver_train.c)
target_link_libraries(rd_portable PRIVATE rdcore)
# portable: reprodist in portable mode, same sha256 on every x86 path at np 1-3,
# with mixed paths and OpenBLAS cores in one job, and from a clang build.
rd_script_test(portable portable.sh)
# portable_aarch64: the driver cross-built for aarch64 under qemu-user gives
# x86-64's digests (kernels, the MLP, the convnet, the ResNet, the MobileNet).
string(REPLACE ";" "," RD_PORTABLE_CORE_ARG "${RD_PORTABLE_CORE}")
rd_script_test(portable_aarch64 portable_aarch64.sh $<TARGET_FILE:rd_portable> "${RD_PORTABLE_CORE_ARG}")
# portable_baseline: the same driver under qemu-x86_64 -cpu Nehalem (no AVX:
# the layers' baseline copies and the scalar GEMM) gives the native digests.
# Not in the sanitized suite (launch/test-sanitize): qemu-user cannot host
# ASan's shadow memory (an instrumented driver under it was killed after 5
# minutes of a 26-second run); the plain suite runs it, and the code it runs
# is instrumented in every other test.
if(NOT RD_SANITIZE)
  rd_script_test(portable_baseline portable_baseline.sh $<TARGET_FILE:rd_portable>)
endif()
