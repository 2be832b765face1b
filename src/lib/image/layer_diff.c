/* An overlay upper directory to a layer tar: the reverse of layer apply.
 *
 *   walk (names sorted with strcmp, depth first) --entries--> tar writer (libarchive, pax)
 *   --tar bytes--> [diff ID digest] --> compressor (libarchive "raw" format with the gzip or
 *   zstd filter; none: straight through) --> [digest] --> out_fd
 *
 * Reproducible: the same tree gives the same bytes — sorted entries, mtimes truncated to
 * seconds (no atime/ctime, no user/group names), xattrs sorted by name, and a gzip header
 * without a timestamp or file name. Whiteouts (0:0 char devices) become empty ".wh.<name>"
 * files and opaque directories (trusted.overlay.opaque=y) get a "<dir>/.wh..wh..opq" entry
 * right after the directory itself; overlay's own trusted.overlay.* xattrs are not copied. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/archive_dl.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "image/layer.h"
#include "image/layer_priv.h"

#define COPY_BUF           (1 << 20)
#define XATTR_LIST_MAX_LEN 65536 /* the kernel's limit for a list */

struct seen_ino {
  dev_t dev;
  ino_t ino;
  char *path;
};

struct diff {
  int out_fd;
  enum berth_compression comp;
  struct archive *tar; /* writes the layer tar */
  struct archive *zip; /* compresses it (NULL: none) */
  berth_digester_t *zdg, *tdg;
  uint64_t zsize, tsize, entries;
  struct seen_ino *inos; /* regular files with more than one link */
  size_t n_inos;
  char *buf;
  berth_error_t werr; /* an error met inside a libarchive callback */
  bool plain;         /* berth_tar_write: the tree as it is, no whiteout or opaque marks */
};

static la_ssize_t out_write(struct archive *a, void *cd, const void *buf, size_t n)
{
  struct diff *d = cd;
  if (berth_write_all(d->out_fd, buf, n) < 0) {
    if (d->werr == NULL)
      BERTH_ERR_ERRNO(&d->werr, "write layer");
    archive_set_error(a, errno, "write layer");
    return -1;
  }
  berth_digester_update(d->zdg, buf, n);
  d->zsize += n;
  return (la_ssize_t) n;
}

static la_ssize_t tar_write(struct archive *a, void *cd, const void *buf, size_t n)
{
  struct diff *d = cd;
  berth_digester_update(d->tdg, buf, n);
  d->tsize += n;
  if (d->zip == NULL)
    return out_write(a, cd, buf, n);
  la_ssize_t w = archive_write_data(d->zip, buf, n);
  if (w < 0 || (size_t) w != n) {
    if (d->werr == NULL)
      BERTH_ERR(&d->werr, "compress layer: %s", archive_error_string(d->zip));
    archive_set_error(a, EIO, "compress layer");
    return -1;
  }
  return (la_ssize_t) n;
}

