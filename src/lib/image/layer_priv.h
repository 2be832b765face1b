/* Internal to src/lib/image/layer_*.c: the state one layer extraction shares between the
 * stream pipeline (layer_apply.c) and the entry writer (layer_entry.c). */
#ifndef BERTH_IMAGE_LAYER_PRIV_H
#define BERTH_IMAGE_LAYER_PRIV_H

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "image/archive_dl.h"
#include "base/error.h"
#include "image/layer.h"

struct layer_dirtime {
  char *path;            /* normalized, "" for the root */
  struct timespec ts[2]; /* atime, mtime */
};

/* berth_tar_extract's undo journal (layer_journal.c) */
enum layer_undo_kind {
  LAYER_UNDO_CREATED,   /* parent/name was created: remove it */
  LAYER_UNDO_SET_ASIDE, /* parent/name was renamed to parent/aside: rename it back */
  LAYER_UNDO_META,      /* the directory `parent` (name ".") had st's owner, mode and times */
};

struct layer_undo_xattr {
  char *name;
  void *value; /* NULL: the directory did not have it */
  size_t len;
};

struct layer_undo {
  enum layer_undo_kind kind;
  char *parent; /* relative to the root, "" for the root itself */
  char *name;
  char *aside;
  struct stat st;
  struct layer_undo_xattr *xattrs; /* META: the values an entry's xattrs replace */
  size_t n_xattrs;
};

struct layer_apply_ctx {
  int rootfd;         /* the layer root, as given by the caller */
  uint64_t max_bytes; /* resolved limits */
  uint64_t max_ratio;
  uint64_t max_entries;
  /* the parent directory of the previous entry (entries come grouped by directory) */
  char *parent_path;
  int parent_fd;
  bool removed; /* this entry removed something: forget the parent after it */
  bool plain;   /* berth_tar_extract: no whiteouts, root entry skipped, dirs kept */
  /* directories whose times are set after everything else was written */
  struct layer_dirtime *dirs;
  size_t n_dirs, cap_dirs;
  /* plain only: what to undo if the extraction fails */
  struct layer_undo *undo;
  size_t n_undo, cap_undo;
  unsigned long n_aside;
  const char *entry_parent; /* the current entry's parent, relative to the root */
  char *journaled_parent;   /* the last parent whose owner, mode and times were saved */
};

void layer_ctx_init(struct layer_apply_ctx *c, int rootfd);
void layer_ctx_release(struct layer_apply_ctx *c);

/* Write one archive entry (its data read from a) below c->rootfd. Errors name nothing but
 * the problem; the caller adds the entry name. An error whose cause is the archive itself
 * returns -2 (the caller asks libarchive, or its pipeline, for the message). */
int layer_entry_apply(struct layer_apply_ctx *c, struct archive *a, struct archive_entry *e,
                      berth_error_t *err) BERTH_WUR;

/* the second pass: directory times, after their contents */
int layer_set_dir_times(struct layer_apply_ctx *c, berth_error_t *err) BERTH_WUR;

/* "./a//b/" -> "a/b" ("" for the root); refuses absolute names and ".." components */
int layer_normalize_name(const char *name, char **out, berth_error_t *err) BERTH_WUR;

/* the entry's name as libarchive decoded it (raw bytes when not convertible) */
const char *layer_entry_name(struct archive_entry *e);
const char *layer_entry_hardlink(struct archive_entry *e);

/* remove name (recursively for a directory) in parent, never following a symlink */
int layer_remove_at(int parent, const char *name, berth_error_t *err) BERTH_WUR;

/* The journal (plain mode; otherwise nothing is recorded and set_aside removes): record a
 * node this extraction created; move what an entry replaces aside (renamed within its
 * directory); save a directory's owner, mode and times (`dir` relative to the root) before
 * they change.
 * finish(ok) removes what was set aside, or (!ok) undoes everything in reverse order. */
void layer_journal_created(struct layer_apply_ctx *c, const char *parent, const char *name);
int layer_journal_set_aside(struct layer_apply_ctx *c, int parentfd, const char *parent, const char *name,
                            berth_error_t *err) BERTH_WUR;
int layer_journal_dir_meta(struct layer_apply_ctx *c, int fd, const char *dir, berth_error_t *err) BERTH_WUR;
/* layer_journal_dir_meta, and the directory's values (or absence) of the xattrs entry e is
 * about to set on it */
int layer_journal_dir_xattrs(struct layer_apply_ctx *c, int fd, const char *dir, struct archive_entry *e,
                             berth_error_t *err) BERTH_WUR;
void layer_journal_finish(struct layer_apply_ctx *c, bool ok);
/* parent/name was created by this extraction (plain mode) */
bool layer_journal_created_here(const struct layer_apply_ctx *c, const char *parent, const char *name);

/* names in pax records are UTF-8: archives are read and written in a UTF-8 locale (this
 * thread only). layer_utf8_begin returns what layer_utf8_end restores. */
struct layer_locale {
  locale_t utf8, old;
};
static inline struct layer_locale layer_utf8_begin(void)
{
  struct layer_locale l = { newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0), (locale_t) 0 };
  if (l.utf8 != (locale_t) 0)
    l.old = uselocale(l.utf8);
  return l;
}
static inline void layer_utf8_end(struct layer_locale l)
{
  if (l.utf8 != (locale_t) 0) {
    uselocale(l.old);
    freelocale(l.utf8);
  }
}

#endif
