/* `berth save` output: tar with fixed owners, modes and times (the same images give the same
 * bytes), or a directory. */
#include "image/archive_dl.h"
#include "engine/images/save_sink_internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/output.h"
#include "base/strutil.h"
#include "base/xalloc.h"

struct save_sink {
  struct archive *a; /* tar, or NULL */
  int dirfd;         /* directory sink */
  char *dir;
  bool made_dir; /* the sink made dir (removed again when the save fails) */
  int cur_fd;    /* file being written (directory sink) */
  char *cur_name;
  uint64_t cur_left;
  char **written;
};

int save_sink_tar(int out_fd, struct save_sink **out, berth_error_t *err)
{
  if (berth_archive_load(err) < 0)
    return -1;
  struct save_sink *s = xmalloc0(sizeof *s);
  s->dirfd = s->cur_fd = -1;
  s->written = xcalloc(1, sizeof(char *));
  s->a = archive_write_new();
  if (archive_write_set_format_pax_restricted(s->a) != ARCHIVE_OK ||
      archive_write_open_fd(s->a, out_fd) != ARCHIVE_OK) {
    BERTH_ERR(err, "write archive: %s", archive_error_string(s->a));
    save_sink_abort(s);
    return -1;
  }
  *out = s;
  return 0;
}

/* Everything in a directory sink is made relative to its descriptor: a symlink that another
 * user plants at dir, at a level under it (blobs, blobs/sha256) or at a file's name is refused
 * (RESOLVE_NO_SYMLINKS, O_NOFOLLOW, O_EXCL), never followed. */
int save_sink_dir(const char *dir, struct save_sink **out, berth_error_t *err)
{
  bool made = false;
  int fd = berth_output_mkdir(dir, 0755, &made, err);
  if (fd < 0)
    return -1;
  int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  for (struct dirent *de; d && (de = readdir(d)) != NULL;)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
      close(fd);
      return BERTH_ERR(err, "`%s` exists and is not empty", dir);
    }
  struct save_sink *s = xmalloc0(sizeof *s);
  s->dirfd = fd;
  s->cur_fd = -1;
  s->dir = xstrdup(dir);
  s->made_dir = made;
  s->written = xcalloc(1, sizeof(char *));
  *out = s;
  return 0;
}

/* the directory holding name (a path in the sink), reached without following any symlink;
 * *base is name's last component */