/* the error of a failed libarchive call: one met in our callbacks first */
static int write_fail(struct diff *d, struct archive *a, berth_error_t *err, const char *what)
{
  if (d->werr != NULL) {
    *err = steal_ptr(d->werr);
    return berth_error_wrap(err, "%s", what);
  }
  return BERTH_ERR(err, "%s: %s", what, archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

static BERTH_WUR int open_writers(struct diff *d, berth_error_t *err)
{
  if (berth_archive_load(err) < 0)
    return -1;
  if (d->comp != BERTH_COMPRESSION_NONE) {
    d->zip = archive_write_new();
    archive_write_set_format_raw(d->zip);
    int r = d->comp == BERTH_COMPRESSION_GZIP ? archive_write_add_filter_gzip(d->zip)
                                              : archive_write_add_filter_zstd(d->zip);
    if (r != ARCHIVE_OK)
      return BERTH_ERR(err, "libarchive lacks a built-in %s compressor",
                       d->comp == BERTH_COMPRESSION_GZIP ? "gzip" : "zstd");
    /* no timestamp in the gzip header: the same tree gives the same bytes */
    if (d->comp == BERTH_COMPRESSION_GZIP &&
        archive_write_set_filter_option(d->zip, "gzip", "timestamp", NULL) < 0)
      return write_fail(d, d->zip, err, "set up gzip");
    archive_write_set_bytes_in_last_block(d->zip, 1);
    if (archive_write_open(d->zip, d, NULL, out_write, NULL) != ARCHIVE_OK)
      return write_fail(d, d->zip, err, "open compressor");
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "layer.tar");
    archive_entry_set_filetype(e, AE_IFREG);
    r = archive_write_header(d->zip, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK)
      return write_fail(d, d->zip, err, "open compressor");
  }
  d->tar = archive_write_new();
  archive_write_set_format_pax_restricted(d->tar);
  /* xattrs as SCHILY.xattr records only (what Docker and GNU tar read; not twice) */
  if (archive_write_set_format_option(d->tar, "pax", "xattrheader", "SCHILY") < ARCHIVE_WARN)
    return write_fail(d, d->tar, err, "set up the tar writer");
  archive_write_set_bytes_per_block(d->tar, 64 << 10);
  archive_write_set_bytes_in_last_block(d->tar, 1);
  if (archive_write_open(d->tar, d, NULL, tar_write, NULL) != ARCHIVE_OK)
    return write_fail(d, d->tar, err, "open tar writer");
  return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

/* the sorted names of a directory */
static BERTH_WUR char **list_dir(int dirfd, size_t *n, berth_error_t *err)
{
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
  if (dir == NULL) {
    BERTH_ERR_ERRNO(err, "read directory");
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  char **v = NULL;
  size_t len = 0;
  struct dirent *de;
  while ((errno = 0, de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    v = xreallocarray(v, len + 2, sizeof *v);
    v[len++] = xstrdup(de->d_name);
    v[len] = NULL;
  }
  if (errno != 0) {
    BERTH_ERR_ERRNO(err, "read directory");
    berth_strv_free(v);
    return NULL;
  }
  if (len > 0)
    qsort(v, len, sizeof *v, cmp_names);
  *n = len;
  return v != NULL ? v : xcalloc(1, sizeof *v);
}

/* which xattrs go into a layer (the same set apply accepts) */
static bool xattr_exported(const char *name)
{
  if (berth_str_has_prefix(name, "trusted.overlay."))
    return false;
  return berth_str_has_prefix(name, "user.") || berth_str_has_prefix(name, "trusted.") ||
         strcmp(name, "security.capability") == 0 || strcmp(name, "system.posix_acl_access") == 0 ||
         strcmp(name, "system.posix_acl_default") == 0;
}

/* xattrs of <dir>/<name> (never following it) into the entry, sorted; *opaque for overlay's mark */
static BERTH_WUR int add_xattrs(struct diff *d, int dirfd, const char *name, struct archive_entry *e,
                                bool *opaque, berth_error_t *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dirfd, name);
  cleanup_free char *list = xmalloc(XATTR_LIST_MAX_LEN);
  ssize_t n = llistxattr(path, list, XATTR_LIST_MAX_LEN);
  if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
    return 0;
  if (n < 0)
    return BERTH_ERR_ERRNO(err, "list xattrs");
  cleanup_free const char **names = NULL;
  size_t k = 0;
  for (ssize_t i = 0; i < n; i += (ssize_t) strlen(list + i) + 1) {
    names = xreallocarray(names, k + 1, sizeof *names);
    names[k++] = list + i;
  }
  if (k > 0)
    qsort(names, k, sizeof *names, cmp_names);
  for (size_t i = 0; i < k; i++) {
    bool is_opaque = !d->plain && strcmp(names[i], "trusted.overlay.opaque") == 0;
    if (!is_opaque && !xattr_exported(names[i]))
      continue;
    ssize_t vn = lgetxattr(path, names[i], d->buf, COPY_BUF);
    if (vn < 0 && errno == ENODATA)
      continue;
    if (vn < 0)
      return BERTH_ERR_ERRNO(err, "read xattr `%s`", names[i]);
    if (is_opaque)
      *opaque = vn == 1 && d->buf[0] == 'y';
    else
      archive_entry_xattr_add_entry(e, names[i], d->buf, (size_t) vn);
  }
  return 0;
}

/* write the entry's header, then size bytes of data from datafd (when >= 0) */
static BERTH_WUR int emit(struct diff *d, struct archive_entry *e, int datafd, berth_error_t *err)
{
  if (archive_write_header(d->tar, e) < ARCHIVE_WARN)
    return write_fail(d, d->tar, err, "write entry");
  d->entries++;
  int64_t left = datafd >= 0 ? archive_entry_size(e) : 0;
  while (left > 0) {
    ssize_t n = read(datafd, d->buf, left < COPY_BUF ? (size_t) left : COPY_BUF);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "read");
    if (n == 0)
      break; /* the file shrank: the writer pads the entry with zeros */
    if (archive_write_data(d->tar, d->buf, (size_t) n) != n)
      return write_fail(d, d->tar, err, "write entry data");
    left -= n;
  }
  return 0;
}

static void set_common(struct archive_entry *e, const char *path, const struct stat *st)
{
  archive_entry_set_pathname(e, path);
  archive_entry_set_perm(e, st->st_mode & 07777);
  archive_entry_set_uid(e, st->st_uid);
  archive_entry_set_gid(e, st->st_gid);
  archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
}

/* an empty regular file: a whiteout or an opaque marker */
static BERTH_WUR int emit_marker(struct diff *d, const char *path, const struct stat *st, berth_error_t *err)
{
  struct archive_entry *e = archive_entry_new();
  set_common(e, path, st);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, 0);
  int r = emit(d, e, -1, err);
  archive_entry_free(e);
  return r;
}

static BERTH_WUR int walk(struct diff *d, int dirfd, const char *prefix, berth_error_t *err);

static BERTH_WUR int emit_dir(struct diff *d, int dirfd, const char *name, const char *path,
                              struct archive_entry *e, const struct stat *st, bool opaque, berth_error_t *err)
{
  cleanup_free char *slashed = xasprintf("%s/", path);
  archive_entry_set_pathname(e, slashed);
  archive_entry_set_filetype(e, AE_IFDIR);
  if (emit(d, e, -1, err) < 0)
    return berth_error_wrap(err, "`%s`", path);
  if (opaque) {
    cleanup_free char *opq = xasprintf("%s/.wh..wh..opq", path);
    if (emit_marker(d, opq, st, err) < 0)
      return berth_error_wrap(err, "`%s`", opq);
  }
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open directory `%s`", path);
  return walk(d, fd, path, err);
}

static BERTH_WUR int emit_file(struct diff *d, int dirfd, const char *name, const char *path,
                               struct archive_entry *e, const struct stat *st, berth_error_t *err)
{
  archive_entry_set_filetype(e, AE_IFREG);
  if (st->st_nlink > 1) {
    for (size_t i = 0; i < d->n_inos; i++)
      if (d->inos[i].dev == st->st_dev && d->inos[i].ino == st->st_ino) {
        archive_entry_set_hardlink(e, d->inos[i].path);
        archive_entry_set_size(e, 0);
        return emit(d, e, -1, err);
      }
    d->inos = xreallocarray(d->inos, d->n_inos + 1, sizeof *d->inos);
    d->inos[d->n_inos++] = (struct seen_ino){ st->st_dev, st->st_ino, xstrdup(path) };
  }
  /* The name may have been swapped since it was listed: in a running container (`cp -`), a
   * device node or a fifo the container made. Open the name as O_PATH, check that it is still
   * the regular file listed, and only then open that inode for reading. */
  cleanup_close int pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat now;
  if (pfd < 0 || fstat(pfd, &now) < 0)
    return BERTH_ERR_ERRNO(err, "open");
  if (!S_ISREG(now.st_mode) || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
    return BERTH_ERR(err, "changed while it was read: no longer the regular file listed");
  char buf[32];
  cleanup_close int fd =
    open(berth_fd_path(pfd, buf, sizeof buf), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open");
  archive_entry_set_size(e, st->st_size);
  return emit(d, e, fd, err);
}

static BERTH_WUR int emit_other(struct diff *d, int dirfd, const char *name, struct archive_entry *e,
                                const struct stat *st, berth_error_t *err)
{
  if (S_ISLNK(st->st_mode)) {
    char target[PATH_MAX + 1];
    ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "read symlink");
    target[n] = '\0';
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_symlink(e, target);
  } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
    archive_entry_set_filetype(e, S_ISCHR(st->st_mode) ? AE_IFCHR : AE_IFBLK);
    archive_entry_set_rdevmajor(e, major(st->st_rdev));
    archive_entry_set_rdevminor(e, minor(st->st_rdev));
  } else {
    archive_entry_set_filetype(e, AE_IFIFO);
  }
  archive_entry_set_size(e, 0);
  return emit(d, e, -1, err);
}

static BERTH_WUR int add_node_as(struct diff *d, int dirfd, const char *name, const char *prefix,
                                 const char *path, berth_error_t *err)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return BERTH_ERR_ERRNO(err, "stat `%s`", path);
  if (!d->plain && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
    cleanup_free char *wh = prefix[0] ? xasprintf("%s/.wh.%s", prefix, name) : xasprintf(".wh.%s", name);
    if (emit_marker(d, wh, &st, err) < 0)
      return berth_error_wrap(err, "`%s`", wh);
    return 0;
  }
  if (S_ISSOCK(st.st_mode)) {
    berth_log_warn("%s: socket `%s` skipped", d->plain ? "tar" : "diff layer", path);
    return 0;
  }
  struct archive_entry *e = archive_entry_new();
  set_common(e, path, &st);
  bool opaque = false;
  int r = add_xattrs(d, dirfd, name, e, &opaque, err);
  if (r == 0 && S_ISDIR(st.st_mode)) {
    r = emit_dir(d, dirfd, name, path, e, &st, opaque, err); /* its errors name their path */
    archive_entry_free(e);
    return r;
  }
  if (r == 0 && S_ISREG(st.st_mode))
    r = emit_file(d, dirfd, name, path, e, &st, err);
  else if (r == 0)
    r = emit_other(d, dirfd, name, e, &st, err);
  archive_entry_free(e);
  if (r < 0)
    return berth_error_wrap(err, "`%s`", path);
  return 0;
}

