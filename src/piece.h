/* piece: named pieces of state, what a checkpoint holds (ckpt.h).
 *
 * Each component that carries state across steps describes it as pieces: a
 * name, a kind and its buffer. The trainer asks each for its pieces (the
 * parameters, the optimizer's slots, the data cursor, the epoch's metrics) and
 * ckpt writes every piece as a dataset of that name, reads it back into the same
 * buffer, and refuses a file whose piece is missing or of another size, naming
 * it. A component adds state by adding a piece; ckpt needs no change. */
#ifndef REPRODIST_PIECE_H
#define REPRODIST_PIECE_H

#include <stddef.h>
#include <stdio.h>

#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rd_piece_kind { RD_PIECE_F32, RD_PIECE_F64, RD_PIECE_U64, RD_PIECE_I64 } rd_piece_kind;

typedef struct rd_piece {
  char name[64];        /* the dataset's path in the file: "params", "optimizer/momentums", "data/epoch" */
  rd_piece_kind kind;
  void *data;           /* n values of that kind, or the slab below */
  size_t n;
  /* A slab: this rank holds only values [lo, lo + cnt) of the n, in data (a
   * sharded optimizer's state). lo = 0, cnt = n for a whole piece. The file
   * holds all n either way; ckpt writes and reads a slab collectively. */
  size_t lo, cnt;
  int dist;             /* 1: a slab of a sharded piece, on every rank: checkpoints are written collectively */
  /* Optional pieces: state of a part that changes no weight and may come or go
   * between a run and its resume (a callback that only writes logs). Left out
   * of the checksum; when a checkpoint lacks one, its buffer keeps its value
   * and *absent is set to 1. NULL for a required piece. */
  unsigned char *absent;
} rd_piece;

#define RD_PIECES_MAX 24

typedef struct rd_pieces {
  int n;
  rd_piece p[RD_PIECES_MAX];
} rd_pieces;

static inline size_t rd_piece_bytes(const rd_piece *p) { return p->n * (p->kind == RD_PIECE_F32 ? 4 : 8); }

/* Adds a piece; name is a printf format. */
static inline void rd_pieces_add(rd_pieces *ps, rd_piece_kind kind, void *data, size_t n, const char *name) {
  RD_ASSERT(ps->n < RD_PIECES_MAX, "too many checkpoint pieces");
  rd_piece *p = &ps->p[ps->n++];
  snprintf(p->name, sizeof p->name, "%s", name);
  p->kind = kind, p->data = data, p->n = n, p->absent = NULL;
  p->lo = 0, p->cnt = n, p->dist = 0;
}

/* Adds a slab: values [lo, lo + cnt) of an n-value piece (cnt may be 0), which
 * every rank adds with its own slab. */
static inline void rd_pieces_add_slab(rd_pieces *ps, rd_piece_kind kind, void *data, size_t n, size_t lo, size_t cnt,
                                      const char *name) {
  rd_pieces_add(ps, kind, data, n, name);
  RD_ASSERT(lo + cnt <= n, "slab past its piece");
  ps->p[ps->n - 1].lo = lo, ps->p[ps->n - 1].cnt = cnt, ps->p[ps->n - 1].dist = 1;
}

#ifdef __cplusplus
}
#endif
#endif
