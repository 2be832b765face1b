/* Internal to src/lib/image/layer_*.c: the state one layer extraction shares between the
 * stream pipeline (layer_apply.c) and the entry writer (layer_entry.c). */
#ifndef BERTH_IMAGE_LAYER_PRIV_H
#define BERTH_IMAGE_LAYER_PRIV_H

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "image/archive_dl.h"
#include "base/error.h"
#include "image/layer.h"

struct layer_dirtime {
  char *path;               /* normalized, "" for the root */
  struct timespec ts[2];    /* atime, mtime */
};

struct layer_apply_ctx {
  int rootfd;               /* the layer root, as given by the caller */
  uint64_t max_bytes;       /* resolved limits */
  uint64_t max_ratio;
  uint64_t max_entries;
  /* the parent directory of the previous entry (entries come grouped by directory) */
  char *parent_path;
  int parent_fd;
  bool removed;             /* this entry removed something: forget the parent after it */
  bool plain;               /* berth_tar_extract: no whiteouts, root entry skipped, dirs kept */
  /* directories whose times are set after everything else was written */
  struct layer_dirtime *dirs;
  size_t n_dirs, cap_dirs;
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