static BERTH_WUR int add_node(struct diff *d, int dirfd, const char *name, const char *prefix,
                              berth_error_t *err)
{
  cleanup_free char *path = prefix[0] ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
  return add_node_as(d, dirfd, name, prefix, path, err);
}

static int walk(struct diff *d, int dirfd, const char *prefix, berth_error_t *err)
{
  size_t n = 0;
  cleanup_strv char **names = list_dir(dirfd, &n, err);
  if (names == NULL)
    return berth_error_wrap(err, "`%s`", prefix[0] ? prefix : ".");
  for (size_t i = 0; i < n; i++)
    if (add_node(d, dirfd, names[i], prefix, err) < 0)
      return -1;
  return 0;
}

static BERTH_WUR int diff_stream(struct diff *d, int upper_dirfd, struct berth_layer_info *info,
                                 berth_error_t *err)
{
  if (open_writers(d, err) < 0 || walk(d, upper_dirfd, "", err) < 0)
    return -1;
  if (archive_write_close(d->tar) != ARCHIVE_OK)
    return write_fail(d, d->tar, err, "finish tar");
  if (d->zip != NULL && archive_write_close(d->zip) != ARCHIVE_OK)
    return write_fail(d, d->zip, err, "finish compression");
  if (info != NULL) {
    memset(info, 0, sizeof *info);
    berth_digester_final(d->tdg, info->diff_id);
    if (d->zip != NULL)
      berth_digester_final(d->zdg, info->digest);
    else
      memcpy(info->digest, info->diff_id, sizeof info->digest);
    info->size = d->zip != NULL ? d->zsize : d->tsize;
    info->tar_size = d->tsize;
    info->entries = d->entries;
  }
  return 0;
}

