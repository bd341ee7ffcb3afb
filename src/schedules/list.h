/* The learning-rate schedules, one line each: RD_SCHEDULE(name) registers the
 * rd_sched_type rd_sched_<name> defined in src/schedules/<name>.c, whose config
 * section is [name]. A new schedule is its file plus its line here. No include
 * guard: schedule.c and cfg.c include this list once per use of RD_SCHEDULE. */
RD_SCHEDULE(exponential_decay)
RD_SCHEDULE(piecewise_constant_decay)
RD_SCHEDULE(polynomial_decay)
RD_SCHEDULE(inverse_time_decay)
RD_SCHEDULE(cosine_decay)
RD_SCHEDULE(cosine_decay_restarts)
