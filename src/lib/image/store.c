/* The content store on disk.
 *
 * Layout and modes: <root>, blobs/, blobs/sha256/, layers/, each layers/<hex>/ and tmp/ are
 * 0700, root's alone: a layer's files (setuid binaries, device nodes) are reachable by other
 * users through no path (CVE-2021-41091; docs/security.md). Overlay reaches the diff dirs
 * with the mounter's credentials, and a container sees them only through its mount, so nobody
 * else needs to traverse. Existing directories with looser modes are tightened on open.
 * layers/<hex>/diff is 0755 until the layer's own "./" entry sets it.
 *
 * Blobs are written to an O_TMPFILE in tmp/ (a named temporary file where the filesystem
 * has no O_TMPFILE), hashed while written, fsync'd, and linked (renamed) into
 * blobs/sha256/<hex>; the directory is fsync'd after. A crash therefore leaves no partial
 * blob and, with O_TMPFILE, no temporary file either. Cost: two fsyncs per blob (a few
 * ms on a disk with a write cache, independent of the blob size once the data is written
 * back), small next to downloading or decompressing the blob.
 *
 * Layer directories are extracted in tmp/layer-<random> and renamed into layers/<hex>
 * with RENAME_NOREPLACE. Their files are not fsync'd one by one (no peer does: it would
 * cost more than the extraction); set sync_layers for a syncfs(2) before the rename. */
#include "image/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/privdir.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

struct berth_blob_writer {
  struct berth_store *s;
  int fd;
  char *tmpname; /* in tmp/; NULL for an O_TMPFILE */
  berth_digester_t *dg;
  uint64_t size;
};

static const struct {
  const char *path;
  mode_t mode;
} store_dirs[] = {
  { "blobs", 0700 },
  { "blobs/sha256", 0700 },
  { "layers", 0700 },
  { "tmp", 0700 },
};

int berth_store_open(const char *root, struct berth_store **out, berth_error_t *err)
{
  if (root == NULL || root[0] == '\0')
    return BERTH_ERR(err, "open store: empty root path");
  if (berth_privdir_ensure(root, 0700, err) < 0)
    return berth_error_wrap(err, "open store `%s`", root);
  cleanup_close int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open store `%s`", root);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(store_dirs); i++)
    if (berth_privdir_ensure_at(fd, store_dirs[i].path, store_dirs[i].mode, NULL, err) < 0)
      return berth_error_wrap(err, "open store `%s`", root);
  struct berth_store *s = xmalloc0(sizeof *s);
  s->root = xstrdup(root);
  s->rootfd = steal_fd(fd);
  *out = s;
  return 0;
}

void berth_store_close(struct berth_store *s)
{
  if (s == NULL)
    return;
  if (s->rootfd >= 0)
    close(s->rootfd);
  free(s->root);
  free(s);
}

static BERTH_WUR int open_subdir(struct berth_store *s, const char *sub, berth_error_t *err)
{
  int fd = openat(s->rootfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "store `%s`: open `%s`", s->root, sub);
  return fd;
}

/* 12 random hex characters for temporary names */
static void random_suffix(char out[13])
{
  unsigned char b[6];
  if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long v = (unsigned long) ts.tv_nsec ^ ((unsigned long) getpid() << 20);
    memcpy(b, &v, sizeof b);
  }
  for (size_t i = 0; i < sizeof b; i++)
    snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static char *blob_rel(const char *digest) { return xasprintf("blobs/sha256/%s", berth_digest_hex(digest)); }

/* ---- blobs ---- */

int berth_blob_writer_new(struct berth_store *s, berth_blob_writer_t **out, berth_error_t *err)
{
  cleanup_close int tmpfd = open_subdir(s, "tmp", err);
  if (tmpfd < 0)
    return -1;
  cleanup_free char *name = NULL;
  int fd = openat(tmpfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
      char rnd[13];
      random_suffix(rnd);
      free(name);
      name = xasprintf("blob-%s", rnd);
      fd = openat(tmpfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EEXIST)
        break;
    }
  }
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "store `%s`: create a temporary blob in `tmp`", s->root);
  berth_blob_writer_t *w = xmalloc0(sizeof *w);
  w->s = s;
  w->fd = fd;
  w->tmpname = steal_ptr(name);
  w->dg = berth_digester_new();
  *out = w;
  return 0;
}

