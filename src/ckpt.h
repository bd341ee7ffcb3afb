/* ckpt: checkpoints that resume to the same bits, at any rank count.
 *
 * A checkpoint holds everything the step loop depends on, as named pieces
 * (piece.h) that each component gives: the parameters, the optimizer's step
 * count and slots (and the weights' moving average), the data cursor, the
 * epoch's partial metrics; with them the config digest, a digest of the model's
 * tensor layout, the writer's fingerprint, and an XXH64 checksum over all of
 * it. Every rank holds the same replica, so the checkpoint does not depend on np
 * and a run resumed at another np continues with the same bits.
 *
 * Files are <dir>/ckpt-<step, 12 digits>.h5 (HDF5), written by rank 0 to a
 * temporary name, fsynced, then renamed; only the newest `keep` are kept. Their
 * first 512 bytes (an HDF5 user block) are a text header with the length and
 * XXH64 of the rest (src/ckpt.c), checked before HDF5 reads the file. */
#ifndef REPRODIST_CKPT_H
#define REPRODIST_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "model.h"
#include "piece.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What identifies the run a checkpoint belongs to. */
typedef struct rd_ckpt_ident {
  uint64_t config_digest;
  const char *config_text; /* rd_cfg_canonical_resumable: a mismatch names the keys that differ */
  const char *fingerprint;
  const char *plugins;   /* "name@xxh64,..." of the layer plugins, or NULL / "" */
  uint64_t legacy_digest; /* another config digest that names the same run (0: none): that of a release
                             before a key's default changed (rd_cfg_digest_resumable_without) */
  /* When a checkpoint's config text has no line for legacy_key (NULL: none), it
   * was made under that key's old default: a refusal then says legacy_note
   * before the keys that differ, and legacy_advice instead of the usual advice. */
  const char *legacy_key, *legacy_note, *legacy_advice;
} rd_ckpt_ident;

/* 1 if path is a file that starts with a reprodist checkpoint's header. */
int rd_ckpt_is_checkpoint(const char *path);
/* 1 if name (no directory) is a checkpoint's name, ckpt-<12 digits>.h5; sets
 * *step (if not NULL) to its step. */
int rd_ckpt_is_name(const char *name, uint64_t *step);

/* Collective: every rank sees the same files in dir (made if missing), as a
 * sharded optimizer's checkpoints need (each rank writes and reads its part);
 * else an error naming the first rank that does not. */
rd_status rd_ckpt_check_shared(const char *dir, rd_err *err);
/* Writes <dir>/ckpt-<step>.h5 with every piece of ps, each a dataset of its
 * name. Collective: rank 0 writes, or with sharded pieces (piece.h) every rank
 * writes its slabs through parallel HDF5. On success *path_out (if given, n
 * bytes) holds the file name. */
rd_status rd_ckpt_write(const char *dir, int keep, uint64_t step, const rd_model *m, const rd_pieces *ps,
                        const rd_ckpt_ident *id, char *path_out, size_t n, rd_err *err);

/* Collective (rank 0 reads and checks, everyone receives). `path` is a file, or
 * "latest" for the newest checkpoint in dir. Fills every piece of ps from the
 * dataset of its name. Refuses (RD_EINPUT) a file that fails its checksum,
 * belongs to another model or config, or lacks a piece or holds it at another
 * size (naming it). A sharded piece: rank 0 checks it streamed from the file,
 * and every rank reads its own slab from the file whose header rank 0 read. */
rd_status rd_ckpt_read(const char *path, const char *dir, const rd_model *m, const rd_pieces *ps,
                       const rd_ckpt_ident *id, char *path_out, size_t n, rd_err *err);

/* XXH64 of the model's tensor layout (names, shapes, trainable or not, in order). */
uint64_t rd_ckpt_model_digest(const rd_model *m);

#ifdef __cplusplus
}
#endif
#endif
