/* The built-in layer types, one line each: RD_BUILTIN_LAYER(name) registers
 * the rd_layer_type rd_layer_<name> defined in src/layers/<name>.c. A new
 * built-in layer is its file plus its line here. No include guard: the
 * registry includes this list once per use of RD_BUILTIN_LAYER. */
RD_BUILTIN_LAYER(dense)
RD_BUILTIN_LAYER(conv2d)
RD_BUILTIN_LAYER(max_pooling2d)
RD_BUILTIN_LAYER(average_pooling2d)
RD_BUILTIN_LAYER(global_average_pooling2d)
RD_BUILTIN_LAYER(flatten)
RD_BUILTIN_LAYER(reshape)
RD_BUILTIN_LAYER(dropout)
RD_BUILTIN_LAYER(batch_normalization)
RD_BUILTIN_LAYER(activation)
RD_BUILTIN_LAYER(add)
RD_BUILTIN_LAYER(subtract)
RD_BUILTIN_LAYER(multiply)
RD_BUILTIN_LAYER(average)
RD_BUILTIN_LAYER(maximum)
RD_BUILTIN_LAYER(minimum)
RD_BUILTIN_LAYER(concatenate)
RD_BUILTIN_LAYER(zero_padding2d)
RD_BUILTIN_LAYER(global_max_pooling2d)
RD_BUILTIN_LAYER(layer_normalization)
