/* A container's changes (issue 16): `berth diff` lists them, `berth commit` makes them an image.
 * Above containers/ and images/: a running container's upper dir is read where it is (it is a
 * plain directory of the host; only the merged tree lives in the monitor's namespace), paused
 * while it is committed unless asked not to. */
#ifndef BERTH_ENGINE_COMMIT_COMMIT_H
#define BERTH_ENGINE_COMMIT_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "base/error.h"
#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"

/* ---- diff ---- */
enum berth_change_kind { BERTH_CHANGE_MODIFY, BERTH_CHANGE_ADD, BERTH_CHANGE_DELETE };
struct berth_change {
  enum berth_change_kind kind;
  char *path; /* "/etc/hosts" */
};
void berth_changes_free(struct berth_change *v, size_t n);
/* "C", "A", "D" */
char berth_change_letter(enum berth_change_kind k);
/* Docker's rules for one entry of the upper dir (pure): a whiteout (0:0 char device) is deleted;
 * an entry no lower layer has is added; one a lower layer has is modified — except a directory
 * whose size, mode and mtime are the lower one's (it is only there as the parent of a change).
 * lower: the first lower layer's entry at that path (NULL: none). Returns 0: not a change. */
int berth_change_classify(const struct stat *upper, const struct stat *lower, enum berth_change_kind *kind);

/* `berth diff CONTAINER`: the changes in the order Docker lists them (a walk of the upper dir in
 * lexical order; the parent of an addition or deletion is modified) */
int berth_commit_changes(struct berth_engine *e, const char *what, struct berth_change **out, size_t *n,
                         berth_error_t *err) BERTH_WUR;

/* ---- commit ---- */
struct berth_commit_opts {
  const char *reference; /* REPOSITORY[:TAG] or NULL */
  const char *author;    /* -a */
  const char *message;   /* -m */
  char *const *changes;  /* -c */
  bool pause;            /* --pause (Docker's default: true) */
};
/* The container's changes as a new image on top of its image, with its config (Cmd, Env,
 * Entrypoint, WorkingDir, User, Labels, ExposedPorts, Volumes, StopSignal, Healthcheck) and the
 * changes; a `commit` event. */
int berth_commit_container(struct berth_engine *e, const char *what, const struct berth_commit_opts *o,
                           berth_digest_t id, berth_error_t *err) BERTH_WUR;

#endif