static void diff_release(struct diff *d)
{
  if (d->tar)
    archive_write_free(d->tar);
  if (d->zip)
    archive_write_free(d->zip);
  for (size_t i = 0; i < d->n_inos; i++)
    free(d->inos[i].path);
  free(d->inos);
  free(d->buf);
  berth_digester_free(d->zdg);
  berth_digester_free(d->tdg);
  berth_error_release(&d->werr);
}

static BERTH_WUR int tar_item(struct diff *d, int dirfd, const char *name, const char *as, berth_error_t *err)
{
  int r = open_writers(d, err);
  if (r == 0 && name == NULL)
    r = walk(d, dirfd, "", err);
  else if (r == 0)
    r = add_node_as(d, dirfd, name, "", as, err);
  if (r == 0 && archive_write_close(d->tar) != ARCHIVE_OK)
    r = write_fail(d, d->tar, err, "finish tar");
  return r;
}

int berth_tar_write(int dirfd, const char *name, const char *as, int out_fd, berth_error_t *err)
{
  struct diff d = {
    .out_fd = out_fd,
    .comp = BERTH_COMPRESSION_NONE,
    .zdg = berth_digester_new(),
    .tdg = berth_digester_new(),
    .buf = xmalloc(COPY_BUF),
    .plain = true,
  };
  struct layer_locale loc = layer_utf8_begin();
  int r = tar_item(&d, dirfd, name, as, err);
  layer_utf8_end(loc);
  diff_release(&d);
  return r < 0 ? berth_error_wrap(err, "write tar") : 0;
}

int berth_layer_diff(int upper_dirfd, int out_fd, enum berth_compression c, struct berth_layer_info *info,
                     berth_error_t *err)
{
  if (c != BERTH_COMPRESSION_NONE && c != BERTH_COMPRESSION_GZIP && c != BERTH_COMPRESSION_ZSTD)
    return BERTH_ERR(err, "diff layer: unknown compression %d", (int) c);
  struct diff d = {
    .out_fd = out_fd,
    .comp = c,
    .zdg = berth_digester_new(),
    .tdg = berth_digester_new(),
    .buf = xmalloc(COPY_BUF),
  };
  struct layer_locale loc = layer_utf8_begin();
  int r = diff_stream(&d, upper_dirfd, info, err);
  layer_utf8_end(loc);
  diff_release(&d);
  if (r < 0)
    return berth_error_wrap(err, "diff layer");
  return 0;
}
