# Config, command line and weights-file layout.
#   unit_cfg      tests/test_cfg.c: strict numbers, parsing, --set, schema errors,
#                 canonical text and digest of the cfg module
#   cfg_errors    tests/cfg_errors.sh: every config error class through the real
#                 binary at np 2: exact "path:line: message" once, exit 2, no hang,
#                 output untouched
#   init_ranks    tests/init_ranks.sh: `reprodist init` is byte-identical at np 1, 2, 4;
#                 seed/-o/replace semantics; bad output paths; --help/--version/usage
#   keras_layout  tests/check_keras_layout.py: `reprodist init` files follow the Keras 2
#                 legacy save_weights layout and load like load_weights_from_hdf5_group;
#                 graphs in Keras' model.layers order (real Keras' fixtures, tests/keras)
#   summary       tests/summary.py: `reprodist summary` against real Keras' fixtures
#                 and Keras' layer definitions
#   keras_archive tests/keras_archive.py: .keras archives against real Keras' (below)
rd_unit_test(cfg)
rd_script_test(cfg_errors cfg_errors.sh)
rd_script_test(init_ranks init_ranks.sh)
rd_script_test(keras_layout check_keras_layout.py --run
  ${PROJECT_SOURCE_DIR}/configs/fashion_mnist_mlp.cfg
  ${PROJECT_SOURCE_DIR}/configs/keras_seeded_init.cfg
  ${PROJECT_SOURCE_DIR}/configs/fashion_mnist_cnn.cfg
  ${PROJECT_SOURCE_DIR}/configs/fashion_mnist_cnn_bn.cfg)
rd_script_test(summary summary.py)
# keras_archive: tests/keras_archive.py, .keras archives against the ones real
# Keras 3.15.1 wrote for the same models (tests/keras/archives.json): members,
# config.json value for value, model.weights.h5's objects; values equal the
# .h5 file's; bad archives exit 2 with one line.
rd_script_test(keras_archive keras_archive.py)
rd_script_test(install install.sh ${CMAKE_BINARY_DIR})
# custom_layer: tests/custom_layer.sh, examples/custom_layer built against this
# build's install prefix (CMake package and pkg-config), trained at np 1-3 with
# the installed binary; its gradient (test_layers), Keras layout, plugin
# identity (file, fingerprint, checkpoint) and every bad-plugin error.
rd_script_test(custom_layer custom_layer.sh ${CMAKE_BINARY_DIR})
