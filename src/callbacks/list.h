/* The training callbacks, one line each: RD_CALLBACK(name) registers the
 * rd_cb_type rd_cb_<name> defined in src/callbacks/<name>.c, whose config
 * section is [name]. A new callback is its file plus its line here. No include
 * guard: callback.c and cfg.c include this list once per use of RD_CALLBACK. */
RD_CALLBACK(reduce_lr_on_plateau)
RD_CALLBACK(early_stopping)
RD_CALLBACK(model_checkpoint)
RD_CALLBACK(csv_logger)
RD_CALLBACK(tensorboard)
