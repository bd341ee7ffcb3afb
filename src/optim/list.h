/* The optimizers, one line each: RD_OPTIMIZER(name) registers the rd_optim_type
 * rd_optim_<name> defined in src/optim/<name>.c ([train] optimizer = name). A
 * new optimizer is its file plus its line here. No include guard: optim.c
 * includes this list once per use of RD_OPTIMIZER. */
RD_OPTIMIZER(sgd)
RD_OPTIMIZER(adam)
RD_OPTIMIZER(adamw)
RD_OPTIMIZER(rmsprop)
RD_OPTIMIZER(adagrad)
RD_OPTIMIZER(nadam)
RD_OPTIMIZER(lion)