static BERTH_WUR int parent_of(struct save_sink *s, const char *name, const char **base, berth_error_t *err)
{
  const char *slash = strrchr(name, '/');
  *base = slash ? slash + 1 : name;
  cleanup_free char *dir = slash ? xstrndup(name, (size_t) (slash - name)) : xstrdup(".");
  int fd = berth_openat2(s->dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fd < 0 && errno == ELOOP)
    return berth_error_make(err, ELOOP, "`%s/%s` is a symlink or has one in its path: not followed", s->dir,
                            dir);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s/%s`", s->dir, dir);
  return fd;
}

static void save_sink_free(struct save_sink *s)
{
  if (s->a)
    archive_write_free(s->a);
  if (s->dirfd >= 0)
    close(s->dirfd);
  if (s->cur_fd >= 0)
    close(s->cur_fd);
  free(s->cur_name);
  free(s->dir);
  berth_strv_free(s->written);
  free(s);
}

/* a failed save leaves no part of its output in a directory sink: what it made, last first */
static void remove_written(struct save_sink *s)
{
  for (size_t i = berth_strv_len(s->written); i-- > 0;) {
    const char *base;
    berth_error_t ignored = NULL;
    cleanup_close int pfd = parent_of(s, s->written[i], &base, &ignored);
    berth_error_release(&ignored);
    if (pfd >= 0 && unlinkat(pfd, base, 0) < 0 && errno == EISDIR)
      (void) unlinkat(pfd, base, AT_REMOVEDIR);
  }
  if (s->made_dir)
    (void) rmdir(s->dir);
}

void save_sink_abort(struct save_sink *s)
{
  if (s == NULL)
    return;
  if (s->dirfd >= 0 && s->written)
    remove_written(s);
  save_sink_free(s);
}

int save_sink_close(struct save_sink *s, berth_error_t *err)
{
  int r = 0;
  if (s->a && archive_write_close(s->a) != ARCHIVE_OK)
    r = BERTH_ERR(err, "write archive: %s", archive_error_string(s->a));
  if (r < 0)
    save_sink_abort(s);
  else
    save_sink_free(s);
  return r;
}

int save_sink_has(struct save_sink *s, const char *name)
{
  for (char **p = s->written; *p; p++)
    if (strcmp(*p, name) == 0)
      return 1;
  return 0;
}

static struct archive_entry *entry(const char *name, mode_t type, mode_t perm, int64_t size)
{
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, perm);
  archive_entry_set_size(e, size);
  archive_entry_set_mtime(e, 0, 0);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  return e;
}

static BERTH_WUR int write_header(struct save_sink *s, struct archive_entry *e, berth_error_t *err)
{
  int r =
    archive_write_header(s->a, e) == ARCHIVE_OK
      ? 0
      : BERTH_ERR(err, "write archive entry `%s`: %s", archive_entry_pathname(e), archive_error_string(s->a));
  archive_entry_free(e);
  return r;
}

int save_sink_mkdir(struct save_sink *s, const char *name, berth_error_t *err)
{
  if (save_sink_has(s, name))
    return 0;
  if (s->a) {
    if (write_header(s, entry(name, AE_IFDIR, 0755, 0), err) < 0)
      return -1;
  } else {
    const char *base;
    cleanup_close int pfd = parent_of(s, name, &base, err);
    if (pfd < 0)
      return -1;
    if (mkdirat(pfd, base, 0755) < 0) /* the sink's dir was empty: nothing may be there */
      return BERTH_ERR_ERRNO(err, "create `%s/%s`", s->dir, name);
  }
  s->written = berth_strv_append(s->written, name);
  return 0;
}

int save_sink_begin(struct save_sink *s, const char *name, uint64_t size, berth_error_t *err)
{
  s->cur_left = size;
  free(s->cur_name);
  s->cur_name = xstrdup(name);
  if (s->a) {
    if (write_header(s, entry(name, AE_IFREG, 0444, (int64_t) size), err) < 0)
      return -1;
  } else {
    const char *base;
    cleanup_close int pfd = parent_of(s, name, &base, err);
    if (pfd < 0)
      return -1;
    s->cur_fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (s->cur_fd < 0)
      return BERTH_ERR_ERRNO(err, "create `%s/%s`", s->dir, name);
  }
  s->written = berth_strv_append(s->written, name);
  return 0;
}

int save_sink_data(struct save_sink *s, const void *data, size_t len, berth_error_t *err)
{
  if (len > s->cur_left)
    return BERTH_ERR(err, "write `%s`: more data than announced", s->cur_name);
  s->cur_left -= len;
  if (s->a) {
    if (archive_write_data(s->a, data, len) != (la_ssize_t) len)
      return BERTH_ERR(err, "write archive entry `%s`: %s", s->cur_name, archive_error_string(s->a));
    return 0;
  }
  if (berth_write_all(s->cur_fd, data, len) < 0)
    return BERTH_ERR_ERRNO(err, "write `%s/%s`", s->dir, s->cur_name);
  return 0;
}

int save_sink_end(struct save_sink *s, berth_error_t *err)
{
  if (s->cur_left != 0)
    return BERTH_ERR(err, "write `%s`: %llu bytes short of its size", s->cur_name,
                     (unsigned long long) s->cur_left);
  if (s->cur_fd >= 0) {
    int r = close(s->cur_fd);
    s->cur_fd = -1;
    if (r < 0)
      return BERTH_ERR_ERRNO(err, "close `%s/%s`", s->dir, s->cur_name);
  }
  return 0;
}

int save_sink_bytes(struct save_sink *s, const char *name, const void *data, size_t len, berth_error_t *err)
{
  if (save_sink_begin(s, name, len, err) < 0 || save_sink_data(s, data, len, err) < 0)
    return -1;
  return save_sink_end(s, err);
}

int save_sink_symlink(struct save_sink *s, const char *name, const char *target, const char *target_name,
                      berth_error_t *err)
{
  if (s->a) {
    struct archive_entry *e = entry(name, AE_IFLNK, 0777, 0);
    archive_entry_set_symlink(e, target);
    if (write_header(s, e, err) < 0)
      return -1;
  } else {
    const char *from, *to;
    cleanup_close int fromfd = parent_of(s, target_name, &from, err);
    if (fromfd < 0)
      return -1;
    cleanup_close int tofd = parent_of(s, name, &to, err);
    if (tofd < 0)
      return -1;
    if (linkat(fromfd, from, tofd, to, 0) < 0)
      return BERTH_ERR_ERRNO(err, "link `%s/%s`", s->dir, name);
  }
  s->written = berth_strv_append(s->written, name);
  return 0;
}
