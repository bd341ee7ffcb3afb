# Initialization: specified (docs/SEEDS.md), reproducible and statistically right.
#   unit_init     known answers from tests/init_kat.txt, statistics of every initializer,
#                 alignment/thread independence, rd_pmath_log, permutations
#   spec_compare  tests/spec_reimpl.py (written from docs/SEEDS.md alone) against
#                 `reprodist init` / `reprodist seeds`, bit for bit
#   spec_kat      tests/init_kat.txt is what spec_reimpl.py generates today
rd_unit_test(init)
rd_script_test(spec_compare spec_reimpl.py compare)
rd_script_test(spec_kat spec_reimpl.py katcheck ${CMAKE_CURRENT_SOURCE_DIR}/init_kat.txt)
