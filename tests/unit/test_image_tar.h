/* Helpers shared by the image layer tests (header-only: every test_*.c is its own program):
 * tar archives built in memory with libarchive's writer, and a canonical listing of a
 * directory tree (type, mode, owner, size, mtime, device, link target, content digest,
 * xattrs, hardlink groups) to compare trees and prove that nothing changed. */
#ifndef BERTH_TESTS_IMAGE_TAR_H
#define BERTH_TESTS_IMAGE_TAR_H

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "image/digest.h"

enum tb_filter { TB_NONE, TB_GZIP, TB_ZSTD };

struct tarb {
  struct archive *a;
  char *buf;
  size_t len, cap;
};

struct tb_entry {
  const char *name;
  mode_t type; /* AE_IFREG (default when 0), AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFBLK, AE_IFIFO */
  mode_t perm; /* 0644 / 0755 when 0 */
  uid_t uid;
  gid_t gid;
  time_t mtime;     /* 1000000000 when 0 */
  const char *data; /* regular file contents (NUL-terminated unless len) */
  size_t len;
  const char *link;     /* symlink target */
  const char *hardlink; /* hardlink target */
  unsigned rmajor, rminor;
  const char *xname; /* one xattr */
  const char *xval;
  size_t xlen;
};

static __attribute__((unused)) la_ssize_t tb_write_cb(struct archive *a, void *cd, const void *buf, size_t n)
{
  (void) a;
  struct tarb *t = cd;
  if (t->len + n > t->cap) {
    t->cap = (t->len + n) * 2;
    t->buf = xrealloc(t->buf, t->cap);
  }
  memcpy(t->buf + t->len, buf, n);
  t->len += n;
  return (la_ssize_t) n;
}

/* level: gzip compression level ('1'..'9') */
static __attribute__((unused)) struct tarb *tb_new_level(enum tb_filter f, const char *level)
{
  struct tarb *t = xmalloc0(sizeof *t);
  t->a = archive_write_new();
  archive_write_set_format_pax_restricted(t->a);
  if (f == TB_GZIP) {
    archive_write_add_filter_gzip(t->a);
    archive_write_set_filter_option(t->a, "gzip", "compression-level", level);
  } else if (f == TB_ZSTD) {
    archive_write_add_filter_zstd(t->a);
  }
  archive_write_set_bytes_in_last_block(t->a, 1);
  if (archive_write_open(t->a, t, NULL, tb_write_cb, NULL) != ARCHIVE_OK)
    abort();
  return t;
}

static __attribute__((unused)) struct tarb *tb_new(enum tb_filter f) { return tb_new_level(f, "1"); }

static __attribute__((unused)) void tb_add(struct tarb *t, const struct tb_entry *te)
{
  struct archive_entry *e = archive_entry_new();
  mode_t type = te->type ? te->type : AE_IFREG;
  archive_entry_set_pathname(e, te->name);
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, te->perm ? te->perm : (type == AE_IFDIR ? 0755 : 0644));
  archive_entry_set_uid(e, te->uid);
  archive_entry_set_gid(e, te->gid);
  archive_entry_set_mtime(e, te->mtime ? te->mtime : 1000000000, 0);
  size_t len = te->data ? (te->len ? te->len : strlen(te->data)) : 0;
  if (te->hardlink) {
    archive_entry_set_hardlink(e, te->hardlink);
    len = 0;
  }
  archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t) len : 0);
  if (te->link)
    archive_entry_set_symlink(e, te->link);
  if (type == AE_IFCHR || type == AE_IFBLK) {
    archive_entry_set_rdevmajor(e, te->rmajor);
    archive_entry_set_rdevminor(e, te->rminor);
  }
  if (te->xname)
    archive_entry_xattr_add_entry(e, te->xname, te->xval, te->xlen ? te->xlen : strlen(te->xval));
  if (archive_write_header(t->a, e) < ARCHIVE_WARN) {
    fprintf(stderr, "tb_add %s: %s\n", te->name, archive_error_string(t->a));
    abort();
  }
  if (len > 0 && archive_write_data(t->a, te->data, len) != (la_ssize_t) len)
    abort();
  archive_entry_free(e);
}

/* a regular file of size bytes of zeros, written in chunks */
static __attribute__((unused)) void tb_add_zeros(struct tarb *t, const char *name, uint64_t size)
{
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, (la_int64_t) size);
  if (archive_write_header(t->a, e) < ARCHIVE_WARN)
    abort();
  static char zeros[1 << 20];
  for (uint64_t done = 0; done < size;) {
    size_t n = size - done < sizeof zeros ? (size_t) (size - done) : sizeof zeros;
    if (archive_write_data(t->a, zeros, n) != (la_ssize_t) n)
      abort();
    done += n;
  }
  archive_entry_free(e);
}

/* close the archive; the caller frees *buf */
static __attribute__((unused)) void tb_finish(struct tarb *t, char **buf, size_t *len)
{
  if (archive_write_close(t->a) != ARCHIVE_OK)
    abort();
  archive_write_free(t->a);
  *buf = t->buf;
  *len = t->len;
  free(t);
}