int berth_blob_write(berth_blob_writer_t *w, const void *data, size_t len, berth_error_t *err)
{
  if (w->fd < 0)
    return BERTH_ERR(err, "write blob: writer already finished");
  if (berth_write_all(w->fd, data, len) < 0)
    return BERTH_ERR_ERRNO(err, "store `%s`: write blob", w->s->root);
  berth_digester_update(w->dg, data, len);
  w->size += len;
  return 0;
}

/* drop the temporary file (an O_TMPFILE vanishes with its descriptor) */
static void discard_temp(berth_blob_writer_t *w)
{
  if (w->tmpname != NULL) {
    int tmpfd = openat(w->s->rootfd, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (tmpfd >= 0) {
      unlinkat(tmpfd, w->tmpname, 0);
      close(tmpfd);
    }
    free(w->tmpname);
    w->tmpname = NULL;
  }
  if (w->fd >= 0)
    close(w->fd);
  w->fd = -1;
}

/* put the verified temporary file in place under blobs/sha256/<hex> */
static BERTH_WUR int link_blob(berth_blob_writer_t *w, int blobsfd, const char *hex, berth_error_t *err)
{
  if (w->tmpname != NULL) {
    cleanup_close int tmpfd = open_subdir(w->s, "tmp", err);
    if (tmpfd < 0)
      return -1;
    if (renameat(tmpfd, w->tmpname, blobsfd, hex) < 0)
      return BERTH_ERR_ERRNO(err, "store `%s`: rename blob into `blobs/sha256/%s`", w->s->root, hex);
    free(w->tmpname);
    w->tmpname = NULL;
    return 0;
  }
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", w->fd);
  int r = linkat(AT_FDCWD, proc, blobsfd, hex, AT_SYMLINK_FOLLOW);
  if (r < 0 && errno == ENOENT)
    r = linkat(w->fd, "", blobsfd, hex, AT_EMPTY_PATH);
  if (r < 0 && errno != EEXIST) /* EEXIST: the same content is already there */
    return BERTH_ERR_ERRNO(err, "store `%s`: link blob into `blobs/sha256/%s`", w->s->root, hex);
  return 0;
}

int berth_blob_writer_commit(berth_blob_writer_t *w, const char *expected,
                             char digest_out[BERTH_DIGEST_LEN + 1], uint64_t *size_out, berth_error_t *err)
{
  if (w->fd < 0)
    return BERTH_ERR(err, "commit blob: writer already finished");
  if (expected != NULL && berth_digest_validate(expected, err) < 0)
    return berth_error_wrap(err, "commit blob");
  char got[BERTH_DIGEST_LEN + 1];
  berth_digester_final(w->dg, got);
  if (expected != NULL && strcmp(expected, got) != 0) {
    discard_temp(w);
    return BERTH_ERR(err, "digest mismatch: expected %s, got %s", expected, got);
  }
  if (fsync(w->fd) < 0)
    return BERTH_ERR_ERRNO(err, "store `%s`: fsync blob %s", w->s->root, got);
  cleanup_close int blobsfd = open_subdir(w->s, "blobs/sha256", err);
  if (blobsfd < 0 || link_blob(w, blobsfd, berth_digest_hex(got), err) < 0)
    return -1;
  if (fsync(blobsfd) < 0)
    return BERTH_ERR_ERRNO(err, "store `%s`: fsync `blobs/sha256`", w->s->root);
  close(w->fd);
  w->fd = -1;
  if (digest_out != NULL)
    memcpy(digest_out, got, sizeof got);
  if (size_out != NULL)
    *size_out = w->size;
  return 0;
}

void berth_blob_writer_free(berth_blob_writer_t *w)
{
  if (w == NULL)
    return;
  discard_temp(w);
  berth_digester_free(w->dg);
  free(w);
}

int berth_store_put_bytes(struct berth_store *s, const void *data, size_t len, const char *expected,
                          char digest_out[BERTH_DIGEST_LEN + 1], berth_error_t *err)
{
  berth_blob_writer_t *w = NULL;
  if (berth_blob_writer_new(s, &w, err) < 0)
    return -1;
  int r = berth_blob_write(w, data, len, err);
  if (r == 0)
    r = berth_blob_writer_commit(w, expected, digest_out, NULL, err);
  berth_blob_writer_free(w);
  return r;
}

bool berth_store_has_blob(struct berth_store *s, const char *digest)
{
  berth_error_t err = NULL;
  if (berth_digest_validate(digest, &err) < 0) {
    berth_error_release(&err);
    return false;
  }
  cleanup_free char *rel = blob_rel(digest);
  struct stat st;
  return fstatat(s->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int berth_store_open_blob(struct berth_store *s, const char *digest, berth_error_t *err)
{
  if (berth_digest_validate(digest, err) < 0)
    return berth_error_wrap(err, "open blob");
  cleanup_free char *rel = blob_rel(digest);
  int fd = openat(s->rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open blob %s", digest);
  return fd;
}

int berth_store_read_blob(struct berth_store *s, const char *digest, size_t max, char **data, size_t *len,
                          berth_error_t *err)
{
  if (berth_digest_validate(digest, err) < 0)
    return berth_error_wrap(err, "read blob");
  cleanup_free char *rel = blob_rel(digest);
  cleanup_free char *buf = NULL;
  size_t n = 0;
  if (berth_read_file_at(s->rootfd, rel, max, &buf, &n, err) < 0)
    return berth_error_wrap(err, "read blob %s", digest);
  char got[BERTH_DIGEST_LEN + 1];
  berth_digest_bytes(buf, n, got);
  if (strcmp(got, digest) != 0)
    return BERTH_ERR(err, "read blob %s: content does not match its digest (got %s): the store is corrupt",
                     digest, got);
  *data = steal_ptr(buf);
  if (len != NULL)
    *len = n;
  return 0;
}

char *berth_store_blob_path(struct berth_store *s, const char *digest)
{
  berth_error_t err = NULL;
  if (berth_digest_validate(digest, &err) < 0) {
    berth_error_release(&err);
    return NULL;
  }
  return xasprintf("%s/blobs/sha256/%s", s->root, berth_digest_hex(digest));
}

int berth_store_remove_blob(struct berth_store *s, const char *digest, berth_error_t *err)
{
  if (berth_digest_validate(digest, err) < 0)
    return berth_error_wrap(err, "remove blob");
  cleanup_free char *rel = blob_rel(digest);
  if (unlinkat(s->rootfd, rel, 0) < 0 && errno != ENOENT)
    return BERTH_ERR_ERRNO(err, "remove blob %s", digest);
  return 0;
}

/* ---- extracted layers ---- */

char *berth_store_layer_dir(struct berth_store *s, const char *chain_id)
{
  berth_error_t err = NULL;
  if (berth_digest_validate(chain_id, &err) < 0) {
    berth_error_release(&err);
    return NULL;
  }
  return xasprintf("%s/layers/%s", s->root, berth_digest_hex(chain_id));
}

bool berth_store_has_layer(struct berth_store *s, const char *chain_id)
{
  berth_error_t err = NULL;
  if (berth_digest_validate(chain_id, &err) < 0) {
    berth_error_release(&err);
    return false;
  }
  cleanup_free char *rel = xasprintf("layers/%s/diff", berth_digest_hex(chain_id));
  struct stat st;
  return fstatat(s->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

char *berth_store_mkstage(struct berth_store *s, berth_error_t *err)
{
  cleanup_close int tmpfd = open_subdir(s, "tmp", err);
  if (tmpfd < 0)
    return NULL;
  for (int tries = 0; tries < 100; tries++) {
    char rnd[13];
    random_suffix(rnd);
    cleanup_free char *name = xasprintf("layer-%s", rnd);
    if (mkdirat(tmpfd, name, 0700) < 0) {
      if (errno == EEXIST)
        continue;
      BERTH_ERR_ERRNO(err, "store `%s`: mkdir `tmp/%s`", s->root, name);
      return NULL;
    }
    cleanup_free char *diff = xasprintf("%s/diff", name);
    if (mkdirat(tmpfd, diff, 0755) < 0) {
      BERTH_ERR_ERRNO(err, "store `%s`: mkdir `tmp/%s`", s->root, diff);
      unlinkat(tmpfd, name, AT_REMOVEDIR);
      return NULL;
    }
    return xasprintf("%s/tmp/%s", s->root, name);
  }
  BERTH_ERR(err, "store `%s`: no free staging name in `tmp`", s->root);
  return NULL;
}

/* the stage's name inside tmp/, or NULL when it is not a direct child of <root>/tmp */
static const char *stage_name(struct berth_store *s, const char *stage)
{
  size_t n = strlen(s->root);
  if (strncmp(stage, s->root, n) != 0 || strncmp(stage + n, "/tmp/", 5) != 0)
    return NULL;
  const char *name = stage + n + 5;
  if (*name == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return NULL;
  return name;
}

int berth_store_commit_layer(struct berth_store *s, const char *stage, const char *chain_id,
                             berth_error_t *err)
{
  if (berth_digest_validate(chain_id, err) < 0)
    return berth_error_wrap(err, "commit layer");
  const char *name = stage_name(s, stage);
  if (name == NULL)
    return BERTH_ERR(err, "commit layer %s: `%s` is not a staging directory of `%s/tmp`", chain_id, stage,
                     s->root);
  cleanup_close int tmpfd = open_subdir(s, "tmp", err);
  if (tmpfd < 0)
    return -1;
  cleanup_close int layersfd = open_subdir(s, "layers", err);
  if (layersfd < 0)
    return -1;
  if (s->sync_layers) {
    cleanup_close int sfd = openat(tmpfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0 || syncfs(sfd) < 0)
      return BERTH_ERR_ERRNO(err, "commit layer %s: sync `%s`", chain_id, stage);
  }
  if (renameat2(tmpfd, name, layersfd, berth_digest_hex(chain_id), RENAME_NOREPLACE) < 0) {
    if (errno == EEXIST)
      return BERTH_ERR_ERRNO(err, "commit layer %s: already present", chain_id);
    return BERTH_ERR_ERRNO(err, "commit layer %s: rename `%s` into `layers`", chain_id, stage);
  }
  if (fsync(layersfd) < 0)
    return BERTH_ERR_ERRNO(err, "commit layer %s: fsync `layers`", chain_id);
  return 0;
}

int berth_store_remove_layer(struct berth_store *s, const char *chain_id, berth_error_t *err)
{
  if (berth_digest_validate(chain_id, err) < 0)
    return berth_error_wrap(err, "remove layer");
  cleanup_close int tmpfd = open_subdir(s, "tmp", err);
  if (tmpfd < 0)
    return -1;
  cleanup_close int layersfd = open_subdir(s, "layers", err);
  if (layersfd < 0)
    return -1;
  /* rename out of layers/ first: the layer disappears at once, the slow removal follows */
  char rnd[13];
  random_suffix(rnd);
  cleanup_free char *name = xasprintf("rm-%s", rnd);
  if (renameat(layersfd, berth_digest_hex(chain_id), tmpfd, name) < 0) {
    if (errno == ENOENT)
      return 0;
    return BERTH_ERR_ERRNO(err, "remove layer %s", chain_id);
  }
  cleanup_free char *path = xasprintf("%s/tmp/%s", s->root, name);
  if (berth_rm_rf(path, err) < 0)
    return berth_error_wrap(err, "remove layer %s", chain_id);
  return 0;
}

void berth_chain_id(const char *parent_chain, const char *diff_id, char out[BERTH_DIGEST_LEN + 1])
{
  if (parent_chain == NULL || parent_chain[0] == '\0') {
    snprintf(out, BERTH_DIGEST_LEN + 1, "%s", diff_id);
    return;
  }
  cleanup_free char *s = xasprintf("%s %s", parent_chain, diff_id);
  berth_digest_bytes(s, strlen(s), out);
}
