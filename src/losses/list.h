/* The losses, one line each: RD_LOSS(name) registers the rd_loss_type
 * rd_loss_<name> defined in src/losses/<name>.c ([train] loss = name). A new
 * loss is its file plus its line here. No include guard: loss.c includes this
 * list once per use of RD_LOSS. */
RD_LOSS(sparse_categorical_crossentropy)
RD_LOSS(mse)
RD_LOSS(categorical_crossentropy)
RD_LOSS(binary_crossentropy)