/* a readable fd (memfd, offset 0) holding data */
static __attribute__((unused)) int mem_fd(const void *data, size_t len)
{
  int fd = memfd_create("layer", MFD_CLOEXEC);
  if (fd < 0 || berth_write_all(fd, data, len) < 0 || lseek(fd, 0, SEEK_SET) != 0)
    abort();
  return fd;
}

struct tree_ino {
  dev_t dev;
  ino_t ino;
  char *path;
};

struct tree_walk {
  struct berth_strbuf out;
  struct tree_ino *inos;
  size_t n_inos;
  bool with_times;
};

static __attribute__((unused)) void tree_xattrs(struct tree_walk *w, const char *path)
{
  char names[4096];
  ssize_t n = llistxattr(path, names, sizeof names);
  if (n <= 0)
    return;
  /* names are NUL-separated; emit them sorted */
  const char *list[64];
  size_t k = 0;
  for (ssize_t i = 0; i < n && k < 64; i += (ssize_t) strlen(names + i) + 1)
    list[k++] = names + i;
  for (size_t i = 1; i < k; i++)
    for (size_t j = i; j > 0 && strcmp(list[j - 1], list[j]) > 0; j--) {
      const char *tmp = list[j];
      list[j] = list[j - 1];
      list[j - 1] = tmp;
    }
  for (size_t i = 0; i < k; i++) {
    char val[1024];
    ssize_t vn = lgetxattr(path, list[i], val, sizeof val);
    berth_strbuf_printf(&w->out, " x:%s=", list[i]);
    for (ssize_t j = 0; j < vn; j++)
      berth_strbuf_printf(&w->out, "%02x", (unsigned char) val[j]);
  }
}

static __attribute__((unused)) void tree_entry(struct tree_walk *w, const char *path, const char *rel,
                                               const struct stat *st)
{
  berth_strbuf_printf(&w->out, "%s %06o %u:%u", rel[0] ? rel : ".", (unsigned) st->st_mode,
                      (unsigned) st->st_uid, (unsigned) st->st_gid);
  if (w->with_times && !S_ISLNK(st->st_mode))
    berth_strbuf_printf(&w->out, " t=%lld", (long long) st->st_mtime);
  if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
    for (size_t i = 0; i < w->n_inos; i++)
      if (w->inos[i].dev == st->st_dev && w->inos[i].ino == st->st_ino) {
        berth_strbuf_printf(&w->out, " hardlink=%s\n", w->inos[i].path);
        return;
      }
    w->inos = xreallocarray(w->inos, w->n_inos + 1, sizeof *w->inos);
    w->inos[w->n_inos++] = (struct tree_ino){ st->st_dev, st->st_ino, xstrdup(rel) };
  }
  if (S_ISREG(st->st_mode)) {
    cleanup_free char *data = NULL;
    size_t len = 0;
    berth_error_t err = NULL;
    if (berth_read_file(path, 1 << 30, &data, &len, &err) < 0)
      abort();
    char d[BERTH_DIGEST_LEN + 1];
    berth_digest_bytes(data, len, d);
    berth_strbuf_printf(&w->out, " size=%zu %s", len, d + 7 + 52);
  } else if (S_ISLNK(st->st_mode)) {
    char target[4096];
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    berth_strbuf_printf(&w->out, " -> %s", target);
  } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
    berth_strbuf_printf(&w->out, " dev=%u:%u", major(st->st_rdev), minor(st->st_rdev));
  }
  tree_xattrs(w, path);
  berth_strbuf_putc(&w->out, '\n');
}

static __attribute__((unused)) int tree_cmp(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

static __attribute__((unused)) void tree_walk_dir(struct tree_walk *w, const char *path, const char *rel)
{
  struct dirent **names = NULL;
  int n = scandir(path, &names, NULL, tree_cmp);
  for (int i = 0; i < n; i++) {
    const char *nm = names[i]->d_name;
    if (strcmp(nm, ".") && strcmp(nm, "..")) {
      cleanup_free char *p = xasprintf("%s/%s", path, nm);
      cleanup_free char *r = rel[0] ? xasprintf("%s/%s", rel, nm) : xstrdup(nm);
      struct stat st;
      if (lstat(p, &st) == 0) {
        tree_entry(w, p, r, &st);
        if (S_ISDIR(st.st_mode))
          tree_walk_dir(w, p, r);
      }
    }
    free(names[i]);
  }
  free(names);
}

/* the canonical listing of the tree at root (root itself included as ".") */
static __attribute__((unused)) char *tree_listing(const char *root, bool with_times)
{
  struct tree_walk w = { .out = BERTH_STRBUF_INIT, .with_times = with_times };
  struct stat st;
  if (lstat(root, &st) < 0)
    return xstrdup("(missing)\n");
  tree_entry(&w, root, "", &st);
  if (S_ISDIR(st.st_mode))
    tree_walk_dir(&w, root, "");
  for (size_t i = 0; i < w.n_inos; i++)
    free(w.inos[i].path);
  free(w.inos);
  return berth_strbuf_detach(&w.out);
}

#endif
