#!/usr/bin/env bash
# `cmake --install` puts a working reprodist binary under the prefix.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
build=${1:?usage: install.sh BUILD_DIR}
cmake --install "$build" --prefix "$RD_TMP/prefix" > "$RD_TMP/install.log" 2>&1
rd_check "cmake --install succeeds" [ $? -eq 0 ]
rd_check "the binary is installed under bin/" [ -x "$RD_TMP/prefix/bin/reprodist" ]
rd_check "the installed binary runs (--version)" bash -c "'$RD_TMP/prefix/bin/reprodist' --version | grep -q '^reprodist '"
rd_finish
