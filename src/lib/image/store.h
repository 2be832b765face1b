/* The content store: blobs by digest under <root>/blobs/sha256/<hex>, written to a temporary
 * name, verified, renamed into place (a crash leaves either no blob or the whole blob; a blob
 * file is never partial). Extracted layers under <root>/layers/<chain-id hex>/diff, made
 * in <root>/tmp and renamed into place the same way. The catalogue of what exists (rows,
 * reference counts, tags) is the SQLite database of engine/catalogue/catalogue.h. */
#ifndef BERTH_IMAGE_STORE_H
#define BERTH_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "image/digest.h"

struct berth_store {
  char *root;       /* /var/lib/berth */
  int rootfd;       /* O_PATH|O_DIRECTORY */
  bool sync_layers; /* syncfs(2) a staged layer before renaming it into place (off by default:
                       power-loss safety for layer files costs their whole write-out) */
};

/* creates <root>, blobs/sha256, layers and tmp (all 0700) when missing, tightens them when looser */
int berth_store_open(const char *root, struct berth_store **out, berth_error_t *err) BERTH_WUR;
void berth_store_close(struct berth_store *s);

/* ---- blobs ---- */
typedef struct berth_blob_writer berth_blob_writer_t;
int berth_blob_writer_new(struct berth_store *s, berth_blob_writer_t **out, berth_error_t *err) BERTH_WUR;
int berth_blob_write(berth_blob_writer_t *w, const void *data, size_t len, berth_error_t *err) BERTH_WUR;
/* Finish: digest computed while writing; when expected != NULL it must match (else error
 * "digest mismatch: expected X, got Y" and nothing is left). digest_out may be NULL. */
int berth_blob_writer_commit(berth_blob_writer_t *w, const char *expected,
                             char digest_out[BERTH_DIGEST_LEN + 1], uint64_t *size_out,
                             berth_error_t *err) BERTH_WUR;
/* drop the temporary file; safe after commit (no-op) and on NULL */
void berth_blob_writer_free(berth_blob_writer_t *w);

int berth_store_put_bytes(struct berth_store *s, const void *data, size_t len, const char *expected,
                          char digest_out[BERTH_DIGEST_LEN + 1], berth_error_t *err) BERTH_WUR;
bool berth_store_has_blob(struct berth_store *s, const char *digest);
/* read-only fd of a blob (O_CLOEXEC) */
int berth_store_open_blob(struct berth_store *s, const char *digest, berth_error_t *err) BERTH_WUR;
/* whole blob (at most max bytes, 0: 64 MiB), NUL-terminated, verified against its digest */
int berth_store_read_blob(struct berth_store *s, const char *digest, size_t max, char **data, size_t *len,
                          berth_error_t *err) BERTH_WUR;
/* NULL for an invalid digest */
char *berth_store_blob_path(struct berth_store *s, const char *digest);
/* a missing blob is not an error */
int berth_store_remove_blob(struct berth_store *s, const char *digest, berth_error_t *err) BERTH_WUR;

/* ---- extracted layers (by chain id) ---- */
/* <root>/layers/<hex>: the layer directory (its contents are in <dir>/diff); NULL for an invalid id */
char *berth_store_layer_dir(struct berth_store *s, const char *chain_id);
bool berth_store_has_layer(struct berth_store *s, const char *chain_id);
/* a fresh staging directory <root>/tmp/layer-<random> (0700) holding an empty diff/ (0755) to
 * apply the layer into (path returned; remove it with berth_rm_rf on failure) */
char *berth_store_mkstage(struct berth_store *s, berth_error_t *err) BERTH_WUR;
/* rename a staged layer dir into place (fails with EEXIST if present: the caller keeps the
 * existing one and removes the stage) */
int berth_store_commit_layer(struct berth_store *s, const char *stage, const char *chain_id,
                             berth_error_t *err) BERTH_WUR;
/* renamed out of layers/ at once, then removed; a missing layer is not an error */
int berth_store_remove_layer(struct berth_store *s, const char *chain_id, berth_error_t *err) BERTH_WUR;

/* chain ID (OCI image-spec): chain(L1) = diffid(L1); chain(Ln) = sha256(chain(Ln-1) + " " + diffid(Ln)) */
void berth_chain_id(const char *parent_chain, const char *diff_id, char out[BERTH_DIGEST_LEN + 1]);

#endif
