/* The build cache: a step's key to the image it made, one small file each under
 * <root>/builds/cache (written to a new file and renamed into place, so a reader sees a whole
 * entry or none, and two builds writing one key leave one of two equivalent entries); and
 * `builder prune`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/builds/builds_internal.h"

void bld_key(const char *parent, const char *text, const char *extra, char out[BLD_KEY_LEN + 1])
{
  struct berth_sha256_ctx c;
  uint8_t d[BERTH_SHA256_LEN];
  berth_sha256_init(&c);
  const char *parts[] = { "berth-build-v1", parent ? parent : "", text ? text : "", extra ? extra : "" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(parts); i++) {
    char len[32];
    int n = snprintf(len, sizeof len, "\n%zu\n", strlen(parts[i]));
    berth_sha256_update(&c, len, (size_t) n);
    berth_sha256_update(&c, parts[i], strlen(parts[i]));
  }
  berth_sha256_final(&c, d);
  berth_sha256_hex(d, out);
}

static char *entry_path(const struct berth_engine *e, const char *key)
{
  return xasprintf("%s/builds/cache/%s", e->root, key);
}

int bld_cache_get(struct bld *b, const char *key, berth_digest_t image)
{
  cleanup_free char *path = entry_path(b->e, key), *text = NULL;
  if (BLD_TRY(berth_read_file(path, 4096, &text, NULL, BLD_Q)) < 0)
    return 0;
  text[strcspn(text, "\n")] = '\0';
  struct berth_db_image img = { 0 };
  int r = BLD_TRY(berth_db_image_get(b->e->db, text, &img, BLD_Q));
  berth_db_image_release(&img);
  if (r <= 0) /* its image was removed: a miss */
    return 0;
  snprintf(image, sizeof(berth_digest_t), "%s", text);
  return 1;
}

void bld_cache_put(struct bld *b, const char *key, const char *image)
{
  cleanup_free char *dir = xasprintf("%s/builds/cache", b->e->root), *path = entry_path(b->e, key);
  cleanup_free char *text = xasprintf("%s\n", image);
  if (BLD_TRY(berth_mkdir_p(dir, 0700, BLD_Q)) < 0)
    return;
  /* a cache that cannot be written is a slower next build, not a failed one */
  berth_ignore(berth_write_file_atomic(path, text, strlen(text), 0600, BERTH_IGNORED));
}

/* ---- builder prune ---- */

/* the names in a directory (without . and ..) */
static char **dir_names(const char *path)
{
  char **v = xcalloc(1, sizeof(char *));
  cleanup_dir DIR *d = opendir(path);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      v = berth_strv_append(v, de->d_name);
  return v;
}

/* remove the images of the cache that nothing else keeps: untagged, no child, no container;
 * rmi takes their untagged parents along. Repeated while it frees something. */
static void prune_images(struct berth_engine *e, char **ids, uint64_t *reclaimed)
{
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; ids[i]; i++) {
      if (*ids[i] == '\0')
        continue;
      struct berth_db_image img = { 0 };
      cleanup_strv char **children = NULL, **tags = NULL;
      int64_t ctrs = 0;
      int r = BLD_TRY(berth_db_image_get(e->db, ids[i], &img, BLD_Q));
      uint64_t size = img.size;
      berth_db_image_release(&img);
      if (r <= 0) {
        *ids[i] = '\0';
        continue;
      }
      if (BLD_TRY(berth_db_image_children(e->db, ids[i], &children, BLD_Q)) < 0 || children[0] ||
          BLD_TRY(berth_db_image_containers(e->db, ids[i], &ctrs, BLD_Q)) < 0 || ctrs ||
          BLD_TRY(berth_db_tags_of(e->db, ids[i], &tags, BLD_Q)) < 0 || tags[0])
        continue;
      struct berth_rmi_opts ro = { .force = false };
      cleanup_strv char **events = NULL;
      if (BLD_TRY(berth_images_remove(e, ids[i], &ro, &events, BLD_Q)) == 0) {
        *reclaimed += size;
        *ids[i] = '\0';
        progress = true;
      }
    }
  }
}

int berth_builds_prune(struct berth_engine *e, uint64_t *entries, uint64_t *reclaimed, berth_error_t *err)
{
  *entries = *reclaimed = 0;
  cleanup_free char *cache = xasprintf("%s/builds/cache", e->root);
  cleanup_free char *mounts = xasprintf("%s/builds/mounts", e->root);
  cleanup_strv char **keys = dir_names(cache);
  char **ids = xcalloc(1, sizeof(char *));
  for (size_t i = 0; keys[i]; i++) {
    cleanup_free char *path = xasprintf("%s/%s", cache, keys[i]), *text = NULL;
    if (BLD_TRY(berth_read_file(path, 4096, &text, NULL, BLD_Q)) == 0) {
      text[strcspn(text, "\n")] = '\0';
      ids = berth_strv_append(ids, text);
    }
    if (unlink(path) == 0)
      (*entries)++;
  }
  prune_images(e, ids, reclaimed);
  berth_strv_free(ids);
  uint64_t size = 0;
  if (access(mounts, F_OK) == 0 && BLD_TRY(berth_engine_dir_size(mounts, &size, BLD_Q)) == 0)
    *reclaimed += size;
  if (berth_rm_rf(mounts, err) < 0)
    return -1;
  berth_strv_free(bld_sweep(e, true)); /* step directories of killed builds */
  return 0;
}

char **bld_sweep(struct berth_engine *e, bool remove)
{
  cleanup_free char *steps = xasprintf("%s/builds/steps", e->root);
  cleanup_strv char **names = dir_names(steps);
  char **left = xcalloc(1, sizeof(char *));
  for (size_t i = 0; names[i]; i++) {
    cleanup_free char *p = xasprintf("%s/%s", steps, names[i]);
    cleanup_close int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) /* a build in flight holds it */
      continue;
    if (!remove || BLD_TRY(berth_rm_rf(p, BLD_Q)) < 0)
      left = berth_strv_append(left, p);
  }
  return left;
}

int berth_builds_check(struct berth_engine *e, bool repair, struct berth_check_problem **v, size_t *n,
                       berth_error_t *err)
{
  (void) err;
  cleanup_strv char **found = bld_sweep(e, false);
  if (repair)
    berth_strv_free(bld_sweep(e, true));
  for (size_t i = 0; found[i]; i++) {
    *v = xreallocarray(*v, *n + 1, sizeof **v);
    (*v)[(*n)++] = (struct berth_check_problem){
      .what = xasprintf("step directory `%s` of a build that was killed", found[i]),
      .repairable = true,
      .repaired = repair && access(found[i], F_OK) != 0,
    };
  }
  return 0;
}
