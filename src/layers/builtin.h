/* The built-in layer types, one line each: RD_BUILTIN_LAYER(name) registers
 * the rd_layer_type rd_layer_<name> defined in src/layers/<name>.c. A new
 * built-in layer is its file plus its line here. No include guard: the
 * registry includes this list once per use of RD_BUILTIN_LAYER. */
RD_BUILTIN_LAYER(dense)
